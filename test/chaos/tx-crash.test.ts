/**
 * kill -9 during STOMP transactions (issue 3): a transaction is all or nothing across a crash. Workers
 * take messages from a source queue and, in one transaction, SEND a few persistent messages to a
 * destination queue and ACK what they took, then COMMIT with a receipt (or ABORT, or are still open when
 * the broker dies). After each restart:
 *   - a transaction whose COMMIT was receipted is entirely there: all its sends stored, all its acks
 *     applied (the acked messages are gone from the source);
 *   - a transaction that was aborted or never committed left no trace: none of its sends, and the
 *     messages it acked are back in the source (unless a later, committed transaction took them);
 *   - a COMMIT whose receipt was lost in the crash is either wholly applied or wholly absent.
 *
 * Each cycle uses its own pair of queues, so a cycle's expectations do not depend on earlier ones.
 * TX_CHAOS_CYCLES (default 5) sets the number of crashes; CHAOS_SEED replays a run.
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

const CYCLES = Number(process.env['TX_CHAOS_CYCLES'] ?? 5);
const SEED = Number(process.env['CHAOS_SEED'] ?? Date.now() % 1_000_000);
const WORKERS = 4;
const SOURCE_MESSAGES = 300;

const root = mkdtempSync(join(tmpdir(), 'blazemq-txchaos-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** open: BEGIN written, no COMMIT; commit-sent: COMMIT written, no receipt (outcome unknown). */
type TxState = 'open' | 'aborted' | 'commit-sent' | 'committed';

interface Tx {
  readonly id: string;
  readonly sends: string[];
  readonly acks: string[];
  state: TxState;
}

/** Reads every message a queue holds (without acking: nothing changes), until it stays quiet. */
async function readQueue(port: number, queue: string): Promise<string[]> {
  const peer = await StompPeer.connect(port);
  const bodies: string[] = [];
  let last = Date.now();
  peer.onMessage = (f: Frame) => {
    bodies.push(f.body.toString());
    last = Date.now();
  };
  peer.write('SUBSCRIBE', {
    id: 'drain',
    destination: queue,
    ack: 'client-individual',
    'activemq.prefetchSize': '1000000',
  });
  // Recovery finishes before the broker listens, so everything stored is dispatched at once.
  while (Date.now() - last < 400) await sleep(50);
  peer.close();
  return bodies;
}

/** One worker: one transaction at a time over the messages its subscription receives. */
async function work(
  peer: StompPeer,
  cycle: number,
  worker: number,
  rng: () => number,
  txs: Tx[],
  stopped: () => boolean,
): Promise<void> {
  const inbox: Frame[] = [];
  peer.onMessage = (f) => inbox.push(f);
  peer.write('SUBSCRIBE', {
    id: 's',
    destination: `/queue/src-${cycle}`,
    ack: 'client-individual',
    'activemq.prefetchSize': '8',
  });
  for (let n = 0; !stopped() && peer.alive; n++) {
    const tx: Tx = { id: `c${cycle}w${worker}t${n}`, sends: [], acks: [], state: 'open' };
    txs.push(tx);
    peer.write('BEGIN', { transaction: tx.id });
    const sends = 1 + Math.floor(rng() * 3);
    for (let i = 0; i < sends; i++) {
      const body = `${tx.id}:${i}`;
      tx.sends.push(body);
      peer.write(
        'SEND',
        { destination: `/queue/dst-${cycle}`, persistent: 'true', transaction: tx.id },
        body,
      );
    }
    const take = Math.min(inbox.length, Math.floor(rng() * 4));
    for (const f of inbox.splice(0, take)) {
      tx.acks.push(f.body.toString());
      peer.write('ACK', { id: f.headers['ack']!, transaction: tx.id });
    }
    // Pauses inside the transaction (now and then a long one), so that the crash also finds
    // transactions still open, not only commits in flight.
    const pause = rng();
    if (pause < 0.1) await sleep(100 + rng() * 200);
    else if (pause < 0.4) await sleep(rng() * 10);
    if (!peer.alive) break;
    if (rng() < 0.2) {
      // The acked messages come back to the subscription (returned at rollback) and are taken again.
      peer.write('ABORT', { transaction: tx.id });
      tx.state = 'aborted';
      await sleep(1);
      continue;
    }
    tx.state = 'commit-sent';
    try {
      await peer.request('COMMIT', { transaction: tx.id });
      tx.state = 'committed';
    } catch {
      break; // the broker died: outcome unknown
    }
  }
}

