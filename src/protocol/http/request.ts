/**
 * Parsing of the ActiveMQ-compatible REST messaging requests (ActiveMQ Classic `MessageServlet`):
 *
 *   POST   /api/message/<name>?type=queue|topic          send; body = message
 *   GET    /api/message/<name>?type=queue&readTimeout=MS receive one message (long poll)
 *   DELETE /api/message/<name>?type=queue&clientId=ID    close the consumer ID (its held message goes back)
 *
 * As in ActiveMQ: `/` in the path separates levels (`/api/message/a/b` is `a.b`), `type` defaults to
 * topic, and `destination=queue://x` may replace the path. Pure: no I/O, unit- and property-tested.
 */
import { HttpError } from './errors.js';

export interface HttpLimits {
  /** Largest request body accepted (bytes); beyond it 413. */
  maxBodySize: number;
  /** Long-poll wait when the request gives no `readTimeout`. */
  defaultReadTimeoutMs: number;
  /** `readTimeout` is clamped to this. */
  maxReadTimeoutMs: number;
  /** A consumer kept across requests (clientId or session cookie) is closed after this long unpolled. */
  consumerIdleTimeoutMs: number;
  /** Consumers kept across requests, all users together; beyond it 503. */
  maxConsumers: number;
  /** Server-Sent Events streams open at once; beyond it 503. */
  maxStreams: number;
  /** A heart-beat comment is written on a stream idle for this long. */
  sseHeartbeatMs: number;
  /** A stream whose browser has not drained its output for this long is closed. */
  sseSlowConsumerTimeoutMs: number;
  /** Topic streams keep the last this many messages per address for `Last-Event-ID` resume; 0 = none. */
  sseHistorySize: number;
  /** ...and at most this many body bytes per address. */
  sseHistoryBytes: number;
  /** A topic's history is kept this long after its last stream closed, for the browser to come back. */
  sseHistoryRetentionMs: number;
  /** Addresses with a history at once; beyond it new streams go without one (live only). */
  sseHistoryMaxAddresses: number;
  /** Bearer tokens from `POST /v1/auth/token` expire after this long. */
  tokenTtlMs: number;
  /** Tokens alive at once, all users together; beyond it token requests get 503. */
  maxTokens: number;
  /** A verified Basic login is reused for this long without scrypt (credential-cache.ts); 0 = off. */
  credentialCacheTtlMs: number;
  credentialCacheSize: number;
  /** `/v1` receive: messages stay invisible (held unacked) this long unless the request says otherwise. */
  visibilityTimeoutMs: number;
  /** `/v1` receive: most messages one request may take (`max`). */
  maxReceiveMessages: number;
  /** `/v1` receive: leases (requests' held messages) open at once; beyond it 503. */
  maxLeases: number;
  /** `POST /v1/messages:batch`: most messages in one batch. */
  maxBatchMessages: number;
}

export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxBodySize: 1024 * 1024,
  defaultReadTimeoutMs: 2000,
  maxReadTimeoutMs: 25_000,
  consumerIdleTimeoutMs: 30_000,
  maxConsumers: 10_000,
  maxStreams: 10_000,
  sseHeartbeatMs: 15_000,
  sseSlowConsumerTimeoutMs: 10_000,
  sseHistorySize: 1000,
  sseHistoryBytes: 4 * 1024 * 1024,
  sseHistoryRetentionMs: 60_000,
  sseHistoryMaxAddresses: 100,
  tokenTtlMs: 3_600_000,
  maxTokens: 10_000,
  credentialCacheTtlMs: 60_000,
  credentialCacheSize: 1000,
  visibilityTimeoutMs: 30_000,
  maxReceiveMessages: 100,
  maxLeases: 10_000,
  maxBatchMessages: 1000,
});

export const MESSAGE_PATH = '/api/message';
/** Cookie that keeps a consumer across requests for clients without a `clientId` (cookie jars). */
export const SESSION_COOKIE = 'blazemq-session';

export type MessageRequest =
  | { op: 'send'; address: string; query: URLSearchParams }
  | {
      op: 'receive';
      address: string;
      readTimeoutMs: number;
      /** Consumer kept across requests: explicit `clientId`, else the session cookie (unless oneShot). */
      consumerId: string | undefined;
      /** `oneShot=true`: never keep a consumer, nor offer a session cookie. */
      oneShot: boolean;
      selector: string | undefined;
    }
  | { op: 'release'; address: string; consumerId: string };

