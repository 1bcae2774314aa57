/**
 * @module chat.test: the chat page at `/`, used by people in a real Chromium
 * against a real server.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startChatServer, type ChatServer } from '../../src/server.js';
import { launchBrowser, runBrowserTests, screenshot, watchForTrouble, type Browser } from '../support/browser.js';
import { TestClient } from '../support/client.js';

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

  async function serve(port = 0): Promise<ChatServer> {
    const server = await startChatServer({ port, host: '127.0.0.1' });
    servers.push(server);
    return server;
  }

  async function open(server: ChatServer): Promise<{ page: Page; trouble: string[] }> {
    const page = await browser.newPage();
    pages.push(page);
    const trouble = watchForTrouble(page);
    await page.goto(`${server.url}/`);
    return { page, trouble };
  }

  async function logIn(page: Page, nick: string): Promise<void> {
    await page.getByLabel('Nick').fill(nick);
    await page.getByLabel('Nick').press('Enter');
    await page.getByRole('status').filter({ hasText: `Connected as ${nick}.` }).waitFor();
  }

  const members = (page: Page, channel: string) => page.getByRole('list', { name: `Members of ${channel}` });
  const log = (page: Page, channel: string) => page.getByRole('log', { name: `${channel} messages` });

  it('lets two people chat in a channel, each seeing the other’s messages and the member list change', async () => {
    const server = await serve();
    const alice = await open(server);
    const bob = await open(server);

    await logIn(alice.page, 'alice');
    await alice.page.getByRole('button', { name: '#django', exact: true }).click();
    await alice.page.getByRole('tab', { name: '#django', selected: true }).waitFor();

    await logIn(bob.page, 'bob');
    await bob.page.getByLabel('Join a channel').fill('Django');
    await bob.page.getByLabel('Join a channel').press('Enter');
    await bob.page.getByRole('tab', { name: '#django', selected: true }).waitFor();

    await members(alice.page, '#django').getByText('bob', { exact: true }).waitFor();
    await members(bob.page, '#django').getByText('alice', { exact: true }).waitFor();
    await alice.page.locator('#online').getByText('bob', { exact: true }).waitFor();

    await alice.page.getByLabel('Message to #django').fill('hello bob');
    await alice.page.getByLabel('Message to #django').press('Enter');
    await log(bob.page, '#django').locator('.message').filter({ hasText: 'hello bob' }).waitFor();

    await bob.page.getByLabel('Message to #django').fill('hi alice');
    await bob.page.getByLabel('Message to #django').press('Enter');
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

  it('explains an invalid nick and a nick in use instead of dropping them', async () => {
    const server = await serve();
    clients.push(await TestClient.login(server.url, 'Carol'));
    const { page } = await open(server);

    await page.getByLabel('Nick').fill('no spaces!');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Invalid nick' }).waitFor();

    await page.getByLabel('Nick').fill('carol');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'in use' }).waitFor();
    await screenshot(page, 'chat-nick-taken');
    expect(await page.getByLabel('Nick').isVisible()).toBe(true);
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
    await page.setViewportSize({ width: 380, height: 800 });
    await screenshot(page, 'chat-narrow');
    expect(trouble).toEqual([]);
  });

  it('reconnects after the server restarts, says so, and rejoins its channels', async () => {
    const first = await serve();
    const { page } = await open(first);
    await logIn(page, 'erin');
    await page.getByRole('button', { name: '#tornado', exact: true }).click();
    await page.getByRole('tab', { name: '#tornado', selected: true }).waitFor();

    await first.close();
    await page.getByRole('status').filter({ hasText: 'Connection lost' }).waitFor();

    const second = await serve(first.port);
    await page.getByRole('status').filter({ hasText: 'rejoined #tornado' }).waitFor({ timeout: 20_000 });
    await log(page, '#tornado').getByText('Rejoined #tornado.').waitFor();

    const frank = await TestClient.login(second.url, 'frank');
    clients.push(frank);
    frank.send({ type: 6, channel: '#tornado' });
    await frank.expect({ type: 6, channel: '#tornado', users: ['erin'] });
    frank.send({ type: 4, channel: '#tornado' });
    frank.send({ type: 0, dest: '#tornado', message: 'welcome back' });
    await log(page, '#tornado').locator('.message').filter({ hasText: 'welcome back' }).waitFor();
    await members(page, '#tornado').getByText('frank', { exact: true }).waitFor();
    await screenshot(page, 'chat-reconnected');
  });
});
