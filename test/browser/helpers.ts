/**
 * Real headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, for the browser tests.
 * `step` runs a test body and, when it fails, saves a screenshot of the page into test-results/ before
 * rethrowing, so a CI failure shows what the browser showed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { ROOT } from '../integration/helpers/broker.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RESULTS = join(ROOT, 'test-results');

export function assertBuilt(): void {
  for (const f of ['dist/cli/main.js', 'dist/web/console/index.html', 'dist/web/ticker/index.html']) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} missing: run \`npm run build\` first`);
  }
}

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
}

/**
 * A page whose waits give up well within the test timeout, so that a failure reaches `step` (and its
 * screenshot) instead of the test runner's timeout.
 */
export async function newPage(browser: Browser): Promise<Page> {
  const page = await browser.newPage();
  page.setDefaultTimeout(10_000);
  return page;
}

/** Collects the page's console errors and uncaught exceptions, for assertions and failure reports. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // The browser asks for /favicon.ico on pages without an icon (the broker's JSON /health): not ours.
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) {
      errors.push(`console: ${m.text()} (${m.location().url})`);
    }
  });
  return errors;
}

export async function step(page: Page, name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    mkdirSync(RESULTS, { recursive: true });
    const file = join(RESULTS, `${name.replace(/[^\w.-]+/g, '_')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    if (err instanceof Error) err.message += `\n(screenshot: ${file})`;
    throw err;
  }
}

/** POST to the ActiveMQ-compatible REST API: the simplest producer a test can be. */
export async function post(
  httpPort: number,
  name: string,
  type: 'queue' | 'topic',
  body: string,
): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${httpPort}/api/message/${encodeURIComponent(name)}?type=${type}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body,
  });
  if (!r.ok) throw new Error(`POST ${name}: ${r.status} ${await r.text()}`);
}
