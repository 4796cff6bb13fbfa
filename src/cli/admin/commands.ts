/**
 * `blazemq stat | browse | purge | send | receive`: operator commands over the broker's HTTP API
 * (management API under /v1/admin; `receive` uses the REST long poll GET /api/message, which consumes).
 * Each writes results to `out` and returns; failures throw (UsageError -> exit 2, anything else -> 1).
 */
import type { MessageJson } from '../../admin/management/message-json.js';
import type { ConnectionStats, QueueInfo, TopicInfo } from '../../core/index.js';
import { AdminClient, apiError, type ConnectionOptions } from './client.js';
import { age, bytes, preview, table } from './format.js';
import { parseCount, parseDestination, parseProperties, parseQueue, UsageError } from './options.js';

export type Out = (text: string) => void;

const enc = encodeURIComponent;

interface Overview {
  version: string;
  uptimeSeconds: number;
  memory: { used: number; peak: number; limit: number; blocked: boolean };
  totals: Record<string, number>;
  rates: { enqueuedPerSecond: number; dequeuedPerSecond: number };
}

export async function stat(conn: ConnectionOptions, opts: { json?: boolean }, out: Out): Promise<void> {
  const c = new AdminClient(conn);
  const [overview, queues, topics, connections] = await Promise.all([
    c.json<Overview>('GET', '/v1/admin/overview'),
    c.json<QueueInfo[]>('GET', '/v1/admin/queues'),
    c.json<TopicInfo[]>('GET', '/v1/admin/topics'),
    c.json<ConnectionStats[]>('GET', '/v1/admin/connections'),
  ]);
  if (opts.json) {
    out(JSON.stringify({ overview, queues, topics, connections }, null, 2));
    return;
  }
  const r = overview.rates;
  out(
    `BlazeMQ ${overview.version}, up ${age(overview.uptimeSeconds * 1000)}, memory ${bytes(overview.memory.used)}` +
      `${overview.memory.limit > 0 ? ` of ${bytes(overview.memory.limit)}` : ''}` +
      `${overview.memory.blocked ? ' (producers blocked)' : ''}, ` +
      `${r.enqueuedPerSecond.toFixed(1)} in/s, ${r.dequeuedPerSecond.toFixed(1)} out/s`,
  );
  out('');
  out(
    table(
      ['QUEUE', 'DEPTH', 'ENQUEUED', 'DEQUEUED', 'CONSUMERS', 'IN-FLIGHT', 'OLDEST'],
      queues
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((q) => [
          q.name,
          q.depth,
          q.enqueued,
          q.dequeued,
          q.consumers,
          q.inFlight,
          age(q.oldestMessageAgeMs),
        ]),
    ),
  );
  out('');
  out(
    table(
      ['TOPIC', 'PUBLISHED', 'SUBSCRIBERS'],
      topics.sort((a, b) => a.name.localeCompare(b.name)).map((t) => [t.name, t.published, t.subscribers]),
    ),
  );
  out('');
  out(
    table(
      ['CONNECTION', 'PROTOCOL', 'USER', 'CLIENT-ID', 'REMOTE', 'SUBS', 'IN-FLIGHT'],
      connections.map((k) => [
        k.id,
        k.protocol,
        k.user,
        k.clientId ?? '-',
        k.remoteAddress ?? '-',
        k.subscriptions,
        k.inFlight,
      ]),
    ),
  );
}

export async function browse(
  conn: ConnectionOptions,
  queue: string,
  opts: { max?: string; selector?: string; json?: boolean },
  out: Out,
): Promise<void> {
  const name = parseQueue(queue);
  const max = parseCount('--max', opts.max, 100, 1);
  const query = new URLSearchParams({ max: String(max) });
  if (opts.selector !== undefined) query.set('selector', opts.selector);
  const messages = await new AdminClient(conn).json<MessageJson[]>(
    'GET',
    `/v1/admin/queues/${enc(name)}/messages?${query}`,
  );
  if (opts.json) {
    out(JSON.stringify(messages, null, 2));
    return;
  }
  out(
    table(
      ['ID', 'PRI', 'PERSISTENT', 'TIMESTAMP', 'DELIVERIES', 'BODY'],
      messages.map((m) => [
        m.id,
        m.priority,
        m.persistent ? 'yes' : 'no',
        new Date(m.timestamp).toISOString(),
        m.deliveryCount,
        m.bodyEncoding === 'base64' ? `(binary, base64) ${preview(m.body, 40)}` : preview(m.body),
      ]),
    ),
  );
}

