/**
 * The management API over HTTP, in process: a real core and HTTP server (port 0), an authenticator with
 * two users (root: admin everywhere; alice: admin on queue://alice.> only).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlazeCore } from '../../../src/core/index.js';
import { bytes } from '../core/helpers.js';
import { basic, type ManagementFixture, root, startManagement } from './helpers.js';

let fixture: ManagementFixture;
let core: BlazeCore;
let base: string;

beforeAll(async () => {
  fixture = await startManagement({ maxBodySize: 1024 });
  core = fixture.h.core;
  base = fixture.base;
});

afterAll(() => fixture.close());

async function call(
  method: string,
  path: string,
  options: { user?: string | null; body?: unknown; raw?: string; type?: string } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers: Record<string, string> = {};
  const user = options.user === undefined ? 'root' : options.user;
  if (user !== null) headers['authorization'] = basic(user);
  let body: string | undefined;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (options.raw !== undefined) body = options.raw;
  if (body !== undefined) headers['content-type'] = options.type ?? 'application/json';
  const res = await fetch(base + path, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  return {
    status: res.status,
    body: text === '' ? undefined : text.startsWith('#') ? text : JSON.parse(text),
    headers: res.headers,
  };
}

describe('authentication and authorization', () => {
  it('answers 401 with a JSON body and a challenge without credentials', async () => {
    const r = await call('GET', '/v1/admin/queues', { user: null });
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: 'authentication required', code: 'UNAUTHENTICATED' });
    expect(r.headers.get('www-authenticate')).toMatch(/^Basic/);
    const wrong = await fetch(`${base}/v1/admin/queues`, { headers: { authorization: basic('root', 'x') } });
    expect(wrong.status).toBe(401);
  });

  it('answers 403 for broker-wide views without admin on *', async () => {
    for (const path of ['overview', 'queues', 'topics', 'addresses', 'subscriptions', 'connections']) {
      const r = await call('GET', `/v1/admin/${path}`, { user: 'alice' });
      expect(r.status, path).toBe(403);
      expect(r.body).toMatchObject({ code: 'FORBIDDEN' });
    }
    expect((await call('GET', '/metrics', { user: 'alice' })).status).toBe(403);
  });

  it('lets a user act on the addresses it administers only', async () => {
    expect(
      (await call('POST', '/v1/admin/queues/alice.q/messages', { user: 'alice', body: { body: 'x' } }))
        .status,
    ).toBe(201);
    expect((await call('GET', '/v1/admin/queues/alice.q', { user: 'alice' })).status).toBe(200);
    const other = await call('POST', '/v1/admin/queues/other/purge', { user: 'alice' });
    expect(other).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    const move = await call('POST', `/v1/admin/queues/alice.q/messages/x/move`, {
      user: 'alice',
      body: { to: 'queue://other' },
    });
    expect(move.status).toBe(403);
  });
});

describe('queues', () => {
  it('sends, lists, gets, browses, moves, deletes a message, purges and deletes a queue', async () => {
    const sent = await call('POST', '/v1/admin/queues/orders/messages', {
      body: { body: 'one', properties: { k: 'v' }, persistent: true, priority: 6 },
    });
    expect(sent.status).toBe(201);
    const id = (sent.body as { id: string }).id;
    await call('POST', '/v1/admin/queues/orders/messages', {
      body: { body: '//8=', bodyEncoding: 'base64' },
    });
    await call('POST', '/v1/admin/queues/orders/messages', { body: { body: 'three' } });

    const list = (await call('GET', '/v1/admin/queues')).body as Array<{ name: string }>;
    expect(list.map((q) => q.name)).toContain('orders');
    expect((await call('GET', '/v1/admin/queues/orders')).body).toMatchObject({
      address: 'queue://orders',
      name: 'orders',
      depth: 3,
      enqueued: 3,
      dequeued: 0,
      consumers: 0,
      inFlight: 0,
      memoryBytes: expect.any(Number),
      oldestMessageAgeMs: expect.any(Number),
    });

    const browsed = (await call('GET', '/v1/admin/queues/orders/messages?max=10')).body as Array<
      Record<string, unknown>
    >;
    expect(browsed.map((m) => m['body'])).toEqual(['one', '//8=', 'three']);
    expect(browsed[0]).toMatchObject({
      id,
      properties: { k: 'v' },
      persistent: true,
      priority: 6,
      deliveryCount: 0,
      redelivered: false,
    });
    expect(browsed[1]).toMatchObject({ bodyEncoding: 'base64' });
    expect(((await call('GET', '/v1/admin/queues/orders/messages?max=1')).body as unknown[]).length).toBe(1);
    const selected = (
      await call('GET', `/v1/admin/queues/orders/messages?selector=${encodeURIComponent("k = 'v'")}`)
    ).body;
    expect((selected as unknown[]).length).toBe(1);

    expect(
      (
        await call('POST', `/v1/admin/queues/orders/messages/${encodeURIComponent(id)}/move`, {
          body: { to: 'queue://archive' },
        })
      ).status,
    ).toBe(204);
    expect(
      ((await call('GET', '/v1/admin/queues/archive/messages')).body as Array<{ id: string }>)[0]!.id,
    ).toBe(id);
    const second = browsed[1]!['id'] as string;
    expect(
      (await call('DELETE', `/v1/admin/queues/orders/messages/${encodeURIComponent(second)}`)).status,
    ).toBe(204);
    expect(
      (await call('DELETE', `/v1/admin/queues/orders/messages/${encodeURIComponent(second)}`)).body,
    ).toMatchObject({ code: 'NOT_FOUND' });

    expect((await call('POST', '/v1/admin/queues/orders/purge')).body).toEqual({ purged: 1 });
    expect((await call('DELETE', '/v1/admin/queues/orders')).status).toBe(204);
    expect(await call('GET', '/v1/admin/queues/orders')).toMatchObject({
      status: 404,
      body: { code: 'NOT_FOUND' },
    });
    expect((await call('DELETE', '/v1/admin/queues/orders')).status).toBe(404);
    expect((await call('POST', '/v1/admin/queues/orders/purge')).status).toBe(404);
  });

  it('refuses bad input with 400 JSON errors', async () => {
    const cases: Array<[string, string, Parameters<typeof call>[2]]> = [
      ['POST', '/v1/admin/queues/q/messages', { raw: '{"body": ' }],
      ['POST', '/v1/admin/queues/q/messages', { raw: '' }],
      ['POST', '/v1/admin/queues/q/messages', { body: { body: 'x', priority: 42 } }],
      ['POST', '/v1/admin/queues/q/messages', { body: { text: 'x' } }],
      ['GET', '/v1/admin/queues/q/messages?max=0', {}],
      ['GET', '/v1/admin/queues/q/messages?max=abc', {}],
      ['GET', '/v1/admin/queues/%E0%A4%A', {}],
      ['POST', '/v1/admin/queues/q/messages/x/move', { body: { to: 42 } }],
      ['POST', '/v1/admin/queues/q/messages/x/move', { body: { to: 'nowhere' } }],
    ];
    await call('POST', '/v1/admin/queues/q/messages', { body: { body: 'x' } });
    for (const [method, path, options] of cases) {
      const r = await call(method, path, options);
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(r.body).toMatchObject({
        error: expect.any(String),
        code: expect.stringMatching(/BAD_REQUEST|INVALID_ADDRESS/),
      });
    }
    const selector = await call('GET', '/v1/admin/queues/q/messages?selector=%3F%3F%3F');
    expect(selector).toMatchObject({ status: 400, body: { code: 'INVALID_SELECTOR' } });
    expect((await call('POST', '/v1/admin/queues/q/messages', { raw: 'x', type: 'text/plain' })).status).toBe(
      415,
    );
    const big = await call('POST', '/v1/admin/queues/q/messages', { body: { body: 'x'.repeat(2000) } });
    expect(big).toMatchObject({ status: 413, body: { code: 'LIMIT_EXCEEDED' } });
  });

  it('answers 405 with Allow and 404 for unknown endpoints, in JSON', async () => {
    const r = await call('PUT', '/v1/admin/queues/q');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, DELETE, HEAD');
    expect(r.body).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await call('GET', '/v1/admin/nothing')).toMatchObject({
      status: 404,
      body: { code: 'NOT_FOUND' },
    });
    expect((await fetch(`${base}/elsewhere`)).status).toBe(404);
  });
});

describe('topics, subscriptions, connections, overview, metrics', () => {
  it('publishes to a topic and lists it with its subscribers', async () => {
    const c = core.connect({ principal: root, protocol: 'test', clientId: 'sub-client' });
    const received: string[] = [];
    c.subscribe(
      { address: 'topic://news.>', ackMode: 'auto', prefetch: 10 },
      {
        deliver: (_s, d) => received.push(Buffer.from(d.message.body).toString()),
      },
    );
    const d = c.subscribe(
      { address: 'topic://news.>', ackMode: 'individual', prefetch: 10, durableName: 'keep' },
      { deliver: () => {} },
    );
    expect(
      (await call('POST', '/v1/admin/topics/news.tech/messages', { body: { body: 'hot' } })).status,
    ).toBe(201);
    expect(received).toEqual(['hot']);
    expect((await call('GET', '/v1/admin/topics')).body).toContainEqual({
      address: 'topic://news.tech',
      name: 'news.tech',
      published: 1,
      subscribers: 2,
    });
    const subs = (await call('GET', '/v1/admin/subscriptions')).body as Array<Record<string, unknown>>;
    expect(subs.filter((s) => s['connectionId'] === c.id)).toHaveLength(2);
    expect((await call('DELETE', '/v1/admin/subscriptions/durable/sub-client/keep')).status).toBe(409);
    d.close();
    expect((await call('DELETE', '/v1/admin/subscriptions/durable/sub-client/keep')).status).toBe(204);
    expect((await call('DELETE', '/v1/admin/subscriptions/durable/sub-client/keep')).status).toBe(404);

    const conns = (await call('GET', '/v1/admin/connections')).body as Array<Record<string, unknown>>;
    expect(conns).toContainEqual(
      expect.objectContaining({
        id: c.id,
        protocol: 'test',
        clientId: 'sub-client',
        user: 'root',
        subscriptions: 1,
      }),
    );
    expect((await call('DELETE', `/v1/admin/connections/${c.id}`)).status).toBe(204);
    expect((await call('DELETE', `/v1/admin/connections/${c.id}`)).status).toBe(404);
    expect(((await call('GET', '/v1/admin/connections')).body as unknown[]).length).toBe(0);
  });

  it('gives an overview with totals and rates', async () => {
    const first = (await call('GET', '/v1/admin/overview')).body as Record<string, Record<string, number>>;
    const c = core.connect({ principal: root, protocol: 'test' });
    for (let i = 0; i < 5; i++) await c.send({ address: 'queue://rates', body: bytes('x') });
    c.close();
    await new Promise((r) => setTimeout(r, 50));
    const o = (await call('GET', '/v1/admin/overview')).body as Record<string, Record<string, number>>;
    expect(o).toMatchObject({ version: '9.9.9', uptimeSeconds: expect.any(Number) });
    expect(o['memory']).toMatchObject({
      used: expect.any(Number),
      peak: expect.any(Number),
      limit: expect.any(Number),
    });
    expect(o['totals']!['enqueued']).toBe(first['totals']!['enqueued']! + 5);
    expect(o['rates']!['enqueuedPerSecond']).toBeGreaterThan(0);
  });

  it('serves Prometheus text at /metrics', async () => {
    const r = await fetch(`${base}/metrics`, { headers: { authorization: basic('root') } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await r.text()).toMatch(/blazemq_queue_depth\{address="queue:\/\/rates"\} 5/);
    expect(
      (await fetch(`${base}/metrics`, { method: 'POST', headers: { authorization: basic('root') } })).status,
    ).toBe(405);
  });
});
