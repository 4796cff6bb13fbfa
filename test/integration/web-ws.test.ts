/**
 * STOMP and MQTT over WebSocket on the HTTP listener of the real broker process, driven by real clients:
 * @stomp/stompjs with `ws` as its WebSocket, MQTT.js with a ws:// URL, and a TCP STOMP client on the same
 * addresses (one address space across transports and protocols).
 */
import { Client, type IMessage } from '@stomp/stompjs';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type BrokerProcess, startBroker } from './helpers/broker.js';
import { connectStomp, sendWithReceipt, subscribe } from './helpers/stomp.js';

let broker: BrokerProcess;
const stompClients: Client[] = [];
const mqttClients: MqttClient[] = [];
let seq = 0;
const unique = (base: string) => `${base}${process.pid}x${++seq}`;

function stompOverWs(protocols: string[] = ['v12.stomp', 'v11.stomp', 'v10.stomp']): Promise<Client> {
  const url = `ws://127.0.0.1:${broker.http}/stomp`;
  return new Promise((resolve, reject) => {
    const client = new Client({
      brokerURL: url,
      webSocketFactory: () => new WebSocket(url, protocols),
      reconnectDelay: 0,
      heartbeatIncoming: 0,
      heartbeatOutgoing: 0,
      onConnect: () => resolve(client),
      onStompError: (f) => reject(new Error(f.headers.message ?? 'stomp error')),
      onWebSocketClose: () => reject(new Error('closed before CONNECTED')),
    });
    stompClients.push(client);
    client.activate();
  });
}

async function mqttOverWs(): Promise<MqttClient> {
  const c = await mqtt.connectAsync(`ws://127.0.0.1:${broker.http}/mqtt`, { reconnectPeriod: 0 });
  mqttClients.push(c);
  return c;
}

/** Opens a raw WebSocket and reports how the handshake or the connection ended. */
function rawWs(path: string, protocols: string[]): Promise<{ status?: number; ws?: WebSocket }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${broker.http}${path}`, protocols);
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => resolve({ ws }));
    ws.on('error', () => undefined);
  });
}

function waitFor<T>(list: T[], n: number, ms = 5000): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (list.length >= n) resolve(list);
      else if (Date.now() - started > ms) reject(new Error(`got ${list.length} of ${n}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

beforeAll(async () => {
  broker = await startBroker({
    args: ['--config', new URL('./fixtures/test-broker.yaml', import.meta.url).pathname],
  });
});
afterEach(async () => {
  await Promise.all(stompClients.splice(0).map((c) => c.deactivate()));
  await Promise.all(mqttClients.splice(0).map((c) => c.endAsync(true)));
});
afterAll(async () => {
  expect(await broker.stop()).toBe(0);
});

describe('STOMP over WebSocket', () => {
  it('negotiates v12.stomp and delivers between two WebSocket clients', async () => {
    const q = `/queue/${unique('ws')}`;
    const a = await stompOverWs();
    const b = await stompOverWs();
    expect((a.webSocket as unknown as WebSocket).protocol).toBe('v12.stomp');
    expect(a.connectedVersion).toBe('1.2');
    const got: IMessage[] = [];
    b.subscribe(q, (m) => got.push(m));
    for (let i = 0; i < 50; i++) a.publish({ destination: q, body: `m${i}`, headers: { 'x-n': String(i) } });
    await waitFor(got, 50);
    expect(got.map((m) => m.body)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(got[7]!.headers['x-n']).toBe('7');
  });

  it('accepts a client that offers only v10.stomp', async () => {
    const c = await stompOverWs(['v10.stomp']);
    expect((c.webSocket as unknown as WebSocket).protocol).toBe('v10.stomp');
  });

  it('carries binary bodies (sent as binary WebSocket messages)', async () => {
    const q = `/queue/${unique('bin')}`;
    const c = await stompOverWs();
    const got: IMessage[] = [];
    c.subscribe(q, (m) => got.push(m));
    const body = new Uint8Array([0, 0xff, 0xfe, 1, 0]);
    c.publish({ destination: q, binaryBody: body });
    await waitFor(got, 1);
    expect(Array.from(got[0]!.binaryBody)).toEqual(Array.from(body));
  });

  it('crosses to and from a TCP STOMP client', async () => {
    const q = `/queue/${unique('x')}`;
    const tcp = await connectStomp(broker.stomp);
    const ws = await stompOverWs();
    const tcpInbox = subscribe(tcp, `${q}.back`);
    const got: IMessage[] = [];
    ws.subscribe(q, (m) => {
      got.push(m);
      ws.publish({ destination: `${q}.back`, body: `echo:${m.body}` });
    });
    await sendWithReceipt(tcp, q, 'from-tcp');
    await waitFor(got, 1);
    expect(got[0]!.body).toBe('from-tcp');
    const [back] = await tcpInbox.waitFor(1);
    expect(back!.body).toBe('echo:from-tcp');
    await tcp.deactivate();
  });
});

describe('MQTT over WebSocket', () => {
  it('publishes and subscribes with QoS 1, and crosses to STOMP over WebSocket', async () => {
    const t = unique('ticks');
    const sub = await mqttOverWs();
    const pub = await mqttOverWs();
    const received: string[] = [];
    sub.on('message', (_topic, payload) => received.push(String(payload)));
    await sub.subscribeAsync(`${t}/#`, { qos: 1 });
    const stomp = await stompOverWs();
    const viaStomp: IMessage[] = [];
    stomp.subscribe(`/topic/${t}.>`, (m) => viaStomp.push(m));
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 20; i++) await pub.publishAsync(`${t}/a/b`, `p${i}`, { qos: 1 });
    await waitFor(received, 20);
    expect(received).toEqual(Array.from({ length: 20 }, (_, i) => `p${i}`));
    await waitFor(viaStomp, 20);
    expect(viaStomp[0]!.body).toBe('p0');
  });
});

describe('upgrade routing and limits', () => {
  it('refuses an unknown path with 404', async () => {
    expect((await rawWs('/nope', ['v12.stomp'])).status).toBe(404);
  });

  it('refuses a missing or wrong subprotocol with 400', async () => {
    expect((await rawWs('/stomp', ['mqtt'])).status).toBe(400);
    expect((await rawWs('/mqtt', ['v12.stomp'])).status).toBe(400);
    expect((await rawWs('/stomp', [])).status).toBe(400);
  });

  it('closes with 1009 a message over maxPayload (the STOMP frame limit)', async () => {
    const { ws } = await rawWs('/stomp', ['v12.stomp']);
    expect(ws).toBeDefined();
    const code = await new Promise<number>((resolve) => {
      ws!.on('close', (c) => resolve(c));
      // test-broker.yaml: limits.stomp.maxFrameSize 65536.
      ws!.send(Buffer.alloc(70_000, 0x41));
    });
    expect(code).toBe(1009);
  });

  it('still serves plain HTTP on the same port', async () => {
    const res = await fetch(`http://127.0.0.1:${broker.http}/health`);
    expect(res.status).toBe(200);
  });
});
