/**
 * One function per management route: authorize (the `admin` permission, on the address concerned or on
 * `*` for broker-wide views), call the core's admin operations (core/admin.ts), shape the JSON reply.
 * Request plumbing (auth, body, errors) is management.ts's.
 */
import { parseAddress } from '../../core/address.js';
import type { Principal } from '../../core/api.js';
import type { BlazeCore } from '../../core/index.js';
import { BlazeError } from '../../util/errors.js';
import { badRequest } from './errors.js';
import { messageToJson, parseSendRequest } from './message-json.js';
import type { RateWindow } from './rates.js';
import type { RouteName } from './router.js';

/** Everything a handler may need about one request. */
export interface RouteRequest {
  readonly principal: Principal;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The parsed JSON body (POST routes that take one); undefined when the request had none. */
  readonly body: unknown;
  readonly remoteAddress: string;
}

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
}

export interface HandlerContext {
  readonly core: BlazeCore;
  readonly version: string;
  /** Epoch ms the broker started. */
  readonly startedAt: number;
  readonly rates: RateWindow;
  /** Samples the counters into `rates` now. */
  sample(): void;
}

type Handler = (ctx: HandlerContext, r: RouteRequest) => Reply | Promise<Reply>;

/** Every address: broker-wide views and actions need `admin` on `*`. */
export const ALL = '*';
export const BROWSE_DEFAULT = 100;
export const BROWSE_LIMIT = 10_000;

const ok = (body: unknown): Reply => ({ status: 200, body });
const NO_CONTENT: Reply = { status: 204 };

function queueAddress(name: string): string {
  return `queue://${name}`;
}

/** `max` query parameter: 1..BROWSE_LIMIT, default BROWSE_DEFAULT. */
export function parseMax(text: string | null): number {
  if (text === null || text === '') return BROWSE_DEFAULT;
  if (!/^\d{1,9}$/.test(text))
    throw badRequest(`"max" must be a positive integer, got '${text.slice(0, 32)}'`);
  const n = Number(text);
  if (n < 1 || n > BROWSE_LIMIT) throw badRequest(`"max" must be from 1 to ${BROWSE_LIMIT}`);
  return n;
}

function requireBody(r: RouteRequest): unknown {
  if (r.body === undefined) throw badRequest('a JSON request body is required');
  return r.body;
}

async function send(ctx: HandlerContext, r: RouteRequest, address: string): Promise<Reply> {
  ctx.core.admin.authorize(r.principal, address);
  const init = parseSendRequest(requireBody(r), address, Date.now());
  const id = await ctx.core.admin.send(r.principal, init, r.remoteAddress);
  return { status: 201, body: { id } };
}

