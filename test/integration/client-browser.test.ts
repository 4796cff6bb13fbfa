/**
 * The same client code in a real browser: src/client bundled by esbuild for the browser, loaded into
 * headless Chromium, talking to the broker process over ws://.../native, while a Node client (TCP)
 * is on the other end.
 */
import { existsSync } from 'node:fs';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/index.js';
import { type BrokerProcess, startBroker } from './helpers/broker.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let broker: BrokerProcess;
let browser: Browser;
let bundle: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing (set CHROMIUM_PATH)`);
  const out = await build({
    entryPoints: [new URL('../../src/client/index.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'blazemq',
    write: false,
    logLevel: 'silent',
  });
  bundle = out.outputFiles[0]!.text;
  [broker, browser] = await Promise.all([
    startBroker(),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] }),
  ]);
});
afterAll(async () => {
  await browser?.close();
  if (broker) expect(await broker.stop()).toBe(0);
});

describe('client in Chromium', () => {
  it('subscribes over ws:// in the page and receives what a Node client publishes, then answers', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.addScriptTag({ content: bundle });
    const wsUrl = `ws://127.0.0.1:${broker.http}/native`;
    const q = `queue://browser.${process.pid}`;
    const inPage = page.evaluate(
      async ({ wsUrl, q }) => {
        const { connect } = (globalThis as unknown as { blazemq: typeof import('../../src/client/index.js') })
          .blazemq;
        const c = await connect(wsUrl, { heartbeatMs: 0 });
        const sub = c.subscribe(q);
        await sub.ready;
        (globalThis as { ready?: boolean }).ready = true;
        const m = await sub.receive({ timeout: 10_000 });
        await m?.ack();
        if (m) await c.reply(m, `browser got ${m.text()}`);
        await c.close();
        return m?.text();
      },
      { wsUrl, q },
    );
    await page.waitForFunction(() => (globalThis as { ready?: boolean }).ready === true);
    const node = await connect(`tcp://127.0.0.1:${broker.native}`);
    try {
      const reply = await node.request(q, 'hello from node', { timeout: 10_000 });
      expect(reply.text()).toBe('browser got hello from node');
      expect(await inPage).toBe('hello from node');
      expect(errors).toEqual([]);
    } finally {
      await node.close();
      await page.close();
    }
  });
});
