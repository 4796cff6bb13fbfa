/**
 * The /v1 JSON messaging API of the real broker process, driven with `curl` as scripts do: bearer tokens,
 * send / browse / receive with receipts / ack / nack / visibility timeout, all-or-nothing batches, 4xx JSON
 * errors that lose nothing, the OpenAPI document, and /js/blazemq.js run in a DOM-free harness (Node's
 * fetch and the `eventsource` package standing in for the browser's).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runInNewContext } from 'node:vm';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { V1_PATHS } from '../../src/protocol/http/v1/routes.js';
import { type BrokerProcess, CLI, startBroker } from './helpers/broker.js';

const run = promisify(execFile);

interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions
  json(): any;
}

async function curl(args: string[]): Promise<CurlResult> {
  const { stdout } = await run('curl', ['-s', '-i', '-H', 'Expect:', ...args], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const end = stdout.indexOf('\r\n\r\n');
  const head = stdout.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = stdout.slice(end + 4);
  return { status: Number(head[0]!.split(' ')[1]), headers, body, json: () => JSON.parse(body) };
}

let seq = 0;
const unique = (base: string) => `${base}${process.pid}x${++seq}`;

let broker: BrokerProcess;
let dir: string;
let base: string;
const ALICE = ['-u', 'alice:s3cret'];
const JSON_TYPE = ['-H', 'content-type: application/json'];

const post = (path: string, body: unknown, auth = ALICE) =>
  curl([
    ...auth,
    ...JSON_TYPE,
    '--data-binary',
    typeof body === 'string' ? body : JSON.stringify(body),
    `${base}${path}`,
  ]);
const browse = async (queue: string) =>
  (await curl([...ALICE, `${base}/v1/queues/${queue}/messages`])).json();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'blazemq-v1-'));
  execFileSync(process.execPath, [CLI, 'user', 'add', 'alice', '--password', 's3cret', '--data', dir]);
  const config = join(dir, 'blazemq.yaml');
  writeFileSync(
    config,
    [
      'limits:',
      '  http:',
      '    maxBodySize: 4096',
      '    maxBatchMessages: 5',
      'security:',
      '  acl:',
      '    - pattern: "queue://public.>"',
      '      users: [alice]',
      '      permissions: [read, write]',
      '    - pattern: "topic://public.>"',
      '      users: [alice]',
      '      permissions: [read, write]',
      '',
    ].join('\n'),
  );
  broker = await startBroker({ dataDir: dir, args: ['--config', config, '--host', '127.0.0.1'] });
  base = `http://127.0.0.1:${broker.http}`;
});
afterAll(async () => {
  expect(await broker.stop()).toBe(0);
  rmSync(dir, { recursive: true, force: true });
});

describe('bearer tokens', () => {
  it('trades a login for a token that works until revoked', async () => {
    const bad = await post('/v1/auth/token', { login: 'alice', passcode: 'nope' }, []);
    expect(bad.status).toBe(401);
    expect(bad.json()).toMatchObject({ code: 'UNAUTHENTICATED', error: expect.any(String) });
    const ok = await post('/v1/auth/token', { login: 'alice', passcode: 's3cret' }, []);
    expect(ok.status).toBe(200);
    const { token, expiresAt } = ok.json();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
    const bearer = ['-H', `authorization: Bearer ${token}`];
    const q = unique('public.tok');
    expect((await post(`/v1/queues/${q}/messages`, { body: 'with token' }, bearer)).status).toBe(201);
    expect((await curl(['-X', 'DELETE', ...bearer, `${base}/v1/auth/token`])).status).toBe(204);
    const after = await post(`/v1/queues/${q}/messages`, { body: 'x' }, bearer);
    expect(after.status).toBe(401);
    expect(after.headers['www-authenticate']).toMatch(/^Bearer .*invalid_token/);
    expect((await browse(q)).map((m: { body: string }) => m.body)).toEqual(['with token']);
  });

  it('refuses requests without credentials (401) and outside the ACL (403), with JSON errors', async () => {
    const none = await post(`/v1/queues/${unique('public.x')}/messages`, { body: 'x' }, []);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic realm="blazemq"/);
    const denied = await post(`/v1/queues/${unique('private.x')}/messages`, { body: 'x' });
    expect(denied.status).toBe(403);
    expect(denied.json()).toMatchObject({ code: 'FORBIDDEN' });
    expect((await curl([...ALICE, `${base}/v1/queues/private.x/messages`])).status).toBe(403);
  });
});

describe('send, browse, receive, ack', () => {
  it('sends JSON (text, binary, JSON values) and raw bodies; browse shows them without consuming', async () => {
    const q = unique('public.send');
    const r1 = await post(`/v1/queues/${q}/messages`, {
      body: 'hello',
      properties: { kind: 'greeting', n: 3 },
      priority: 7,
      correlationId: 'c-1',
    });
    expect(r1.status).toBe(201);
    expect(r1.json()).toMatchObject({ id: expect.any(String), address: `queue://${q}` });
    await post(`/v1/queues/${q}/messages`, { body: '/wA=', bodyEncoding: 'base64' });
    await post(`/v1/queues/${q}/messages`, { body: { x: 1 } });
    const raw = await curl([
      ...ALICE,
      '-H',
      'content-type: text/csv',
      '--data-binary',
      'a,b',
      `${base}/v1/queues/${q}/messages?kind=csv`,
    ]);
    expect(raw.status).toBe(201);
    const seen = await browse(q);
    expect(seen).toMatchObject([
      {
        body: 'hello',
        properties: { kind: 'greeting', n: 3 },
        priority: 7,
        correlationId: 'c-1',
        persistent: true,
      },
      { body: '/wA=', bodyEncoding: 'base64' },
      { body: '{"x":1}', contentType: 'application/json' },
      { body: 'a,b', contentType: 'text/csv', properties: { kind: 'csv' } },
    ]);
    expect(await browse(q)).toHaveLength(4);
  });

  it('holds received messages under a lease: ack removes, nack and the visibility timeout redeliver', async () => {
    const q = unique('public.work');
    for (const body of ['a', 'b', 'c']) await post(`/v1/queues/${q}/messages`, { body });
    const first = await curl([
      ...ALICE,
      '-X',
      'POST',
      `${base}/v1/queues/${q}/receive?max=2&visibilityTimeoutMs=600`,
    ]);
    expect(first.status).toBe(200);
    const got = first.json().messages as Array<{ body: string; receipt: string; redelivered: boolean }>;
    expect(got.map((m) => m.body)).toEqual(['a', 'b']);
    expect((await post('/v1/acks', { receipts: [got[0]!.receipt] })).json()).toEqual({ acked: 1 });
    expect((await post('/v1/nacks', { receipts: [got[1]!.receipt] })).json()).toEqual({ nacked: 1 });
    const second = (
      await curl([...ALICE, '-X', 'POST', `${base}/v1/queues/${q}/receive?max=5&visibilityTimeoutMs=300`])
    ).json().messages as Array<{ body: string; receipt: string; redelivered: boolean }>;
    expect(second.map((m) => [m.body, m.redelivered]).sort()).toEqual([
      ['b', true],
      ['c', false],
    ]);
    // Not acked: after the visibility timeout both are back, and the old receipts are unknown.
    await new Promise((r) => setTimeout(r, 600));
    const late = await post('/v1/acks', { receipts: [second[0]!.receipt] });
    expect(late.status).toBe(404);
    expect(late.json()).toMatchObject({ code: 'NOT_FOUND', unknown: [second[0]!.receipt] });
    expect((await browse(q)).map((m: { body: string }) => m.body).sort()).toEqual(['b', 'c']);
  });

  it('acks by message id as well as by receipt', async () => {
    const q = unique('public.byid');
    await post(`/v1/queues/${q}/messages`, { body: 'x' });
    const got = (await curl([...ALICE, '-X', 'POST', `${base}/v1/queues/${q}/receive?max=1`])).json()
      .messages as Array<{ id: string }>;
    const missing = await post('/v1/acks', { ids: ['ID:not-held'] });
    expect(missing.status).toBe(404);
    expect((await post('/v1/acks', { ids: [got[0]!.id] })).json()).toEqual({ acked: 1 });
    expect(await browse(q)).toEqual([]);
  });

  it('long-polls a receive until a message arrives', async () => {
    const q = unique('public.poll');
    const pending = curl([...ALICE, '-X', 'POST', `${base}/v1/queues/${q}/receive?timeoutMs=5000`]);
    await new Promise((r) => setTimeout(r, 300));
    await post(`/v1/queues/${q}/messages`, { body: 'late' });
    const r = await pending;
    expect(r.json().messages.map((m: { body: string }) => m.body)).toEqual(['late']);
    const empty = await curl([...ALICE, '-X', 'POST', `${base}/v1/queues/${q}/receive?timeoutMs=100`]);
    expect(empty.json().messages).toEqual([]);
  });
});

describe('batches and bad input', () => {
  it('sends a batch in one transaction, or nothing', async () => {
    const q = unique('public.batch');
    const t = unique('public.t');
    const ok = await post('/v1/messages:batch', [
      { address: `queue://${q}`, body: '1' },
      { address: `topic://${t}`, body: '2' },
      { address: `queue://${q}`, body: '3', priority: 9 },
    ]);
    expect(ok.status).toBe(201);
    expect(ok.json()).toEqual({ sent: 3 });
    expect((await browse(q)).map((m: { body: string }) => m.body)).toEqual(['3', '1']);
    // One forbidden address: 403, and nothing of the batch is sent.
    const denied = await post('/v1/messages:batch', [
      { address: `queue://${q}`, body: 'x' },
      { address: 'queue://private.z', body: 'y' },
    ]);
    expect(denied.status).toBe(403);
    // One bad item: 400 naming it, nothing sent.
    const bad = await post('/v1/messages:batch', [
      { address: `queue://${q}`, body: 'x' },
      { address: 'fifo://x', body: 'y' },
    ]);
    expect(bad.status).toBe(400);
    expect(bad.json().error).toMatch(/\[1\]\.address: unknown address type "fifo"/);
    const tooMany = await post(
      '/v1/messages:batch',
      Array.from({ length: 6 }, () => ({ address: `queue://${q}` })),
    );
    expect(tooMany.status).toBe(413);
    expect(await browse(q)).toHaveLength(2);
  });

  it('answers malformed input with 4xx JSON and accepts nothing then', async () => {
    const q = unique('public.bad');
    const path = `/v1/queues/${q}/messages`;
    const cases: Array<[Promise<CurlResult>, number, RegExp]> = [
      [post(path, '{"body": '), 400, /malformed JSON/],
      [post(path, { body: 'x', priorty: 1 }), 400, /priorty: unknown field/],
      [post(path, { body: 'x', priority: 12 }), 400, /priority/],
      [post(path, { body: 'x'.repeat(5000) }), 413, /limit/],
      [post('/v1/acks', { receipts: [] }), 400, /receipts/],
      [post('/v1/acks', { receipts: ['nope'] }), 404, /unknown receipt/],
      [curl([...ALICE, '-X', 'POST', '--data-binary', '{}', `${base}/v1/acks`]), 415, /application\/json/],
      [curl([...ALICE, `${base}/v1/topics/${q}/messages`]), 405, /not allowed/],
      [curl([...ALICE, '-X', 'POST', `${base}/v1/queues/${q}/receive?max=zero`]), 400, /max/],
    ];
    for (const [pending, status, error] of cases) {
      const r = await pending;
      expect([r.status, r.body]).toEqual([status, expect.stringMatching(error)]);
      expect(r.json().code).toEqual(expect.any(String));
    }
    expect(await browse(q)).toEqual([]);
  });
});

describe('OpenAPI', () => {
  it('serves an OpenAPI 3.1 document with every /v1 route, the stream and the management paths', async () => {
    const r = await curl([`${base}/v1/openapi.json`]);
    expect(r.status).toBe(200);
    const doc = r.json();
    expect(doc.openapi).toBe('3.1.0');
    for (const p of V1_PATHS) expect(doc.paths[p], p).toBeDefined();
    expect(doc.paths['/v1/stream/{address}']).toBeDefined();
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/v1/admin/'))).toBe(true);
    const methods = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);
    for (const [path, item] of Object.entries(doc.paths) as Array<
      [string, Record<string, { responses?: object }>]
    >) {
      for (const [method, op] of Object.entries(item)) {
        if (methods.has(method))
          expect(Object.keys(op.responses ?? {}).length, `${method} ${path}`).toBeGreaterThan(0);
      }
    }
  });
});

describe('/js/blazemq.js', () => {
  async function loadScript() {
    const r = await fetch(`${base}/js/blazemq.js`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/javascript/);
    const etag = r.headers.get('etag')!;
    expect((await fetch(`${base}/js/blazemq.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    // A DOM-free "browser": only what the script uses.
    const window: Record<string, unknown> = {
      fetch,
      EventSource,
      AbortController,
      crypto: globalThis.crypto,
      btoa,
      setTimeout,
      JSON,
    };
    runInNewContext(await r.text(), { globalThis: window, ...window });
    return window.BlazeMQ as {
      connect(o: object): {
        send(a: string, b: unknown, p?: object): Promise<{ id?: string }>;
        subscribe(a: string, f: (m: { body: string; properties: object }) => void, o?: object): () => void;
        close(): void;
      };
    };
  }

  const until = async (cond: () => boolean, ms = 8000) => {
    const t0 = Date.now();
    while (!cond()) {
      if (Date.now() - t0 > ms) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('publishes with POST and receives with SSE and with long-poll GETs', async () => {
    const BlazeMQ = await loadScript();
    const mq = BlazeMQ.connect({ url: base, user: 'alice', password: 's3cret' });
    const topic = `topic://${unique('public.chat')}`;
    const queue = `queue://${unique('public.lp')}`;
    const sse: Array<{ body: string; properties: object }> = [];
    const polled: Array<{ body: string; properties: object }> = [];
    const stopSse = mq.subscribe(topic, (m) => sse.push(m), { transport: 'sse' });
    const stopPoll = mq.subscribe(queue, (m) => polled.push(m), {
      transport: 'longpoll',
      readTimeoutMs: 2000,
    });
    // The stream is open once the token exchange and connect are done.
    await new Promise((r) => setTimeout(r, 500));
    expect((await mq.send(topic, 'hi all', { from: 'alice' })).id).toBeTruthy();
    await mq.send(queue, 'job 1', { prio: 'high' });
    await mq.send(queue, 'job 2');
    await until(() => sse.length === 1 && polled.length === 2);
    expect(sse[0]).toMatchObject({ body: 'hi all', properties: { from: 'alice' } });
    expect(polled.map((m) => m.body)).toEqual(['job 1', 'job 2']);
    expect(polled[0]!.properties).toMatchObject({ prio: 'high' });
    stopSse();
    stopPoll();
    mq.close();
    await expect(
      BlazeMQ.connect({ url: base, user: 'alice', password: 'bad' }).send(queue, 'x'),
    ).rejects.toMatchObject({ status: 401 });
  });
});
