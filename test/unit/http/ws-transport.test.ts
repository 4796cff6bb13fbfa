/**
 * WsTransport and the upgrade gateway over a real `ws` client on a loopback HTTP server (port 0), with a
 * recording protocol session instead of STOMP/MQTT.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ProtocolSession, Transport } from '../../../src/net/transport.js';
import { chooseRoute, createWsGateway, type WsGateway, type WsRoute } from '../../../src/net/ws-transport.js';
import { silentLogger } from '../../../src/util/logger.js';

interface Recorder extends ProtocolSession {
  transport: Transport;
  data: Buffer[];
  closes: number;
}

let server: Server | undefined;
let gateway: WsGateway | undefined;
const sessions: Recorder[] = [];

function route(path: string, subprotocols: string[], extra: Partial<WsRoute> = {}): WsRoute {
  return {
    path,
    subprotocols,
    maxPayload: 1024 * 1024,
    messageType: 'binary',
    protocol: (transport) => {
      const s: Recorder = {
        transport,
        data: [],
        closes: 0,
        onData: (c) => s.data.push(c),
        onClose: () => {
          s.closes++;
        },
      };
      sessions.push(s);
      return s;
    },
    ...extra,
  };
}

async function start(routes: WsRoute[], maxConnections = 100): Promise<number> {
  gateway = createWsGateway({
    routes,
    maxConnections,
    logger: silentLogger,
    transport: { highWaterMark: 256 * 1024, lowWaterMark: 64 * 1024 },
  });
  const g = gateway;
  server = createServer((_req, res) => res.end());
  server.on('upgrade', (req, socket, head) => g.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

function open(port: number, path: string, protocols: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_q, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

const until = async (cond: () => boolean, ms = 3000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

afterEach(async () => {
  await gateway?.close(500);
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
  gateway = undefined;
  sessions.length = 0;
});

describe('chooseRoute', () => {
  const routes = [route('/stomp', ['v12.stomp', 'v11.stomp']), route('/mqtt', ['mqtt'])];
  it('picks the route by path and the first of its subprotocols the client offers', () => {
    const d = chooseRoute(routes, '/stomp', 'v11.stomp, v12.stomp');
    expect('route' in d && d.subprotocol).toBe('v12.stomp');
    const m = chooseRoute(routes, '/mqtt', 'mqtt');
    expect('route' in m && m.route.path).toBe('/mqtt');
  });
  it('refuses unknown paths (404) and missing or foreign subprotocols (400)', () => {
    expect(chooseRoute(routes, '/x', 'mqtt')).toMatchObject({ status: 404 });
    expect(chooseRoute(routes, '/mqtt', undefined)).toMatchObject({ status: 400 });
    expect(chooseRoute(routes, '/mqtt', 'v12.stomp')).toMatchObject({ status: 400 });
  });
});

describe('WsTransport', () => {
  it('sends every write of one turn as one WebSocket message', async () => {
    const port = await start([route('/t', ['p'])]);
    const ws = await open(port, '/t', ['p']);
    const got: Buffer[] = [];
    ws.on('message', (d: Buffer) => got.push(d));
    await until(() => sessions.length === 1);
    const t = sessions[0]!.transport;
    for (let i = 0; i < 10; i++) expect(t.write(Buffer.from(`f${i};`))).toBe(true);
    await until(() => got.length > 0);
    await new Promise((r) => setTimeout(r, 20));
    expect(got.length).toBe(1);
    expect(String(got[0])).toBe('f0;f1;f2;f3;f4;f5;f6;f7;f8;f9;');
    ws.close();
  });

  it('auto mode: text when the batch is UTF-8, binary otherwise', async () => {
    const port = await start([route('/t', ['p'], { messageType: 'auto' })]);
    const ws = await open(port, '/t', ['p']);
    const got: boolean[] = [];
    ws.on('message', (_d, isBinary) => got.push(isBinary));
    await until(() => sessions.length === 1);
    const t = sessions[0]!.transport;
    t.write(Buffer.from('héllo'));
    await until(() => got.length === 1);
    t.write(Buffer.from([0xff, 0x00]));
    await until(() => got.length === 2);
    expect(got).toEqual([false, true]);
    ws.close();
  });

  it('hands received messages to the session in order', async () => {
    const port = await start([route('/t', ['p'])]);
    const ws = await open(port, '/t', ['p']);
    for (let i = 0; i < 5; i++) ws.send(Buffer.from(`m${i}`));
    await until(() => sessions[0]?.data.length === 5);
    expect(sessions[0]!.data.map(String)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    ws.close();
  });

  it('drops the connection of a session that throws, and one whose session cannot be made, without crashing', async () => {
    const throwing = route('/t', ['p']);
    const make = throwing.protocol;
    throwing.protocol = (t) => {
      const s = make(t) as Recorder;
      s.onData = () => {
        throw new Error('bug');
      };
      return s;
    };
    const refusing = route('/r', ['p'], {
      protocol: () => {
        throw new Error('no session');
      },
    });
    const port = await start([throwing, refusing]);
    const ws = await open(port, '/t', ['p']);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(Buffer.from('x'));
    await closed;
    await until(() => sessions[0]?.closes === 1);
    const refused = await open(port, '/r', ['p']);
    const code = await new Promise<number>((r) => refused.once('close', (c) => r(c)));
    expect(code).toBe(1006);
    // The gateway still serves.
    const again = await open(port, '/t', ['p']);
    again.close();
  });

  it('returns false above high-water while the peer does not read, and drains when it does', async () => {
    const port = await start([route('/t', ['p'])]);
    const ws = await open(port, '/t', ['p']);
    await until(() => sessions.length === 1);
    // Stop reading on the client: the kernel buffers fill, then ws.bufferedAmount grows on the broker.
    (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const t = sessions[0]!.transport;
    const chunk = Buffer.alloc(64 * 1024, 1);
    // Write until `false` sticks: a false that only reflects one turn's batch drains as soon as the
    // kernel takes it; once the kernel buffers are full, it stays false while the peer does not read.
    let drained = false;
    for (let rounds = 0; ; rounds++) {
      if (rounds > 2000) throw new Error('never blocked');
      let ok = true;
      for (let i = 0; i < 8 && ok; i++) ok = t.write(chunk);
      if (ok) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      drained = false;
      t.onDrain(() => {
        drained = true;
      });
      await new Promise((r) => setTimeout(r, 30));
      if (!drained) break;
    }
    expect((t as unknown as { bufferedBytes: number }).bufferedBytes).toBeGreaterThan(64 * 1024);
    let bytes = 0;
    ws.on('message', (d: Buffer) => {
      bytes += d.length;
    });
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await until(() => drained);
    expect(bytes).toBeGreaterThan(0);
    ws.close();
  });

  it('pauseReading stops delivery to the session until resumeReading', async () => {
    const port = await start([route('/t', ['p'])]);
    const ws = await open(port, '/t', ['p']);
    await until(() => sessions.length === 1);
    const s = sessions[0]!;
    s.transport.pauseReading();
    ws.send('a');
    await new Promise((r) => setTimeout(r, 50));
    expect(s.data.length).toBe(0);
    s.transport.resumeReading();
    await until(() => s.data.length === 1);
    ws.close();
  });

  it('end() closes with 1000 after the queued output; onClose reaches the session once', async () => {
    const port = await start([route('/t', ['p'])]);
    const ws = await open(port, '/t', ['p']);
    const got: string[] = [];
    ws.on('message', (d: Buffer) => got.push(String(d)));
    const code = new Promise<number>((r) => ws.once('close', (c) => r(c)));
    await until(() => sessions.length === 1);
    const t = sessions[0]!.transport;
    t.write(Buffer.from('last words'));
    t.end();
    t.end();
    expect(t.closed).toBe(true);
    expect(t.write(Buffer.from('x'))).toBe(false);
    expect(await code).toBe(1000);
    expect(got).toEqual(['last words']);
    await until(() => sessions[0]!.closes === 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(sessions[0]!.closes).toBe(1);
  });

  it('refuses connections beyond maxConnections with 503', async () => {
    const port = await start([route('/t', ['p'])], 1);
    const first = await open(port, '/t', ['p']);
    await expect(open(port, '/t', ['p'])).rejects.toThrow('status 503');
    first.close();
  });

  it('close() ends every connection and refuses new ones', async () => {
    const port = await start([route('/t', ['p'])]);
    const ws = await open(port, '/t', ['p']);
    const closed = new Promise<number>((r) => ws.once('close', (c) => r(c)));
    await until(() => sessions.length === 1);
    await gateway!.close(1000);
    expect(await closed).toBe(1000);
    expect(sessions[0]!.closes).toBe(1);
    await expect(open(port, '/t', ['p'])).rejects.toThrow('status 503');
  });
});
