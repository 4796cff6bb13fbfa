/**
 * The core's protocol state through a real store: retained messages (stored as `retained://` queues)
 * and key/value namespaces survive a restart of the core on the same journal.
 */
import { describe, expect, it } from 'vitest';
import { type BlazeCore, createBrokerCore } from '../../../src/core/index.js';
import type { Message } from '../../../src/core/message.js';
import { MemoryStore } from '../../../src/store/memory/index.js';
import { msg, openJournal, recordingLogger, tempDirs } from './helpers.js';

const dir = tempDirs();

async function open(d: string, maxRetained?: number) {
  const journal = openJournal(d);
  const logger = recordingLogger();
  const core = await createBrokerCore({
    store: journal,
    logger,
    ...(maxRetained === undefined ? {} : { maxRetained }),
  });
  return {
    core,
    journal,
    logger,
    async close() {
      await core.shutdown();
      await journal.close();
    },
  };
}

const retainedMsg = (id: string, topic: string, body = id): Message =>
  msg(id, `topic://${topic}`, 0, { body: new Uint8Array(Buffer.from(body)), persistent: false });
const bodies = (core: BlazeCore, pattern: string) =>
  core.retained
    .match(pattern)
    .map((m) => Buffer.from(m.body).toString())
    .sort();

describe('retained messages in the store', () => {
  it('set, replace and clear survive a restart, and wildcard lookups see the recovered ones', async () => {
    const d = dir();
    const a = await open(d);
    a.core.retained.set('dev.1.temp', retainedMsg('r1', 'dev.1.temp', 'old'));
    a.core.retained.set('dev.1.temp', retainedMsg('r2', 'dev.1.temp', '21.5'));
    a.core.retained.set('dev.2.temp', retainedMsg('r3', 'dev.2.temp', '19'));
    a.core.retained.set('dev.3.temp', retainedMsg('r4', 'dev.3.temp', 'gone'));
    a.core.retained.clear('dev.3.temp');
    // An empty body clears as well (MQTT-3.3.1-10).
    a.core.retained.set('dev.2.hum', retainedMsg('r5', 'dev.2.hum', '40'));
    a.core.retained.set('dev.2.hum', retainedMsg('r6', 'dev.2.hum', ''));
    await a.core.retained.flushed();
    await a.close();

    const b = await open(d);
    expect(b.core.retained.size).toBe(2);
    expect(bodies(b.core, 'dev.*.temp')).toEqual(['19', '21.5']);
    expect(bodies(b.core, 'dev.>')).toEqual(['19', '21.5']);
    expect(b.core.stats().queues.map((q) => q.address)).toEqual([]);
    expect(b.logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(b.journal.stats().liveMessages).toBe(2);
    await b.close();
  });

  it('a new message reusing the stored id after a restart replaces it instead of deleting it', async () => {
    const d = dir();
    const a = await open(d);
    a.core.retained.set('t', retainedMsg('retained-1', 't', 'before'));
    await a.core.retained.flushed();
    await a.close();
    const b = await open(d);
    b.core.retained.set('t', retainedMsg('retained-1', 't', 'after'));
    await b.core.retained.flushed();
    await b.close();
    const c = await open(d);
    expect(bodies(c.core, 't')).toEqual(['after']);
    await c.close();
  });

  it('flushed() resolves only once the change is durable', async () => {
    const store = new MemoryStore();
    const core = await createBrokerCore({ store });
    store.hold();
    core.retained.set('t', retainedMsg('r1', 't'));
    let done = false;
    const p = core.retained.flushed().then(() => {
      done = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    store.release();
    await p;
    expect(store.messageIds('retained://t')).toEqual(['r1']);
    await core.shutdown();
  });

  it('drops stored messages beyond a lowered topic limit, with a warning', async () => {
    const d = dir();
    const a = await open(d);
    for (let i = 0; i < 3; i++) a.core.retained.set(`t${i}`, retainedMsg(`r${i}`, `t${i}`));
    await a.core.retained.flushed();
    await a.close();
    const b = await open(d, 2);
    expect(b.core.retained.size).toBe(2);
    expect(b.logger.lines.some((l) => l.level === 'warn' && /retained store full/.test(l.msg ?? ''))).toBe(
      true,
    );
    await b.core.retained.flushed();
    await b.close();
    const c = await open(d);
    expect(c.core.retained.size).toBe(2);
    await c.close();
  });
});

describe('key/value namespaces in the store', () => {
  it('hand the recovered records over once, and write through the core batches', async () => {
    const d = dir();
    const a = await open(d);
    const ns = a.core.kv('proto');
    expect(ns.durable).toBe(true);
    expect(ns.takeRecovered().size).toBe(0);
    ns.put('a', new Uint8Array([1]));
    ns.put('b', new Uint8Array([2]));
    a.core.kv('other').put('a', new Uint8Array([9]));
    await ns.flushed();
    ns.delete('b');
    ns.put('a', new Uint8Array([3]));
    await ns.flushed();
    await a.close();

    const b = await open(d);
    const back = b.core.kv('proto').takeRecovered();
    expect([...back]).toEqual([['a', new Uint8Array([3])]]);
    expect(b.core.kv('proto').takeRecovered().size).toBe(0);
    expect([...b.core.kv('other').takeRecovered()]).toEqual([['a', new Uint8Array([9])]]);
    await b.close();
  });

  it('are not durable without a store, and flushed() resolves at once', async () => {
    const core = await createBrokerCore();
    const ns = core.kv('x');
    expect(ns.durable).toBe(false);
    ns.put('a', new Uint8Array([1]));
    await ns.flushed();
    expect(ns.takeRecovered().size).toBe(0);
    await core.shutdown();
  });

  it('flushed() rejects when the batch holding the record failed', async () => {
    const store = new MemoryStore();
    const core = await createBrokerCore({ store });
    store.failNext(new Error('disk gone'));
    core.kv('x').put('a', new Uint8Array([1]));
    await expect(core.kv('x').flushed()).rejects.toThrow(/store write failed|disk gone/);
    // Once written (and failed), the promise of that batch still rejects for later callers.
    await expect(core.kv('x').flushed()).rejects.toThrow();
    await core.shutdown();
  });
});
