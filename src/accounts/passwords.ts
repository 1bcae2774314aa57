/**
 * @module passwords: password hashes as PHC-style strings, computed with
 * scrypt off the event loop, a bounded number at a time.
 *
 * scrypt rather than argon2id: Node has it built in (no native addon to
 * build, no install script), and at OWASP's parameters it is as costly to
 * attack. The parameters travel in each hash (`$scrypt$ln=15,r=8,p=3$…`), so
 * they can be raised later and old hashes still verify.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  /** log2 of scrypt's cost N. */
  ln: number;
  r: number;
  p: number;
}

/**
 * One of OWASP's minimum scrypt settings (N=2^15, r=8, p=3): the same work
 * as N=2^17, p=1, with a quarter of its memory (32 MiB a hash), which is
 * what bounds a storm of logins.
 */
export const OWASP_SCRYPT: Readonly<ScryptParams> = Object.freeze({ ln: 15, r: 8, p: 3 });

const SALT_BYTES = 16;
const KEY_BYTES = 32;

function derive(password: string, salt: Buffer, params: ScryptParams, keyLength: number): Promise<Buffer> {
  const options: ScryptOptions = {
    N: 2 ** params.ln,
    r: params.r,
    p: params.p,
    // Node refuses more than 32 MiB by default; allow what these parameters need, with room.
    maxmem: 2 * 128 * 2 ** params.ln * params.r,
  };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

/** Hashes a password with a fresh salt. */
export async function hashPassword(password: string, params: ScryptParams = OWASP_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params, KEY_BYTES);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

const PHC = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** Checks a password against a stored hash in constant time; a hash it cannot read never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = PHC.exec(stored);
  if (!match) return false;
  const params = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  const expected = Buffer.from(match[5]!, 'base64');
  const key = await derive(password, Buffer.from(match[4]!, 'base64'), params, expected.length);
  return timingSafeEqual(key, expected);
}

/** Thrown when more hashes are waiting than the pool will queue. */
export class HashQueueFullError extends Error {
  override name = 'HashQueueFullError';
}

/**
 * Runs at most `concurrency` hashes at once, queueing up to `maxQueued` more.
 * Each scrypt holds its memory until it ends, so this is what keeps a login
 * storm from exhausting memory, and what leaves libuv threads for the rest.
 */
export class HashPool {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** Hashes started since the pool was made: lets tests prove a refusal computed none. */
  started = 0;
  /** The most that ever ran at once. */
  peak = 0;

  constructor(
    readonly concurrency: number,
    readonly maxQueued: number,
  ) {}

  /** Hashes in flight now: running and queued. */
  get inFlight(): number {
    return this.active + this.waiting.length;
  }

  get running(): number {
    return this.active;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.maxQueued) throw new HashQueueFullError('too many password checks are waiting');
      // The slot is handed over by the hash that ends, still counted in `active`.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active += 1;
    }
    this.started += 1;
    this.peak = Math.max(this.peak, this.active);
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}
