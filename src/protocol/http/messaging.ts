/**
 * The ActiveMQ-compatible REST messaging endpoints (`/api/message`, see request.ts) over the core: each
 * request authenticates (auth.ts), opens its own core connection as protocol `http`, makes its one core
 * call, and closes it; permissions are the core's (FORBIDDEN -> 403). Receiving long-polls a consumer
 * (consumer.ts) that lives for the request, or across requests when a `clientId` or the session cookie
 * names it (consumers.ts).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator, BrokerCore, Principal } from '../../core/api.js';
import type { Logger } from '../../util/logger.js';
import { authenticate } from './auth.js';
import { readBody } from './body.js';
import { HttpConsumer, type Taken } from './consumer.js';
import { ConsumerRegistry } from './consumers.js';
import { HttpError } from './errors.js';
import { messageHeaders, toMessageInit } from './mapping.js';
import { remoteOf, sendError, sendJson } from './reply.js';
import { type HttpLimits, type MessageRequest, parseMessageRequest, SESSION_COOKIE } from './request.js';

export interface HttpMessagingContext {
  core: BrokerCore;
  authenticator: Authenticator;
  limits: HttpLimits;
  logger: Logger;
}

export interface HttpMessaging {
  /** For the HTTP server: true when the request is ours (it is then answered, now or later). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Consumers kept across requests. */
  readonly consumers: number;
  /** Closes every kept consumer (held messages go back to their queues). */
  close(): void;
}

type Send = Extract<MessageRequest, { op: 'send' }>;
type Receive = Extract<MessageRequest, { op: 'receive' }>;
type Release = Extract<MessageRequest, { op: 'release' }>;

const FORM = 'application/x-www-form-urlencoded';

export function httpMessaging(ctx: HttpMessagingContext): HttpMessaging {
  const { core, limits } = ctx;
  const registry = new ConsumerRegistry({
    maxConsumers: limits.maxConsumers,
    idleTimeoutMs: limits.consumerIdleTimeoutMs,
  });

  const fail = (res: ServerResponse, err: unknown) =>
    sendError(res, err, ctx.logger, 'http messaging request failed');

  const connect = (principal: Principal, req: IncomingMessage) =>
    core.connect({ principal, protocol: 'http', remoteAddress: remoteOf(req) });

  const newConsumer = (principal: Principal, req: IncomingMessage, address: string, selector?: string) => {
    const connection = connect(principal, req);
    try {
      return new HttpConsumer(connection, address, selector);
    } catch (err) {
      connection.close();
      throw err;
    }
  };

  async function send(req: IncomingMessage, res: ServerResponse, r: Send): Promise<void> {
    const principal = await authenticate(ctx.authenticator, req.headers.authorization);
    const raw = await readBody(req, limits.maxBodySize);
    const contentType = req.headers['content-type'];
    let params = r.query;
    let body: Uint8Array = raw;
    let isText = false;
    const form =
      contentType !== undefined && contentType.split(';', 1)[0]!.trim().toLowerCase() === FORM
        ? new URLSearchParams(raw.toString('utf8'))
        : undefined;
    if (form?.has('body')) {
      // ActiveMQ's form style (`curl -d "body=hello&k=v"`): the `body` field is the message, the other
      // fields are properties.
      params = new URLSearchParams([...r.query, ...form]);
      body = Buffer.from(form.get('body')!, 'utf8');
      isText = true;
    } else if (raw.length === 0 && r.query.has('body')) {
      body = Buffer.from(r.query.get('body')!, 'utf8');
      isText = true;
    }
    // Otherwise the raw body is the message, whatever its type: `curl -d hello` (which labels it a form)
    // sends "hello", as users expect.
    const init = toMessageInit(r.address, body, params, req.headers, Date.now());
    // A body taken from a form or query field is text, whatever the request's own content type.
    if (isText) init.contentType = 'text/plain; charset=utf-8';
    else if (contentType !== undefined && form === undefined) init.contentType = contentType;
    const connection = connect(principal, req);
    try {
      await connection.send(init);
    } finally {
      connection.close();
    }
    sendJson(res, 200, { sent: true, address: r.address });
  }

  async function receive(req: IncomingMessage, res: ServerResponse, r: Receive): Promise<void> {
    const principal = await authenticate(ctx.authenticator, req.headers.authorization);
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    const headers: Record<string, string> = {};
    if (r.consumerId === undefined && !r.oneShot) {
      // The next request presenting this cookie reuses one consumer (ActiveMQ keeps it in the servlet
      // session); this one is served one-shot so that clients without a cookie jar strand no message.
      headers['set-cookie'] =
        `${SESSION_COOKIE}=${randomUUID()}; Path=/api/message; HttpOnly; SameSite=Strict`;
    }
    const kept = r.consumerId;
    const consumer =
      kept === undefined
        ? newConsumer(principal, req, r.address, r.selector)
        : registry.acquire(principal, kept, r.address, r.selector, () =>
            newConsumer(principal, req, r.address, r.selector),
          );
    consumer.active++;
    let taken: Taken | undefined;
    try {
      taken = await consumer.take(r.readTimeoutMs, abort.signal);
    } catch (err) {
      consumer.active--;
      if (kept === undefined) consumer.close();
      throw err;
    }
    const done = () => {
      consumer.active--;
      if (kept === undefined) consumer.close();
      else registry.touch(principal, kept, r.address, r.selector);
    };
    if (!taken) {
      done();
      if (!res.destroyed) {
        res.writeHead(204, { ...headers, 'cache-control': 'no-store' });
        res.end();
      }
      return;
    }
    const t = taken;
    if (res.destroyed) {
      t.release();
      done();
      return;
    }
    res.once('close', () => {
      // 'finish' = every byte handed to the OS: the best an HTTP/1.1 server knows of delivery.
      if (res.writableFinished) t.ack();
      else t.release();
      done();
    });
    const body = t.delivery.message.body;
    res.writeHead(200, {
      ...messageHeaders(t.delivery),
      ...headers,
      'content-length': String(body.byteLength),
      'cache-control': 'no-store',
    });
    res.end(body);
  }

  function release(req: IncomingMessage, res: ServerResponse, r: Release): Promise<void> {
    return authenticate(ctx.authenticator, req.headers.authorization).then((principal) => {
      if (!registry.release(principal, r.consumerId, r.address)) {
        throw new HttpError(404, `no consumer ${r.consumerId.replace(/^\w+:/, '')} on ${r.address}`);
      }
      sendJson(res, 200, { closed: true, address: r.address });
    });
  }

  return {
    get consumers() {
      return registry.size;
    },
    handle(req, res) {
      let r: MessageRequest | undefined;
      try {
        r = parseMessageRequest(req.method ?? 'GET', req.url ?? '/', req.headers.cookie, limits);
      } catch (err) {
        fail(res, err);
        return true;
      }
      if (r === undefined) return false;
      const work =
        r.op === 'send'
          ? send(req, res, r)
          : r.op === 'receive'
            ? receive(req, res, r)
            : release(req, res, r);
      work.catch((err) => fail(res, err));
      return true;
    },
    close() {
      registry.close();
    },
  };
}
