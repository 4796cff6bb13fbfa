/**
 * kill -9 in the middle of two-phase commit, with a real broker process and a real PostgreSQL. The unit
 * of work is exactly-once consumption: take a message from a queue, insert a row naming it, ack it, in
 * one global transaction under the client's TransactionManager (file decision log).
 *
 * 1. The coordinator dies: a child process runs transactions one after another; the parent kills it
 *    (SIGKILL) at a random point: a few ms after the k-th "all prepared", the k-th "decision logged",
 *    the k-th "committed", or at a random time. Commits are slowed by a random few ms so that kills land
 *    between the decision and the commits too. Recovery then runs from the same log in a new TM.
 * 2. The broker dies: the TM runs in this process and the broker is killed at such a random point; it is
 *    restarted on the same data and recovery runs with a new connection.
 *
 * After each recovery: no prepared branch is left at either resource, the decision log is empty, and
 * every message is either a row (exactly one) or back in its queue (exactly once), never both, never
 * neither; every transaction the coordinator saw commit has its row.
 *
 * XA_CHAOS_CYCLES (default 3) sets the number of kills of each kind; CHAOS_SEED replays a run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BlazeClient,
  BrokerResource,
  connect,
  FileDecisionLog,
  PostgresResource,
  type RecoveryReport,
  type ResourceManager,
  TM_FORMAT_ID,
  type TmEvent,
  TransactionManager,
} from '../../src/client/index.js';
import { seededRandom } from '../../src/util/random.js';
import { type BrokerProcess, startBroker } from '../integration/helpers/broker.js';
import { type PostgresServer, postgresAvailable, startPostgres } from '../integration/helpers/postgres.js';

const CYCLES = Number(process.env['XA_CHAOS_CYCLES'] ?? 3);
const SEED = Number(process.env['CHAOS_SEED'] ?? Date.now() % 1_000_000);
const MESSAGES = 40;
const ROOT = new URL('../../', import.meta.url).pathname;

/** Slows commit by up to `maxMs`, to widen the window between the decision and the commits. */
function slowCommit(r: ResourceManager, rand: () => number, maxMs: number): ResourceManager {
  return {
    name: r.name,
    start: (x) => r.start(x),
    end: (x, s) => r.end(x, s),
    prepare: (x) => r.prepare(x),
    commit: async (x, o) => {
      await sleep(rand() * maxMs);
      return r.commit(x, o);
    },
    rollback: (x) => r.rollback(x),
    recover: () => r.recover(),
  };
}

/** The coordinator: consumes `queue` one transaction at a time and reports each step on stdout. */
const CHILD = `
const [url, pgUrl, logPath, queue, cycle, seed, hang, hangAt] = process.argv.slice(1);
const tm_ = await import(${JSON.stringify(join(ROOT, 'src/client/index.ts'))});
const { seededRandom } = await import(${JSON.stringify(join(ROOT, 'src/util/random.ts'))});
const pg = (await import('pg')).default;
const say = (s) => process.stdout.write(s + '\\n');
const client = await tm_.connect(url);
const db = new pg.Client({ connectionString: pgUrl });
await db.connect();
const fileLog = await tm_.FileDecisionLog.open(logPath);
// hang = 'decision': the hangAt-th decision never gets written; 'commit': the hangAt-th broker commit
// never starts. The child says H and waits to be killed there: a kill point known for certain.
const forever = () => { say('H'); return new Promise(() => {}); };
let decisions = 0;
const log = { ...fileLog, pending: () => fileLog.pending(), forget: (g) => fileLog.forget(g), close: () => fileLog.close(),
  commit: async (d) => { if (hang === 'decision' && ++decisions === Number(hangAt)) await forever(); return fileLog.commit(d); } };
const tm = new tm_.TransactionManager({ log, tmId: 'chaos', onEvent: (e) => {
  if (e.type === 'prepared') say('P');
  else if (e.type === 'decided') say('D');
} });
const rand = seededRandom(Number(seed));
let brokerCommits = 0;
const slow = (r) => ({ name: r.name, start: (x) => r.start(x), end: (x, s) => r.end(x, s),
  prepare: (x) => r.prepare(x), rollback: (x) => r.rollback(x), recover: () => r.recover(),
  commit: async (x, o) => {
    if (hang === 'commit' && r.name === 'broker' && ++brokerCommits === Number(hangAt)) await forever();
    await new Promise((ok) => setTimeout(ok, rand() * 15));
    return r.commit(x, o);
  } });
const brokerRes = new tm_.BrokerResource(client);
const pgRes = new tm_.PostgresResource(db);
say('READY');
for await (const m of client.subscribe(queue, { prefetch: 4 })) {
  await tm.run(async () => {
    await db.query('INSERT INTO rows (cycle, body) VALUES ($1, $2)', [Number(cycle), m.text()]);
    await brokerRes.ack(m);
  }, [slow(brokerRes), slow(pgRes)]);
  say('C ' + m.text());
}
`;

