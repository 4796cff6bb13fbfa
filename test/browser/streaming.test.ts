/**
 * Web streaming in real headless Chromium against a real broker process: the ticker page (/demo/ticker)
 * shows prices that a test publishes and those of `blazemq demo-feed` (STOMP in, Server-Sent Events out);
 * a page using the broker's /js/blazemq.js publishes and receives, same-origin and from another origin
 * (allowed by the broker's `http.cors.allowedOrigins`).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, CLI, startBroker } from '../integration/helpers/broker.js';
import { assertBuilt, launch, newPage, post, step, watchErrors } from './helpers.js';

let browser: Browser;
let broker: BrokerProcess;
/** An application's own web server, on another origin than the broker's: it serves the fixture page. */
let appServer: Server;
let appOrigin: string;
let configDir: string;

beforeAll(async () => {
  assertBuilt();
  appServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(fixture());
  });
  await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
  // localhost and 127.0.0.1 are different origins.
  appOrigin = `http://localhost:${(appServer.address() as AddressInfo).port}`;
  configDir = mkdtempSync(join(tmpdir(), 'blazemq-browser-'));
  const config = join(configDir, 'blazemq.json');
  writeFileSync(config, JSON.stringify({ http: { cors: { allowedOrigins: [appOrigin] } } }));
  [browser, broker] = await Promise.all([launch(), startBroker({ args: ['--config', config] })]);
});

afterAll(async () => {
  await browser?.close();
  await broker?.stop();
  appServer?.closeAllConnections();
  await new Promise<void>((resolve) => (appServer ? appServer.close(() => resolve()) : resolve()));
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

const origin = () => `http://127.0.0.1:${broker.http}`;

describe('ticker demo', () => {
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    page = await newPage(browser);
    errors = watchErrors(page);
  });

  afterAll(async () => {
    await page?.close();
  });

  const price = (symbol: string) => page.locator(`tr[data-symbol="${symbol}"] td.price`);

  it('shows the prices a test publishes, coloured by direction', async () => {
    await step(page, 'ticker-publish', async () => {
      await page.goto(`${origin()}/demo/ticker`);
      await page.locator('#status.live').waitFor();
      await post(broker.http, 'prices.ACME', 'topic', JSON.stringify({ symbol: 'ACME', price: 101.5 }));
      await expect.poll(() => price('ACME').textContent()).toBe('101.50');
      await post(broker.http, 'prices.ACME', 'topic', JSON.stringify({ symbol: 'ACME', price: 99.25 }));
      await expect.poll(() => price('ACME').textContent()).toBe('99.25');
      expect(await price('ACME').getAttribute('class')).toContain('down');
      // A bare number works too; the symbol then comes from the address.
      await post(broker.http, 'prices.BLZE', 'topic', '12.5');
      await post(broker.http, 'prices.BLZE', 'topic', '13');
      await expect.poll(() => price('BLZE').textContent()).toBe('13.00');
      expect(await price('BLZE').getAttribute('class')).toContain('up');
      expect(await page.locator('tr[data-symbol="ACME"] td').nth(2).textContent()).toBe('-2.25 (-2.22%)');
      // Rows stay in symbol order.
      expect(
        await page
          .locator('tbody tr')
          .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.symbol)),
      ).toEqual(['ACME', 'BLZE']);
    });
  });

  it('shows the quotes of `blazemq demo-feed` (STOMP in, SSE out)', async () => {
    await step(page, 'ticker-demo-feed', async () => {
      await page.goto(`${origin()}/demo/ticker`);
      await page.locator('#status.live').waitFor();
      const { stdout } = await promisify(execFile)(process.execPath, [
        CLI,
        'demo-feed',
        '--url',
        `stomp://127.0.0.1:${broker.stomp}`,
        '--symbols',
        '4',
        '--rate',
        '400',
        '--count',
        '40',
        '--seed',
        '3',
      ]);
      expect(stdout).toContain('sent 40 quotes');
      await expect.poll(() => page.locator('#count').textContent()).toBe('40 updates · 4 symbols');
      const symbols = await page
        .locator('tbody tr')
        .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.symbol));
      expect(symbols).toEqual(['ACME', 'BLZE', 'CYBD', 'DYNA']);
      for (const p of await page.locator('td.price').allTextContents()) expect(Number(p)).toBeGreaterThan(0);
    });
  });

  it('loaded without script errors', () => {
    expect(errors).toEqual([]);
  });
});

