/**
 * The console's API client and session against a small fake management server (node:http on port 0):
 * paths and encoding, bearer tokens, error bodies, and the login decision.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Api, ApiError, needsLogin } from '../../../web/console/api.js';
import { Session } from '../../../web/console/session.js';

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
/** When set, /v1/admin/* needs `Bearer good`. */
let usersConfigured = false;

function reply(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function handle(req: IncomingMessage, res: ServerResponse, body: string) {
  const url = req.url ?? '/';
  if (url === '/v1/auth/token' && req.method === 'POST') {
    const { login, passcode } = JSON.parse(body) as { login: string; passcode: string };
    if (login === 'admin' && passcode === 'secret') return reply(res, 200, { token: 'good', expiresAt: 1 });
    return reply(res, 401, { error: 'bad credentials', code: 'UNAUTHENTICATED' });
  }
  if (url === '/v1/auth/token' && req.method === 'DELETE') return reply(res, 204);
  if (usersConfigured && req.headers.authorization !== 'Bearer good') {
    return reply(res, 401, { error: 'authentication required', code: 'UNAUTHENTICATED' });
  }
  if (url === '/v1/admin/overview') return reply(res, 200, { version: '0.1.0' });
  if (url === '/v1/admin/queues/missing') return reply(res, 404, { error: 'no queue', code: 'NOT_FOUND' });
  if (url === '/v1/admin/queues/a%2Fb%20c/purge') return reply(res, 200, { purged: 3 });
  if (url.startsWith('/v1/admin/queues/orders/messages?')) return reply(res, 200, [{ id: 'm1', body: 'x' }]);
  if (url === '/v1/admin/topics/prices.IBM/messages') return reply(res, 201, { id: 'm2' });
  if (url === '/v1/admin/connections/c%231' && req.method === 'DELETE') return reply(res, 204);
  if (url === '/v1/admin/html') {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<h1>Bad gateway</h1>');
    return;
  }
  reply(res, 404, { error: 'not found' });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body });
      handle(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen.length = 0;
  usersConfigured = false;
});

describe('Api', () => {
  it('encodes names as one path segment and sends JSON', async () => {
    const api = new Api({ base: `${base}/` });
    expect(await api.purge('a/b c')).toEqual({ purged: 3 });
    expect(await api.browse('orders', 5, "region = 'EU'")).toEqual([{ id: 'm1', body: 'x' }]);
    expect(seen[1]!.url).toBe('/v1/admin/queues/orders/messages?max=5&selector=region+%3D+%27EU%27');
    expect(await api.send('topics', 'prices.IBM', { body: 'b', priority: 5 })).toEqual({ id: 'm2' });
    expect(JSON.parse(seen[2]!.body)).toEqual({ body: 'b', priority: 5 });
    expect(await api.closeConnection('c#1')).toBeUndefined();
    expect(seen.every((s) => s.auth === undefined)).toBe(true);
  });

  it('turns error bodies into ApiError with the stable code', async () => {
    const api = new Api({ base });
    const err = await api.queue('missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 404, code: 'NOT_FOUND', message: 'no queue' });
    const html = await api.request('GET', '/v1/admin/html').catch((e: unknown) => e);
    expect(html).toMatchObject({ status: 502, code: undefined });
    const down = await new Api({ base: 'http://127.0.0.1:1' }).overview().catch((e: unknown) => e);
    expect(down).toMatchObject({ status: 0, code: 'NETWORK' });
  });

  it('presents the current token as a bearer', async () => {
    let token: string | undefined;
    const api = new Api({ base, token: () => token });
    usersConfigured = true;
    const refused = await api.overview().catch((e: unknown) => e);
    expect(needsLogin(refused)).toBe(true);
    token = 'good';
    expect(await api.overview()).toEqual({ version: '0.1.0' });
    expect(seen.at(-1)!.auth).toBe('Bearer good');
  });
});

class MemoryStorage {
  readonly map = new Map<string, string>();
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.map.set(k, v);
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
}

describe('Session', () => {
  // The session talks to the page's own origin; in Node, point fetch at the fake server instead.
  const withBase = (s: Session) => {
    (s.api as unknown as { base: string }).base = base;
    return s;
  };

  it('skips the login when the broker has no users', async () => {
    const s = withBase(new Session(new MemoryStorage()));
    expect(await s.probe()).toBe('open');
  });

  it('asks for a login, keeps the token in storage, drops it on logout', async () => {
    usersConfigured = true;
    const storage = new MemoryStorage();
    const s = withBase(new Session(storage));
    expect(await s.probe()).toBe('login');
    await expect(s.login('admin', 'wrong')).rejects.toMatchObject({ status: 401 });
    await s.login('admin', 'secret');
    expect([...storage.map.values()]).toEqual(['good']);
    // A new tab of the same session (same storage) is signed in already.
    const again = withBase(new Session(storage));
    expect(await again.probe()).toBe('ready');
    await again.logout();
    expect(seen.at(-1)).toMatchObject({ method: 'DELETE', url: '/v1/auth/token', auth: 'Bearer good' });
    expect(storage.map.size).toBe(0);
  });

  it('forgets a token the broker no longer accepts', async () => {
    usersConfigured = true;
    const storage = new MemoryStorage();
    storage.setItem('blazemq.console.token', 'expired');
    const s = withBase(new Session(storage));
    expect(await s.probe()).toBe('login');
    expect(storage.map.size).toBe(0);
  });
});
