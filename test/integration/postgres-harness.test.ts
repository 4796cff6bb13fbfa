/**
 * The PostgreSQL test harness (helpers/postgres.ts): a real server on a free loopback port that supports
 * PREPARE TRANSACTION, whose prepared transactions survive client disconnects, and that leaves nothing
 * behind when stopped.
 */
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, postgresAvailable, startPostgres } from './helpers/postgres.js';

describe.skipIf(!postgresAvailable())('startPostgres', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres({ maxPreparedTransactions: 5 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function client(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: server.connectionString });
    await c.connect();
    return c;
  }

  it('serves on the reported loopback port with prepared transactions enabled', async () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.connectionString).toContain(`127.0.0.1:${server.port}`);
    const c = await client();
    try {
      const { rows } = await c.query('SHOW max_prepared_transactions');
      expect(Number(rows[0].max_prepared_transactions)).toBe(5);
      const addr = await c.query('SELECT inet_server_addr()::text AS a, inet_server_port() AS p');
      expect(addr.rows[0]).toEqual({ a: '127.0.0.1/32', p: server.port });
    } finally {
      await c.end();
    }
  });

  it('PREPARE TRANSACTION survives the session; COMMIT PREPARED / ROLLBACK PREPARED finish it elsewhere', async () => {
    const a = await client();
    await a.query('CREATE TABLE t (v text)');
    await a.query('BEGIN');
    await a.query("INSERT INTO t VALUES ('committed')");
    await a.query("PREPARE TRANSACTION 'gx1'");
    await a.query('BEGIN');
    await a.query("INSERT INTO t VALUES ('rolled back')");
    await a.query("PREPARE TRANSACTION 'gx2'");
    await a.end();

    const b = await client();
    try {
      const prepared = await b.query('SELECT gid FROM pg_prepared_xacts ORDER BY gid');
      expect(prepared.rows.map((r) => r.gid)).toEqual(['gx1', 'gx2']);
      expect((await b.query('SELECT v FROM t')).rows).toEqual([]);
      await b.query("COMMIT PREPARED 'gx1'");
      await b.query("ROLLBACK PREPARED 'gx2'");
      expect((await b.query('SELECT v FROM t')).rows).toEqual([{ v: 'committed' }]);
      expect((await b.query('SELECT count(*)::int AS n FROM pg_prepared_xacts')).rows[0].n).toBe(0);
      await expect(b.query("COMMIT PREPARED 'gx1'")).rejects.toThrow(/does not exist/);
    } finally {
      await b.end();
    }
  });

  it('stop() ends the server and removes its directory', async () => {
    const other = await startPostgres();
    expect(other.port).not.toBe(server.port);
    await other.stop();
    await other.stop();
    expect(existsSync(other.dir)).toBe(false);
    expect(() => process.kill(other.pid, 0)).toThrow();
    const c = new pg.Client({ connectionString: other.connectionString, connectionTimeoutMillis: 2000 });
    await expect(c.connect()).rejects.toThrow();
    await c.end().catch(() => {});
  });
});
