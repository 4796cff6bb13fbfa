/**
 * The /v1 JSON messaging API (routes.ts lists it; docs/HTTP.md documents it; openapi.ts describes it).
 * Each request authenticates (Basic or Bearer, ../auth.ts), opens a core connection as protocol `http`,
 * makes its core calls and closes it, except receive, whose messages stay held under a lease (leases.ts).
 *
 * Nothing accepted is lost on errors: a send is answered 201 only once the core accepted it (persistent
 * messages durable); every input check (JSON, fields, sizes, addresses) runs before anything is sent; a
 * batch is one core transaction, so it is sent whole or not at all.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator, BrokerCore, CoreConnection, Principal } from '../../../core/api.js';
import type { MessageInit } from '../../../core/message.js';
import type { Logger } from '../../../util/logger.js';
import { authenticate, type HttpAuthenticator } from '../auth.js';
import { readBody } from '../body.js';
import { HttpError } from '../errors.js';
import { toMessageInit } from '../mapping.js';
import { remoteOf, sendError, sendJson } from '../reply.js';
import type { HttpLimits } from '../request.js';
import { LeaseRegistry } from './leases.js';
import { messageToJson, parseJsonText, parseMessageJson } from './message-json.js';
import { openApiDocument } from './openapi.js';
import { parseV1Request, type V1Route } from './routes.js';

export interface V1Context {
  core: BrokerCore;
  /** The broker's HttpAuthenticator (Basic + Bearer); a plain Authenticator disables the token endpoint. */
  authenticator: Authenticator;
  limits: HttpLimits;
  logger: Logger;
  /** OpenAPI `paths` merged into /v1/openapi.json: the management API's (admin/management/openapi-paths.ts). */
  extraOpenApiPaths?: () => Record<string, unknown>;
  /** Version string for the OpenAPI `info`. */
  version?: string;
}

export interface V1Api {
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Receive leases open, and messages they hold. */
  readonly leases: { readonly open: number; readonly held: number };
  /** Closes every lease: held messages go back to their queues. */
  close(): void;
}

/** A send may name the core's message id when the connection tells it (core Connection.sendForId). */
type IdentifyingConnection = CoreConnection & {
  sendForId?(init: MessageInit): { id: string; accepted: Promise<void> };
};

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

function mediaType(req: IncomingMessage): string | undefined {
  const type = req.headers['content-type'];
  return type === undefined ? undefined : type.split(';', 1)[0]!.trim().toLowerCase();
}

