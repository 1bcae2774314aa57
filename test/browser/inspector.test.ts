/**
 * @module inspector.test: the `/inspector` page in a real Chromium, following
 * a session actor from connect to logout.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startChatServer, type ChatServer } from '../../src/server.js';
import { launchBrowser, runBrowserTests, screenshot, watchForTrouble, type Browser } from '../support/browser.js';
import { TestClient } from '../support/client.js';

describe.runIf(runBrowserTests)('the inspector page', () => {
  let browser: Browser;
  let server: ChatServer | undefined;
  let page: Page | undefined;
  let client: TestClient | undefined;

  beforeAll(async () => {
    browser = await launchBrowser();
  }, 40_000);
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await page?.close();
    await client?.terminate();
    await server?.close();
  });

  const actor = (page: Page, id: string) => page.locator(`#tree button[data-actor="${id}"]`);

  it('shows a session actor appear, change state as its client joins and logs out, and disappear', async () => {
    server = await startChatServer({ port: 0, host: '127.0.0.1', inspect: 'local' });
    page = await browser.newPage();
    const trouble = watchForTrouble(page);
    await page.goto(`${server.url}/inspector`);
    await page.getByRole('status').filter({ hasText: 'Live.' }).waitFor();
    await actor(page, 'server').filter({ hasText: 'serving' }).waitFor();

    client = await TestClient.login(server.url, 'ivy');
    const session = actor(page, 'session:1');
    await session.filter({ hasText: 'active' }).waitFor();
    await actor(page, 'outbox').waitFor();
    await session.click();
    await page.locator('#chart .state.active-state[data-state="active"]').waitFor();
    // A guest's session is in `active` and, within it, in `guest`: both are lit.
    await page.locator('#chart .state.active-state[data-state="active.guest"]').waitFor();
    expect(await page.locator('#chart .active-state').count()).toBe(2);
    await page.locator('#context').getByText('ivy', { exact: true }).waitFor();

    client.send({ type: 4, channel: '#django' });
    await client.expect({ type: 4, channel: '#django', user: 'ivy' });
    await actor(page, 'channel:#django').filter({ hasText: 'occupied' }).waitFor();
    await page.locator('#context dd').filter({ hasText: '#django' }).waitFor();

    client.send({ type: 0, dest: '#django', message: 'a private thought' });
    await client.next((frame) => frame.type === 0);
    await page.getByLabel('Show events of').selectOption('session:1');
    await page.locator('#events tr').filter({ hasText: 'client.message' }).waitFor();
    const rows = await page.locator('#events tr').allTextContents();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toContain('session:1');
    expect(await page.locator('body').textContent()).not.toContain('a private thought');
    expect(await page.locator('#events').textContent()).toContain('[redacted]');
    await screenshot(page, 'inspector');

    client.send({ type: 3 });
    await client.closed;
    await session.filter({ hasText: /closing|closed/ }).waitFor();
    await session.waitFor({ state: 'detached' });
    await actor(page, 'channel:#django').waitFor({ state: 'detached' });
    expect(trouble).toEqual([]);
  });
});