const fixture = () =>
  readFileSync(new URL('./fixtures/blazemq-page.html', import.meta.url), 'utf8').replaceAll(
    'BROKER',
    origin(),
  );

describe('/js/blazemq.js', () => {
  async function exchange(
    page: Page,
    transport: 'sse' | 'longpoll',
    body: string,
    timeout = 10_000,
  ): Promise<void> {
    await page.evaluate((t) => (window as unknown as { run(t: string): Promise<unknown> }).run(t), transport);
    // Publish from the page itself until the subscription (whose start is asynchronous) sees it.
    await expect
      .poll(
        async () => {
          await page.evaluate(
            (b) =>
              (
                window as unknown as {
                  BlazeMQ: { connect(o: object): { send(a: string, b: string): Promise<unknown> } };
                }
              ).BlazeMQ.connect({
                url: document.querySelector('script')!.src.replace(/\/js\/blazemq\.js$/, ''),
              }).send('topic://chat.room1', b),
            body,
          );
          return page.evaluate(() =>
            (window as unknown as { received: Array<{ body: string }> }).received.map((m) => m.body),
          );
        },
        { timeout, interval: 300 },
      )
      .toContain(body);
    const got = await page.evaluate(
      () => (window as unknown as { received: Array<{ address: string; transport: string }> }).received,
    );
    expect(got[0]).toMatchObject({ address: 'topic://chat.room1', transport });
  }

  it('publishes and receives over SSE and long-poll on a page of the broker origin', async () => {
    const page = await newPage(browser);
    const errors = watchErrors(page);
    try {
      await step(page, 'blazemq-js-same-origin', async () => {
        // setContent keeps the origin (and the Content-Security-Policy) of the page it replaces: take one of
        // the broker's without a CSP, since the fixture has an inline script.
        await page.goto(`${origin()}/health`);
        await page.setContent(fixture());
        await exchange(page, 'sse', 'hello over SSE');
        await page.evaluate(() => {
          for (const stop of (window as unknown as { stops: Array<() => void> }).stops) stop();
        });
        await page.evaluate(() => {
          (window as unknown as { received: unknown[] }).received = [];
        });
        await exchange(page, 'longpoll', 'hello over long-poll');
      });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('works from a page of another origin allowed by http.cors (SSE and long-poll)', async () => {
    const page = await newPage(browser);
    const errors = watchErrors(page);
    try {
      await step(page, 'blazemq-js-cross-origin', async () => {
        await page.goto(`${appOrigin}/`);
        await exchange(page, 'sse', 'hello from another origin');
        await page.evaluate(() => {
          for (const stop of (window as unknown as { stops: Array<() => void> }).stops) stop();
          (window as unknown as { received: unknown[] }).received = [];
        });
        await exchange(page, 'longpoll', 'long-poll from another origin');
      });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('is refused from an origin the broker does not allow', async () => {
    const page = await newPage(browser);
    try {
      // The broker's own origin under another name: not in allowedOrigins.
      await page.goto(`http://localhost:${broker.http}/health`);
      const outcome = await page.evaluate(async (url) => {
        try {
          const r = await fetch(`${url}/v1/topics/chat.room1/messages`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ body: 'forged' }),
          });
          return `status ${r.status}`;
        } catch (e) {
          return `blocked: ${(e as Error).name}`;
        }
      }, origin());
      expect(outcome).toBe('blocked: TypeError');
    } finally {
      await page.close();
    }
  });
});
