/**
 * Slow consumers against the real broker process (issue 3): a queue consumer that never reads is
 * disconnected after `slowConsumerTimeoutMs` and its in-flight messages go to another consumer marked
 * redelivered; a topic with the 'block' policy delays its producer's receipts while a subscriber does
 * not read, and releases the producer when that subscriber goes away.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type BrokerProcess, startBroker } from './helpers/broker.js';
import { type FramePeer, framePeer } from './memory-peer.js';

const brokers: BrokerProcess[] = [];
const peers: FramePeer[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) p.socket.destroy();
  for (const b of brokers.splice(0)) expect(await b.stop()).toBe(0);
});

async function brokerWith(config: object): Promise<BrokerProcess> {
  const file = join(mkdtempSync(join(tmpdir(), 'blazemq-slow-')), 'broker.json');
  writeFileSync(file, JSON.stringify(config));
  const b = await startBroker({ args: ['--config', file] });
  brokers.push(b);
  return b;
}

async function peer(b: BrokerProcess, keepIds = false): Promise<FramePeer> {
  const p = await framePeer(b.stomp, { keepIds });
  peers.push(p);
  return p;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('slow consumers', () => {
  it('a queue consumer that never reads is dropped and its in-flight messages go to another consumer', async () => {
    const b = await brokerWith({ limits: { stomp: { slowConsumerTimeoutMs: 500 } } });
    const stuck = await peer(b);
    await stuck.frame('SUBSCRIBE', {
      id: 1,
      destination: '/queue/slow',
      ack: 'client-individual',
      'activemq.prefetchSize': 1000,
      receipt: 'sub',
    });
    await until(() => stuck.receipts === 1, 2000, 'subscription receipt');
    stuck.stopReading();

    // 200 x 64 KiB: far more than the socket buffers hold, so the broker's output to `stuck` backs up.
    const producer = await peer(b);
    const body = Buffer.alloc(64 * 1024, 's');
    const total = 200;
    for (let i = 0; i < total; i++) {
      await producer.frame('SEND', { destination: '/queue/slow', persistent: 'true', receipt: i }, body);
    }
    await until(() => producer.receipts === total, 10_000, 'all receipts');
    await until(() => /slow consumer/.test(b.output()), 10_000, 'the slow-consumer drop');
    stuck.socket.destroy();

    const other = await peer(b, true);
    await other.frame('SUBSCRIBE', { id: 1, destination: '/queue/slow', ack: 'auto' });
    await until(() => other.messages === total, 10_000, `${total} messages at the other consumer`);
    expect(new Set(other.ids.map((m) => m.id)).size).toBe(total);
    // Those that were in flight at the dropped consumer come back marked redelivered.
    expect(other.ids.filter((m) => m.redelivered).length).toBeGreaterThan(0);
  });

  it("'block' delays the producer's receipts while a topic subscriber does not read", async () => {
    const b = await brokerWith({
      limits: { stomp: { slowConsumerTimeoutMs: 60_000 } },
      core: {
        overrides: [
          { match: 'topic://blocking.>', policy: { slowConsumerPolicy: 'block', topicSubscriberBuffer: 50 } },
        ],
      },
    });
    const stuck = await peer(b);
    const fast = await peer(b);
    for (const p of [stuck, fast]) {
      await p.frame('SUBSCRIBE', { id: 1, destination: '/topic/blocking.prices', ack: 'auto', receipt: 's' });
    }
    await until(() => stuck.receipts === 1 && fast.receipts === 1, 2000, 'subscription receipts');
    stuck.stopReading();

    const producer = await peer(b);
    const body = Buffer.alloc(16 * 1024, 'b');
    const total = 600; // ~10 MB: more than the socket buffers plus 50 buffered messages
    for (let i = 0; i < total; i++) {
      await producer.frame('SEND', { destination: '/topic/blocking.prices', receipt: i }, body);
    }
    await new Promise((r) => setTimeout(r, 1000));
    // The producer is held back: its receipts stop short of what it sent.
    expect(producer.receipts).toBeLessThan(total);
    const heldAt = producer.receipts;
    await new Promise((r) => setTimeout(r, 300));
    expect(producer.receipts).toBe(heldAt);

    // The slow subscriber leaves: the producer goes on, and the reading subscriber missed nothing.
    stuck.socket.destroy();
    await until(() => producer.receipts === total, 10_000, 'all receipts after the slow subscriber left');
    await until(() => fast.messages === total, 10_000, 'all messages at the reading subscriber');
    expect(producer.errors).toEqual([]);
  });
});
