/**
 * Connection options of the admin commands: flags first, then the environment (BLAZEMQ_URL,
 * BLAZEMQ_USER, BLAZEMQ_PASSWORD), then the default URL. Pure, unit-tested.
 */
import type { ConnectionOptions } from './client.js';

export const DEFAULT_URL = 'http://127.0.0.1:8161';

/** A command line the command cannot run with: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ConnectionFlags {
  url?: string;
  user?: string;
  password?: string;
}

export function resolveConnection(
  flags: ConnectionFlags,
  env: Readonly<Record<string, string | undefined>>,
): ConnectionOptions {
  const url = flags.url ?? env['BLAZEMQ_URL'] ?? DEFAULT_URL;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`invalid --url '${url}': expected e.g. ${DEFAULT_URL}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`invalid --url '${url}': expected an http:// or https:// URL`);
  }
  const user = flags.user ?? env['BLAZEMQ_USER'];
  const password = flags.password ?? env['BLAZEMQ_PASSWORD'];
  if (password !== undefined && user === undefined) {
    throw new UsageError('a password was given without a user (--user or BLAZEMQ_USER)');
  }
  return {
    url: parsed.toString().replace(/\/+$/, ''),
    ...(user === undefined ? {} : { user }),
    ...(password === undefined ? {} : { password }),
  };
}

export interface Destination {
  readonly kind: 'queue' | 'topic';
  readonly name: string;
}

/**
 * `queue://x`, `topic://x`, STOMP-style `/queue/x` and `/topic/x`, or a bare name, which is a queue (as
 * in ActiveMQ's tools).
 */
export function parseDestination(text: string): Destination {
  const m = /^(queue|topic):\/\/(.+)$/.exec(text) ?? /^\/(queue|topic)\/(.+)$/.exec(text);
  if (m) return { kind: m[1] as 'queue' | 'topic', name: m[2]! };
  if (text === '' || /^[a-z-]+:\/\//.test(text)) {
    throw new UsageError(
      `invalid destination '${text}': expected queue://NAME, topic://NAME or a queue name`,
    );
  }
  return { kind: 'queue', name: text };
}

/** A queue argument (browse, purge, receive): a bare name or queue://NAME, never a topic. */
export function parseQueue(text: string): string {
  const d = parseDestination(text);
  if (d.kind !== 'queue') throw new UsageError(`'${text}' is not a queue`);
  return d.name;
}

/** `--property NAME=VALUE` values, as string properties (the first `=` separates). */
export function parseProperties(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid --property '${p}': expected NAME=VALUE`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

/** A non-negative integer option. */
export function parseCount(name: string, text: string | undefined, fallback: number, min = 0): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text) || Number(text) < min) {
    throw new UsageError(`invalid ${name} '${text}': expected an integer >= ${min}`);
  }
  return Number(text);
}
