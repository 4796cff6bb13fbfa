/**
 * Two-phase commit end to end: the client's TransactionManager over a real broker process (native
 * protocol, XA) and a real PostgreSQL (PREPARE TRANSACTION). The unit of work is the exactly-once
 * pattern: take a message from a queue, insert a row for it, ack it, in one global transaction.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BlazeClient,
  BrokerResource,
  connect,
  FileDecisionLog,
  PostgresResource,
  type ReceivedMessage,
  type ResourceManager,
  TM_FORMAT_ID,
  TransactionManager,
} from '../../src/client/index.js';
import { type BrokerProcess, startBroker } from './helpers/broker.js';
import { type PostgresServer, postgresAvailable, startPostgres } from './helpers/postgres.js';

describe.skipIf(!postgresAvailable())('XA: broker + PostgreSQL under the client transaction manager', () => {
  let db: PostgresServer;
  let broker: BrokerProcess;
  const dataDir = mkdtempSync(join(tmpdir(), 'blazemq-xa-it-'));
  const logDir = mkdtempSync(join(tmpdir(), 'blazemq-xa-log-'));
  const closers: Array<() => Promise<unknown>> = [];
  let seq = 0;
  const unique = (base: string) => `queue://${base}.${process.pid}.${++seq}`;

  beforeAll(async () => {
    [db, broker] = await Promise.all([startPostgres(), startBroker({ dataDir })]);
    const c = new pg.Client({ connectionString: db.connectionString });
    await c.connect();
    await c.query('CREATE TABLE orders (msg_id text NOT NULL, body text NOT NULL)');
    await c.query('CREATE TABLE once (k text UNIQUE DEFERRABLE INITIALLY DEFERRED)');
    await c.end();
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  });
  afterAll(async () => {
    await broker?.stop();
    await db?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(logDir, { recursive: true, force: true });
  });

  async function blaze(): Promise<BlazeClient> {
    const c = await connect(`tcp://127.0.0.1:${broker.native}`);
    closers.push(() => c.close());
    return c;
  }

  async function sql(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: db.connectionString });
    await c.connect();
    closers.push(() => c.end());
    return c;
  }

  async function setup(logName: string) {
    const client = await blaze();
    const conn = await sql();
    const log = await FileDecisionLog.open(join(logDir, logName));
    closers.push(() => log.close());
    const tm = new TransactionManager({ log, tmId: `it-${logName}` });
    return {
      client,
      conn,
      log,
      tm,
      brokerRes: new BrokerResource(client),
      pgRes: new PostgresResource(conn),
    };
  }

  async function rowsFor(id: string): Promise<number> {
    const c = await sql();
    return (await c.query('SELECT count(*)::int AS n FROM orders WHERE msg_id = $1', [id])).rows[0].n;
  }

  async function queued(queue: string): Promise<string[]> {
    const c = await blaze();
    return (await c.browse(queue)).map((m) => m.text());
  }

  /** Inserts a row for the message and acks it, in the current transaction. */
  const consume = (brokerRes: BrokerResource, conn: pg.Client, m: ReceivedMessage) => async () => {
    await conn.query('INSERT INTO orders (msg_id, body) VALUES ($1, $2)', [m.id, m.text()]);
    await brokerRes.ack(m);
  };

  it('commit: the row is there and the message is gone; the decision is logged then forgotten', async () => {
    const { client, conn, log, tm, brokerRes, pgRes } = await setup('commit');
    const q = unique('commit');
    await client.publish(q, 'order-1', { persistent: true });
    const m = (await client.subscribe(q).receive({ timeout: 5000 }))!;
    const result = await tm.run(async () => {
      await consume(brokerRes, conn, m)();
      return 'done';
    }, [brokerRes, pgRes]);
    expect(result).toBe('done');
    expect(await rowsFor(m.id)).toBe(1);
    expect(await queued(q)).toEqual([]);
    expect(await log.pending()).toEqual([]);
    expect(statSync(join(logDir, 'commit')).size).toBeGreaterThan(0); // the decision was written
    expect(await client.xa.recover()).toEqual([]);
    expect((await conn.query('SELECT count(*)::int AS n FROM pg_prepared_xacts')).rows[0].n).toBe(0);
  });

  it('failure in the middle: no row, and the message is redelivered', async () => {
    const { client, conn, tm, brokerRes, pgRes } = await setup('abort');
    const q = unique('abort');
    await client.publish(q, 'order-2', { persistent: true });
    const sub = client.subscribe(q);
    const m = (await sub.receive({ timeout: 5000 }))!;
    const boom = new Error('the application failed after its insert and ack');
    await expect(
      tm.run(async () => {
        await consume(brokerRes, conn, m)();
        throw boom;
      }, [brokerRes, pgRes]),
    ).rejects.toBe(boom);
    expect(await rowsFor(m.id)).toBe(0);
    const again = (await sub.receive({ timeout: 5000 }))!;
    expect(again.id).toBe(m.id);
    expect(again.redelivered).toBe(true);
    // The connections are usable for the next transaction: this time it commits.
    await tm.run(consume(brokerRes, conn, again), [brokerRes, pgRes]);
    expect(await rowsFor(m.id)).toBe(1);
    expect(await queued(q)).toEqual([]);
  });

  it('a branch that fails to prepare rolls back the other, already prepared one', async () => {
    const { client, conn, tm, brokerRes, pgRes } = await setup('prepare-fails');
    const q = unique('prepare-fails');
    const c = await sql();
    await c.query("INSERT INTO once VALUES ('k1')");
    await client.publish(q, 'order-3', { persistent: true });
    const sub = client.subscribe(q);
    const m = (await sub.receive({ timeout: 5000 }))!;
    // The deferred unique constraint is checked at PREPARE TRANSACTION, so PostgreSQL votes no.
    await expect(
      tm.run(async () => {
        await consume(brokerRes, conn, m)();
        await conn.query("INSERT INTO once VALUES ('k1')");
      }, [brokerRes, pgRes]),
    ).rejects.toMatchObject({ code: 'XA_ROLLED_BACK' });
    expect(await rowsFor(m.id)).toBe(0);
    expect((await sub.receive({ timeout: 5000 }))?.id).toBe(m.id);
    expect(await client.xa.recover()).toEqual([]);
    expect((await c.query('SELECT count(*)::int AS n FROM pg_prepared_xacts')).rows[0].n).toBe(0);
  });

  it('a failed statement whose error the work swallowed makes PostgreSQL vote no', async () => {
    const { client, conn, tm, brokerRes, pgRes } = await setup('swallowed');
    const q = unique('swallowed');
    await client.publish(q, 'order-7', { persistent: true });
    const sub = client.subscribe(q);
    const m = (await sub.receive({ timeout: 5000 }))!;
    await expect(
      tm.run(async () => {
        await consume(brokerRes, conn, m)();
        await conn.query('SELECT no_such_column FROM orders').catch(() => {}); // aborts the transaction
      }, [brokerRes, pgRes]),
    ).rejects.toMatchObject({ code: 'XA_ROLLED_BACK' });
    expect(await rowsFor(m.id)).toBe(0);
    expect((await sub.receive({ timeout: 5000 }))?.id).toBe(m.id);
    expect(await client.xa.recover()).toEqual([]);
  });

  it('one resource: committed in one phase, with no prepare and no decision record', async () => {
    const { client, log, tm, brokerRes } = await setup('one-phase');
    const q = unique('one-phase');
    await client.publish(q, 'order-4', { persistent: true });
    const m = (await client.subscribe(q).receive({ timeout: 5000 }))!;
    const calls: string[] = [];
    const spied = spy(brokerRes, calls);
    await tm.run(async () => {
      await brokerRes.ack(m);
      await brokerRes.publish(`${q}.out`, 'forwarded', { persistent: true });
    }, [spied]);
    expect(calls).toEqual(['start', 'end', 'commit(onePhase)']);
    expect(statSync(log.path).size).toBe(0);
    expect(await queued(q)).toEqual([]);
    expect(await queued(`${q}.out`)).toEqual(['forwarded']);
  });

  it('prepared branches survive a broker kill -9, are listed by recover, and recovery commits them', async () => {
    const { client, conn, log, tm, brokerRes, pgRes } = await setup('broker-crash');
    const q = unique('broker-crash');
    await client.publish(q, 'order-5', { persistent: true });
    const m = (await client.subscribe(q).receive({ timeout: 5000 }))!;
    // The broker dies after the decision is logged, when its branch is about to be committed.
    const dying: ResourceManager = {
      ...delegate(brokerRes),
      commit: async (xid, onePhase) => {
        await broker.kill9();
        return brokerRes.commit(xid, onePhase);
      },
    };
    await expect(tm.run(consume(brokerRes, conn, m), [dying, pgRes])).rejects.toMatchObject({
      code: 'XA_COMMIT_INCOMPLETE',
    });
    expect(await rowsFor(m.id)).toBe(1); // PostgreSQL's branch committed
    expect(await log.pending()).toHaveLength(1);

    broker = await startBroker({ dataDir });
    const after = await blaze();
    const prepared = await after.xa.recover();
    expect(prepared).toHaveLength(1);
    expect(prepared[0]!.formatId).toBe(TM_FORMAT_ID);
    expect(new TextDecoder().decode(prepared[0]!.globalId)).toMatch(/^it-broker-crash:/);
    expect(await queued(q)).toEqual([]); // locked by the prepared ack: delivered to nobody

    const report = await tm.recover([new BrokerResource(after), pgRes]);
    expect(report).toEqual({ committed: 1, rolledBack: 0, pendingDecisions: 0 });
    expect(await after.xa.recover()).toEqual([]);
    expect(await log.pending()).toEqual([]);
    expect(await rowsFor(m.id)).toBe(1);
    const sub = after.subscribe(q);
    expect(await sub.receive({ timeout: 500 })).toBeUndefined();
  });

  it('prepared branches without a decision survive a restart and are rolled back (presumed abort)', async () => {
    const { client, conn, tm, brokerRes, pgRes } = await setup('no-decision');
    const q = unique('no-decision');
    await client.publish(q, 'order-6', { persistent: true });
    const m = (await client.subscribe(q).receive({ timeout: 5000 }))!;
    // A coordinator that dies between "all prepared" and writing its decision: the phases by hand.
    const gtrid = 'it-no-decision:abcdefghijklmnopqrstuv';
    const enc = new TextEncoder();
    const xb = { formatId: TM_FORMAT_ID, globalId: enc.encode(gtrid), branchId: enc.encode('broker') };
    const xp = { formatId: TM_FORMAT_ID, globalId: enc.encode(gtrid), branchId: enc.encode('postgres') };
    await brokerRes.start(xb);
    await pgRes.start(xp);
    await consume(brokerRes, conn, m)();
    await brokerRes.end(xb, true);
    await pgRes.end(xp, true);
    expect(await brokerRes.prepare(xb)).toBe('prepared');
    expect(await pgRes.prepare(xp)).toBe('prepared');

    expect(await broker.stop()).toBe(0);
    broker = await startBroker({ dataDir });
    const after = await blaze();
    expect((await after.xa.recover()).map((x) => new TextDecoder().decode(x.globalId))).toEqual([gtrid]);
    expect(await pgRes.recover()).toHaveLength(1);

    const report = await tm.recover([new BrokerResource(after), pgRes]);
    expect(report).toEqual({ committed: 0, rolledBack: 2, pendingDecisions: 0 });
    expect(await rowsFor(m.id)).toBe(0);
    const again = (await after.subscribe(q).receive({ timeout: 5000 }))!;
    expect(again.id).toBe(m.id);
    expect(again.redelivered).toBe(true);
  });
});

function delegate(r: ResourceManager): ResourceManager {
  return {
    name: r.name,
    start: (x) => r.start(x),
    end: (x, s) => r.end(x, s),
    prepare: (x) => r.prepare(x),
    commit: (x, o) => r.commit(x, o),
    rollback: (x) => r.rollback(x),
    recover: () => r.recover(),
  };
}

function spy(r: ResourceManager, calls: string[]): ResourceManager {
  const note = <T>(call: string, run: () => Promise<T>): Promise<T> => {
    calls.push(call);
    return run();
  };
  return {
    name: r.name,
    start: (x) => note('start', () => r.start(x)),
    end: (x, s) => note('end', () => r.end(x, s)),
    prepare: (x) => note('prepare', () => r.prepare(x)),
    commit: (x, o) => note(o ? 'commit(onePhase)' : 'commit', () => r.commit(x, o)),
    rollback: (x) => note('rollback', () => r.rollback(x)),
    recover: () => r.recover(),
  };
}
