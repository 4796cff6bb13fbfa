/**
 * The management API's route table (docs/MANAGEMENT.md, .tmp/ADMIN-API.md) and a pure matcher: method and
 * path in, route name and decoded parameters out. Path parameters are single URL-encoded segments, so a
 * queue named `a/b` is `/v1/admin/queues/a%2Fb`.
 */
import { badRequest } from './errors.js';

export const ADMIN_PREFIX = '/v1/admin/';

export type RouteName =
  | 'overview'
  | 'listQueues'
  | 'getQueue'
  | 'deleteQueue'
  | 'purgeQueue'
  | 'browseQueue'
  | 'sendToQueue'
  | 'moveMessage'
  | 'deleteMessage'
  | 'listTopics'
  | 'listAddresses'
  | 'sendToTopic'
  | 'listSubscriptions'
  | 'deleteDurable'
  | 'listConnections'
  | 'closeConnection'
  | 'listTransactions'
  | 'commitTransaction'
  | 'rollbackTransaction';

export type Method = 'GET' | 'POST' | 'DELETE';

export interface RouteDef {
  readonly name: RouteName;
  readonly method: Method;
  /** Segments after /v1/admin/; `{x}` is a parameter. */
  readonly pattern: string;
}

export const ROUTES: readonly RouteDef[] = [
  { name: 'overview', method: 'GET', pattern: 'overview' },
  { name: 'listQueues', method: 'GET', pattern: 'queues' },
  { name: 'getQueue', method: 'GET', pattern: 'queues/{name}' },
  { name: 'deleteQueue', method: 'DELETE', pattern: 'queues/{name}' },
  { name: 'purgeQueue', method: 'POST', pattern: 'queues/{name}/purge' },
  { name: 'browseQueue', method: 'GET', pattern: 'queues/{name}/messages' },
  { name: 'sendToQueue', method: 'POST', pattern: 'queues/{name}/messages' },
  { name: 'moveMessage', method: 'POST', pattern: 'queues/{name}/messages/{id}/move' },
  { name: 'deleteMessage', method: 'DELETE', pattern: 'queues/{name}/messages/{id}' },
  { name: 'listTopics', method: 'GET', pattern: 'topics' },
  { name: 'listAddresses', method: 'GET', pattern: 'addresses' },
  { name: 'sendToTopic', method: 'POST', pattern: 'topics/{name}/messages' },
  { name: 'listSubscriptions', method: 'GET', pattern: 'subscriptions' },
  { name: 'deleteDurable', method: 'DELETE', pattern: 'subscriptions/durable/{clientId}/{name}' },
  { name: 'listConnections', method: 'GET', pattern: 'connections' },
  { name: 'closeConnection', method: 'DELETE', pattern: 'connections/{id}' },
  { name: 'listTransactions', method: 'GET', pattern: 'transactions' },
  { name: 'commitTransaction', method: 'POST', pattern: 'transactions/{xid}/commit' },
  { name: 'rollbackTransaction', method: 'POST', pattern: 'transactions/{xid}/rollback' },
];

export type RouteMatch =
  | { readonly kind: 'route'; readonly name: RouteName; readonly params: Readonly<Record<string, string>> }
  /** The path exists with other methods (405 with `Allow`). */
  | { readonly kind: 'method'; readonly allow: readonly string[] }
  | { readonly kind: 'none' };

const COMPILED = ROUTES.map((r) => ({ ...r, segments: r.pattern.split('/') }));

function matchSegments(
  pattern: readonly string[],
  path: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = path[i]!;
    if (p.startsWith('{')) {
      if (s === '') return undefined;
      params[p.slice(1, -1)] = s;
    } else if (p !== s) return undefined;
  }
  return params;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`malformed URL encoding in path segment '${segment.slice(0, 64)}'`);
  }
}

/**
 * Matches a path under ADMIN_PREFIX (query string already removed). HEAD is served as GET. Throws a 400
 * HttpError for malformed percent-encoding.
 */
export function matchRoute(method: string, path: string): RouteMatch {
  if (!path.startsWith(ADMIN_PREFIX)) return { kind: 'none' };
  let rest = path.slice(ADMIN_PREFIX.length);
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  const segments = rest.split('/');
  const m = method === 'HEAD' ? 'GET' : method;
  const allow: string[] = [];
  for (const r of COMPILED) {
    const raw = matchSegments(r.segments, segments);
    if (raw === undefined) continue;
    if (r.method !== m) {
      allow.push(r.method);
      continue;
    }
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) params[k] = decode(v);
    return { kind: 'route', name: r.name, params };
  }
  return allow.length > 0 ? { kind: 'method', allow } : { kind: 'none' };
}
