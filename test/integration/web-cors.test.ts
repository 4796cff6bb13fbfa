/**
 * Cross-origin access (CORS, `http.cors` in the configuration) of the real broker process, driven with
 * `curl` sending what a browser would: preflights, the headers of actual requests on the /v1 API,
 * /api/message, /v1/stream and /js/blazemq.js, and the refusal of cross-site requests from origins that are
 * not allowed (nothing they send is accepted).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type BrokerProcess, startBroker } from './helpers/broker.js';

const run = promisify(execFile);

interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function curl(args: string[]): Promise<CurlResult> {
  const { stdout } = await run('curl', ['-s', '-i', '-H', 'Expect:', ...args]);
  const end = stdout.indexOf('\r\n\r\n');
  const head = stdout.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(head[0]!.split(' ')[1]), headers, body: stdout.slice(end + 4) };
}

const APP = 'http://app.example.test:3000';
const EVIL = 'https://evil.example.test';

let broker: BrokerProcess;
let dir: string;
const base = () => `http://127.0.0.1:${broker.http}`;
let seq = 0;
const unique = (name: string) => `${name}${process.pid}x${++seq}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'blazemq-cors-'));
  const config = join(dir, 'blazemq.yaml');
  // Written as an operator might (upper case, default port): stored canonical.
  writeFileSync(
    config,
    [
      'http:',
      '  cors:',
      '    allowedOrigins: ["HTTP://App.Example.Test:3000/"]',
      '    allowCredentials: true',
      '',
    ].join('\n'),
  );
  broker = await startBroker({ args: ['--config', config] });
});

afterAll(async () => {
  expect(await broker.stop()).toBe(0);
  rmSync(dir, { recursive: true, force: true });
});

const preflight = (path: string, origin: string, method: string, headers = 'content-type, authorization') =>
  curl([
    '-X',
    'OPTIONS',
    '-H',
    `Origin: ${origin}`,
    '-H',
    `Access-Control-Request-Method: ${method}`,
    '-H',
    `Access-Control-Request-Headers: ${headers}`,
    '-H',
    'Sec-Fetch-Site: cross-site',
    `${base()}${path}`,
  ]);

describe('preflight (OPTIONS)', () => {
  it('is answered for an allowed origin on /v1, /v1/stream, /api and /js', async () => {
    const v1 = await preflight('/v1/queues/orders/messages', APP, 'POST');
    expect(v1.status).toBe(204);
    expect(v1.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, HEAD, POST, PUT, DELETE',
      'access-control-allow-headers': 'content-type, authorization',
      'access-control-max-age': '600',
    });
    expect(v1.headers.vary).toContain('Origin');
    expect(
      (await preflight('/v1/stream/topic%3A%2F%2Fprices.%3E', APP, 'GET', 'last-event-id')).headers,
    ).toMatchObject({
      'access-control-allow-methods': 'GET',
      'access-control-allow-headers': 'last-event-id',
    });
    const rest = await preflight('/api/message/orders?type=queue', APP, 'DELETE', 'x-color');
    expect(rest.status).toBe(204);
    expect(rest.headers['access-control-allow-headers']).toBe('x-color');
    expect((await preflight('/js/blazemq.js', APP, 'GET')).headers['access-control-allow-methods']).toBe(
      'GET, HEAD',
    );
  });

  it('is refused (403, JSON, no CORS headers) for another origin and for the management API', async () => {
    const other = await preflight('/v1/queues/orders/messages', EVIL, 'POST');
    expect(other.status).toBe(403);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    expect(JSON.parse(other.body)).toMatchObject({ code: 'FORBIDDEN' });
    expect(JSON.parse(other.body).error).toContain('http.cors.allowedOrigins');
    const admin = await preflight('/v1/admin/queues', APP, 'GET');
    expect(admin.status).toBe(403);
    expect(admin.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('actual requests', () => {
  it('an allowed origin sends on /v1 and receives on /api/message, with readable headers', async () => {
    const q = unique('cors');
    const sent = await curl([
      '-H',
      `Origin: ${APP}`,
      '-H',
      'Sec-Fetch-Site: cross-site',
      '-H',
      'content-type: application/json',
      '--data-binary',
      JSON.stringify({ body: 'from the app', properties: { color: 'red' } }),
      `${base()}/v1/queues/${q}/messages`,
    ]);
    expect(sent.status).toBe(201);
    expect(sent.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    });
    const got = await curl(['-H', `Origin: ${APP}`, `${base()}/api/message/${q}?type=queue&oneShot=true`]);
    expect(got.status).toBe(200);
    expect(got.body).toBe('from the app');
    expect(got.headers['access-control-allow-origin']).toBe(APP);
    expect(got.headers['access-control-expose-headers']?.split(', ')).toEqual(
      expect.arrayContaining(['*', 'id', 'destination', 'redelivered']),
    );
  });

  it('streams SSE to an allowed origin with CORS headers', async () => {
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const r = get(
        `${base()}/v1/stream/${unique('ticks')}?type=topic`,
        { headers: { origin: APP, accept: 'text/event-stream' } },
        (res) => {
          resolve({ status: res.statusCode, ...res.headers });
          res.destroy();
        },
      );
      r.on('error', reject);
    });
    expect(headers).toMatchObject({
      status: 200,
      'content-type': 'text/event-stream; charset=utf-8',
      'access-control-allow-origin': APP,
    });
  });

  it('a safe request from another origin is answered without CORS headers (the browser hides it)', async () => {
    const r = await curl(['-H', `Origin: ${EVIL}`, `${base()}/v1/openapi.json`]);
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(r.headers.vary).toBe('Origin');
  });

  it('an unsafe cross-site request from another origin is refused and nothing is sent (CSRF)', async () => {
    const q = unique('csrf');
    // What a form post or a no-cors fetch from another site looks like: no preflight, text/plain.
    for (const fetchSite of ['cross-site', undefined]) {
      const r = await curl([
        '-H',
        `Origin: ${EVIL}`,
        ...(fetchSite ? ['-H', `Sec-Fetch-Site: ${fetchSite}`] : []),
        '-H',
        'content-type: text/plain',
        '--data-binary',
        'forged',
        `${base()}/api/message/${q}?type=queue`,
      ]);
      expect(r.status).toBe(403);
      expect(JSON.parse(r.body).code).toBe('FORBIDDEN');
    }
    const purge = await curl(['-X', 'DELETE', '-H', `Origin: ${EVIL}`, `${base()}/v1/admin/queues/${q}`]);
    expect(purge.status).toBe(403);
    const left = await curl([`${base()}/api/message/${q}?type=queue&oneShot=true&readTimeout=200`]);
    expect(left.status).toBe(204);
  });

  it('same-origin and non-browser requests are unaffected', async () => {
    const q = unique('same');
    const self = await curl([
      '-H',
      `Origin: ${base()}`,
      '--data-binary',
      'mine',
      `${base()}/api/message/${q}?type=queue`,
    ]);
    expect(self.status).toBe(200);
    expect(self.headers['access-control-allow-origin']).toBeUndefined();
    const byFetchSite = await curl([
      '-H',
      'Origin: null',
      '-H',
      'Sec-Fetch-Site: same-origin',
      '--data-binary',
      'console',
      `${base()}/api/message/${q}?type=queue`,
    ]);
    expect(byFetchSite.status).toBe(200);
    expect((await curl(['--data-binary', 'script', `${base()}/api/message/${q}?type=queue`])).status).toBe(
      200,
    );
    const bodies: string[] = [];
    for (let i = 0; i < 3; i++) {
      bodies.push((await curl([`${base()}/api/message/${q}?type=queue&oneShot=true&readTimeout=2000`])).body);
    }
    expect(bodies).toEqual(['mine', 'console', 'script']);
  });
});

/** How a WebSocket handshake to `port` ends when the client sends `origin` (none: not a browser). */
function upgrade(port: number, path: string, protocol: string, origin?: string): Promise<number | 'open'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, [protocol], origin ? { origin } : {});
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      resolve('open');
      ws.close();
    });
    ws.on('error', () => undefined);
  });
}

