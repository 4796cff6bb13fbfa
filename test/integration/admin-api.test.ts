/**
 * The management API and /metrics of the real broker process: curl as scripts use it, fetch for JSON,
 * real STOMP (stompjs) and MQTT (mqtt.js, v3.1.1 and v5) clients closed by an operator.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, CLI, startBroker } from './helpers/broker.js';
import { connectStomp, sendWithReceipt, sleep } from './helpers/stomp.js';

const run = promisify(execFile);

/** curl; returns status and body. */
async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', ...args]);
  const i = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) };
}

/** Samples of the Prometheus text format: `name{labels}` -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

let broker: BrokerProcess;
let dir: string;
let base: string;
const ROOT = 'root:r00t';
const auth = (userPass: string) => ({ authorization: `Basic ${Buffer.from(userPass).toString('base64')}` });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'blazemq-admin-'));
  const add = (name: string, password: string, groups?: string) =>
    execFileSync(process.execPath, [
      CLI,
      'user',
      'add',
      name,
      '--password',
      password,
      '--data',
      dir,
      ...(groups ? ['--groups', groups] : []),
    ]);
  add('root', 'r00t', 'admins');
  add('alice', 'a1ice');
  const config = join(dir, 'blazemq.yaml');
  writeFileSync(
    config,
    [
      'security:',
      '  acl:',
      '    - pattern: "queue://alice.>"',
      '      users: [alice]',
      '      permissions: [read, write, admin]',
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

describe('authentication (curl)', () => {
  it('401 with a JSON body without or with wrong credentials', async () => {
    for (const args of [[], ['-u', 'root:wrong']]) {
      const r = await curl([...args, `${base}/v1/admin/queues`]);
      expect(r.status).toBe(401);
      expect(JSON.parse(r.body)).toEqual({ error: expect.any(String), code: 'UNAUTHENTICATED' });
    }
    expect((await curl([`${base}/metrics`])).status).toBe(401);
  });

  it('403 with a JSON body for a user without the admin permission there', async () => {
    const r = await curl(['-u', 'alice:a1ice', `${base}/v1/admin/connections`]);
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toMatchObject({ code: 'FORBIDDEN' });
    const other = await curl(['-u', 'alice:a1ice', '-X', 'POST', `${base}/v1/admin/queues/bob/purge`]);
    expect(other.status).toBe(403);
    const own = await curl([
      '-u',
      'alice:a1ice',
      '-H',
      'content-type: application/json',
      '-d',
      '{"body":"mine"}',
      `${base}/v1/admin/queues/alice.inbox/messages`,
    ]);
    expect(own.status).toBe(201);
  });

  it('accepts a bearer token from POST /v1/auth/token', async () => {
    const t = await fetch(`${base}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'root', passcode: 'r00t' }),
    });
    expect(t.status).toBe(200);
    const { token } = (await t.json()) as { token: string };
    const r = await fetch(`${base}/v1/admin/overview`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
  });
});

describe('queues end to end (curl)', () => {
  it('send, browse, move, delete a message, purge, delete the queue', async () => {
    const u = ['-u', ROOT];
    const json = ['-H', 'content-type: application/json'];
    const sent = await curl([
      ...u,
      ...json,
      '-d',
      '{"body":"héllo","persistent":true,"properties":{"n":1}}',
      `${base}/v1/admin/queues/work/messages`,
    ]);
    expect(sent.status).toBe(201);
    const { id } = JSON.parse(sent.body) as { id: string };
    await curl([...u, ...json, '-d', '{"body":"second"}', `${base}/v1/admin/queues/work/messages`]);

    const browse = await curl([...u, `${base}/v1/admin/queues/work/messages?max=10`]);
    const messages = JSON.parse(browse.body) as Array<Record<string, unknown>>;
    expect(messages.map((m) => m['body'])).toEqual(['héllo', 'second']);
    expect(messages[0]).toMatchObject({ id, persistent: true, properties: { n: 1 }, redelivered: false });

    const q = JSON.parse((await curl([...u, `${base}/v1/admin/queues/work`])).body);
    expect(q).toMatchObject({ name: 'work', depth: 2, enqueued: 2, dequeued: 0, consumers: 0, inFlight: 0 });
    expect(q.oldestMessageAgeMs).toBeGreaterThanOrEqual(0);

    const moved = await curl([
      ...u,
      ...json,
      '-d',
      '{"to":"queue://work.archive"}',
      `${base}/v1/admin/queues/work/messages/${encodeURIComponent(id)}/move`,
    ]);
    expect(moved.status).toBe(204);
    const second = messages[1]!['id'] as string;
    expect(
      (
        await curl([
          ...u,
          '-X',
          'DELETE',
          `${base}/v1/admin/queues/work/messages/${encodeURIComponent(second)}`,
        ])
      ).status,
    ).toBe(204);
    expect(JSON.parse((await curl([...u, `${base}/v1/admin/queues/work`])).body)).toMatchObject({ depth: 0 });

    expect(
      JSON.parse((await curl([...u, '-X', 'POST', `${base}/v1/admin/queues/work.archive/purge`])).body),
    ).toEqual({ purged: 1 });
    expect((await curl([...u, '-X', 'DELETE', `${base}/v1/admin/queues/work`])).status).toBe(204);
    expect((await curl([...u, `${base}/v1/admin/queues/work`])).status).toBe(404);
  });

  it('400 with a JSON body for malformed JSON and bad fields', async () => {
    for (const body of ['{"body":', '{"body":1}', '{"body":"x","priority":"high"}']) {
      const r = await curl([
        '-u',
        ROOT,
        '-H',
        'content-type: application/json',
        '-d',
        body,
        `${base}/v1/admin/queues/x/messages`,
      ]);
      expect(r.status, body).toBe(400);
      expect(JSON.parse(r.body)).toMatchObject({ code: 'BAD_REQUEST' });
    }
  });
});

describe('connections', () => {
  const connections = async () =>
    (await (await fetch(`${base}/v1/admin/connections`, { headers: auth(ROOT) })).json()) as Array<{
      id: string;
      protocol: string;
      clientId?: string;
      user: string;
      connectedAt: number;
    }>;
  const close = (id: string) =>
    fetch(`${base}/v1/admin/connections/${id}`, { method: 'DELETE', headers: auth(ROOT) });

  it('closes a STOMP connection: the client gets an ERROR frame, then the socket closes', async () => {
    const client = await connectStomp(broker.stomp, {
      login: 'root',
      passcode: 'r00t',
      headers: { 'client-id': 'stomp-victim' },
    });
    const error = new Promise<string>((resolve) => {
      client.onStompError = (frame) => resolve(frame.headers['message'] ?? '');
    });
    const closed = new Promise<void>((resolve) => {
      client.onWebSocketClose = () => resolve();
    });
    client.subscribe('/queue/stomp.victim', () => {});
    await sleep(100);
    const conn = (await connections()).find((c) => c.clientId === 'stomp-victim')!;
    expect(conn).toMatchObject({ protocol: 'stomp', user: 'root' });
    expect(conn.connectedAt).toBeLessThanOrEqual(Date.now());
    const subs = (await (
      await fetch(`${base}/v1/admin/subscriptions`, { headers: auth(ROOT) })
    ).json()) as Array<{
      connectionId: string;
      address: string;
    }>;
    expect(subs).toContainEqual(
      expect.objectContaining({ connectionId: conn.id, address: 'queue://stomp.victim' }),
    );
    expect((await close(conn.id)).status).toBe(204);
    expect(await error).toMatch(/administrator/);
    await closed;
    await client.deactivate();
    expect((await connections()).some((c) => c.id === conn.id)).toBe(false);
    expect((await close(conn.id)).status).toBe(404);
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`closes an MQTT ${protocolVersion === 5 ? '5' : '3.1.1'} connection${protocolVersion === 5 ? ' with DISCONNECT 0x98' : ''}`, async () => {
      const clientId = `mqtt-victim-${protocolVersion}`;
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.mqtt}`, {
        clientId,
        username: 'root',
        password: 'r00t',
        protocolVersion,
        reconnectPeriod: 0,
      });
      const disconnect = new Promise<number | undefined>((resolve) =>
        client.on('disconnect', (p) => resolve(p.reasonCode)),
      );
      const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
      const conn = (await connections()).find((c) => c.clientId === clientId)!;
      expect(conn.protocol).toBe('mqtt');
      expect((await close(conn.id)).status).toBe(204);
      await closed;
      if (protocolVersion === 5) expect(await disconnect).toBe(0x98);
      await client.endAsync(true);
      expect((await connections()).some((c) => c.id === conn.id)).toBe(false);
    });
  }
});

describe('/metrics', () => {
  it('serves Prometheus text whose counters move with traffic', async () => {
    const scrape = async () => {
      const r = await fetch(`${base}/metrics`, { headers: auth(ROOT) });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return samples(await r.text());
    };
    const before = await scrape();
    const client = await connectStomp(broker.stomp, { login: 'root', passcode: 'r00t' });
    for (let i = 0; i < 3; i++)
      await sendWithReceipt(client, '/queue/metered', `m${i}`, { persistent: 'true' });
    const after = await scrape();
    await client.deactivate();
    const key = 'blazemq_messages_enqueued_total{address="queue://metered"}';
    expect((after.get(key) ?? 0) - (before.get(key) ?? 0)).toBe(3);
    expect(after.get('blazemq_queue_depth{address="queue://metered"}')).toBe(3);
    expect(after.get('blazemq_connections{protocol="stomp"}')).toBeGreaterThanOrEqual(1);
    expect(after.get('blazemq_memory_bytes')).toBeGreaterThan(0);
    expect(after.get('blazemq_store_syncs_total')!).toBeGreaterThan(
      before.get('blazemq_store_syncs_total') ?? 0,
    );
    expect(after.get('blazemq_store_recovery_seconds')).toBeGreaterThanOrEqual(0);
    expect(after.has('process_resident_memory_bytes') || after.has('process_cpu_user_seconds_total')).toBe(
      true,
    );
  });
});

describe('overview, topics', () => {
  it('reports version, uptime, totals and rates', async () => {
    const r = await fetch(`${base}/v1/admin/overview`, { headers: auth(ROOT) });
    const o = (await r.json()) as Record<string, unknown>;
    expect(o).toMatchObject({
      version: expect.any(String),
      uptimeSeconds: expect.any(Number),
      memory: {
        used: expect.any(Number),
        peak: expect.any(Number),
        limit: expect.any(Number),
        blocked: false,
      },
      totals: { queues: expect.any(Number), enqueued: expect.any(Number) },
      rates: { enqueuedPerSecond: expect.any(Number), dequeuedPerSecond: expect.any(Number) },
    });
  });

  it('publishes to a topic and lists it', async () => {
    const r = await fetch(`${base}/v1/admin/topics/prices.IBM/messages`, {
      method: 'POST',
      headers: { ...auth(ROOT), 'content-type': 'application/json' },
      body: JSON.stringify({ body: '{"p":1}' }),
    });
    expect(r.status).toBe(201);
    const topics = (await (
      await fetch(`${base}/v1/admin/topics`, { headers: auth(ROOT) })
    ).json()) as unknown[];
    expect(topics).toContainEqual({
      address: 'topic://prices.IBM',
      name: 'prices.IBM',
      published: 1,
      subscribers: 0,
    });
  });
});
