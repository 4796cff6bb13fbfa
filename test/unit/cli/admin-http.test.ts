import { afterAll, describe, expect, it } from 'vitest';
import { type BrokerState, startHttpServer } from '../../../src/admin/http.js';
import { silentLogger } from '../../../src/util/logger.js';

describe('admin HTTP endpoint', async () => {
  let state: BrokerState = 'starting';
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    health: () => ({ state, details: { extra: 1 } }),
  });
  afterAll(() => server.close());
  const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;

  it('answers /health with 503 until ready and while stopping', async () => {
    let res = await fetch(url('/health'));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'starting', extra: 1 });
    state = 'ready';
    res = await fetch(url('/health?verbose'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({ status: 'ok', extra: 1 });
    state = 'stopping';
    res = await fetch(url('/health'));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'stopping', extra: 1 });
  });

  it('answers HEAD without a body', async () => {
    state = 'ready';
    const res = await fetch(url('/health'), { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('returns JSON errors for unknown paths and methods', async () => {
    const missing = await fetch(url('/metrics'));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not found' });
    const post = await fetch(url('/health'), { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(await post.json()).toEqual({ error: 'method not allowed' });
  });
});
