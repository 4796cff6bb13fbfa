/**
 * The web console in real headless Chromium against a real broker process: a queue appears after a
 * message is sent to it, the message browser shows the body, purge (after confirming) empties it; the send
 * form sends; the login appears when the broker has users and the console works once signed in.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StompPublisher } from '../../src/cli/demo-feed/publisher.js';
import { type BrokerProcess, CLI, startBroker } from '../integration/helpers/broker.js';
import { assertBuilt, launch, newPage, post, step, watchErrors } from './helpers.js';

let browser: Browser;

beforeAll(async () => {
  assertBuilt();
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
});

describe('console without users', () => {
  let broker: BrokerProcess;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    broker = await startBroker();
    page = await newPage(browser);
    errors = watchErrors(page);
  });

  afterAll(async () => {
    await page?.close();
    await broker?.stop();
  });

  const url = (hash = '') => `http://127.0.0.1:${broker.http}/${hash}`;

  it('opens on the overview without a login and draws the charts', async () => {
    await step(page, 'console-overview', async () => {
      await page.goto(url());
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      expect(await page.getByText('Sign in to BlazeMQ').count()).toBe(0);
      await page.locator('svg[aria-label="Messages per second"]').waitFor();
      // The poll keeps the chart fed: after two polls the rate line has points.
      await page.waitForFunction(() => {
        const d =
          document.querySelector('svg[aria-label="Messages per second"] path')?.getAttribute('d') ?? '';
        return d.split('L').length >= 2;
      });
    });
  });

  it('shows a queue after a message is sent, browses its body, and purges it after confirmation', async () => {
    await step(page, 'console-queue', async () => {
      await post(broker.http, 'orders', 'queue', 'order #42: 3 widgets');
      await post(broker.http, 'orders', 'queue', 'order #43: 1 gadget');
      await page.goto(url('#/queues'));
      const row = page.locator('tr[data-queue="orders"]');
      await row.waitFor();
      await expect.poll(() => row.getByTestId('depth').textContent()).toBe('2');

      await row.getByRole('link', { name: 'orders' }).click();
      await page.getByTestId('queue-name').filter({ hasText: 'orders' }).waitFor();
      const previews = page.getByTestId('body-preview');
      await expect
        .poll(() => previews.allTextContents())
        .toEqual(['order #42: 3 widgets', 'order #43: 1 gadget']);
      // Opening a message shows its whole body and properties.
      await page.locator('tr[data-message] button.link').first().click();
      expect(await page.getByTestId('body').textContent()).toBe('order #42: 3 widgets');

      // Cancel leaves everything in place...
      await page.getByRole('button', { name: 'Purge' }).click();
      await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel' }).click();
      expect(await page.getByRole('alertdialog').count()).toBe(0);
      expect(await previews.count()).toBe(2);
      // ...confirming purges.
      await page.getByRole('button', { name: 'Purge' }).click();
      await page.getByTestId('confirm').click();
      await page.getByRole('status').filter({ hasText: 'Purged orders (2 messages)' }).waitFor();
      await page.getByTestId('no-messages').waitFor();
      await expect.poll(() => page.getByTestId('queue-depth').textContent()).toBe('0');
    });
  });

  it('sends a message with the send form', async () => {
    await step(page, 'console-send', async () => {
      await page.goto(url('#/send/queues/invoices'));
      await page.locator('textarea[name="body"]').fill('{"invoice": 7}');
      await page.locator('textarea[name="properties"]').fill('region=EU');
      await page.locator('input[name="priority"]').fill('7');
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Sent' }).waitFor();
      await page.getByRole('link', { name: 'Browse the queue' }).click();
      await expect.poll(() => page.getByTestId('body-preview').allTextContents()).toEqual(['{"invoice": 7}']);
      await page.locator('tr[data-message] button.link').first().click();
      expect(await page.locator('tr.detail pre').first().textContent()).toContain('"region": "EU"');
    });
  });

  it('deletes a queue after confirmation', async () => {
    await step(page, 'console-delete', async () => {
      await page.goto(url('#/queues'));
      const row = page.locator('tr[data-queue="invoices"]');
      await row.waitFor();
      await row.getByRole('button', { name: 'Delete' }).click();
      await page.getByTestId('confirm').click();
      await row.waitFor({ state: 'detached' });
    });
  });

  it('moves a message to another queue (the address asked in a prompt)', async () => {
    await step(page, 'console-move', async () => {
      await post(broker.http, 'inbox', 'queue', 'move me');
      await page.goto(url('#/queues/inbox'));
      await expect.poll(() => page.getByTestId('body-preview').allTextContents()).toEqual(['move me']);
      page.once('dialog', (d) => void d.accept('queue://archive'));
      await page.getByRole('button', { name: 'Move' }).click();
      await page.getByTestId('no-messages').waitFor();
      await page.goto(url('#/queues/archive'));
      await expect.poll(() => page.getByTestId('body-preview').allTextContents()).toEqual(['move me']);
    });
  });

  it('lists topics, subscriptions and connections, and closes a connection', async () => {
    // A second tab on the ticker holds an SSE subscription to topic://prices.>; a STOMP client is connected.
    const ticker = await newPage(browser);
    const stomp = await StompPublisher.connect({ host: '127.0.0.1', port: broker.stomp });
    try {
      await step(page, 'console-connections', async () => {
        await ticker.goto(url('demo/ticker'));
        await ticker.locator('#status.live').waitFor();
        await post(broker.http, 'prices.ACME', 'topic', '{"price":1}');

        await page.goto(url('#/topics'));
        await page.locator('tr[data-topic="prices.ACME"]').waitFor();
        await page.goto(url('#/subscriptions'));
        await page.getByTestId('subscriptions').getByText('topic://prices.>').first().waitFor();
        await page.goto(url('#/connections'));
        await page.getByTestId('connections').locator('tr', { hasText: 'http-sse' }).first().waitFor();
        const row = page.getByTestId('connections').locator('tr', { hasText: 'stomp' });
        await row.waitFor();
        await row.getByRole('button', { name: 'Close' }).click();
        await page.getByTestId('confirm').click();
        await page.getByRole('status').filter({ hasText: 'Closed' }).waitFor();
        await row.waitFor({ state: 'detached' });
        // The broker ended the client's session.
        await expect.poll(() => stomp.error?.message).toMatch(/closed|ERROR/i);
      });
    } finally {
      await ticker.close();
      await stomp.close().catch(() => undefined);
    }
  });

  it('loaded without script errors', () => {
    expect(errors).toEqual([]);
  });
});

describe('console with users', () => {
  let broker: BrokerProcess;
  let page: Page;

  let dataDir: string;

  beforeAll(async () => {
    // Users are read at start-up: add one to a fresh data directory, then start on it.
    dataDir = mkdtempSync(join(tmpdir(), 'blazemq-console-'));
    execFileSync(process.execPath, [
      CLI,
      'user',
      'add',
      'admin',
      '--password',
      'secret',
      '--groups',
      'admins',
      '--data',
      dataDir,
    ]);
    broker = await startBroker({ dataDir });
    page = await newPage(browser);
  });

  afterAll(async () => {
    await page?.close();
    await broker?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('asks for a login, refuses a wrong password, and works once signed in', async () => {
    await step(page, 'console-login', async () => {
      await page.goto(`http://127.0.0.1:${broker.http}/`);
      await page.getByRole('heading', { name: 'Sign in to BlazeMQ' }).waitFor();
      await page.locator('input[name="user"]').fill('admin');
      await page.locator('input[name="password"]').fill('wrong');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'Wrong user or password.' }).waitFor();
      await page.locator('input[name="password"]').fill('secret');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      // The token survives a reload of the tab (sessionStorage), and signing out forgets it.
      await page.reload();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      // The ticker, opened from the console in the same tab, streams with the console's token.
      await page.getByRole('link', { name: 'Ticker demo' }).click();
      await page.locator('#status.live').waitFor();
      await page.goBack();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to BlazeMQ' }).waitFor();
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    });
  });
});
