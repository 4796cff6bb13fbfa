/**
 * MQTT.js (npm `mqtt`, 3.1.1 and 5.0) against the real broker process, plus STOMP <-> MQTT across one
 * address space, and authentication / authorization from `blazemq user add` and ACL rules.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, CLI, startBroker } from './helpers/broker.js';
import { connectStomp, subscribe } from './helpers/stomp.js';

type Received = { topic: string; payload: Buffer; packet: mqtt.IPublishPacket };

function connect(port: number, options: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, ...options });
}

function inbox(client: MqttClient): { messages: Received[]; waitFor(n: number): Promise<Received[]> } {
  const messages: Received[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload, packet }));
  return {
    messages,
    async waitFor(n) {
      for (let i = 0; i < 200 && messages.length < n; i++) await new Promise((r) => setTimeout(r, 25));
      return messages;
    },
  };
}

const closeAll = (...cs: MqttClient[]) => Promise.all(cs.map((c) => c.endAsync(true)));

describe('MQTT.js against the broker', () => {
  let broker: BrokerProcess;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    expect(await broker.stop()).toBe(0);
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`v${protocolVersion}: QoS 0/1/2 with wildcards, retained, unsubscribe`, async () => {
      const t = `js${protocolVersion}`;
      const sub = await connect(broker.mqtt, { protocolVersion });
      const pub = await connect(broker.mqtt, { protocolVersion });
      await pub.publishAsync(`${t}/retained`, 'kept', { qos: 1, retain: true });
      const box = inbox(sub);
      const granted = await sub.subscribeAsync({ [`${t}/+/c`]: { qos: 2 }, [`${t}/#`]: { qos: 1 } });
      expect(granted.map((g) => g.qos)).toEqual([2, 1]);
      for (const qos of [0, 1, 2] as const) await pub.publishAsync(`${t}/b/c`, `q${qos}`, { qos });
      const got = await box.waitFor(7);
      const bySub = got.filter((m) => m.topic === `${t}/b/c`).map((m) => `${m.payload}:${m.packet.qos}`);
      expect(bySub.sort()).toEqual(['q0:0', 'q0:0', 'q1:1', 'q1:1', 'q2:1', 'q2:2']);
      expect(got.filter((m) => m.packet.retain).map((m) => String(m.payload))).toEqual(['kept']);
      await sub.unsubscribeAsync([`${t}/+/c`, `${t}/#`]);
      await pub.publishAsync(`${t}/b/c`, 'after', { qos: 1 });
      await new Promise((r) => setTimeout(r, 100));
      expect(box.messages.length).toBe(7);
      await closeAll(sub, pub);
    });
  }

  it('v5: properties, topic aliases, no-local, subscription ids, shared subscriptions', async () => {
    const a = await connect(broker.mqtt, { protocolVersion: 5, properties: { topicAliasMaximum: 10 } });
    const b = await connect(broker.mqtt, { protocolVersion: 5 });
    const boxA = inbox(a);
    const boxB = inbox(b);
    await a.subscribeAsync('v5/chat', { qos: 1, nl: true, properties: { subscriptionIdentifier: 7 } });
    await b.subscribeAsync('v5/chat', { qos: 1 });
    await a.publishAsync('v5/chat', 'from a', {
      qos: 1,
      properties: {
        userProperties: { lang: 'en' },
        contentType: 'text/plain',
        correlationData: Buffer.from('id-1'),
      },
    });
    await a.publishAsync('v5/chat', 'alias', { qos: 0, properties: { topicAlias: 1 } });
    await a.publishAsync('', 'alias again', { qos: 0, properties: { topicAlias: 1 } });
    await b.publishAsync('v5/chat', 'from b', { qos: 1 });
    await boxB.waitFor(4);
    await boxA.waitFor(1);
    expect(boxB.messages.map((m) => String(m.payload))).toEqual(['from a', 'alias', 'alias again', 'from b']);
    expect(boxB.messages[0]!.packet.properties).toMatchObject({
      userProperties: { lang: 'en' },
      contentType: 'text/plain',
      correlationData: Buffer.from('id-1'),
    });
    expect(boxA.messages.map((m) => String(m.payload))).toEqual(['from b']);
    expect(boxA.messages[0]!.packet.properties?.subscriptionIdentifier).toBe(7);

    const members = await Promise.all([1, 2].map(() => connect(broker.mqtt, { protocolVersion: 5 })));
    const boxes = members.map(inbox);
    for (const m of members) await m.subscribeAsync('$share/workers/v5/jobs/+', { qos: 1 });
    for (let i = 0; i < 10; i++) await a.publishAsync(`v5/jobs/${i}`, `j${i}`, { qos: 1 });
    for (let i = 0; i < 100 && boxes[0]!.messages.length + boxes[1]!.messages.length < 10; i++)
      await new Promise((r) => setTimeout(r, 25));
    const counts = boxes.map((x) => x.messages.length);
    expect(counts[0]! + counts[1]!).toBe(10);
    expect(Math.min(...counts)).toBeGreaterThan(0);
    await closeAll(a, b, ...members);
  });

  it('persistent session (v5 session expiry): QoS 1/2 messages published while away are delivered', async () => {
    const opts = {
      protocolVersion: 5 as const,
      clientId: 'js-dev',
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    };
    const dev = await connect(broker.mqtt, opts);
    await dev.subscribeAsync('dev/cmd', { qos: 2 });
    await dev.endAsync();
    const pub = await connect(broker.mqtt, { protocolVersion: 5 });
    await pub.publishAsync('dev/cmd', 'one', { qos: 1 });
    await pub.publishAsync('dev/cmd', 'two', { qos: 2 });
    const received: string[] = [];
    const again = mqtt.connect(`mqtt://127.0.0.1:${broker.mqtt}`, { ...opts, reconnectPeriod: 0 });
    again.on('message', (_t, p) => received.push(String(p)));
    const connack = await new Promise<mqtt.IConnackPacket>((resolve) => again.once('connect', resolve));
    expect(connack.sessionPresent).toBe(true);
    for (let i = 0; i < 100 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    expect(received).toEqual(['one', 'two']);
    await closeAll(again, pub);
  });

  it('session takeover: the first connection is closed with 0x8E', async () => {
    const first = await connect(broker.mqtt, { protocolVersion: 5, clientId: 'same-id' });
    const reason = new Promise<number | undefined>((resolve) =>
      first.once('disconnect', (p) => resolve(p.reasonCode)),
    );
    const second = await connect(broker.mqtt, { protocolVersion: 5, clientId: 'same-id' });
    expect(await reason).toBe(0x8e);
    await closeAll(first, second);
  });

  it('STOMP /topic/a.b.c reaches MQTT a/+/c and back, body unchanged, properties mapped', async () => {
    const m = await connect(broker.mqtt, { protocolVersion: 5 });
    const box = inbox(m);
    await m.subscribeAsync('x/+/c', { qos: 1 });
    const stomp = await connectStomp(broker.stomp);
    const stompInbox = subscribe(stomp, '/topic/from.mqtt');
    await new Promise((r) => setTimeout(r, 50));
    const body = new Uint8Array([1, 2, 3, 0, 255]);
    stomp.publish({
      destination: '/topic/x.b.c',
      binaryBody: body,
      headers: { color: 'red', persistent: 'true' },
    });
    const [got] = await box.waitFor(1);
    expect(got!.topic).toBe('x/b/c');
    expect(new Uint8Array(got!.payload)).toEqual(body);
    expect(got!.packet.qos).toBe(1);
    expect(got!.packet.properties?.userProperties).toMatchObject({ color: 'red' });
    await m.publishAsync('from/mqtt', Buffer.from('hello stomp'), {
      qos: 1,
      properties: { userProperties: { k: 'v' } },
    });
    const [frame] = await stompInbox.waitFor(1);
    expect(frame!.body).toBe('hello stomp');
    expect(frame!.headers['k']).toBe('v');
    expect(frame!.headers['destination']).toBe('/topic/from.mqtt');
    await stomp.deactivate();
    await closeAll(m);
  });

  it('bad input: a wildcard in a PUBLISH topic disconnects (v5 0x90); the broker keeps serving', async () => {
    const c = await connect(broker.mqtt, { protocolVersion: 5 });
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    // MQTT.js refuses to send it, so write the raw bytes: PUBLISH "a/#" with payload "x".
    (c as unknown as { stream: { write(b: Buffer): void } }).stream.write(
      Buffer.from([0x30, 7, 0, 3, 0x61, 0x2f, 0x23, 0, 0x78]),
    );
    await closed;
    const ok = await connect(broker.mqtt, { protocolVersion: 4 });
    await closeAll(ok);
  });
});

describe('MQTT with users configured', () => {
  let broker: BrokerProcess;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'blazemq-mqtt-auth-'));
    execFileSync(process.execPath, [CLI, 'user', 'add', 'alice', '--password', 's3cret', '--data', dir]);
    const config = join(dir, 'blazemq.yaml');
    writeFileSync(
      config,
      [
        'security:',
        '  acl:',
        '    - pattern: "topic://public.>"',
        '      users: [alice]',
        '      permissions: [read, write]',
        '',
      ].join('\n'),
    );
    broker = await startBroker({ dataDir: dir, args: ['--config', config, '--host', '127.0.0.1'] });
  });
  afterAll(async () => {
    expect(await broker.stop()).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('CONNACK refuses bad credentials: 3.1.1 code 4, 5.0 reason 0x86', async () => {
    await expect(
      connect(broker.mqtt, { protocolVersion: 4, username: 'alice', password: 'no' }),
    ).rejects.toMatchObject({ code: 4 });
    await expect(
      connect(broker.mqtt, { protocolVersion: 5, username: 'alice', password: 'no' }),
    ).rejects.toMatchObject({ code: 0x86 });
  });

  it('per-topic authorization: SUBACK 0x87 and PUBACK 0x87 outside the granted topics', async () => {
    const c = await connect(broker.mqtt, { protocolVersion: 5, username: 'alice', password: 's3cret' });
    expect((await c.subscribeAsync('public/#', { qos: 1 })).map((g) => g.qos)).toEqual([1]);
    // MQTT.js turns a SUBACK failure code into an error named after it.
    await expect(c.subscribeAsync('private/#', { qos: 1 })).rejects.toThrow(/Not authorized/);
    const box = inbox(c);
    await c.publishAsync('public/a', 'yes', { qos: 1 });
    await expect(c.publishAsync('private/a', 'no', { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
    expect((await box.waitFor(1)).map((m) => String(m.payload))).toEqual(['yes']);
    await closeAll(c);
  });
});
