/**
 * kill -9 while messages are paged out (docs/STORAGE.md "Paging"): the broker runs with a memory limit a
 * few dozen messages wide and small segments, so that a backlog is paged out, read back, compacted and
 * recovered under fire. A producer sends persistent 4 KiB messages with receipts; a consumer that joins
 * late each cycle (so a backlog builds) acks 90 % of what it gets with receipts. After every restart the
 * recovered backlog is paged out again. Checks, as test/chaos/crash.test.ts does: no receipted send
 * lost, no receipted ack undone, redeliveries flagged; and every delivered body is whole (a page-in that
 * read the wrong bytes would show here).
 *
 * PAGING_CHAOS_CYCLES (default 6) sets the number of crashes; CHAOS_SEED replays a run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyJournal } from '../../src/store/journal/index.js';
import { seededRandom } from '../../src/util/random.js';
import { type BrokerProcess, startBroker } from '../integration/helpers/broker.js';
import { type Frame, StompPeer } from './stomp-peer.js';

const CYCLES = Number(process.env['PAGING_CHAOS_CYCLES'] ?? 6);
const SEED = Number(process.env['CHAOS_SEED'] ?? Date.now() % 1_000_000);
const SIZE = 4096;

const root = mkdtempSync(join(tmpdir(), 'blazemq-paging-chaos-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** `m-<n>:` then a pattern derived from n, SIZE bytes in all. */
function body(name: string): string {
  const n = Number(name.slice(2));
  let s = `${name}:`;
  while (s.length < SIZE) s += String.fromCharCode(97 + ((n + s.length) % 26));
  return s;
}

describe('paging under kill -9', () => {
  it(`keeps paged-out messages whole and every receipted send and ack across ${CYCLES} crashes`, {
    timeout: 60_000 + CYCLES * 4_000,
  }, async () => {
    const rng = seededRandom(SEED);
    const dataDir = join(root, 'data');
    const config = join(root, 'blazemq.yaml');
    // Paging starts at 70 % of 128 KiB: ~20 messages; 256 KiB segments rotate and compact often.
    writeFileSync(
      config,
      'core:\n  memoryLimit: 131072\n  globalMemoryLimit: 1048576\nstore:\n  segmentSize: 262144\n',
    );
    const sent = new Set<string>();
    const acked = new Set<string>();
    const ackUnknown = new Set<string>();
    const seen = new Set<string>();
    const violations: string[] = [];
    let seq = 0;
    let cycle = 0;

    const consume = (peer: StompPeer, ackRatio: number, onAck: () => void = () => {}) => {
      peer.onMessage = (f: Frame) => {
        const text = f.body.toString('latin1');
        const name = text.slice(0, text.indexOf(':'));
        if (text !== body(name))
          violations.push(`cycle ${cycle}: ${name} arrived damaged (${f.body.length} bytes)`);
        if (acked.has(name)) violations.push(`cycle ${cycle}: ${name} delivered after its ACK was receipted`);
        if (seen.has(name) && f.headers['redelivered'] !== 'true') {
          violations.push(`cycle ${cycle}: ${name} delivered again without redelivered:true`);
        }
        seen.add(name);
        if (rng() >= ackRatio) return;
        ackUnknown.add(name);
        peer.request('ACK', { id: f.headers['ack']! }).then(
          () => {
            acked.add(name);
            ackUnknown.delete(name);
            onAck();
          },
          () => {},
        );
      };
      peer.write('SUBSCRIBE', {
        id: 's',
        destination: '/queue/paging-chaos',
        ack: 'client-individual',
        'activemq.prefetchSize': '16',
      });
    };

    for (cycle = 0; cycle < CYCLES; cycle++) {
      const broker: BrokerProcess = await startBroker({
        dataDir,
        keepData: true,
        args: ['--config', config],
      });
      const producer = await StompPeer.connect(broker.stomp);
      let stop = false;
      const produce = async () => {
        const inflight = new Set<Promise<void>>();
        while (!stop && producer.alive) {
          const name = `m-${++seq}`;
          const p: Promise<void> = producer
            .request('SEND', { destination: '/queue/paging-chaos', persistent: 'true' }, body(name))
            .then(
              () => {
                sent.add(name);
              },
              () => {},
            )
            .finally(() => inflight.delete(p));
          inflight.add(p);
          if (inflight.size >= 32) await Promise.race(inflight);
        }
        await Promise.all(inflight);
      };
      const running = produce();
      // The backlog builds (and pages out) before the consumer comes.
      await sleep(200 + rng() * 300);
      const consumer = await StompPeer.connect(broker.stomp);
      consume(consumer, 0.9);
      await sleep(100 + rng() * 500);
      await broker.kill9();
      if (process.env['CHAOS_DEBUG']) console.log(`cycle ${cycle} seq ${seq}`, broker.output());
      stop = true;
      await running;
      consumer.close();
      producer.close();
    }

    const broker = await startBroker({ dataDir, keepData: true, args: ['--config', config] });
    const consumer = await StompPeer.connect(broker.stomp);
    let last = Date.now();
    consume(consumer, 1, () => {
      last = Date.now();
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() - last < 1500 && Date.now() < deadline) await sleep(100);
    consumer.close();
    // The recovered backlog was paged out at start-up and read back for the drain.
    const health = (await (await fetch(`http://127.0.0.1:${broker.http}/health`)).json()) as {
      store: { pagedReads: number; recoveredMessages: number };
    };
    expect(await broker.stop()).toBe(0);

    const context = `seed ${SEED}, ${sent.size} sends receipted, ${acked.size} acks receipted`;
    expect(violations.slice(0, 10), context).toEqual([]);
    const lost = [...sent].filter((b) => !seen.has(b) || (!acked.has(b) && !ackUnknown.has(b)));
    expect(lost.slice(0, 10), context).toEqual([]);
    expect(sent.size, context).toBeGreaterThan(CYCLES * 50);
    expect(health.store.recoveredMessages, context).toBeGreaterThan(30);
    expect(health.store.pagedReads, context).toBeGreaterThan(0);
    const report = await verifyJournal(join(dataDir, 'journal'));
    expect(report.ok, context).toBe(true);
    expect(report.liveMessages, context).toBe(0);
  });
});