/** Every violation of all-or-nothing for one cycle's transactions, given what the queues hold. */
function check(txs: Tx[], sourceSent: Set<string>, dst: string[], src: string[]): string[] {
  const problems: string[] = [];
  const dstSet = new Set(dst);
  const srcSet = new Set(src);
  if (dstSet.size !== dst.length) problems.push('a transactional send is stored twice');
  if (srcSet.size !== src.length) problems.push('a source message is stored twice');
  /** Source messages consumed by a transaction that took effect. */
  const consumed = new Set<string>();
  const known = new Set<string>();
  for (const tx of txs) {
    for (const s of tx.sends) known.add(s);
    const present = tx.sends.filter((s) => dstSet.has(s)).length;
    let applied: boolean;
    if (tx.state === 'committed') {
      applied = true;
      if (present !== tx.sends.length) problems.push(`${tx.id}: receipted commit lost sends`);
    } else if (tx.state === 'commit-sent') {
      applied = present > 0;
      if (present !== 0 && present !== tx.sends.length) {
        problems.push(`${tx.id}: commit of unknown outcome applied ${present}/${tx.sends.length} sends`);
      }
    } else {
      applied = false;
      if (present !== 0) problems.push(`${tx.id} (${tx.state}): ${present} sends stored without a commit`);
    }
    if (!applied) continue;
    for (const a of tx.acks) {
      if (srcSet.has(a)) problems.push(`${tx.id} (${tx.state}): acked ${a} is back`);
      if (consumed.has(a)) problems.push(`${a} consumed by two transactions`);
      consumed.add(a);
    }
  }
  for (const d of dst) if (!known.has(d)) problems.push(`unknown message ${d} in the destination`);
  // Every source message is either consumed by an applied transaction or still there: an ack of an
  // aborted or unfinished transaction must not have removed it.
  for (const s of sourceSent) {
    if (!consumed.has(s) && !srcSet.has(s)) problems.push(`source ${s} vanished without a commit`);
  }
  for (const s of src) if (!sourceSent.has(s)) problems.push(`unknown message ${s} in the source`);
  return problems;
}

describe('transactions under kill -9', () => {
  it(`applies each transaction entirely or not at all across ${CYCLES} crashes`, {
    timeout: 30_000 + CYCLES * 5_000,
  }, async () => {
    const rng = seededRandom(SEED);
    const dataDir = join(root, 'data');
    const config = join(root, 'blazemq.yaml');
    // Small segments: rotation and reclaim happen during the run too.
    writeFileSync(config, 'store:\n  segmentSize: 262144\n');
    const start = () => startBroker({ dataDir, keepData: true, args: ['--config', config] });
    const problems: string[] = [];
    const totals = { committed: 0, aborted: 0, open: 0, unknown: 0, acked: 0 };
    let broker: BrokerProcess = await start();

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      // Source messages, each durable (receipted) before any transaction starts.
      const feeder = await StompPeer.connect(broker.stomp);
      const sourceSent = new Set<string>();
      await Promise.all(
        Array.from({ length: SOURCE_MESSAGES }, (_, i) => {
          const body = `src-${cycle}-${i}`;
          return feeder
            .request('SEND', { destination: `/queue/src-${cycle}`, persistent: 'true' }, body)
            .then(() => sourceSent.add(body));
        }),
      );
      feeder.close();

      const txs: Tx[] = [];
      let stop = false;
      const peers = await Promise.all(Array.from({ length: WORKERS }, () => StompPeer.connect(broker.stomp)));
      const running = peers.map((p, w) => work(p, cycle, w, rng, txs, () => stop));
      await sleep(200 + rng() * 500);
      await broker.kill9();
      stop = true;
      await Promise.all(running);
      for (const p of peers) p.close();

      broker = await start();
      const dst = await readQueue(broker.stomp, `/queue/dst-${cycle}`);
      const src = await readQueue(broker.stomp, `/queue/src-${cycle}`);
      for (const p of check(txs, sourceSent, dst, src)) problems.push(`cycle ${cycle}: ${p}`);
      for (const tx of txs) {
        if (tx.state === 'committed') {
          totals.committed++;
          totals.acked += tx.acks.length;
        } else if (tx.state === 'aborted') totals.aborted++;
        else if (tx.state === 'open') totals.open++;
        else totals.unknown++;
      }
    }
    await broker.stop();

    const context = `seed ${SEED}, ${JSON.stringify(totals)}`;
    if (process.env['CHAOS_DEBUG']) console.log(context);
    expect(problems.slice(0, 20), context).toEqual([]);
    // The run must have exercised every case, or it proves little.
    expect(totals.committed, context).toBeGreaterThan(CYCLES * 5);
    expect(totals.acked, context).toBeGreaterThan(CYCLES * 5);
    expect(totals.aborted, context).toBeGreaterThan(0);
    expect(totals.open + totals.unknown, context).toBeGreaterThan(0);
    const report = await verifyJournal(join(dataDir, 'journal'));
    expect(report.ok, context).toBe(true);
  });
});
