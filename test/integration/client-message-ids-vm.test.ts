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
} from '../../src/client/index.js';
import { type BlazeCore, createBrokerCore } from '../../src/core/index.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { type TestVmBroker, vmBroker } from './helpers/vm-broker.js';

let core: BlazeCore;
let vm: TestVmBroker;
let unregister: () => void;
const open: Array<BlazeClient | JmsConnection> = [];
const URL = 'failover:(vm://ids)?initialReconnectDelay=5';

/**
 * Runs `send`: the frame it writes is handled by the broker but its answer is lost, then the connection
 * drops (the failover client reconnects and resends).
 */
async function withAnswerLost<T>(send: () => Promise<T>): Promise<T> {
  vm.muteAfterNextWrite();
  const result = send();
  await new Promise((r) => setTimeout(r, 20));
  expect(vm.mutePending).toBe(false);
  vm.endAll();
  return result;
}

beforeAll(async () => {
  core = await createBrokerCore({ store: new MemoryStore() });
  vm = vmBroker(core);
  unregister = registerVmBroker('ids', vm);
});
afterEach(async () => {
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
