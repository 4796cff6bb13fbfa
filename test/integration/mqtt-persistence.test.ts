/**
 * MQTT state on disk, with the real broker process and MQTT.js: retained messages and persistent
 * sessions (3.1.1 clean session 0, 5.0 session expiry) survive a clean stop and a kill -9.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type BrokerProcess, startBroker } from './helpers/broker.js';

const root = mkdtempSync(join(tmpdir(), 'blazemq-mqtt-persist-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const running: BrokerProcess[] = [];
const clients: MqttClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  for (const b of running.splice(0)) await b.kill9();
});

let dirs = 0;
async function broker(dataDir = join(root, `d${++dirs}`)): Promise<BrokerProcess> {
  const b = await startBroker({ dataDir, keepData: true });
  running.push(b);
  return b;
}

async function crash(b: BrokerProcess): Promise<BrokerProcess> {
  await b.kill9();
  running.splice(running.indexOf(b), 1);
  return broker(b.dataDir);
}

async function connect(port: number, options: IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, ...options });
  clients.push(c);
  return c;
}

type Got = Array<[string, string, boolean]>;

/** Collects messages from now on; `wait(n)` returns once n arrived (or after `ms`), plus a little. */
function inbox(c: MqttClient): { wait(n: number, ms?: number): Promise<Got> } {
  const got: Got = [];
  c.on('message', (topic, payload, packet) => got.push([topic, String(payload), packet.retain]));
  return {
    async wait(n, ms = 5000) {
      for (let t = 0; t < ms && got.length < n; t += 20) await new Promise((r) => setTimeout(r, 20));
      // A little longer: anything beyond `n` is a duplicate the test must see.
      await new Promise((r) => setTimeout(r, 150));
      return got;
    },
  };
}

/** Connects with a message handler in place before the CONNACK (a resumed session delivers at once). */
async function resume(port: number, options: IClientOptions) {
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { ...options, reconnectPeriod: 0 });
  clients.push(c);
  const box = inbox(c);
  const connack = await new Promise<mqtt.IConnackPacket>((resolve, reject) => {
    c.once('connect', resolve);
    c.once('error', reject);
  });
  return { client: c, box, sessionPresent: connack.sessionPresent };
}

describe('MQTT persistence (real broker process)', () => {
  it('retained messages survive kill -9 and a clean restart, and reach wildcard subscribers', async () => {
    let b = await broker();
    const pub = await connect(b.mqtt);
    await pub.publishAsync('dev/1/temp', '21.5', { qos: 1, retain: true });
    await pub.publishAsync('dev/2/temp', 'old', { qos: 1, retain: true });
    await pub.publishAsync('dev/2/temp', '19', { qos: 2, retain: true });
    await pub.publishAsync('dev/3/temp', 'cleared', { qos: 1, retain: true });
    await pub.publishAsync('dev/3/temp', '', { qos: 1, retain: true });
    await pub.endAsync(true);
    b = await crash(b);

    const sub = await connect(b.mqtt);
    const box = inbox(sub);
    await sub.subscribeAsync('dev/+/temp', { qos: 1 });
    expect((await box.wait(2)).sort()).toEqual([
      ['dev/1/temp', '21.5', true],
      ['dev/2/temp', '19', true],
    ]);

    expect(await b.stop()).toBe(0);
    running.splice(running.indexOf(b), 1);
    b = await broker(b.dataDir);
    const again = await connect(b.mqtt, { protocolVersion: 5 });
    const box2 = inbox(again);
    await again.subscribeAsync('dev/#', { qos: 0 });
    expect((await box2.wait(2)).map(([t]) => t).sort()).toEqual(['dev/1/temp', 'dev/2/temp']);
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`v${protocolVersion}: a persistent session keeps its subscriptions and QoS 1/2 messages across kill -9`, async () => {
      let b = await broker();
      const session: IClientOptions = {
        protocolVersion,
        clientId: `dev-${protocolVersion}`,
        clean: false,
        ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
      };
      const sub = await connect(b.mqtt, session);
      await sub.subscribeAsync({ 'cmd/+': { qos: 2 }, 'low/#': { qos: 1 } });
      await sub.endAsync();
      const pub = await connect(b.mqtt, { protocolVersion });
      // publishAsync resolves on PUBACK / PUBCOMP: these are acknowledged, so they must survive.
      await pub.publishAsync('cmd/a', 'one', { qos: 1 });
      await pub.publishAsync('cmd/b', 'two', { qos: 2 });
      await pub.publishAsync('low/c', 'three', { qos: 2 });
      await pub.endAsync(true);
      b = await crash(b);

      const again = await resume(b.mqtt, session);
      expect(again.sessionPresent).toBe(true);
      const got = await again.box.wait(3);
      expect(got.map(([t, p]) => `${t}=${p}`).sort()).toEqual(['cmd/a=one', 'cmd/b=two', 'low/c=three']);
    });
  }

  it('v5: session expiry counts across a restart', async () => {
    let b = await broker();
    const short: IClientOptions = {
      protocolVersion: 5,
      clientId: 'short',
      clean: false,
      properties: { sessionExpiryInterval: 1 },
    };
    const long: IClientOptions = { ...short, clientId: 'long', properties: { sessionExpiryInterval: 600 } };
    for (const o of [short, long]) {
      const c = await connect(b.mqtt, o);
      await c.subscribeAsync('e/#', { qos: 1 });
      await c.endAsync();
    }
    b = await crash(b);
    await new Promise((r) => setTimeout(r, 1300));
    const check = async (o: IClientOptions) => (await resume(b.mqtt, o)).sessionPresent;
    expect(await check(short)).toBe(false);
    expect(await check(long)).toBe(true);
  });
});
