/**
 * A send whose answer is lost with its connection: the failover client resends it with the same
 * (producer_id, sequence), the broker drops the duplicate and answers with the id of the first send
 * (native.proto Ok.message_ids), so JMSMessageID / publishForId still name the message consumers get.
 * Real native session and core in-process through vm:// (as client-vm.test.ts), so the answer can be cut.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BlazeClient,
  ConnectionFactory,
  connect,
  type Connection as JmsConnection,
  registerVmBroker,
  Session,
  type VmBroker,
} from '../../src/client/index.js';
import type { Authenticator } from '../../src/core/api.js';
import { type BlazeCore, createBrokerCore } from '../../src/core/index.js';
import type { Transport } from '../../src/net/transport.js';
import { nativeProtocol } from '../../src/protocol/native/index.js';
import { MemoryStore } from '../../src/store/memory/index.js';

const anonymous: Authenticator = {
  required: false,
  authenticate: () => Promise.resolve({ user: 'anonymous', anonymous: true }),
};

/** Connections whose broker -> client bytes are swallowed from now on (the answers are lost). */
let muteNext = false;
const live: Array<{ mute(): void; end(): void }> = [];

function vmBroker(core: BlazeCore): VmBroker {
  const protocol = nativeProtocol({ core, authenticator: anonymous, producers: core.kv('native-producers') });
  return {
    connectInProcess() {
      let toClient: (bytes: Uint8Array) => void = () => {};
      let clientClosed: ((e?: Error) => void) | undefined;
      let closed = false;
      let muted = false;
      const end = () => {
        if (closed) return;
        closed = true;
        session.onClose();
        clientClosed?.();
      };
      const transport: Transport = {
        write: (chunk) => {
          if (!closed && !muted) toClient(chunk);
          return true;
        },
        onDrain: () => {},
        pauseReading: () => {},
        resumeReading: () => {},
        end,
        destroy: end,
        remoteAddress: 'vm',
        get closed() {
          return closed;
        },
      };
      const session = protocol(transport);
      live.push({ mute: () => (muted = true), end });
      return {
        write: (bytes) => {
          if (muteNext) {
            muteNext = false;
            muted = true;
          }
          if (!closed) session.onData(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        },
        onData: (cb) => {
          toClient = cb;
        },
        close: end,
        onClose: (cb) => {
          clientClosed = cb;
        },
      };
    },
  };
}

let core: BlazeCore;
let unregister: () => void;
const open: Array<BlazeClient | JmsConnection> = [];
const URL = 'failover:(vm://ids)?initialReconnectDelay=5';

/**
 * Runs `send`: the frame it writes is handled by the broker but its answer is lost, then the connection
 * drops (the failover client reconnects and resends).
 */
async function withAnswerLost<T>(send: () => Promise<T>): Promise<T> {
  muteNext = true;
  const result = send();
  await new Promise((r) => setTimeout(r, 20));
  expect(muteNext).toBe(false);
  for (const c of live.splice(0)) c.end();
  return result;
}

beforeAll(async () => {
  core = await createBrokerCore({ store: new MemoryStore() });
  unregister = registerVmBroker('ids', vmBroker(core));
});
afterEach(async () => {
  muteNext = false;
  await Promise.all(open.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  unregister();
  await core.shutdown();
});

describe('the id of a send resent after its answer was lost', () => {
  it('publishForId resolves with the first id; the message is delivered once, under it', async () => {
    const c = await connect(URL, { heartbeatMs: 0 });
    open.push(c);
    const q = 'queue://resent';
    const id = await withAnswerLost(() => c.publishForId(q, 'once', { persistent: true }));
    expect(id).toMatch(/^ID:/);
    const sub = c.subscribe(q);
    const m = (await sub.receive({ timeout: 2000 }))!;
    expect([m.id, m.text()]).toEqual([id, 'once']);
    await m.ack();
    expect(await sub.receive({ timeout: 200 })).toBeUndefined();
  });

  it('JMS MessageProducer.send: JMSMessageID is the delivered id', async () => {
    const connection = await new ConnectionFactory(URL, { heartbeatMs: 0 }).createConnection();
    open.push(connection);
    connection.start();
    const session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
    const queue = session.createQueue('jms-resent');
    const message = session.createTextMessage('jms once');
    const producer = session.createProducer(queue);
    await withAnswerLost(() => producer.send(message));
    const consumer = session.createConsumer(queue);
    const got = await consumer.receive(2000);
    expect(message.getJMSMessageID()).toMatch(/^ID:/);
    expect(got?.getJMSMessageID()).toBe(message.getJMSMessageID());
    expect(await consumer.receive(200)).toBeNull();
  });
});
