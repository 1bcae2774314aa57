/**
 * @module auth: logins to registered nicks, by password and by resume token.
 *
 * The baseline has no accounts, so this runs against the project alone and
 * reports rates, not ratios. A password login is bound by scrypt (about a
 * quarter of a second of one core, two at a time); a token login by a store
 * lookup and a write, so it should run at about the rate of a guest login.
 * Each loop signs one nick in and out again and again; a login counts when
 * its own type 2 frame, with a fresh token, and the user list have arrived.
 */
import { WebSocket } from 'ws';
import { AUTH_ACCOUNTS, SETUP_TIMEOUT_MS } from '../limits.js';
import { nowMicros } from '../payload.js';
import { sleep, type Scenario } from '../scenario.js';

const PASSWORD = 'benchmark password';

type Credential = { password: string } | { token: string };

/**
 * Connects as `nick` and answers what the server asks: nothing for a guest,
 * the credential for a registered nick. Resolves with the fresh token (if
 * any) once the login is complete, with the socket still open.
 */
function logIn(url: string, nick: string, credential?: Credential): Promise<{ ws: WebSocket; token?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/chat/login/${nick}`);
    let token: string | undefined;
    const timer = setTimeout(() => fail(new Error(`${nick}: no login within ${SETUP_TIMEOUT_MS} ms`)), SETUP_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      ws.terminate();
      reject(error);
    };
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: number; code?: string; user?: string; token?: string };
      if (frame.type === -1 && frame.code === 'auth_required' && credential) ws.send(JSON.stringify({ type: 2, user: nick, ...credential }));
      else if (frame.type === -1) fail(new Error(`${nick}: refused with ${frame.code}`));
      else if (frame.type === 2 && frame.user === nick) token = frame.token;
      else if (frame.type === 6) {
        clearTimeout(timer);
        resolve({ ws, ...(token === undefined ? {} : { token }) });
      }
    });
    ws.on('error', fail);
    ws.on('close', (code) => fail(new Error(`${nick}: closed with ${code} before its login completed`)));
  });
}

function close(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    ws.removeAllListeners('close');
    ws.once('close', () => resolve());
    ws.close();
  });
}

/** Runs one sign-in loop per account until `to`; counts the logins that completed inside [from, to). */
async function measureLogins(url: string, tokens: string[], by: 'password' | 'token', from: number, to: number): Promise<number> {
  let counted = 0;
  await Promise.all(
    tokens.map(async (_, lane) => {
      const nick = `authbench${lane}`;
      while (nowMicros() < to) {
        const credential: Credential = by === 'password' ? { password: PASSWORD } : { token: tokens[lane]! };
        const { ws, token } = await logIn(url, nick, credential);
        if (token === undefined) throw new Error(`${nick}: its own login frame carried no token`);
        tokens[lane] = token;
        const done = nowMicros();
        if (done >= from && done < to) counted += 1;
        await close(ws);
      }
    }),
  );
  return counted;
}

export const auth: Scenario = {
  name: 'auth',
  describe: (settings) =>
    `${AUTH_ACCOUNTS} registered nicks, each signed in and out in a loop of its own, first by password for ${settings.measureMs} ms, then by resume token for as long; project only (the baseline has no accounts).`,
  projectOnly: true,
  figures: [
    { key: 'passwordLogins', label: 'password logins/s', unit: '/s', better: 'higher', decimals: 1 },
    { key: 'tokenLogins', label: 'token logins/s', unit: '/s', better: 'higher', decimals: 0 },
  ],
  async run(server, _pool, settings) {
    const tokens: string[] = [];
    for (let lane = 0; lane < AUTH_ACCOUNTS; lane += 1) {
      const nick = `authbench${lane}`;
      const guest = await logIn(server.url, nick);
      guest.ws.send(JSON.stringify({ type: 1, password: PASSWORD }));
      await new Promise((resolve) => guest.ws.once('message', resolve));
      await close(guest.ws);
      const owner = await logIn(server.url, nick, { password: PASSWORD });
      tokens.push(owner.token!);
      await close(owner.ws);
    }
    const figures: Record<string, number> = {};
    for (const by of ['password', 'token'] as const) {
      const from = nowMicros() + settings.warmupMs * 1e3;
      const to = from + settings.measureMs * 1e3;
      const logins = await measureLogins(server.url, tokens, by, from, to);
      figures[`${by}Logins`] = logins / (settings.measureMs / 1e3);
      await sleep(100);
    }
    const problems = figures.passwordLogins === 0 || figures.tokenLogins === 0 ? ['no login completed inside the window'] : [];
    return { ok: problems.length === 0, problems, figures };
  },
};
