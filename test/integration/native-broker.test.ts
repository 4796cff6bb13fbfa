/**
 * The native protocol against the real broker process: TCP, TLS (self-signed certificate made here) and
 * WebSocket `/native`; persistence and duplicate detection across a restart; bad input that must close
 * only the offender.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, startBroker } from './helpers/broker.js';
import { NativeRawClient, type RawFrame } from './helpers/native-raw.js';

let broker: BrokerProcess;
let dir: string;
let cert: Buffer;
const bodyOf = (d: RawFrame) => Buffer.from(d.message.body ?? []).toString();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'blazemq-native-'));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost']
      .concat(['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')])
      .concat(['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']),
    { stdio: 'ignore' },
  );
  cert = readFileSync(join(dir, 'cert.pem'));
  const config = join(dir, 'blazemq.yaml');
  writeFileSync(config, `tls:\n  cert: ${join(dir, 'cert.pem')}\n  key: ${join(dir, 'key.pem')}\n`);
  broker = await startBroker({
    dataDir: join(dir, 'data'),
    keepData: true,
    args: ['--config', config, '--native-tls', '0'],
  });
}, 30_000);

afterAll(async () => {
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('native protocol over TCP', () => {
  it('sends persistent messages, delivers them within credit, acks them', async () => {
    const c = await NativeRawClient.tcp(broker.native);
    const connected = await c.connect({ client_name: 'it' });
    expect(connected.connected).toMatchObject({ version: 1 });
    expect(connected.connected.server).toMatch(/^blazemq\//);
    expect(connected.connected.store_id).toMatch(/^[0-9a-f-]{36}$/);
    for (let i = 0; i < 5; i++) {
      const ok = await c.request('send', {
        message: { address: 'queue://it.tcp', body: Buffer.from(`m${i}`), persistent: true },
      });
      expect(ok.kind).toBe('ok');
    }
    const sub = await c.request('subscribe', {
      subscription_id: 1,
      address: 'queue://it.tcp',
      ack_mode: 2,
      credit: 3,
    });
    expect(sub.kind).toBe('subscribed');
    const first = await c.deliveries(3);
    expect(first.map(bodyOf)).toEqual(['m0', 'm1', 'm2']);
    c.send('credit', { subscription_id: 1, credit: 10 });
    const rest = await c.deliveries(2);
    expect(rest.map(bodyOf)).toEqual(['m3', 'm4']);
    const ack = await c.request('ack', { subscription_id: 1, tags: [...first, ...rest].map((d) => d.tag) });
    expect(ack.kind).toBe('ok');
    expect((await c.request('disconnect')).kind).toBe('ok');
    await c.closed;
  });

  it('closes only the offender on garbage, oversized frames and a first frame that is not Connect', async () => {
    const bystander = await NativeRawClient.tcp(broker.native);
    await bystander.connect();
    await bystander.request('subscribe', { subscription_id: 9, address: 'topic://it.bad', credit: 100 });

    const garbage = await NativeRawClient.tcp(broker.native);
    await garbage.connect();
    garbage.sendRaw(Buffer.from([0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff]));
    expect((await garbage.next()).error).toMatchObject({ code: 'PROTOCOL', fatal: true });
    await garbage.closed;

    const big = await NativeRawClient.tcp(broker.native);
    await big.connect();
    const head = Buffer.alloc(4);
    head.writeUInt32BE(512 * 1024 * 1024, 0);
    big.sendRaw(head);
    expect((await big.next()).error).toMatchObject({ code: 'LIMIT_EXCEEDED', fatal: true });
    await big.closed;

    const early = await NativeRawClient.tcp(broker.native);
    early.send('send', { request_id: 4, message: { address: 'queue://x', body: Buffer.from('x') } });
    expect((await early.next()).error).toMatchObject({ request_id: 4, code: 'PROTOCOL', fatal: true });
    await early.closed;

    const unknown = await bystander.request('ack', { subscription_id: 1234, tags: [1] });
    expect(unknown.error).toMatchObject({ code: 'NOT_FOUND' });
    expect(unknown.error.fatal).toBeUndefined();
    await bystander.request('send', {
      message: { address: 'topic://it.bad', body: Buffer.from('still here') },
    });
    expect((await bystander.deliveries(1)).map(bodyOf)).toEqual(['still here']);
    bystander.close();
  });

  it('fans a topic out to several subscribers', async () => {
    const consumers = await Promise.all([1, 2, 3].map(() => NativeRawClient.tcp(broker.native)));
    for (const c of consumers) {
      await c.connect();
      await c.request('subscribe', { subscription_id: 1, address: 'topic://it.fan', credit: 100 });
    }
    const p = await NativeRawClient.tcp(broker.native);
    await p.connect();
    await p.request('send_batch', {
      messages: ['a', 'b'].map((b) => ({ address: 'topic://it.fan', body: Buffer.from(b) })),
    });
    for (const c of consumers) {
      expect((await c.deliveries(2)).map(bodyOf)).toEqual(['a', 'b']);
      c.close();
    }
    p.close();
  });
});

describe('native protocol over TLS and WebSocket', () => {
  it('works over TLS with the configured certificate', async () => {
    expect(broker.nativeTls).toBeGreaterThan(0);
    const c = await NativeRawClient.tcp(broker.nativeTls!, { ca: cert });
    await c.connect();
    await c.request('subscribe', { subscription_id: 1, address: 'queue://it.tls', credit: 10 });
    await c.request('send', { message: { address: 'queue://it.tls', body: Buffer.from('secret') } });
    expect((await c.deliveries(1)).map(bodyOf)).toEqual(['secret']);
    c.close();
  });

  it('works over WebSocket /native with the blazemq.v1 subprotocol', async () => {
    const c = await NativeRawClient.ws(`ws://127.0.0.1:${broker.http}/native`);
    await c.connect();
    const tmp = await c.request('create_temporary', { kind: 0 });
    const address = tmp.temporary_created.address as string;
    await c.request('subscribe', { subscription_id: 1, address, credit: 10 });
    await c.request('send', { message: { address, body: Buffer.from('over ws') } });
    expect((await c.deliveries(1)).map(bodyOf)).toEqual(['over ws']);
    c.close();
    await expect(NativeRawClient.ws(`ws://127.0.0.1:${broker.http}/native`, 'other')).rejects.toThrow();
  });
});

describe('native protocol authentication', () => {
  it('accepts a bearer token issued by POST /v1/auth/token and refuses an unknown one', async () => {
    const res = await fetch(`http://127.0.0.1:${broker.http}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'anyone', passcode: 'x' }),
    });
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    const c = await NativeRawClient.tcp(broker.native);
    await c.connect({ token });
    c.close();
    const bad = await NativeRawClient.tcp(broker.native);
    const refused = await bad.request('connect', { versions: [1], token: 'not-a-token' });
    expect(refused.error).toMatchObject({ code: 'UNAUTHENTICATED', fatal: true });
    await bad.closed;
  });
});

describe('native protocol across a restart', () => {
  it('keeps persistent messages and producer sequences (duplicates are not routed again)', async () => {
    const c = await NativeRawClient.tcp(broker.native);
    await c.connect();
    const send = (client: NativeRawClient, seq: number) =>
      client.request('send', {
        message: { address: 'queue://it.dedupe', body: Buffer.from(`s${seq}`), persistent: true },
        producer_id: 'producer-it',
        sequence: seq,
      });
    expect((await send(c, 1)).kind).toBe('ok');
    expect((await send(c, 2)).kind).toBe('ok');
    c.close();
    await broker.stop();
    broker = await startBroker({
      dataDir: broker.dataDir,
      keepData: true,
      args: ['--config', join(dir, 'blazemq.yaml'), '--native-tls', '0'],
    });
    const again = await NativeRawClient.tcp(broker.native);
    await again.connect();
    expect((await send(again, 2)).kind).toBe('ok');
    expect((await send(again, 3)).kind).toBe('ok');
    const browse = await again.request('browse', { address: 'queue://it.dedupe' });
    expect(browse.browse_result.messages.map((m: RawFrame) => Buffer.from(m.body).toString())).toEqual([
      's1',
      's2',
      's3',
    ]);
    again.close();
  }, 30_000);
});
