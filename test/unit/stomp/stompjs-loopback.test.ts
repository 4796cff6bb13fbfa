/**
 * A real third-party client (@stomp/stompjs over TCP) against the session with the fake core: checks
 * that what we write is what a widely used client expects (CONNECTED, MESSAGE ack ids, RECEIPT,
 * heart-beats). A tiny socket adapter stands in for src/net so that this stays a protocol test.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Client, type IMessage } from '@stomp/stompjs';
import { TCPWrapper } from '@stomp/tcp-wrapper';
import { afterEach, describe, expect, it } from 'vitest';
import type { Transport } from '../../../src/net/transport.js';
import { createStompSession } from '../../../src/protocol/stomp/index.js';
import { FakeCore, testAuthenticator } from './fakes.js';

function socketTransport(socket: Socket): Transport {
  return {
    remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`,
    get closed() {
      return socket.destroyed;
    },
    write: (chunk) => socket.write(chunk),
    onDrain: (l) => socket.once('drain', l),
    pauseReading: () => socket.pause(),
    resumeReading: () => socket.resume(),
    end: () => socket.end(),
    destroy: () => socket.destroy(),
  };
}

/** Routes every send to every subscription with the same address, like a topic. */
function routingCore(): FakeCore {
  const core = new FakeCore();
  const connect = core.connect.bind(core);
  core.connect = (options) => {
    const conn = connect(options);
    const fake = core.last;
    fake.sendResult = (m) => {
      for (const c of core.connections)
        for (const s of c.subscriptions)
          if (!s.closed && s.options.address === m.address)
            s.push({ address: m.address, body: m.body, properties: m.properties ?? {} });
      return Promise.resolve();
    };
    return conn;
  };
  return core;
}

let server: Server | undefined;
const clients: Client[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.deactivate()));
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function start(core: FakeCore): Promise<number> {
  server = createServer((socket) => {
    const session = createStompSession(socketTransport(socket), {
      core,
      authenticator: testAuthenticator,
      heartbeat: { sendMs: 50, receiveMs: 50 },
    });
    socket.on('data', (c: Buffer) => session.onData(c));
    socket.on('error', () => {});
    socket.on('close', () => session.onClose());
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function connect(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client({
      webSocketFactory: () => new TCPWrapper('127.0.0.1', port),
      reconnectDelay: 0,
      heartbeatIncoming: 50,
      heartbeatOutgoing: 50,
      onConnect: () => resolve(client),
      onStompError: (f) => reject(new Error(f.headers['message'])),
    });
    clients.push(client);
    client.activate();
  });
}

describe('stompjs against the STOMP session', () => {
  it('connects with 1.2 and heart-beats, publishes with a receipt, receives and acks', async () => {
    const core = routingCore();
    const port = await start(core);
    const client = await connect(port);
    expect(client.connectedVersion).toBe('1.2');
    const got: IMessage[] = [];
    const arrived = new Promise<void>((resolve) => {
      client.subscribe(
        '/topic/news',
        (m) => {
          got.push(m);
          m.ack();
          resolve();
        },
        { ack: 'client-individual' },
      );
    });
    const receipt = new Promise<void>((resolve) => client.watchForReceipt('r-1', () => resolve()));
    client.publish({ destination: '/topic/news', body: 'a:b\nc', headers: { receipt: 'r-1', 'x-k': 'v:1' } });
    await receipt;
    await arrived;
    expect(got[0]!.body).toBe('a:b\nc');
    expect(got[0]!.headers['x-k']).toBe('v:1');
    expect(got[0]!.headers['destination']).toBe('/topic/news');
    // Several heart-beat periods pass with nothing to send: both sides stay connected.
    await new Promise((r) => setTimeout(r, 300));
    expect(client.connected).toBe(true);
    const sub = core.connections[0]!.subscriptions[0]!;
    await new Promise((r) => setTimeout(r, 20));
    expect(sub.acks).toEqual([[1, undefined]]);
  });
});
