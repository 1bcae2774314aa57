/**
 * @module inspector.test: the `/inspector` page in a real Chromium, driven by
 * visible text and roles: the actor tree with nicks, the statechart diagram
 * with its arrows and current state, time travel, find and jump, the
 * sequence view, the event log with times and error codes, trace downloads,
 * and ended sessions kept across a reload. Screenshots at phone and desktop
 * sizes land in test/screenshots/.
 */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Trace } from '../../src/inspection/trace.js';
import { startChatServer, type ChatServer } from '../../src/server.js';
import { launchBrowser, runBrowserTests, screenshot, watchForTrouble, type Browser } from '../support/browser.js';
import { TestClient } from '../support/client.js';

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 720 };

describe.runIf(runBrowserTests)('the inspector page', () => {
  let browser: Browser;
  let server: ChatServer | undefined;
  let page: Page | undefined;
  let clients: TestClient[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
  }, 40_000);
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await page?.close();
    for (const client of clients) await client.terminate();
    clients = [];
    await server?.close();
  });

  const tree = (page: Page) => page.getByRole('list', { name: 'Actors' });
  const actor = (page: Page, name: string | RegExp) => tree(page).getByRole('button', { name });
  const diagram = (page: Page) => page.getByRole('group', { name: /^Statechart of the/ });

  async function open(options: { nodeName?: string; viewport?: { width: number; height: number } } = {}): Promise<Page> {
    server = await startChatServer({ port: 0, host: '127.0.0.1', inspect: 'local', ...(options.nodeName ? { nodeName: options.nodeName } : {}) });
    page = await browser.newPage();
    await page.setViewportSize(options.viewport ?? DESKTOP);
    await page.goto(`${server.url}/inspector`);
    await page.getByRole('status').filter({ hasText: 'Live.' }).waitFor();
    await actor(page, /^server/).filter({ hasText: 'serving' }).waitFor();
    return page;
  }

  async function login(nick: string): Promise<TestClient> {
    const client = await TestClient.login(server!.url, nick);
    clients.push(client);
    return client;
  }

  it('draws the selected session’s statechart with arrows, its current state lit and the transition just taken', async () => {
    const page = await open({ nodeName: 'node-a' });
    const trouble = watchForTrouble(page);
    await page.getByText('node node-a').waitFor();
    const ivy = await login('ivy');
    await actor(page, 'session:1 · ivy active').click();
    // The page draws on the next animation frame, so right after the click the server's chart (selected on load) may
    // still be the one shown: wait for the session's by name, or this would read the server's.
    await page.getByRole('group', { name: 'Statechart of the session machine' }).waitFor();
    expect(await diagram(page).count()).toBe(1);

    // Arrows between states, labelled with their events; guards in brackets on the lines that stay put.
    await diagram(page).getByRole('img', { name: 'session.accepted: handshaking → active.guest' }).waitFor();
    await diagram(page).getByRole('img', { name: 'client.logout: active → closing' }).waitFor();
    await diagram(page).getByText('client.join [isInTooManyChannels]').waitFor();
    // Ivy's nick is not registered: she is in active, as a guest; both are lit.
    const current = diagram(page).locator('[aria-current="true"]');
    expect(await current.evaluateAll((states) => states.map((state) => state.getAttribute('aria-label')))).toEqual([
      'state active (current)',
      'state guest (current)',
    ]);
    await page.getByText('Current state: active.guest. Last transition: session.accepted (handshaking → active.guest).').waitFor();

    ivy.send({ type: 0, dest: '#nowhere', message: 'is anyone here' });
    await ivy.expectError('not_member');
    await page.getByText('Last transition: client.message (stays in active).').waitFor();
    await diagram(page).getByText('▶ client.message', { exact: true }).waitFor();
    await screenshot(page, 'inspector-diagram-desktop');
    await page.setViewportSize(PHONE);
    await diagram(page).getByText('▶ client.message', { exact: true }).waitFor();
    await screenshot(page, 'inspector-diagram-phone');
    expect(trouble).toEqual([]);
  });

  it('shows times and error codes in the event log, never a body, and filters by nick', async () => {
    const page = await open();
    const ivy = await login('ivy');
    ivy.send({ type: 5, channel: '#django' });
    await ivy.expectError('not_member');
    ivy.send({ type: 0, dest: '#django', message: 'a private thought' });
    await ivy.expectError('not_member');
    const log = page.getByRole('log', { name: 'Events between actors' });
    await page.getByLabel('Show events of').selectOption({ label: 'session:1 · ivy' });
    await log.getByText('socket.send (not_member)').first().waitFor();
    const rows = await log.locator('.event-row').allTextContents();
    expect(rows.length).toBeGreaterThan(2);
    for (const row of rows) {
      expect(row).toContain('session:1 · ivy');
      expect(row).toMatch(/^\d\d:\d\d:\d\d\.\d{3}/);
    }
    expect(await page.locator('body').textContent()).not.toContain('a private thought');
  });

  it('says how many older events were dropped before the page could show them', async () => {
    server = await startChatServer({ port: 0, host: '127.0.0.1', inspect: 'local', limits: { rateLimit: 0 } });
    const ivy = await login('ivy');
    // Each list request is at least two events (to the session, its answer to the outbox): more than the server's window of 500.
    for (let index = 0; index < 400; index += 1) ivy.send({ type: 6, id: index });
    await ivy.until((frame) => frame.type === 6 && frame.id === 399, 10_000);
    page = await browser.newPage();
    await page.goto(`${server.url}/inspector`);
    const notice = page.getByRole('status').filter({ hasText: 'older events were dropped and are not shown here' });
    await notice.waitFor();
    const dropped = Number(/^([\d,]+) older events/.exec((await notice.textContent()) ?? '')?.[1]?.replace(/,/g, ''));
    expect(dropped).toBeGreaterThanOrEqual(300);
    await page.getByText('500 shown').waitFor();
    await screenshot(page, 'inspector-dropped-desktop');
  });

  it('shows sessions under their supervisor, which says how many it holds and draws its statechart', async () => {
    const page = await open();
    await login('ivy');
    await login('joe');
    await actor(page, /^session:2 · joe/).waitFor();
    await actor(page, /^supervisor:0 · 2 sessions/).waitFor();
    const rows = await tree(page).getByRole('button').evaluateAll((buttons) =>
      buttons.map((button) => `${button.className.match(/depth-\d/)?.[0]} ${button.querySelector('.actor-id')?.textContent}`),
    );
    expect(rows).toEqual(['depth-0 server', 'depth-1 outbox', 'depth-1 supervisor:0 · 2 sessions', 'depth-2 session:1 · ivy', 'depth-2 session:2 · joe']);
    await actor(page, /^supervisor:0 · 2 sessions/).click();
    await page.getByRole('heading', { name: 'supervisor:0 · 2 sessions' }).waitFor();
    await diagram(page).getByText('supervisor.spawn').waitFor();
    await screenshot(page, 'inspector-supervisor-desktop');
  });

  it('finds a session by nick and a channel by name, and jumps between a session, its channels and their members', async () => {
    const page = await open();
    const ivy = await login('ivy');
    const joe = await login('joe');
    ivy.send({ type: 4, channel: '#django' });
    await ivy.until((frame) => frame.type === 4);
    joe.send({ type: 4, channel: '#django' });
    await joe.until((frame) => frame.type === 4);
    await actor(page, /^channel:#django/).waitFor();

    const find = page.getByLabel('Find a session by nick or a channel by name');
    await find.fill('joe');
    await page.getByText('1 match; Enter opens the first.').waitFor();
    expect(await tree(page).getByRole('button').count()).toBe(1);
    await find.press('Enter');
    await page.getByRole('heading', { name: 'session:2 · joe' }).waitFor();

    await find.fill('#DJANGO');
    await actor(page, /^channel:#django/).click();
    await page.getByRole('heading', { name: 'channel:#django' }).waitFor();
    // The roster is its members' nicks, each a way to that session.
    const context = page.locator('#context');
    await context.getByRole('button', { name: 'ivy' }).waitFor();
    await context.getByRole('button', { name: 'joe' }).click();
    await page.getByRole('heading', { name: 'session:2 · joe' }).waitFor();
    await context.getByRole('button', { name: '#django' }).click();
    await page.getByRole('heading', { name: 'channel:#django' }).waitFor();
    await screenshot(page, 'inspector-find-desktop');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'inspector-find-phone');
  });

  it('travels back through a session’s history and returns to live', async () => {
    const page = await open();
    const ivy = await login('ivy');
    ivy.send({ type: 4, channel: '#django' });
    await ivy.until((frame) => frame.type === 4);
    ivy.send({ type: 3 });
    await ivy.closed;
    await actor(page, 'session:1 · ivy closed (ended)').click();

    const history = page.getByRole('listbox', { name: 'History of the selected actor' });
    await page.getByText(/session:1 · ivy: \d+ events kept \(at most 200, --inspect-history\); none dropped\./).waitFor();
    await history.getByRole('option', { name: /session\.accepted from server → active/ }).click();
    await page.getByText(/^Showing the past: right after #\d+ session\.accepted at/).waitFor();
    await page.getByText('State then: active.guest. Transition taken: session.accepted (handshaking → active.guest).').waitFor();
    expect(await diagram(page).locator('[aria-current="true"]').evaluateAll((states) => states.map((state) => state.getAttribute('aria-label')))).toEqual([
      'state active (current)',
      'state guest (current)',
    ]);
    expect(await page.locator('#context').textContent()).not.toContain('#django');

    await page.getByRole('button', { name: 'Earlier' }).click();
    await page.getByText('State then: handshaking.greeting. Transition taken: none (the event changed nothing).').waitFor();
    // The entry before the acceptance: the answer of the nick's lookup, or the hello it sent then (which changed nothing),
    // to its supervisor, which forwards it to the server.
    expect(await history.getByRole('option', { selected: true }).textContent()).toMatch(/xstate\.done\.actor\.0\.session\.identifying from 0\.session\.identifying → handshaking|session\.hello sent to supervisor:0/);
    await page.getByRole('button', { name: 'Later' }).click();
    await page.getByRole('button', { name: 'Later' }).click();
    await history.getByRole('option', { name: /client\.join from outside/ }).click();
    await page.getByText(/^Showing the past: right after #\d+ client\.join/).waitFor();
    await history.getByRole('option', { name: /channel\.joined from channel:#django → active/ }).click();
    await page.locator('#context').getByRole('button', { name: '#django' }).waitFor();
    await screenshot(page, 'inspector-time-travel-desktop');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'inspector-time-travel-phone');

    await page.getByRole('button', { name: 'Back to live' }).click();
    await page.getByText('Current state: closed.', { exact: false }).waitFor();
    expect(await page.getByText('Showing the past').count()).toBe(0);
  });

  it('draws the messages between a session, its supervisor, its channels, the server and the outbox as a sequence', async () => {
    const page = await open();
    const ivy = await login('ivy');
    await actor(page, 'session:1 · ivy active').click();
    ivy.send({ type: 4, channel: '#django' });
    await ivy.until((frame) => frame.type === 4);
    await page.locator('#context').getByRole('button', { name: '#django' }).waitFor();
    await page.getByRole('button', { name: 'Pick the selected session, its supervisor, its channels, the server and the outbox' }).click();
    const chips = page.getByRole('list', { name: 'Actors in the sequence' });
    for (const name of ['session:1 · ivy', 'supervisor:0', 'channel:#django', 'server', 'outbox']) await chips.getByText(name, { exact: false }).first().waitFor();

    ivy.send({ type: 0, dest: '#django', message: 'hello all' });
    await ivy.until((frame) => frame.type === 0);
    const sequence = page.getByRole('group', { name: 'Sequence diagram' });
    await sequence.getByRole('group', { name: 'lifeline session:1 · ivy' }).waitFor();
    const messages = sequence.getByRole('list', { name: 'messages, oldest first' });
    // What a session sends the server goes through its supervisor, unchanged.
    await messages.getByRole('listitem', { name: /^session:1 → supervisor:0: route\.join at/ }).waitFor();
    await messages.getByRole('listitem', { name: /^supervisor:0 → server: route\.join at/ }).waitFor();
    await messages.getByRole('listitem', { name: /^\(transport\) → session:1: client\.message at/ }).waitFor();
    await messages.getByRole('listitem', { name: /^session:1 → channel:#django: channel\.say at/ }).waitFor();
    // A channel's events are published (stored, then delivered) through the outbox.
    await messages.getByRole('listitem', { name: /^channel:#django → outbox: outbox\.publish at/ }).first().waitFor();
    await page.getByRole('heading', { name: 'Sequence' }).scrollIntoViewIfNeeded();
    await screenshot(page, 'inspector-sequence-desktop');
    await page.setViewportSize(PHONE);
    await page.getByRole('heading', { name: 'Sequence' }).scrollIntoViewIfNeeded();
    await screenshot(page, 'inspector-sequence-phone');
    await page.setViewportSize(DESKTOP);

    await chips.getByRole('button', { name: 'Remove outbox from the sequence' }).click();
    await messages.getByRole('listitem', { name: /outbox\.publish/ }).first().waitFor({ state: 'detached' });
  });

  it('downloads the selected session’s trace as JSON with bodies redacted', async () => {
    const page = await open();
    const ivy = await login('ivy');
    ivy.send({ type: 4, channel: '#django' });
    await ivy.until((frame) => frame.type === 4);
    ivy.send({ type: 0, dest: '#django', message: 'the secret plan' });
    await ivy.until((frame) => frame.type === 0);
    await actor(page, 'session:1 · ivy active').click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download trace' }).click()]);
    expect(download.suggestedFilename()).toBe('trace-session-1.json');
    const text = await readFile((await download.path())!, 'utf8');
    expect(text).not.toContain('secret plan');
    const trace = JSON.parse(text) as Trace;
    expect(trace.actor.label).toBe('session:1 · ivy');
    expect(trace.events.map((entry) => entry.type)).toContain('channel.say');
  });

  it('keeps an ended session, greyed and selectable, across a reload of the page', async () => {
    const page = await open({ viewport: PHONE });
    const ivy = await login('ivy');
    await actor(page, 'session:1 · ivy active').waitFor();
    ivy.send({ type: 3 });
    await ivy.closed;
    const ended = actor(page, 'session:1 · ivy closed (ended)');
    await ended.waitFor();
    expect(await ended.getAttribute('class')).toContain('ended');
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Live.' }).waitFor();
    await ended.click();
    await page.getByRole('heading', { name: 'session:1 · ivy' }).waitFor();
    await page.getByText(/state: closed · status: done \(ended at \d\d:\d\d:\d\d\.\d{3}\)/).waitFor();
    await page.getByText('Current state: closed. Last transition: socket.closed (closing → closed).').waitFor();
    // The server, the outbox and the session's supervisor live on.
    await page.getByText('Actors (3 live, 1 ended)').waitFor();
    await screenshot(page, 'inspector-ended-phone');
  });
});