export async function purge(conn: ConnectionOptions, queue: string, out: Out): Promise<void> {
  const name = parseQueue(queue);
  const r = await new AdminClient(conn).json<{ purged: number }>(
    'POST',
    `/v1/admin/queues/${enc(name)}/purge`,
  );
  out(`purged ${r.purged} message${r.purged === 1 ? '' : 's'} from queue://${name}`);
}

export interface SendFlags {
  persistent?: boolean;
  priority?: string;
  ttl?: string;
  property?: string[];
  correlationId?: string;
  replyTo?: string;
}

/** Reads all of stdin (the body for `send ADDRESS -`, or when no body argument is given). */
export async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The JSON send request for a body (text when valid UTF-8, else base64) and the flags. */
export function sendRequest(body: Uint8Array, flags: SendFlags): Record<string, unknown> {
  const req: Record<string, unknown> = {};
  try {
    req['body'] = strictUtf8.decode(body);
  } catch {
    req['body'] = Buffer.from(body).toString('base64');
    req['bodyEncoding'] = 'base64';
  }
  if (flags.persistent) req['persistent'] = true;
  if (flags.priority !== undefined) {
    const p = parseCount('--priority', flags.priority, 4);
    if (p > 9) throw new UsageError(`invalid --priority '${flags.priority}': expected 0 to 9`);
    req['priority'] = p;
  }
  if (flags.ttl !== undefined) req['timeToLive'] = parseCount('--ttl', flags.ttl, 0);
  if (flags.property !== undefined && flags.property.length > 0)
    req['properties'] = parseProperties(flags.property);
  if (flags.correlationId !== undefined) req['correlationId'] = flags.correlationId;
  if (flags.replyTo !== undefined) req['replyTo'] = flags.replyTo;
  return req;
}

export async function send(
  conn: ConnectionOptions,
  address: string,
  bodyArg: string | undefined,
  flags: SendFlags,
  out: Out,
  stdin: () => Promise<Uint8Array> = readStdin,
): Promise<void> {
  const d = parseDestination(address);
  const body = bodyArg === undefined || bodyArg === '-' ? await stdin() : Buffer.from(bodyArg, 'utf8');
  const path = `/v1/admin/${d.kind === 'queue' ? 'queues' : 'topics'}/${enc(d.name)}/messages`;
  const r = await new AdminClient(conn).json<{ id: string }>('POST', path, sendRequest(body, flags));
  out(r.id);
}

/** Longest single long poll; the server clamps longer ones anyway (limits.http.maxReadTimeoutMs). */
const POLL_MS = 20_000;

/**
 * Takes up to `count` messages from a queue (consumed: acknowledged once the response is read), each
 * body printed on its own line (`--json`: one JSON object per line, with the message headers). Throws
 * when fewer than `count` arrived within `timeout` ms in all.
 */
export async function receive(
  conn: ConnectionOptions,
  queue: string,
  opts: { count?: string; timeout?: string; json?: boolean },
  out: Out,
  now: () => number = Date.now,
): Promise<void> {
  const name = parseQueue(queue);
  const count = parseCount('--count', opts.count, 1, 1);
  const timeout = parseCount('--timeout', opts.timeout, 5000);
  const client = new AdminClient(conn);
  const deadline = now() + timeout;
  let received = 0;
  while (received < count) {
    const wait = Math.max(0, Math.min(POLL_MS, deadline - now()));
    const query = new URLSearchParams({
      destination: `queue://${name}`,
      oneShot: 'true',
      readTimeout: String(wait),
    });
    const res = await client.raw('GET', `/api/message?${query}`);
    if (res.status === 200) {
      received++;
      const text = Buffer.from(res.body).toString('utf8');
      if (opts.json) {
        const headers: Record<string, string> = {};
        res.headers.forEach((v, k) => {
          if (!['content-length', 'connection', 'date', 'keep-alive', 'cache-control'].includes(k))
            headers[k] = v;
        });
        out(JSON.stringify({ headers, body: text }));
      } else out(text);
      continue;
    }
    if (res.status !== 204) throw apiError(res);
    if (now() >= deadline) {
      throw new Error(
        `timed out after ${timeout} ms: received ${received} of ${count} message(s) from queue://${name}`,
      );
    }
  }
}