type Trigger =
  | { kind: 'P' | 'D' | 'C'; count: number; delayMs: number }
  | { kind: 'time'; delayMs: number }
  /** The child stops for good at a chosen step (CHILD's `hang`) and is killed there. */
  | { kind: 'hang'; at: 'decision' | 'commit'; count: number };

function randomTrigger(rand: () => number): Trigger {
  const pick = Math.floor(rand() * 4);
  const delayMs = Math.floor(rand() * 6);
  if (pick === 3) return { kind: 'time', delayMs: 100 + Math.floor(rand() * 400) };
  return { kind: (['P', 'D', 'C'] as const)[pick]!, count: 1 + Math.floor(rand() * 8), delayMs };
}

describe.skipIf(!postgresAvailable())('XA under kill -9 (seed in the test name)', () => {
  let db: PostgresServer;
  let broker: BrokerProcess;
  let sql: pg.Client;
  const dataDir = mkdtempSync(join(tmpdir(), 'blazemq-xachaos-'));
  const logDir = mkdtempSync(join(tmpdir(), 'blazemq-xachaos-log-'));
  const rand = seededRandom(SEED);

  beforeAll(async () => {
    [db, broker] = await Promise.all([startPostgres(), startBroker({ dataDir })]);
    sql = new pg.Client({ connectionString: db.connectionString });
    await sql.connect();
    await sql.query('CREATE TABLE rows (cycle int NOT NULL, body text NOT NULL)');
  });
  afterAll(async () => {
    await sql?.end();
    await broker?.stop();
    await db?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(logDir, { recursive: true, force: true });
  });

  const url = () => `tcp://127.0.0.1:${broker.native}`;

  async function seed(cycle: number): Promise<string> {
    const queue = `queue://xa-chaos.${cycle}`;
    const c = await connect(url());
    await Promise.all(
      Array.from({ length: MESSAGES }, (_, i) => c.publish(queue, `c${cycle}-m${i}`, { persistent: true })),
    );
    await c.close();
    return queue;
  }

  /** Recovery as a restarted coordinator does it: a new TM on the same log, new connections. */
  async function recover(logPath: string): Promise<RecoveryReport> {
    const client = await connect(url());
    const conn = new pg.Client({ connectionString: db.connectionString });
    await conn.connect();
    const log = await FileDecisionLog.open(logPath);
    try {
      const tm = new TransactionManager({ log, tmId: 'chaos' });
      const report = await tm.recover([new BrokerResource(client), new PostgresResource(conn)]);
      expect(await log.pending()).toEqual([]);
      const ours = (await client.xa.recover()).filter((x) => x.formatId === TM_FORMAT_ID);
      expect(ours).toEqual([]);
      expect((await conn.query('SELECT count(*)::int AS n FROM pg_prepared_xacts')).rows[0].n).toBe(0);
      return report;
    } finally {
      await log.close();
      await conn.end();
      await client.close();
    }
  }

  /** Every message is a row or in the queue, exactly once; every reported commit has its row. */
  async function verify(cycle: number, queue: string, committed: ReadonlySet<string>): Promise<void> {
    const rows = async () =>
      (await sql.query('SELECT body FROM rows WHERE cycle = $1', [cycle])).rows.map((r) => r.body as string);
    const client = await connect(url());
    let stored: string[] = [];
    let queued: string[] = [];
    try {
      // Deliveries to a dead connection come back once the broker has seen it close: wait for them.
      for (let i = 0; i < 100; i++) {
        [stored, queued] = await Promise.all([
          rows(),
          client.browse(queue).then((ms) => ms.map((m) => m.text())),
        ]);
        if (stored.length + queued.length >= MESSAGES) break;
        await sleep(50);
      }
    } finally {
      await client.close();
    }
    const all = Array.from({ length: MESSAGES }, (_, i) => `c${cycle}-m${i}`);
    expect(new Set(stored).size, 'a message consumed twice').toBe(stored.length);
    expect(new Set(queued).size, 'a message queued twice').toBe(queued.length);
    expect(
      stored.filter((b) => queued.includes(b)),
      'both stored and still queued',
    ).toEqual([]);
    expect([...stored, ...queued].sort(), 'lost messages').toEqual(all.sort());
    for (const b of committed) expect(stored, `committed ${b} has no row`).toContain(b);
  }

  /** Runs the coordinator child until the trigger, then kill -9. Resolves the bodies it saw commit. */
  function runCoordinator(
    queue: string,
    cycle: number,
    logPath: string,
    trigger: Trigger,
  ): Promise<Set<string>> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          CHILD,
          url(),
          db.connectionString,
          logPath,
          queue,
          String(cycle),
          String(SEED + cycle),
          trigger.kind === 'hang' ? trigger.at : 'none',
          trigger.kind === 'hang' ? String(trigger.count) : '0',
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const committed = new Set<string>();
      const seen = { P: 0, D: 0, C: 0 };
      let out = '';
      let err = '';
      let armed = false;
      const kill = (delayMs: number) => {
        if (armed) return;
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      };
      child.stderr!.on('data', (b) => {
        err += b;
      });
      child.stdout!.on('data', (b) => {
        out += b;
        const lines = out.split('\n');
        out = lines.pop()!;
        for (const line of lines) {
          const kind = line.split(' ')[0] as 'P' | 'D' | 'C' | 'READY' | 'H';
          if (kind === 'H') {
            kill(0);
            continue;
          }
          if (kind === 'READY') {
            if (trigger.kind === 'time') kill(trigger.delayMs);
            continue;
          }
          seen[kind]++;
          if (kind === 'C') committed.add(line.slice(2));
          if (trigger.kind === kind && seen[kind] >= trigger.count) kill(trigger.delayMs);
          if (seen.C >= MESSAGES) kill(0); // everything consumed before the trigger
        }
      });
      child.once('exit', (code, signal) => {
        if (signal === 'SIGKILL') resolve(committed);
        else reject(new Error(`coordinator exited ${code}: ${err}`));
      });
    });
  }

  it(`a coordinator killed between prepare and commit: recovery follows its decision log (seed ${SEED})`, async () => {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const queue = await seed(cycle);
      const logPath = join(logDir, `coordinator-${cycle}.log`);
      // The first two kills are at known points, so that both outcomes of recovery are always exercised.
      const count = 1 + Math.floor(rand() * 5);
      const trigger: Trigger =
        cycle === 0
          ? { kind: 'hang', at: 'commit', count }
          : cycle === 1
            ? { kind: 'hang', at: 'decision', count }
            : randomTrigger(rand);
      const committed = await runCoordinator(queue, cycle, logPath, trigger);
      const report = await recover(logPath);
      await verify(cycle, queue, committed);
      // Killed with the decision logged and the broker's commit not sent: recovery commits that branch.
      if (cycle === 0) {
        // (PostgreSQL's commit, sent in parallel, may or may not have gone through before the kill.)
        expect(report.rolledBack).toBe(0);
        expect([1, 2]).toContain(report.committed);
      }
      // Killed with both branches prepared and no decision: presumed abort.
      if (cycle === 1) expect(report).toMatchObject({ committed: 0, rolledBack: 2 });
    }
  });

  it(`the broker killed between prepare and commit: restarted, recovery finishes (seed ${SEED})`, async () => {
    for (let cycle = 100; cycle < 100 + CYCLES; cycle++) {
      const queue = await seed(cycle);
      const logPath = join(logDir, `broker-${cycle}.log`);
      // The first kill is at a known point: the decision is logged, the broker's commit about to go.
      const trigger: Trigger =
        cycle === 100
          ? { kind: 'hang', at: 'commit', count: 1 + Math.floor(rand() * 5) }
          : randomTrigger(rand);
      const log = await FileDecisionLog.open(logPath);
      const conn = new pg.Client({ connectionString: db.connectionString });
      await conn.connect();
      const client: BlazeClient = await connect(url());
      const seen = { P: 0, D: 0, C: 0 };
      let killing: Promise<void> | undefined;
      const kill = (delayMs: number) => {
        killing ??= sleep(delayMs).then(() => broker.kill9());
      };
      const onEvent = (e: TmEvent) => {
        const kind =
          e.type === 'prepared' ? 'P' : e.type === 'decided' ? 'D' : e.type === 'committed' ? 'C' : undefined;
        if (kind === undefined) return;
        seen[kind]++;
        if (trigger.kind === kind && seen[kind] >= trigger.count) kill(trigger.delayMs);
      };
      const tm = new TransactionManager({ log, tmId: 'chaos', onEvent });
      const brokerRes = new BrokerResource(client);
      const pgRes = new PostgresResource(conn);
      const committed = new Set<string>();
      if (trigger.kind === 'time') kill(trigger.delayMs);
      const slowBroker = slowCommit(brokerRes, rand, 15);
      let brokerCommits = 0;
      const brokerSide: ResourceManager = {
        ...slowBroker,
        commit: async (x, o) => {
          if (trigger.kind === 'hang' && ++brokerCommits === trigger.count) {
            kill(0);
            await killing;
          }
          return slowBroker.commit(x, o);
        },
      };
      try {
        for await (const m of client.subscribe(queue, { prefetch: 4 })) {
          await tm.run(async () => {
            await conn.query('INSERT INTO rows (cycle, body) VALUES ($1, $2)', [cycle, m.text()]);
            await brokerRes.ack(m);
          }, [brokerSide, slowCommit(pgRes, rand, 15)]);
          committed.add(m.text());
          if (committed.size >= MESSAGES) kill(0);
        }
      } catch {
        // The broker died under the transaction: expected.
      }
      await (killing ?? broker.kill9());
      await client.close().catch(() => {});
      await conn.end();
      await log.close();
      broker = await startBroker({ dataDir });
      const report = await recover(logPath);
      await verify(cycle, queue, committed);
      if (cycle === 100) expect(report).toMatchObject({ committed: 1, rolledBack: 0 });
    }
  });
});