function isJson(req: IncomingMessage): boolean {
  const t = mediaType(req);
  return t !== undefined && JSON_TYPE.test(t);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{"receipts": [...]}` (from receive) or `{"ids": [...]}` (message ids of messages this user holds). */
function settleTargets(body: unknown): { kind: 'receipts' | 'ids'; list: string[] } {
  const kind = isObject(body) && body.ids !== undefined && body.receipts === undefined ? 'ids' : 'receipts';
  const list = isObject(body) ? body[kind] : undefined;
  if (!Array.isArray(list) || list.length === 0 || !list.every((r) => typeof r === 'string')) {
    throw new HttpError(400, 'expected {"receipts": ["...", ...]} or {"ids": ["...", ...]}, not empty');
  }
  if (list.length > 10_000) throw new HttpError(413, `more than 10000 ${kind} in one request`);
  return { kind, list: list as string[] };
}

/** A batch item's address: `queue://name` or `topic://name`; anything else is a 400. */
function batchAddress(v: unknown, path: string): string {
  if (typeof v !== 'string')
    throw new HttpError(400, `${path}.address: expected "queue://name" or "topic://name"`);
  const m = /^([a-z-]+):\/\/(.+)$/.exec(v);
  if (!m)
    throw new HttpError(
      400,
      `${path}.address: expected "queue://name" or "topic://name", got ${JSON.stringify(v)}`,
    );
  if (m[1] !== 'queue' && m[1] !== 'topic') {
    throw new HttpError(400, `${path}.address: unknown address type "${m[1]}" (expected queue or topic)`);
  }
  if (/[\u0000-\u001f\u007f]/.test(m[2]!)) throw new HttpError(400, `${path}.address: control character`);
  return v;
}

export function v1Api(ctx: V1Context): V1Api {
  const { core, limits } = ctx;
  const leases = new LeaseRegistry({ maxLeases: limits.maxLeases });
  const httpAuth = (): HttpAuthenticator => {
    const a = ctx.authenticator as Partial<HttpAuthenticator>;
    if (typeof a.issueToken !== 'function') throw new HttpError(404, 'bearer tokens are not enabled');
    return ctx.authenticator as HttpAuthenticator;
  };

  const fail = (res: ServerResponse, err: unknown) => sendError(res, err, ctx.logger, 'v1 request failed');

  const connect = (principal: Principal, req: IncomingMessage): IdentifyingConnection =>
    core.connect({ principal, protocol: 'http', remoteAddress: remoteOf(req) });

  const readJson = async (req: IncomingMessage): Promise<unknown> => {
    const raw = await readBody(req, limits.maxBodySize);
    if (!isJson(req)) throw new HttpError(415, 'expected content-type application/json');
    return parseJsonText(raw.toString('utf8'));
  };

  async function withConnection<T>(
    principal: Principal,
    req: IncomingMessage,
    work: (c: IdentifyingConnection) => Promise<T> | T,
  ): Promise<T> {
    const connection = connect(principal, req);
    try {
      return await work(connection);
    } finally {
      connection.close();
    }
  }

  async function send(
    req: IncomingMessage,
    res: ServerResponse,
    address: string,
    p: Principal,
  ): Promise<void> {
    const raw = await readBody(req, limits.maxBodySize);
    const now = Date.now();
    const q = (req.url ?? '').indexOf('?');
    const query = new URLSearchParams(q < 0 ? '' : req.url!.slice(q + 1));
    let init: MessageInit;
    if (isJson(req)) init = parseMessageJson(parseJsonText(raw.toString('utf8')), address, now);
    else {
      // Any other content type: the body is the message, as in the REST API (query = properties).
      init = toMessageInit(address, raw, query, req.headers, now);
      const type = req.headers['content-type'];
      if (type !== undefined) init.contentType = type;
    }
    const id = await withConnection(p, req, async (c) => {
      if (c.sendForId) {
        const sent = c.sendForId(init);
        await sent.accepted;
        return sent.id;
      }
      await c.send(init);
      return undefined;
    });
    sendJson(res, 201, id !== undefined ? { id, address } : { address });
  }

  async function batch(req: IncomingMessage, res: ServerResponse, p: Principal): Promise<void> {
    const body = await readJson(req);
    if (!Array.isArray(body)) throw new HttpError(400, 'expected a JSON array of messages');
    if (body.length === 0) throw new HttpError(400, 'empty batch');
    if (body.length > limits.maxBatchMessages) {
      throw new HttpError(413, `more than ${limits.maxBatchMessages} messages in one batch`);
    }
    const now = Date.now();
    // Every item is checked before anything is sent.
    const inits = body.map((item, i) => {
      const path = `[${i}]`;
      if (!isObject(item)) throw new HttpError(400, `${path}: expected a JSON object`);
      const { address, ...message } = item;
      return parseMessageJson(message, batchAddress(address, path), now, path);
    });
    await withConnection(p, req, async (c) => {
      // One transaction: the core applies all the sends, durably, or none of them.
      const tx = 'batch';
      c.begin(tx);
      try {
        for (const init of inits) await c.send(init, tx);
      } catch (err) {
        c.rollback(tx);
        throw err;
      }
      await c.commit(tx);
    });
    sendJson(res, 201, { sent: inits.length });
  }

  async function browse(
    res: ServerResponse,
    r: Extract<V1Route, { op: 'browse' }>,
    req: IncomingMessage,
    p: Principal,
  ) {
    const messages = await withConnection(p, req, (c) =>
      c.browse(r.address, r.selector !== undefined ? { selector: r.selector, max: r.max } : { max: r.max }),
    );
    sendJson(
      res,
      200,
      messages.map((m) => messageToJson(m)),
    );
  }

  async function receive(
    req: IncomingMessage,
    res: ServerResponse,
    r: Extract<V1Route, { op: 'receive' }>,
    p: Principal,
  ): Promise<void> {
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    const taken = await leases.receive(() => connect(p, req), p, { ...r, signal: abort.signal });
    sendJson(res, 200, {
      messages: taken.map(({ receipt, delivery }) => ({
        ...messageToJson(delivery.message, delivery),
        receipt,
      })),
      visibilityTimeoutMs: r.visibilityTimeoutMs,
    });
  }

  async function settle(req: IncomingMessage, res: ServerResponse, how: 'ack' | 'nack', p: Principal) {
    const { kind, list } = settleTargets(await readJson(req));
    const receipts = kind === 'ids' ? leases.receiptsOf(p, list) : list;
    const n = await leases.settle(p, receipts, how);
    sendJson(res, 200, how === 'ack' ? { acked: n } : { nacked: n });
  }

  async function issueToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const auth = httpAuth();
    const body = await readJson(req);
    if (!isObject(body)) throw new HttpError(400, 'expected {"login": "...", "passcode": "..."}');
    const { login, passcode } = body;
    if (
      (login !== undefined && typeof login !== 'string') ||
      (passcode !== undefined && typeof passcode !== 'string')
    ) {
      throw new HttpError(400, 'login and passcode must be strings');
    }
    const issued = await auth.issueToken(login, passcode);
    sendJson(res, 200, { token: issued.token, expiresAt: issued.expiresAt, tokenType: 'Bearer' });
  }

  async function revokeToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const auth = httpAuth();
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
    if (!m) throw new HttpError(400, 'DELETE /v1/auth/token revokes the bearer token it presents');
    // Idempotent, like a logout: an unknown or expired token is gone already.
    auth.tokens.revoke(m[1]!);
    res.writeHead(204, { 'cache-control': 'no-store' });
    res.end();
  }

  async function serve(req: IncomingMessage, res: ServerResponse, r: V1Route): Promise<void> {
    switch (r.op) {
      case 'token.issue':
        return issueToken(req, res);
      case 'token.revoke':
        return revokeToken(req, res);
      case 'openapi':
        // The API's description is public, like a login page: it tells nothing of the broker's state.
        sendJson(res, 200, openApiDocument({ extraPaths: ctx.extraOpenApiPaths?.(), version: ctx.version }));
        return;
    }
    const p = await authenticate(ctx.authenticator, req.headers.authorization);
    switch (r.op) {
      case 'send':
        return send(req, res, r.address, p);
      case 'batch':
        return batch(req, res, p);
      case 'browse':
        return browse(res, r, req, p);
      case 'receive':
        return receive(req, res, r, p);
      case 'ack':
      case 'nack':
        return settle(req, res, r.op, p);
    }
  }

  return {
    get leases() {
      return { open: leases.size, held: leases.held };
    },
    handle(req, res) {
      let r: V1Route | undefined;
      try {
        r = parseV1Request(req.method ?? 'GET', req.url ?? '/', limits);
      } catch (err) {
        fail(res, err);
        return true;
      }
      if (r === undefined) return false;
      serve(req, res, r).catch((err) => fail(res, err));
      return true;
    },
    close() {
      leases.close();
    },
  };
}