const TYPES = new Set(['queue', 'topic']);
const CONSUMER_ID = /^[\w.:@-]{1,128}$/;

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'malformed percent-encoding in the path');
  }
}

/** The canonical address named by the path (or `destination`) and `type`. */
export function parseAddress(pathRest: string, query: URLSearchParams): string {
  const destination = query.get('destination');
  const type = query.get('type');
  if (type !== null && !TYPES.has(type.toLowerCase())) {
    throw new HttpError(400, `unknown type "${type}": expected "queue" or "topic"`);
  }
  if (destination !== null && /^(queue|topic):\/\//.test(destination)) return destination;
  const name =
    destination ??
    pathRest
      .split('/')
      .filter((s) => s.length > 0)
      .map(decodeSegment)
      .join('.');
  if (name.length === 0) throw new HttpError(400, 'no destination: use /api/message/<name>');
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new HttpError(400, 'control character in the destination');
  // ActiveMQ's MessageServlet defaults to a topic when no type is given.
  return `${(type ?? 'topic').toLowerCase()}://${name}`;
}

function parseTimeout(text: string | null, limits: HttpLimits): number {
  if (text === null) return Math.min(limits.defaultReadTimeoutMs, limits.maxReadTimeoutMs);
  if (!/^-?\d{1,12}$/.test(text)) throw new HttpError(400, `readTimeout must be milliseconds, got "${text}"`);
  // ActiveMQ treats a negative timeout as "wait as long as allowed".
  const ms = Number(text);
  return ms < 0 ? limits.maxReadTimeoutMs : Math.min(ms, limits.maxReadTimeoutMs);
}

function parseConsumerId(text: string): string {
  if (!CONSUMER_ID.test(text)) {
    throw new HttpError(400, 'clientId must be 1-128 letters, digits or ._:@-');
  }
  return text;
}

/** The value of one cookie in a `Cookie` header (RFC 6265 §5.4), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function isTrue(v: string | null): boolean {
  return v !== null && (v === '' || v.toLowerCase() === 'true');
}

/**
 * Parses one request to `/api/message...`; undefined when the path is not ours. Throws HttpError (400,
 * 405) on bad input.
 */
export function parseMessageRequest(
  method: string,
  url: string,
  cookieHeader: string | undefined,
  limits: HttpLimits,
): MessageRequest | undefined {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path !== MESSAGE_PATH && !path.startsWith(`${MESSAGE_PATH}/`)) return undefined;
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const address = parseAddress(path.slice(MESSAGE_PATH.length), query);
  const explicitId = query.get('clientId');
  const clientId = explicitId === null ? undefined : parseConsumerId(explicitId);
  switch (method) {
    case 'POST':
    case 'PUT':
      return { op: 'send', address, query };
    case 'GET': {
      const cookie = cookieValue(cookieHeader, SESSION_COOKIE);
      const sessionId = cookie !== undefined && CONSUMER_ID.test(cookie) ? `session:${cookie}` : undefined;
      const oneShot = isTrue(query.get('oneShot'));
      const consumerId = clientId !== undefined ? `client:${clientId}` : oneShot ? undefined : sessionId;
      return {
        op: 'receive',
        address,
        oneShot,
        readTimeoutMs: parseTimeout(query.get('readTimeout'), limits),
        consumerId,
        selector: query.get('selector') ?? undefined,
      };
    }
    case 'DELETE': {
      const sessionCookie = cookieValue(cookieHeader, SESSION_COOKIE);
      const consumerId =
        clientId !== undefined
          ? `client:${clientId}`
          : sessionCookie !== undefined && CONSUMER_ID.test(sessionCookie)
            ? `session:${sessionCookie}`
            : undefined;
      if (consumerId === undefined) throw new HttpError(400, 'DELETE needs a clientId or a session cookie');
      return { op: 'release', address, consumerId };
    }
    default:
      throw new HttpError(405, `method ${method} not allowed`, { allow: 'GET, POST, PUT, DELETE' });
  }
}
