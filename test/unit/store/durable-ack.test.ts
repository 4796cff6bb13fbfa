import { afterEach, describe, expect, it } from 'vitest';
import { ACCEPTED, createBrokerCore, type Delivery } from '../../../src/core/index.js';
import { MemoryStore } from '../../../src/store/memory/index.js';
import { openJournal, tempDir } from './helpers.js';

const principal = { user: 'u', anonymous: true };
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function setup(store: MemoryStore | ReturnType<typeof openJournal>) {
  const core = await createBrokerCore({ store });
  const conn = core.connect({ principal, protocol: 'test' });
  const got: Delivery[] = [];
  const sub = conn.subscribe(
    { address: 'queue://q', ackMode: 'individual', prefetch: 10 },
    { deliver: (_s, d) => got.push(d) },
  );
  return { core, conn, sub, got, store };
}

describe('durable acks', () => {
  it('ack of a stored message resolves only once the dequeue is durable', async () => {
    const store = new MemoryStore();
    const { conn, sub, got, core } = await setup(store);
    await conn.send({ address: 'queue://q', body: new Uint8Array([1]), persistent: true });
    expect(got).toHaveLength(1);
    store.hold();
    let durable = false;
    const p = sub.ack(got[0]!.tag);
    expect(p).toBeInstanceOf(Promise);
    void (p as Promise<void>).then(() => {
      durable = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(durable).toBe(false);
    expect(store.messageIds('queue://q')).toEqual([got[0]!.message.id]);
    store.release();
    await p;
    expect(durable).toBe(true);
    expect(store.messageIds('queue://q')).toEqual([]);
    await core.shutdown();
  });

  it('ack with nothing to store, or inside a transaction, is ACCEPTED at once', async () => {
    const { conn, sub, got, core } = await setup(new MemoryStore());
    await conn.send({ address: 'queue://q', body: new Uint8Array([1]), persistent: false });
    expect(sub.ack(got[0]!.tag)).toBe(ACCEPTED);
    await conn.send({ address: 'queue://q', body: new Uint8Array([2]), persistent: true });
    conn.begin('t');
    expect(sub.ack(got[1]!.tag, 't')).toBe(ACCEPTED);
    await conn.commit('t');
    await core.shutdown();
  });

  it('a core on the journal recovers only unacked messages, with their delivery counts', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const first = await setup(openJournal(dir));
    for (let i = 0; i < 3; i++) {
      await first.conn.send({ address: 'queue://q', body: new Uint8Array([i]), persistent: true });
    }
    await first.sub.ack(first.got[0]!.tag);
    await first.sub.nack(first.got[1]!.tag);
    await first.core.shutdown();
    await first.store.close();

    const second = await setup(openJournal(dir));
    const bodies = second.got.map((d) => d.message.body[0]);
    expect(bodies.sort()).toEqual([1, 2]);
    const redelivered = second.got.find((d) => d.message.body[0] === 1)!;
    expect(redelivered.redelivered).toBe(true);
    expect(redelivered.deliveryCount).toBeGreaterThanOrEqual(2);
    await second.core.shutdown();
    await second.store.close();
  });
});
