/**
 * Routing of the /v1 JSON messaging API (docs/HTTP.md): method + URL -> one typed route. Pure.
 *
 *   POST   /v1/auth/token                      {login, passcode} -> {token, expiresAt}
 *   DELETE /v1/auth/token                      revoke the presented bearer token
 *   GET    /v1/openapi.json                    this API (and the management API) as OpenAPI 3.1
 *   POST   /v1/queues/{name}/messages          send (JSON, or the raw body for other content types)
 *   GET    /v1/queues/{name}/messages          browse (read only) ?max=&selector=
 *   POST   /v1/topics/{name}/messages          publish
 *   POST   /v1/messages:batch                  [{address, ...message}] all or nothing
 *   POST   /v1/queues/{name}/receive           ?timeoutMs=&max=&visibilityTimeoutMs=&selector=
 *   POST   /v1/acks, /v1/nacks                 {receipts: [...]}
 *
 * `{name}` is the bare name, URL-encoded, as in the management API (`/v1/queues/orders` = queue://orders).
 * Paths under /v1/admin and /v1/stream belong to other handlers: undefined here.
 */
import { HttpError } from '../errors.js';
import type { HttpLimits } from '../request.js';

export type V1Route =
  | { op: 'token.issue' }
  | { op: 'token.revoke' }
  | { op: 'openapi' }
  | { op: 'send'; address: string }
  | { op: 'browse'; address: string; max: number; selector: string | undefined }
  | { op: 'batch' }
  | {
      op: 'receive';
      address: string;
      max: number;
      timeoutMs: number;
      visibilityTimeoutMs: number;
      selector: string | undefined;
    }
  | { op: 'ack' }
  | { op: 'nack' };

/** The ops and paths this router serves, for the OpenAPI completeness test. */
export const V1_PATHS = [
  '/v1/auth/token',
  '/v1/openapi.json',
  '/v1/queues/{name}/messages',
  '/v1/topics/{name}/messages',
  '/v1/messages:batch',
  '/v1/queues/{name}/receive',
  '/v1/acks',
  '/v1/nacks',
] as const;

const PREFIX = '/v1/';
/** Most messages one browse answers with. */
export const MAX_BROWSE = 1000;
/** A receive may hold its messages at most this long (the config's visibility timeout is the default). */
export const MAX_VISIBILITY_MS = 12 * 3_600_000;

function methodNotAllowed(method: string, allow: string): HttpError {
  return new HttpError(405, `method ${method} not allowed`, { allow });
}

function decodeName(segment: string): string {
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'malformed percent-encoding in the path');
  }
  if (name.length === 0) throw new HttpError(400, 'empty destination name');
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new HttpError(400, 'control character in the destination');
  // A composite (`a,b`) or a full address in the name would send elsewhere than the path says.
  if (name.includes(',') || name.includes('://')) {
    throw new HttpError(400, 'the name in the path is a bare name: no "," and no "type://"');
  }
  return name;
}

function intParam(query: URLSearchParams, key: string, dflt: number, min: number, max: number): number {
  const text = query.get(key);
  if (text === null) return dflt;
  if (!/^\d{1,12}$/.test(text))
    throw new HttpError(400, `${key} must be a non-negative integer, got "${text}"`);
  const n = Number(text);
  if (n < min) throw new HttpError(400, `${key} must be at least ${min}`);
  return Math.min(n, max);
}

/** Parses one request; undefined when the path is not the /v1 messaging API's. Throws HttpError 400/405. */
export function parseV1Request(method: string, url: string, limits: HttpLimits): V1Route | undefined {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (!path.startsWith(PREFIX)) return undefined;
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const rest = path.slice(PREFIX.length);
  switch (rest) {
    case 'auth/token':
      if (method === 'POST') return { op: 'token.issue' };
      if (method === 'DELETE') return { op: 'token.revoke' };
      throw methodNotAllowed(method, 'POST, DELETE');
    case 'openapi.json':
      if (method === 'GET' || method === 'HEAD') return { op: 'openapi' };
      throw methodNotAllowed(method, 'GET');
    case 'messages:batch':
      if (method === 'POST') return { op: 'batch' };
      throw methodNotAllowed(method, 'POST');
    case 'acks':
    case 'nacks':
      if (method === 'POST') return { op: rest === 'acks' ? 'ack' : 'nack' };
      throw methodNotAllowed(method, 'POST');
  }
  const parts = rest.split('/');
  if (parts.length !== 3 || (parts[0] !== 'queues' && parts[0] !== 'topics')) return undefined;
  const kind = parts[0] === 'queues' ? 'queue' : 'topic';
  const action = parts[2];
  if (action !== 'messages' && !(action === 'receive' && kind === 'queue')) return undefined;
  const address = `${kind}://${decodeName(parts[1]!)}`;
  const selector = query.get('selector') ?? undefined;
  if (action === 'receive') {
    if (method !== 'POST') throw methodNotAllowed(method, 'POST');
    return {
      op: 'receive',
      address,
      max: intParam(query, 'max', 1, 1, limits.maxReceiveMessages),
      timeoutMs: intParam(query, 'timeoutMs', 0, 0, limits.maxReadTimeoutMs),
      visibilityTimeoutMs: intParam(
        query,
        'visibilityTimeoutMs',
        limits.visibilityTimeoutMs,
        100,
        MAX_VISIBILITY_MS,
      ),
      selector,
    };
  }
  if (method === 'POST' || method === 'PUT') return { op: 'send', address };
  if (method === 'GET' && kind === 'queue') {
    return { op: 'browse', address, max: intParam(query, 'max', 100, 1, MAX_BROWSE), selector };
  }
  throw methodNotAllowed(method, kind === 'queue' ? 'GET, POST' : 'POST');
}
