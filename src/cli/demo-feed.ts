/**
 * `blazemq demo-feed`: publishes made-up stock prices on `topic://prices.<SYMBOL>` for the live ticker
 * page (/demo/ticker), or for any subscriber of `prices.>`.
 *
 * It speaks STOMP over TCP, with a minimal client of its own (demo-feed/publisher.ts), rather than POSTing
 * to the REST API: one connection carries every quote (no HTTP request per message), and a STOMP producer
 * feeding browsers over Server-Sent Events shows the broker's cross-protocol routing end to end.
 */
import type { Command } from 'commander';
import { BlazeError } from '../util/errors.js';
import { runFeed } from './demo-feed/feed.js';
import { PriceWalk, symbols } from './demo-feed/prices.js';
import { StompPublisher } from './demo-feed/publisher.js';

export interface DemoFeedFlags {
  url?: string;
  symbols?: string;
  rate?: string;
  count?: string;
  user?: string;
  password?: string;
  seed?: string;
}

export interface DemoFeedSettings {
  host: string;
  port: number;
  symbols: number;
  rate: number;
  count: number | undefined;
  login: string | undefined;
  passcode: string | undefined;
  seed: number;
}

function positiveInt(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new BlazeError('BAD_REQUEST', `--${name} must be a whole number from 1 to ${max}, not "${text}"`);
  }
  return Number(text);
}

/** Flags to settings; BAD_REQUEST (exit 2) on anything malformed. Pure. */
export function parseDemoFeedFlags(
  flags: DemoFeedFlags,
  env: Record<string, string | undefined> = {},
): DemoFeedSettings {
  const raw = flags.url ?? 'stomp://127.0.0.1:61613';
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `stomp://${raw}`);
  } catch {
    throw new BlazeError('BAD_REQUEST', `--url "${raw}" is not a URL like stomp://host:61613`);
  }
  if (url.protocol !== 'stomp:' && url.protocol !== 'tcp:') {
    throw new BlazeError(
      'BAD_REQUEST',
      `--url must be stomp://host:port (the STOMP listener), not ${url.protocol}//`,
    );
  }
  const login = flags.user ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const passcode =
    flags.password ?? (url.password ? decodeURIComponent(url.password) : undefined) ?? env.BLAZEMQ_PASSWORD;
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: url.port ? Number(url.port) : 61613,
    symbols: positiveInt('symbols', flags.symbols, 12, 10_000),
    rate: positiveInt('rate', flags.rate, 20, 1_000_000),
    count:
      flags.count === undefined ? undefined : positiveInt('count', flags.count, 1, Number.MAX_SAFE_INTEGER),
    login,
    passcode: login !== undefined ? passcode : undefined,
    seed: flags.seed === undefined ? Date.now() % 2 ** 32 : positiveInt('seed', flags.seed, 1, 2 ** 32 - 1),
  };
}

export async function runDemoFeed(flags: DemoFeedFlags, print: (line: string) => void): Promise<void> {
  const s = parseDemoFeedFlags(flags, process.env);
  const publisher = await StompPublisher.connect({
    host: s.host,
    port: s.port,
    ...(s.login !== undefined ? { login: s.login } : {}),
    ...(s.passcode !== undefined ? { passcode: s.passcode } : {}),
  });
  const names = symbols(s.symbols);
  print(
    `demo-feed: publishing ${s.count ?? 'unlimited'} quotes of ${names.length} symbols at ${s.rate}/s ` +
      `to topic://prices.<SYMBOL> via stomp://${s.host}:${s.port} (Ctrl-C stops)`,
  );
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const sent = await runFeed({
      walk: new PriceWalk(names, s.seed),
      sink: publisher,
      rate: s.rate,
      signal: stop.signal,
      ...(s.count !== undefined ? { count: s.count } : {}),
    });
    // The DISCONNECT receipt confirms the broker handled every quote before we exit.
    await publisher.close();
    print(`demo-feed: sent ${sent} quotes`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function registerDemoFeedCommand(program: Command, fatal: (err: unknown) => never): void {
  program
    .command('demo-feed')
    .description('publish made-up stock prices on topic://prices.<SYMBOL> (watch them at /demo/ticker)')
    .option('--url <url>', 'STOMP listener of the broker (default stomp://127.0.0.1:61613)')
    .option('--symbols <n>', 'number of symbols (default 12)')
    .option('--rate <n>', 'quotes per second, all symbols together (default 20)')
    .option('--count <n>', 'stop after this many quotes (default: run until interrupted)')
    .option('--user <name>', 'login, when the broker has users')
    .option('--password <password>', 'password (or BLAZEMQ_PASSWORD in the environment)')
    .option('--seed <n>', 'random seed, for a reproducible feed')
    .action((opts: DemoFeedFlags) =>
      runDemoFeed(opts, (line) => process.stdout.write(`${line}\n`)).catch(fatal),
    );
}