describe('WebSocket upgrades and Origin (RFC 6455 §10.2)', () => {
  it('refuses a page of another origin on every WebSocket endpoint with 403', async () => {
    for (const [path, protocol] of [
      ['/stomp', 'v12.stomp'],
      ['/mqtt', 'mqtt'],
      ['/native', 'blazemq.v1'],
    ] as const) {
      expect(await upgrade(broker.http, path, protocol, EVIL)).toBe(403);
    }
  });

  it('accepts an allowed origin, the broker own origin, and clients that send no Origin', async () => {
    expect(await upgrade(broker.http, '/stomp', 'v12.stomp', APP)).toBe('open');
    expect(await upgrade(broker.http, '/stomp', 'v12.stomp', base())).toBe('open');
    expect(await upgrade(broker.http, '/mqtt', 'mqtt')).toBe('open');
  });
});

describe('default configuration (no http.cors)', () => {
  let plain: BrokerProcess;
  beforeAll(async () => {
    plain = await startBroker();
  });
  afterAll(async () => {
    expect(await plain.stop()).toBe(0);
  });

  it('is same-origin only: preflights refused, cross-site sends refused, reads without CORS headers', async () => {
    const url = `http://127.0.0.1:${plain.http}`;
    const pre = await curl([
      '-X',
      'OPTIONS',
      '-H',
      `Origin: ${APP}`,
      '-H',
      'Access-Control-Request-Method: POST',
      `${url}/v1/queues/x/messages`,
    ]);
    expect(pre.status).toBe(403);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    const post = await curl([
      '-H',
      `Origin: ${APP}`,
      '--data-binary',
      'x',
      `${url}/api/message/x?type=queue`,
    ]);
    expect(post.status).toBe(403);
    const read = await curl(['-H', `Origin: ${APP}`, `${url}/v1/openapi.json`]);
    expect(read.status).toBe(200);
    expect(read.headers['access-control-allow-origin']).toBeUndefined();
    expect(read.headers.vary).toBeUndefined();
  });

  it('takes WebSockets only from its own pages and from clients that send no Origin', async () => {
    expect(await upgrade(plain.http, '/stomp', 'v12.stomp', APP)).toBe(403);
    expect(await upgrade(plain.http, '/stomp', 'v12.stomp', `http://127.0.0.1:${plain.http}`)).toBe('open');
    expect(await upgrade(plain.http, '/stomp', 'v12.stomp')).toBe('open');
  });
});