export const HANDLERS: Readonly<Record<RouteName, Handler>> = {
  overview(ctx, r) {
    ctx.core.admin.authorize(r.principal, ALL);
    ctx.sample();
    const m = ctx.core.stats().memory;
    return ok({
      version: ctx.version,
      uptimeSeconds: Math.floor((Date.now() - ctx.startedAt) / 1000),
      memory: { used: m.used, peak: m.peak, limit: m.limit, blocked: m.blocked },
      totals: ctx.core.admin.totals(),
      rates: ctx.rates.rates(),
    });
  },

  listQueues(ctx, r) {
    ctx.core.admin.authorize(r.principal, ALL);
    return ok(ctx.core.admin.queues());
  },

  getQueue(ctx, r) {
    const name = r.params['name']!;
    ctx.core.admin.authorize(r.principal, queueAddress(name));
    const q = ctx.core.admin.queue(name);
    if (q === undefined) throw new BlazeError('NOT_FOUND', `no queue '${name}'`);
    return ok(q);
  },

  deleteQueue(ctx, r) {
    const name = r.params['name']!;
    ctx.core.admin.authorize(r.principal, queueAddress(name));
    ctx.core.admin.deleteQueue(name);
    return NO_CONTENT;
  },

  purgeQueue(ctx, r) {
    const name = r.params['name']!;
    ctx.core.admin.authorize(r.principal, queueAddress(name));
    return ok({ purged: ctx.core.admin.purge(name) });
  },

  browseQueue(ctx, r) {
    const name = r.params['name']!;
    ctx.core.admin.authorize(r.principal, queueAddress(name));
    const max = parseMax(r.query.get('max'));
    const selector = r.query.get('selector') ?? undefined;
    const found = ctx.core.admin.browse(name, { max, ...(selector === undefined ? {} : { selector }) });
    return ok(found.map((b) => messageToJson(b.message, b.deliveryCount, b.redelivered)));
  },

  sendToQueue(ctx, r) {
    return send(ctx, r, queueAddress(r.params['name']!));
  },

  moveMessage(ctx, r) {
    const name = r.params['name']!;
    ctx.core.admin.authorize(r.principal, queueAddress(name));
    const body = requireBody(r);
    const to = (body as { to?: unknown } | null)?.to;
    if (typeof to !== 'string' || to === '')
      throw badRequest('"to" must be an address such as "queue://other"');
    const target = parseAddress(to).canonical;
    ctx.core.admin.authorize(r.principal, target);
    ctx.core.admin.moveMessage(name, r.params['id']!, target);
    return NO_CONTENT;
  },

  deleteMessage(ctx, r) {
    const name = r.params['name']!;
    ctx.core.admin.authorize(r.principal, queueAddress(name));
    ctx.core.admin.deleteMessage(name, r.params['id']!);
    return NO_CONTENT;
  },

  listTopics(ctx, r) {
    ctx.core.admin.authorize(r.principal, ALL);
    return ok(ctx.core.admin.topics());
  },

  listAddresses(ctx, r) {
    ctx.core.admin.authorize(r.principal, ALL);
    return ok(ctx.core.admin.addresses());
  },

  sendToTopic(ctx, r) {
    return send(ctx, r, `topic://${r.params['name']!}`);
  },

  listSubscriptions(ctx, r) {
    ctx.core.admin.authorize(r.principal, ALL);
    return ok(ctx.core.admin.subscriptions());
  },

  deleteDurable(ctx, r) {
    ctx.core.admin.authorize(r.principal, ALL);
    ctx.core.admin.deleteDurable(r.params['clientId']!, r.params['name']!);
    return NO_CONTENT;
  },

  listConnections(ctx, r) {
    ctx.core.admin.authorize(r.principal, ALL);
    return ok(ctx.core.admin.connections());
  },

  closeConnection(ctx, r) {
    ctx.core.admin.authorize(r.principal, ALL);
    ctx.core.admin.closeConnection(r.params['id']!, `closed by administrator '${r.principal.user}'`);
    return NO_CONTENT;
  },

  listTransactions(ctx, r) {
    ctx.core.admin.authorize(r.principal, ALL);
    return ok(ctx.core.admin.transactions());
  },

  commitTransaction(ctx, r) {
    return completeTransaction(ctx, r, 'commit');
  },

  rollbackTransaction(ctx, r) {
    return completeTransaction(ctx, r, 'rollback');
  },
};

/**
 * An operator's heuristic outcome for a prepared XA branch ({xid} = its xidKey). Broker-wide (`*`): a
 * branch may touch any address, and deciding it overrides the transaction's coordinator.
 */
async function completeTransaction(
  ctx: HandlerContext,
  r: RouteRequest,
  outcome: 'commit' | 'rollback',
): Promise<Reply> {
  ctx.core.admin.authorize(r.principal, ALL);
  await ctx.core.admin.completeTransaction(r.params['xid']!, outcome, r.principal.user);
  return NO_CONTENT;
}

/** Routes that read a JSON request body. */
export const TAKES_BODY: ReadonlySet<RouteName> = new Set(['sendToQueue', 'sendToTopic', 'moveMessage']);
