#!/usr/bin/env node
/**
 * Takes the README's screenshots from a real run: starts the built broker on free ports, gives it some
 * traffic (REST producers and a consumer for the console's charts, `blazemq demo-feed` for the ticker),
 * and saves docs/images/console.png and docs/images/ticker.png from headless Chromium.
 * Usage: npm run screenshots (builds first). CHROMIUM_PATH overrides /usr/bin/chromium.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const OUT = join(ROOT, 'docs/images');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'blazemq-shots-'));
const portsFile = join(dir, 'ports.json');
const broker = spawn(
  process.execPath,
  [
    CLI,
    'start',
    '--data',
    join(dir, 'data'),
    '--stomp',
    '0',
    '--mqtt',
    '0',
    '--http',
    '0',
    '--ports-file',
    portsFile,
    '--log-level',
    'warn',
  ],
  { stdio: ['ignore', 'inherit', 'inherit'] },
);
const feeds = [];
let browser;
try {
  let ports;
  for (let i = 0; i < 200 && !ports; i++) {
    try {
      ports = JSON.parse(readFileSync(portsFile, 'utf8'));
    } catch {
      await sleep(50);
    }
  }
  if (!ports) throw new Error('the broker did not start');
  const base = `http://127.0.0.1:${ports.http}`;
  const post = (name, body) =>
    fetch(`${base}/api/message/${name}?type=queue`, { method: 'POST', body }).then((r) => r.arrayBuffer());
  const take = (name) =>
    fetch(`${base}/api/message/${name}?type=queue&oneShot=true&readTimeout=100`).then((r) => r.arrayBuffer());

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 820 }, deviceScaleFactor: 1 });

  // Console: 20 s of uneven traffic so that the rate and depth charts have shapes to show.
  await page.goto(`${base}/#/overview`);
  const queues = ['orders', 'invoices', 'shipments', 'emails'];
  const t0 = Date.now();
  let n = 0;
  while (Date.now() - t0 < 20_000) {
    const phase = (Date.now() - t0) / 20_000;
    const burst = Math.round(6 + 10 * Math.sin(phase * Math.PI * 3) ** 2);
    const sends = [];
    for (let i = 0; i < burst; i++) {
      const q = queues[(n + i) % queues.length];
      sends.push(
        post(q, JSON.stringify({ n: n + i, item: `widget-${(n + i) % 97}`, qty: 1 + ((n + i) % 5) })),
      );
    }
    n += burst;
    // The consumer of `orders` and `emails` wakes up halfway through.
    if (phase > 0.45) for (let i = 0; i < burst - 2; i++) sends.push(take(i % 2 ? 'orders' : 'emails'));
    await Promise.all(sends);
    await sleep(150);
  }
  await sleep(1600);
  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: join(OUT, 'console.png') });
  process.stdout.write('docs/images/console.png\n');

  // Ticker: the demo feed for a few seconds.
  await page.goto(`${base}/demo/ticker`);
  await page.locator('#status.live').waitFor();
  const feed = spawn(
    process.execPath,
    [
      CLI,
      'demo-feed',
      '--url',
      `stomp://127.0.0.1:${ports.stomp}`,
      '--symbols',
      '14',
      '--rate',
      '40',
      '--seed',
      '42',
    ],
    { stdio: 'ignore' },
  );
  feeds.push(feed);
  await sleep(6000);
  await page.setViewportSize({ width: 900, height: 760 });
  await page.screenshot({ path: join(OUT, 'ticker.png') });
  process.stdout.write('docs/images/ticker.png\n');
} finally {
  for (const f of feeds) f.kill('SIGINT');
  await browser?.close();
  broker.kill('SIGTERM');
  await new Promise((r) => broker.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
