/**
 * @module chat.test: the chat page at `/`, used by people in a real Chromium
 * against a real server, found by what a person sees: text, roles and labels.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startChatServer, type ChatServer, type ChatServerOptions } from '../../src/server.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { launchBrowser, runBrowserTests, screenshot, watchForTrouble, type Browser } from '../support/browser.js';
import { TestClient } from '../support/client.js';
import { CHEAP_SCRYPT } from '../support/accounts.js';
import { expectAuthRequired, PASSWORD, register, signIn } from '../support/auth.js';

const HOSTILE = '<img src=x onerror=alert(1)><script>alert(2)</script>';

describe.runIf(runBrowserTests)('the chat page', () => {
  let browser: Browser;
  const servers: ChatServer[] = [];
  const pages: Page[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
  }, 40_000);
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await Promise.all(pages.splice(0).map((page) => page.close()));
    await Promise.all(clients.splice(0).map((client) => client.terminate()));
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  async function serve(port = 0, options: ChatServerOptions = {}): Promise<ChatServer & { connections: () => number }> {
    const server = await startChatServer({ port, host: '127.0.0.1', ...options });
    servers.push(server);
    // Every WebSocket the page opens, refused or not: how a test sees that the page stopped retrying.
    let connections = 0;
    server.transport.wss.on('headers', () => connections++);
    return Object.assign(server, { connections: () => connections });
  }

  async function open(server: { url: string }, viewport?: { width: number; height: number }): Promise<{ page: Page; trouble: string[] }> {
    const page = await browser.newPage();
    pages.push(page);
    if (viewport) await page.setViewportSize(viewport);
    const trouble = watchForTrouble(page);
    await page.goto(`${server.url}/`);
    return { page, trouble };
  }

  async function logIn(page: Page, nick: string): Promise<void> {
    await page.getByLabel('Nick').fill(nick);
    await page.getByLabel('Nick').press('Enter');
    await page.getByRole('status').filter({ hasText: `Connected as ${nick}.` }).waitFor();
  }

  async function joinChannel(page: Page, name: string, canonical = name): Promise<void> {
    await page.getByLabel('Join a channel').fill(name);
    await page.getByLabel('Join a channel').press('Enter');
    await page.getByRole('tab', { name: canonical, selected: true }).waitFor();
  }

  async function say(page: Page, channel: string, text: string): Promise<void> {
    await page.getByLabel(`Message to ${channel}`).fill(text);
    await page.getByLabel(`Message to ${channel}`).press('Enter');
  }

  /** Skips the rest of the page's countdown, if it is still counting: it may already have reconnected by itself. */
  async function hurryReconnect(page: Page): Promise<void> {
    const retry = page.getByRole('button', { name: 'Retry now' });
    if (await retry.isVisible()) await retry.click({ timeout: 2_000 }).catch(() => undefined);
  }

  const members = (page: Page, channel: string) => page.getByRole('list', { name: `Members of ${channel}` });
  const log = (page: Page, channel: string) => page.getByRole('log', { name: `${channel} messages` });
  const status = (page: Page) => page.getByRole('status');
  /** Every problem the page is showing, as the alerts it announces them in. */
  const shownAlerts = async (page: Page) =>
    (await page.getByRole('alert').allTextContents()).filter((text) => text.trim() !== '');

  it('lets two people chat in a channel, each seeing the other’s messages and the member list change', async () => {
    const server = await serve();
    const alice = await open(server);
    const bob = await open(server);

    await logIn(alice.page, 'alice');
    await alice.page.getByRole('button', { name: '#django', exact: true }).click();
    await alice.page.getByRole('tab', { name: '#django', selected: true }).waitFor();

    await logIn(bob.page, 'bob');
    await joinChannel(bob.page, 'Django', '#django');

    await members(alice.page, '#django').getByText('bob', { exact: true }).waitFor();
    await members(bob.page, '#django').getByText('alice', { exact: true }).waitFor();
    await alice.page.locator('#online').getByText('bob', { exact: true }).waitFor();

    await say(alice.page, '#django', 'hello bob');
    await log(bob.page, '#django').locator('.message').filter({ hasText: 'hello bob' }).waitFor();

    await say(bob.page, '#django', 'hi alice');
    await log(alice.page, '#django').locator('.message').filter({ hasText: 'hi alice' }).waitFor();
    expect(await log(alice.page, '#django').locator('.message .nick').allTextContents()).toEqual(['alice', 'bob']);

    await screenshot(alice.page, 'chat');

    await bob.page.getByRole('button', { name: 'Leave #django' }).click();
    await bob.page.getByRole('tab', { name: '#django' }).waitFor({ state: 'detached' });
    await members(alice.page, '#django').getByText('bob', { exact: true }).waitFor({ state: 'detached' });
    await log(alice.page, '#django').getByText('left #django').waitFor();

    await bob.page.getByRole('button', { name: 'Log out' }).click();
    await alice.page.getByRole('tab', { name: 'Server' }).click();
    await log(alice.page, 'Server').getByText('logged out.').waitFor();
    expect(await alice.page.locator('#online li').allTextContents()).toEqual(['alice']);
    expect([...alice.trouble, ...bob.trouble]).toEqual([]);
  });

  it('checks the nick with the server’s rule before connecting, says which part fails, and limits the field', async () => {
    const server = await serve();
    clients.push(await TestClient.login(server.url, 'Carol'));
    const { page } = await open(server);
    const nick = page.getByLabel('Nick');

    expect(Number(await nick.getAttribute('maxlength'))).toBeGreaterThanOrEqual(32);
    expect(Number(await nick.getAttribute('maxlength'))).toBeLessThanOrEqual(64);

    for (const [typed, problem] of [
      ['no spaces', 'A nick cannot contain spaces'],
      ['bang!', '“!” is not allowed in a nick: use letters, digits, _ or -.'],
      ['x'.repeat(33), 'Too long: 33 characters, and a nick has at most 32.'],
    ] as const) {
      await nick.fill(typed);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('alert').filter({ hasText: problem }).waitFor();
      expect(await nick.inputValue()).toBe(typed);
      expect(await nick.getAttribute('aria-invalid')).toBe('true');
    }
    // Typing the problem away removes it.
    await nick.fill('x'.repeat(32));
    expect(await shownAlerts(page)).toEqual([]);
    // None of those reached the server.
    expect(server.connections()).toBe(1);

    await nick.fill('carol');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Someone is already using the nick “carol”. Pick another one.' }).waitFor();
    await screenshot(page, 'chat-nick-taken');
    expect(await nick.inputValue()).toBe('carol');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('nick');

    await logIn(page, 'Zoë');
    expect(await shownAlerts(page)).toEqual([]);
  });

  it('shows a hostile message as literal text and runs none of it', async () => {
    const server = await serve();
    const { page, trouble } = await open(server);
    await logIn(page, 'dave');
    await page.getByRole('button', { name: '#flask', exact: true }).click();
    await page.getByRole('tab', { name: '#flask', selected: true }).waitFor();

    const mallory = await TestClient.login(server.url, 'mallory');
    clients.push(mallory);
    mallory.send({ type: 4, channel: '#flask' });
    mallory.send({ type: 0, dest: '#flask', message: HOSTILE });
    const line = log(page, '#flask').locator('.message').filter({ hasText: 'mallory' });
    await line.waitFor();

    expect(await line.locator('.text').textContent()).toBe(HOSTILE);
    expect(await page.locator('img, script:not([src])').count()).toBe(0);
    await screenshot(page, 'chat-hostile');
    expect(trouble).toEqual([]);
  });

  it('says in words why the connection went, counts down to the next try, and retries at once on “Retry now”', async () => {
    const first = await serve();
    const { page } = await open(first);
    await logIn(page, 'erin');
    await joinChannel(page, '#tornado');

    await first.close();
    await status(page).filter({ hasText: 'Connection lost: the server is restarting. Reconnecting in' }).waitFor();
    // Failed attempts double the wait; once it is a few seconds, watch it count down.
    const secondsLeft = async () => Number(/Reconnecting in (\d+)\s+s/.exec((await status(page).textContent()) ?? '')?.[1] ?? NaN);
    await page.waitForFunction(() => /Reconnecting in ([5-9]|1\d)\s+s/.test(document.getElementById('status')?.textContent ?? ''), null, {
      timeout: 15_000,
    });
    const before = await secondsLeft();
    await page.waitForTimeout(1_100);
    const after = await secondsLeft();
    expect(after).toBeLessThan(before);
    expect(after).toBeGreaterThanOrEqual(before - 2);
    expect(await status(page).textContent()).not.toMatch(/code|100\d/);
    await screenshot(page, 'chat-reconnecting');

    // A new server is up long before the countdown ends; "Retry now" does not wait for it.
    const second = await serve(first.port);
    const left = await secondsLeft();
    expect(left).toBeGreaterThanOrEqual(3);
    await page.getByRole('button', { name: 'Retry now' }).click();
    // Well before the countdown would have run out.
    await status(page).filter({ hasText: 'Reconnected as erin; rejoined #tornado.' }).waitFor({ timeout: (left - 1.5) * 1000 });
    await page.getByRole('button', { name: 'Retry now' }).waitFor({ state: 'hidden' });
    await log(page, '#tornado').getByText('Rejoined #tornado.').waitFor();
    // A fresh memory store: another epoch, so what was said meanwhile is lost, and the page says so.
    await log(page, '#tornado').getByText('Some messages could not be recovered: the server started afresh').waitFor();
    await screenshot(page, 'chat-not-recovered');

    const frank = await TestClient.login(second.url, 'frank');
    clients.push(frank);
    frank.send({ type: 6, channel: '#tornado' });
    await frank.expect({ type: 6, channel: '#tornado', users: ['erin'] });
    frank.send({ type: 4, channel: '#tornado' });
    frank.send({ type: 0, dest: '#tornado', message: 'welcome back' });
    await log(page, '#tornado').locator('.message').filter({ hasText: 'welcome back' }).waitFor();
    await members(page, '#tornado').getByText('frank', { exact: true }).waitFor();
    expect(await page.getByText('Connection lost').count()).toBe(0);
    await screenshot(page, 'chat-reconnected');
  }, 40_000);

  it('keeps what is typed while the server cannot be reached, visibly waiting, and sends it in order once back', async () => {
    // Room for two: once the page's connection is cut, hank and a blocker fill the server, so the
    // page's retries are turned away (HTTP 503) for as long as the test needs, and hank is
    // already in both channels when the page gets back in.
    const server = await serve(0, { limits: { maxConnections: 2 } });
    const { page } = await open(server);
    await logIn(page, 'gina');
    await joinChannel(page, '#django');
    await joinChannel(page, '#flask');

    for (const ws of server.transport.sockets) ws.terminate();
    await expect.poll(() => server.transport.admitted.total).toBe(0);
    const hank = await TestClient.login(server.url, 'hank');
    const blocker = await TestClient.login(server.url, 'blocker');
    clients.push(hank, blocker);
    hank.send({ type: 4, channel: '#flask' });
    hank.send({ type: 4, channel: '#django' });
    await hank.until((frame) => frame.type === 4 && frame.channel === '#django');

    await status(page).filter({ hasText: 'Connection lost' }).waitFor();
    await say(page, '#flask', 'first, while down');
    await say(page, '#flask', 'second, while down');
    await page.getByRole('tab', { name: '#django' }).click();
    await say(page, '#django', 'to django, while down');

    const waiting = page.locator('.line').filter({ hasText: 'not sent yet' });
    await page.getByRole('tab', { name: '#flask' }).click();
    expect(await log(page, '#flask').locator('.line').filter({ hasText: 'not sent yet' }).locator('.text').allTextContents()).toEqual([
      'first, while down',
      'second, while down',
    ]);
    expect(await page.getByLabel('Message to #flask').inputValue()).toBe('');
    expect(await shownAlerts(page)).toEqual([]);
    await screenshot(page, 'chat-offline-pending');

    await blocker.close();
    await hurryReconnect(page);
    const seen: string[] = [];
    while (seen.length < 3) {
      const frame = await hank.until((f) => f.type === 0, 20_000);
      seen.push(`${frame.dest} ${frame.message}`);
    }
    expect(seen.filter((line) => line.startsWith('#flask'))).toEqual(['#flask first, while down', '#flask second, while down']);
    expect(seen).toContain('#django to django, while down');
    await waiting.first().waitFor({ state: 'detached' });
    expect(await log(page, '#flask').locator('.message.own .text').allTextContents()).toEqual(['first, while down', 'second, while down']);
    await status(page).filter({ hasText: 'Reconnected as gina; rejoined #django, #flask.' }).waitFor();
    expect(await page.getByText('Connection lost').count()).toBe(0);
    expect(await shownAlerts(page)).toEqual([]);
  }, 60_000);

  it('stops retrying when its nick was taken while it reconnected, says so, and goes on under another nick', async () => {
    // Room for two: the thief and a blocker keep the page out (HTTP 503) while it has something typed.
    const second = await serve(0, { limits: { maxConnections: 2 } });
    const { page } = await open(second);
    await logIn(page, 'ivy');
    await joinChannel(page, '#django');
    // The page's connection drops; someone takes the nick before it is back.
    for (const ws of second.transport.sockets) ws.terminate();
    await expect.poll(() => second.transport.admitted.total).toBe(0);
    const thief = await TestClient.login(second.url, 'IVY');
    const blocker = await TestClient.login(second.url, 'blocker');
    clients.push(thief, blocker);
    await status(page).filter({ hasText: 'Connection lost' }).waitFor();
    await say(page, '#django', 'typed before the nick was taken');
    await log(page, '#django').getByText('not sent yet').waitFor();
    await blocker.close();
    await hurryReconnect(page);

    await page.getByRole('alert').filter({ hasText: 'While this page was reconnecting, someone else logged in as “ivy”. Pick another nick to go on.' }).waitFor({ timeout: 20_000 });
    await status(page).filter({ hasText: 'Not logged in.' }).waitFor();
    expect(await page.getByLabel('Nick').inputValue()).toBe('ivy');
    expect(await page.getByText('Logged in as ivy', { exact: true }).isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Retry now' }).isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Log out' }).isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Forget my channels and messages' }).isVisible()).toBe(true);
    await screenshot(page, 'chat-nick-taken-on-reconnect');
    const tries = second.connections();
    await page.waitForTimeout(2_500);
    expect(second.connections()).toBe(tries);

    // Another nick: back in the same channels, and what waited is sent.
    thief.send({ type: 4, channel: '#django' });
    await thief.until((frame) => frame.type === 4);
    await page.getByLabel('Nick').fill('ivy2');
    await page.getByLabel('Nick').press('Enter');
    await status(page).filter({ hasText: 'Reconnected as ivy2; rejoined #django.' }).waitFor();
    const message = await thief.until((frame) => frame.type === 0);
    expect(message).toMatchObject({ dest: '#django', user: 'ivy2', message: 'typed before the nick was taken' });
  }, 60_000);

  /** A registered nick, as another client registers it: a guest that sets a password, then goes. */
  async function registered(server: { url: string }, nick: string): Promise<void> {
    const owner = await TestClient.login(server.url, nick);
    await register(owner, nick);
    await owner.close();
  }

  const passwordField = (page: Page) => page.getByLabel('Password', { exact: true });

  it('asks for the password of a registered nick, says when it is wrong, and a reload signs in with the saved token', async () => {
    const server = await serve(0, { accounts: { policy: { scrypt: CHEAP_SCRYPT } } });
    await registered(server, 'wren');
    const { page, trouble } = await open(server);

    await page.getByLabel('Nick').fill('wren');
    await page.getByLabel('Nick').press('Enter');
    await page.getByText('“wren” is a registered nick: type its password to sign in.').waitFor();
    await status(page).filter({ hasText: 'Not logged in: “wren” needs its password.' }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('password');
    expect(await shownAlerts(page)).toEqual([]);

    // Checked in the page: too short never reaches the server (nor counts towards its throttling).
    await passwordField(page).fill('short');
    await passwordField(page).press('Enter');
    await page.getByRole('alert').filter({ hasText: 'Too short: 5 characters, and a password has at least 8.' }).waitFor();
    await passwordField(page).fill('not the password');
    await passwordField(page).press('Enter');
    await page.getByRole('alert').filter({ hasText: 'That is not the password of “wren”. Check it and try again.' }).waitFor();
    expect(await shownAlerts(page)).toEqual(['That is not the password of “wren”. Check it and try again.']);
    await screenshot(page, 'chat-wrong-password');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'chat-wrong-password-390x844');
    await page.setViewportSize({ width: 1280, height: 720 });

    await passwordField(page).fill(PASSWORD);
    await passwordField(page).press('Enter');
    await status(page).filter({ hasText: 'Connected as wren.' }).waitFor();
    await log(page, 'Server').getByText('You signed in as').waitFor();
    expect(await shownAlerts(page)).toEqual([]);
    await joinChannel(page, '#wrens');

    // A reload signs in by itself with the saved token: nothing is typed, and no password is asked for.
    const before = server.connections();
    await page.reload();
    await status(page).filter({ hasText: 'Connected as wren.' }).waitFor();
    expect(server.connections()).toBe(before + 1);
    expect(await passwordField(page).isVisible()).toBe(false);
    expect(await page.getByText('Logged in as wren', { exact: true }).isVisible()).toBe(true);

    // Forget me: signed in still, but the next visit asks.
    await page.getByRole('button', { name: 'Forget me on this browser' }).click();
    await status(page).filter({ hasText: 'This browser no longer remembers you' }).waitFor();
    expect(await page.getByRole('button', { name: 'Forget me on this browser' }).isVisible()).toBe(false);
    const beforeForgotten = server.connections();
    await page.reload();
    await page.getByLabel('Nick').waitFor();
    await page.waitForTimeout(500);
    expect(server.connections()).toBe(beforeForgotten);
    await page.getByLabel('Nick').fill('wren');
    await page.getByLabel('Nick').press('Enter');
    await page.getByText('“wren” is a registered nick: type its password to sign in.').waitFor();
    expect(trouble).toEqual([]);
  });

  it('lets a person take their time over the password: the server’s timeout passes unseen, and signing in still works', async () => {
    const server = await serve(0, { accounts: { policy: { scrypt: CHEAP_SCRYPT } }, limits: { authTimeoutMs: 300 } });
    await registered(server, 'slow');
    const { page, trouble } = await open(server);
    await page.getByLabel('Nick').fill('slow');
    await page.getByLabel('Nick').press('Enter');
    await passwordField(page).waitFor();
    // Long past the server's patience: it said auth_timeout and closed the socket.
    await expect.poll(() => server.transport.sockets.size, { timeout: 5_000 }).toBe(0);
    await page.waitForTimeout(300);
    expect(await shownAlerts(page)).toEqual([]);
    expect(await passwordField(page).isVisible()).toBe(true);
    const tries = server.connections();
    await page.waitForTimeout(1_000);
    expect(server.connections()).toBe(tries);

    await passwordField(page).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await status(page).filter({ hasText: 'Connected as slow.' }).waitFor();
    expect(trouble).toEqual([]);
  });

  it('registers a guest nick from the page, checking the password rule first, and a reconnect signs in without asking', async () => {
    const server = await serve(0, { accounts: { policy: { scrypt: CHEAP_SCRYPT } } });
    const { page, trouble } = await open(server, { width: 390, height: 844 });
    await logIn(page, 'yara');
    await joinChannel(page, '#yarns');
    await page.getByRole('button', { name: 'Register this nick' }).click();
    const dialog = page.getByRole('dialog', { name: 'Register “yara”' });
    await dialog.waitFor();
    await dialog.getByLabel('New password').fill('short');
    await dialog.getByRole('button', { name: 'Register' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'Too short: 5 characters, and a password has at least 8.' }).waitFor();
    await screenshot(page, 'chat-register-390x844');
    // Nothing was sent: the nick is still a guest's.
    const probe = await TestClient.connect(server.url, 'Yara');
    clients.push(probe);
    await probe.expectError('nick_taken');

    await dialog.getByLabel('New password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Register' }).click();
    await status(page).filter({ hasText: '“yara” is registered to you now' }).waitFor();
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.getByRole('button', { name: 'Register this nick' }).isVisible()).toBe(false);
    expect(await shownAlerts(page)).toEqual([]);

    // Registered for real: someone else connecting with it is asked for the password.
    const other = await TestClient.connect(server.url, 'yara');
    clients.push(other);
    await expectAuthRequired(other);
    await other.terminate();

    // The connection drops: the page signs back in by itself (no token yet, the password it registered with) …
    for (const ws of server.transport.sockets) ws.terminate();
    await status(page).filter({ hasText: 'Reconnected as yara; rejoined #yarns.' }).waitFor({ timeout: 15_000 });
    // Only the page's own leave and join were missed: nothing to mark as recovered.
    expect(await log(page, '#yarns').getByText('Recovered while you were disconnected').count()).toBe(0);
    expect(await log(page, '#yarns').getByText('yara left #yarns.').count()).toBe(0);
    expect(await passwordField(page).isVisible()).toBe(false);
    // … and from then on has a token to keep.
    await page.getByRole('button', { name: 'Forget me on this browser' }).waitFor();
    await screenshot(page, 'chat-signed-in-390x844');
    await page.setViewportSize({ width: 1280, height: 720 });
    await screenshot(page, 'chat-signed-in-1280x720');
    await page.getByRole('button', { name: 'Forget me on this browser' }).click();
    await status(page).filter({ hasText: 'This browser no longer remembers you' }).waitFor();
    expect(trouble).toEqual([]);
  });

  it('on a takeover (4001) stops retrying, says so in words, and does not sign back in by itself', async () => {
    const server = await serve(0, { accounts: { policy: { scrypt: CHEAP_SCRYPT } } });
    await registered(server, 'dana');
    const { page } = await open(server);
    await page.getByLabel('Nick').fill('dana');
    await page.getByLabel('Nick').press('Enter');
    await passwordField(page).fill(PASSWORD);
    await passwordField(page).press('Enter');
    await status(page).filter({ hasText: 'Connected as dana.' }).waitFor();

    const elsewhere = await TestClient.connect(server.url, 'dana');
    clients.push(elsewhere);
    await expectAuthRequired(elsewhere);
    await signIn(elsewhere, 'dana', { password: PASSWORD });
    await page.getByRole('alert').filter({ hasText: 'You were signed in as “dana” somewhere else, so this page was signed out.' }).waitFor();
    expect(await page.getByLabel('Nick').isVisible()).toBe(true);
    const tries = server.connections();
    await page.waitForTimeout(2_000);
    expect(server.connections()).toBe(tries);
    // Opened again, it waits to be asked: two tabs signing in by themselves would take the nick from each other for ever.
    await page.reload();
    await page.getByLabel('Nick').waitFor();
    await page.waitForTimeout(500);
    expect(server.connections()).toBe(tries);
  });

  it('shows the channel’s past on joining as earlier, loads older pages until there are none, and shows nothing twice', async () => {
    const server = await serve(0, { limits: { rateLimit: 0 } });
    const ann = await TestClient.login(server.url, 'ann');
    const bo = await TestClient.login(server.url, 'bo');
    clients.push(ann, bo);
    ann.send({ type: 4, channel: '#history' });
    for (let i = 1; i <= 60; i++) ann.send({ type: 0, dest: '#history', message: `message ${i}` });
    await ann.until((frame) => frame.message === 'message 60');
    // Someone who came and went: in the past, not in the member list.
    bo.send({ type: 4, channel: '#history' });
    await bo.until((frame) => frame.type === 4 && frame.user === 'bo' && frame.history === undefined);
    bo.send({ type: 5, channel: '#history' });
    await ann.until((frame) => frame.type === 5 && frame.user === 'bo');

    const { page, trouble } = await open(server, { width: 1280, height: 720 });
    await logIn(page, 'cy');
    await joinChannel(page, '#history');
    const history = log(page, '#history');
    await history.getByText('Earlier in #history').waitFor();
    // The last 50 events: offsets 14 to 63, so messages 13 to 60 with bo's join and leave.
    await history.getByText('message 60', { exact: true }).waitFor();
    expect(await history.getByText('message 13', { exact: true }).count()).toBe(1);
    expect(await history.getByText('message 12', { exact: true }).count()).toBe(0);
    await history.getByText('left #history.').waitFor();
    await members(page, '#history').getByText('ann', { exact: true }).waitFor();
    expect(await members(page, '#history').getByRole('listitem').allTextContents()).toEqual(['ann', 'cy']);
    await screenshot(page, 'chat-history-1280x720');
    await history.evaluate((list) => (list.scrollTop = 0));
    await screenshot(page, 'chat-history-top-1280x720');

    await history.getByRole('button', { name: 'Load older messages' }).click();
    await history.getByText('message 1', { exact: true }).waitFor();
    // Offset 1 reached: nothing older, so the button goes.
    await history.getByRole('button', { name: 'Load older messages' }).waitFor({ state: 'hidden' });
    const texts = async () => history.locator('.message .text').allTextContents();
    expect(await texts()).toEqual(Array.from({ length: 60 }, (_, i) => `message ${i + 1}`));
    expect(await history.getByText('Earlier in #history').count()).toBe(1);

    // Live from here on, each once.
    ann.send({ type: 0, dest: '#history', message: 'live now' });
    await history.getByText('live now', { exact: true }).waitFor();
    expect((await texts()).slice(-2)).toEqual(['message 60', 'live now']);

    // Leaving and joining again: the page's own past join and leave are shown, and neither closes the tab.
    await page.getByRole('button', { name: 'Leave #history' }).click();
    await page.getByRole('tab', { name: '#history' }).waitFor({ state: 'detached' });
    await joinChannel(page, '#history');
    await log(page, '#history').getByText('live now', { exact: true }).waitFor();
    await log(page, '#history').getByText('cy left #history.').waitFor();
    await page.waitForTimeout(300);
    expect(await page.getByRole('tab', { name: '#history', selected: true }).count()).toBe(1);
    expect(await members(page, '#history').getByRole('listitem').allTextContents()).toEqual(['ann', 'cy']);
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'chat-history-390x844');
    expect(trouble).toEqual([]);
  });

  it('after a server restart on the same data, rejoins with since and shows what was missed once, under a quiet marker', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'xstate-chat-recovery-'));
    try {
      const first = await serve(0, { store: new SqliteStore({ dataDir }) });
      const { page, trouble } = await open(first, { width: 1280, height: 720 });
      await logIn(page, 'dee');
      await joinChannel(page, '#recover');
      const eli = await TestClient.login(first.url, 'eli');
      clients.push(eli);
      eli.send({ type: 4, channel: '#recover' });
      eli.send({ type: 0, dest: '#recover', message: 'before the restart' });
      await log(page, '#recover').getByText('before the restart').waitFor();

      await first.close();
      await status(page).filter({ hasText: 'Connection lost: the server is restarting.' }).waitFor();
      // Room for two: eli and a blocker keep the page out while eli says what it will have missed.
      // No history on join: only a rejoin that asks with since hears what it missed.
      const second = await serve(first.port, { store: new SqliteStore({ dataDir }), limits: { maxConnections: 2, historyOnJoin: 0 } });
      const eli2 = await TestClient.login(second.url, 'eli');
      const blocker = await TestClient.login(second.url, 'blocker');
      clients.push(eli2, blocker);
      eli2.send({ type: 4, channel: '#recover' });
      eli2.send({ type: 0, dest: '#recover', message: 'missed one' });
      eli2.send({ type: 0, dest: '#recover', message: 'missed two' });
      await eli2.until((frame) => frame.message === 'missed two');
      await blocker.close();
      await hurryReconnect(page);

      await status(page).filter({ hasText: 'Reconnected as dee; rejoined #recover.' }).waitFor({ timeout: 20_000 });
      const recovered = log(page, '#recover');
      await recovered.getByText('Recovered while you were disconnected').waitFor();
      expect(await recovered.locator('.message .text').allTextContents()).toEqual(['before the restart', 'missed one', 'missed two']);
      expect(await recovered.getByText('could not be recovered').count()).toBe(0);
      eli2.send({ type: 0, dest: '#recover', message: 'after' });
      await recovered.getByText('after', { exact: true }).waitFor();
      expect(await recovered.locator('.message .text').allTextContents()).toEqual(['before the restart', 'missed one', 'missed two', 'after']);
      await screenshot(page, 'chat-recovered-1280x720');
      await page.setViewportSize({ width: 390, height: 844 });
      await screenshot(page, 'chat-recovered-390x844');
      expect(trouble).toEqual([]);
    } finally {
      await Promise.all(servers.splice(0).map((server) => server.close()));
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('on a phone keeps the message box in view and lets tabs scroll sideways in one row', async () => {
    const server = await serve();
    const phone = { width: 390, height: 844 };
    const { page, trouble } = await open(server, phone);
    await screenshot(page, 'chat-login-390x844');
    await logIn(page, 'jo');
    const others = await Promise.all(['kim', 'lee', 'max', 'ned', 'oda', 'pat'].map((nick) => TestClient.login(server.url, nick)));
    clients.push(...others);
    const channels = ['#django', '#flask', '#tornado', '#pyramid', '#bottle'];
    for (const channel of channels) {
      await joinChannel(page, channel);
      for (const other of others) other.send({ type: 4, channel });
    }
    await members(page, '#bottle').getByText('pat', { exact: true }).waitFor();
    for (let i = 0; i < 40; i++) others[i % others.length]!.send({ type: 0, dest: '#bottle', message: `line ${i} of a long conversation` });
    await log(page, '#bottle').getByText('line 39 of a long conversation').waitFor();

    const tabBoxes = await Promise.all(
      ['Server', ...channels].map((name) => page.getByRole('tab', { name, exact: true }).boundingBox()),
    );
    expect(new Set(tabBoxes.map((box) => Math.round(box!.y))).size).toBe(1);
    const tabRow = await page.getByRole('tablist').evaluate((list) => ({ scroll: list.scrollWidth, width: list.clientWidth }));
    expect(tabRow.scroll).toBeGreaterThan(tabRow.width);

    const inView = async (label: string | RegExp, role?: 'button' | 'tab') =>
      inViewOf(role ? page.getByRole(role, { name: label, exact: true }) : page.getByLabel(label));
    const inViewOf = async (locator: ReturnType<Page['getByLabel']>) => {
      const label = locator.toString();
      const box = await locator.boundingBox();
      const viewport = page.viewportSize()!;
      const inside = box !== null && box.y >= 0 && box.y + box.height <= viewport.height && box.x + box.width <= viewport.width;
      if (!inside) console.warn(`${String(label)} is out of view: ${JSON.stringify(box)} in ${JSON.stringify(viewport)}`);
      return inside;
    };
    expect(await inView('Message to #bottle')).toBe(true);
    expect(await inView('Send', 'button')).toBe(true);
    await screenshot(page, 'chat-390x844');

    // The first tab scrolled out of view; choosing it brings it back into view, message box included.
    await page.getByRole('tab', { name: 'Server' }).click();
    await page.getByRole('tab', { name: '#django' }).click();
    expect(await inView('Message to #django')).toBe(true);

    await page.setViewportSize({ width: 1280, height: 720 });
    await page.getByRole('tab', { name: '#bottle' }).click();
    expect(await inView('Message to #bottle')).toBe(true);
    await screenshot(page, 'chat-1280x720');

    // Offline on a phone: the status, Retry now and the message box all stay in view.
    await page.setViewportSize(phone);
    await server.close();
    await status(page).filter({ hasText: 'Reconnecting in' }).waitFor();
    await say(page, '#bottle', 'written on the train');
    await log(page, '#bottle').getByText('not sent yet').waitFor();
    expect(await inView('Retry now', 'button')).toBe(true);
    expect(await inView('Message to #bottle')).toBe(true);
    expect(await inView('#bottle', 'tab')).toBe(true);
    // Scrolled into the log's visible part, not only somewhere on the page.
    const [line, logBox] = await Promise.all([
      log(page, '#bottle').getByText('written on the train').boundingBox(),
      log(page, '#bottle').boundingBox(),
    ]);
    expect(line!.y).toBeGreaterThanOrEqual(logBox!.y);
    expect(line!.y + line!.height).toBeLessThanOrEqual(logBox!.y + logBox!.height);
    await screenshot(page, 'chat-390x844-offline');
    expect(trouble).toEqual([]);
  });

  it('says “sending too fast” once, next to the message box, gives the text back, and drops it when it no longer holds', async () => {
    // One frame every 20 s after a burst of 3: the join and its member list take two.
    const server = await serve(0, { limits: { rateLimit: 0.05, rateBurst: 3 } });
    const { page } = await open(server);
    await logIn(page, 'quinn');
    await joinChannel(page, '#flask');
    await log(page, '#flask').getByText('quinn', { exact: true }).first().waitFor();
    await say(page, '#flask', 'this one goes');
    await log(page, '#flask').locator('.message.own').filter({ hasText: 'this one goes' }).waitFor();
    await say(page, '#flask', 'this one is refused');

    const tooFast = 'You are sending too fast; this message was not sent.';
    await page.getByRole('alert').filter({ hasText: tooFast }).waitFor();
    expect(await page.getByText(tooFast).count()).toBe(1);
    expect(await shownAlerts(page)).toEqual([tooFast]);
    expect(await page.getByLabel('Message to #flask').inputValue()).toBe('this one is refused');
    expect(await page.getByText(/Too many frames|rate_limited/).count()).toBe(0);
    await screenshot(page, 'chat-too-fast');

    await page.getByLabel('Message to #flask').press('End');
    await page.getByLabel('Message to #flask').press('!');
    expect(await shownAlerts(page)).toEqual([]);
  });

  it('keeps a refused channel name in the field with the reason, switches to a channel already joined, and marks joined suggestions', async () => {
    const server = await serve(0, { limits: { maxChannelsPerSession: 2 } });
    const { page } = await open(server);
    await logIn(page, 'rae');
    const field = page.getByLabel('Join a channel');

    await field.fill('no way');
    await field.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'A channel name cannot contain spaces' }).waitFor();
    expect(await field.inputValue()).toBe('no way');
    await field.fill('way');
    expect(await shownAlerts(page)).toEqual([]);

    await page.getByRole('button', { name: '#django', exact: true }).click();
    await page.getByRole('tab', { name: '#django', selected: true }).waitFor();
    await page.getByRole('button', { name: '#django (joined)' }).waitFor();
    await joinChannel(page, '#flask');

    // The server's refusal, in the same place.
    await field.fill('#third');
    await field.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'You are in as many channels as you may be. Leave one before joining another.' }).waitFor();
    expect(await field.inputValue()).toBe('#third');
    await screenshot(page, 'chat-join-refused');

    // Joining one already joined shows its tab; nothing is refused.
    await page.getByRole('tab', { name: 'Server' }).click();
    await field.fill('DJANGO');
    await field.press('Enter');
    await page.getByRole('tab', { name: '#django', selected: true }).waitFor();
    expect(await field.inputValue()).toBe('');
    expect(await shownAlerts(page)).toEqual([]);
    await page.getByRole('tab', { name: 'Server' }).click();
    await page.getByRole('button', { name: '#flask (joined)' }).click();
    await page.getByRole('tab', { name: '#flask', selected: true }).waitFor();
    expect(await log(page, 'Server').getByText(/already/).count()).toBe(0);
    await screenshot(page, 'chat-join');
  });

  it('sends no message of only spaces, disables Send on the Server tab, and keeps focus sensible after leaving', async () => {
    const server = await serve();
    const { page } = await open(server);
    await logIn(page, 'sam');
    expect(await page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
    await joinChannel(page, '#django');
    expect(await page.getByRole('button', { name: 'Send' }).isEnabled()).toBe(true);
    await joinChannel(page, '#flask');

    const tess = await TestClient.login(server.url, 'tess');
    clients.push(tess);
    tess.send({ type: 4, channel: '#flask' });
    // Sam's join comes first, as history: wait for tess's own.
    await tess.until((frame) => frame.type === 4 && frame.user === 'tess');
    await log(page, '#flask').getByText('tess').first().waitFor();
    await say(page, '#flask', '    ');
    await page.getByLabel('Message to #flask').press('Enter');
    await tess.expectQuiet();
    expect(await log(page, '#flask').locator('.message').count()).toBe(0);

    await page.getByRole('button', { name: 'Leave #flask' }).click();
    await page.getByRole('tab', { name: '#django', selected: true }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('message');
    await page.getByRole('button', { name: 'Leave #django' }).click();
    await page.getByRole('tab', { name: 'Server', selected: true }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('channel-name');
    expect(await page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
  });

  it('draws focus rings of at least 3:1 against what they sit on, and has a favicon', async () => {
    const server = await serve();
    const { page } = await open(server);
    const missing: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) missing.push(`${response.status()} ${response.url()}`);
    });
    await page.reload();

    /** Focuses by keyboard, as :focus-visible needs, then measures the ring against the nearest opaque background behind it. */
    const ringContrast = async (locator: ReturnType<Page['getByRole']>) => {
      await locator.focus();
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Tab');
      return locator.evaluate((element) => {
        const parse = (color: string) => (color.match(/[\d.]+/g) ?? []).map(Number);
        const luminance = ([r, g, b]: number[]) =>
          [r!, g!, b!]
            .map((c) => c / 255)
            .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
            .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i]!, 0);
        const style = getComputedStyle(element);
        const inset = parseFloat(style.outlineOffset) < 0;
        let behind: Element | null = inset ? element : element.parentElement;
        let background = '';
        for (; behind; behind = behind.parentElement) {
          const color = parse(getComputedStyle(behind).backgroundColor);
          if (color.length === 3 || color[3] !== 0) {
            background = getComputedStyle(behind).backgroundColor;
            break;
          }
        }
        const [a, b] = [luminance(parse(style.outlineColor)), luminance(parse(background || 'rgb(255,255,255)'))];
        return {
          focusVisible: element.matches(':focus-visible'),
          style: style.outlineStyle,
          width: parseFloat(style.outlineWidth),
          ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
        };
      });
    };

    for (const target of [page.getByLabel('Nick'), page.getByRole('button', { name: 'Log in' })]) {
      const ring = await ringContrast(target as ReturnType<Page['getByRole']>);
      expect(ring).toMatchObject({ focusVisible: true, style: 'solid' });
      expect(ring.width).toBeGreaterThanOrEqual(2);
      expect(ring.ratio).toBeGreaterThanOrEqual(3);
    }
    await logIn(page, 'uma');
    await page.getByRole('button', { name: '#tornado', exact: true }).click();
    for (const target of [
      page.getByRole('tab', { name: '#tornado' }),
      page.getByRole('button', { name: 'Log out' }),
      page.getByRole('button', { name: 'Leave #tornado' }),
    ]) {
      const ring = await ringContrast(target);
      expect(ring.focusVisible).toBe(true);
      expect(ring.ratio).toBeGreaterThanOrEqual(3);
    }

    const icon = await page.locator('link[rel="icon"]').getAttribute('href');
    expect(icon).toBeTruthy();
    const response = await fetch(new URL(icon!, server.url));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/svg+xml');
    expect(missing).toEqual([]);
  });
});
