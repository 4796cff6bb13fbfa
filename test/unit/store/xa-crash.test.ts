/**
 * kill -9 with prepared XA branches on a real journal, through the core API (no protocol yet).
 *
 * A child process (tsx, the sources) runs a core on a JournalStore. It seeds SOURCE persistent messages,
 * then for each one in turn runs one XA branch: send one persistent message to `dst` (carrying the id
 * of the source message it consumes), ack the source message, end, prepare, and print `P <n>`; every
 * third branch it then commits and prints `C <n>`. The parent kills it with SIGKILL after a random
 * number of prepares, reopens the journal in-process and checks:
 *   - every branch printed as prepared and not as committed is listed by xaRecover or was committed
 *     (its commit may have become durable before the kill); no branch printed as committed is listed;
 *   - messages acked by a recovered branch are locked: a new consumer of `src` does not get them;
 *   - after committing half of the recovered branches and rolling back the rest, nothing is lost and
 *     nothing doubled: every source message is either still in `src` or consumed by exactly one
 *     committed branch whose one `dst` message names it; and a further restart shows the same.
 * XA_CRASH_CYCLES (default 3) sets the number of crashes; CHAOS_SEED replays a run.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CoreConnection, Delivery, Xid } from '../../../src/core/index.js';
import { createBrokerCore } from '../../../src/core/index.js';
import { JournalStore } from '../../../src/store/journal/index.js';
import { seededRandom } from '../../../src/util/random.js';
import { tempDir } from './helpers.js';

const CYCLES = Number(process.env['XA_CRASH_CYCLES'] ?? 3);
const SEED = Number(process.env['CHAOS_SEED'] ?? Date.now() % 1_000_000);
const SOURCE = 120;
const ROOT = new URL('../../../', import.meta.url).pathname;

const CHILD = `
const [dir, count] = process.argv.slice(1);
const { createBrokerCore } = await import(${JSON.stringify(join(ROOT, 'src/core/index.ts'))});
const { JournalStore } = await import(${JSON.stringify(join(ROOT, 'src/store/journal/index.ts'))});
const enc = (s) => new TextEncoder().encode(s);
const core = await createBrokerCore({ store: new JournalStore({ dir, preallocate: false, segmentSize: 64 * 1024 }) });
const c = core.connect({ principal: { user: 'u', anonymous: true }, protocol: 'test' });
const n = Number(count);
await Promise.all(Array.from({ length: n }, (_, i) =>
  c.send({ address: 'queue://src', body: enc('m' + i), persistent: true })));
const inbox = [];
const sub = c.subscribe({ address: 'queue://src', ackMode: 'individual', prefetch: n }, {
  deliver: (_s, d) => inbox.push(d),
});
for (let i = 0; inbox.length > 0; i++) {
  const d = inbox.shift();
  const xid = { formatId: 7, globalId: enc('g' + i), branchId: enc('b') };
  c.xaStart(xid, 't' + i);
  const body = new TextDecoder().decode(d.message.body);
  await c.send({ address: 'queue://dst', body: enc('out' + i), persistent: true, properties: { consumed: body } }, 't' + i);
  sub.ack(d.tag, 't' + i);
  c.xaEnd(xid);
  await c.xaPrepare(xid);
  process.stdout.write('P ' + i + '\\n');
  if (i % 3 === 0) {
    await c.xaCommit(xid, false);
    process.stdout.write('C ' + i + '\\n');
  }
}
process.stdout.write('DONE\\n');
setInterval(() => {}, 1000);
`;

const text = (d: Delivery) => new TextDecoder().decode(d.message.body);
const branchOf = (x: Xid) => Number(new TextDecoder().decode(x.globalId).slice(1));

/** Runs the child until `killAfter` prepares were reported, then kill -9. */
function runChild(
  dir: string,
  killAfter: number,
): Promise<{ prepared: Set<number>; committed: Set<number> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', CHILD, dir, String(SOURCE)],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const prepared = new Set<number>();
    const committed = new Set<number>();
    let out = '';
    let err = '';
    let killed = false;
    child.stderr!.on('data', (b) => {
      err += b;
    });
    child.stdout!.on('data', (b) => {
      out += b;
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        const [kind, n] = line.split(' ');
        if (kind === 'P') prepared.add(Number(n));
        else if (kind === 'C') committed.add(Number(n));
        if (!killed && (prepared.size >= killAfter || kind === 'DONE')) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.once('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ prepared, committed });
      else reject(new Error(`child exited ${code}: ${err}`));
    });
  });
}

/** Everything a fresh consumer gets from `address` (nothing is acked). */
function drain(c: CoreConnection, address: string): Delivery[] {
  const got: Delivery[] = [];
  const sub = c.subscribe(
    { address, ackMode: 'individual', prefetch: 100_000 },
    { deliver: (_s, d) => got.push(d) },
  );
  sub.close();
  return got;
}

async function open(dir: string) {
  const store = new JournalStore({ dir, preallocate: false, segmentSize: 64 * 1024 });
  const core = await createBrokerCore({ store });
  const conn = core.connect({ principal: { user: 'u', anonymous: true }, protocol: 'test' });
  return {
    conn,
    async close() {
      conn.close();
      await core.shutdown();
      await store.close();
    },
  };
}

describe('XA over the journal: kill -9 of the process holding prepared branches', () => {
  it(`recovers prepared branches completely (seed ${SEED})`, { timeout: 60_000 }, async () => {
    const rng = seededRandom(SEED);
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const t = tempDir();
      try {
        const dir = join(t.dir, 'journal');
        const killAfter = 3 + Math.floor(rng() * 40);
        const { prepared, committed } = await runChild(dir, killAfter);
        expect(prepared.size).toBeGreaterThanOrEqual(killAfter);

        const a = await open(dir);
        const recovered = new Set(a.conn.xaRecover().map(branchOf));
        const dstBefore = drain(a.conn, 'queue://dst');
        const committedNow = new Set(dstBefore.map((d) => Number(text(d).slice(3))));
        for (const n of committed) {
          expect(recovered.has(n)).toBe(false);
          expect(committedNow.has(n)).toBe(true);
        }
        for (const n of prepared)
          if (!committed.has(n)) expect(recovered.has(n) || committedNow.has(n)).toBe(true);
        for (const n of recovered) expect(committedNow.has(n)).toBe(false);
        // Locked: the source messages of recovered branches are delivered to nobody.
        const srcBefore = drain(a.conn, 'queue://src');
        expect(srcBefore.length).toBe(SOURCE - committedNow.size - recovered.size);

        const toCommit = [...recovered].filter((n) => n % 2 === 0);
        for (const x of a.conn.xaRecover()) {
          if (branchOf(x) % 2 === 0) await a.conn.xaCommit(x, false);
          else await a.conn.xaRollback(x);
        }
        await a.close();

        // A second restart: the outcome is durable, and conserved.
        const b = await open(dir);
        expect(b.conn.xaRecover()).toEqual([]);
        const dst = drain(b.conn, 'queue://dst');
        const src = drain(b.conn, 'queue://src').map(text);
        const outs = dst.map(text);
        expect(new Set(outs).size).toBe(outs.length);
        expect(dst.length).toBe(committedNow.size + toCommit.length);
        const consumed = dst.map((d) => d.message.properties['consumed'] as string);
        expect(new Set(consumed).size).toBe(consumed.length);
        for (const m of consumed) expect(src).not.toContain(m);
        expect(src.length + consumed.length).toBe(SOURCE);
        await b.close();
      } finally {
        t.cleanup();
      }
    }
  });
});
