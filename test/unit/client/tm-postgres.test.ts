/**
 * PostgresResource's SQL, against a fake connection that answers like PostgreSQL does: the statements
 * for each XA call, the command-tag check (PostgreSQL answers PREPARE TRANSACTION and COMMIT of an
 * aborted transaction with ROLLBACK, not an error), unknown gids on rollback, and recover's filtering.
 */
import { describe, expect, it } from 'vitest';
import { PostgresResource, xidToGid } from '../../../src/client/index.js';
import { branchXid } from '../../../src/client/tm/xid.js';

class FakePg {
  readonly sql: string[] = [];
  /** Command tag to answer for statements starting with a key; an Error to throw. */
  answers = new Map<string, string | Error>();
  rows: unknown[] = [];

  async query(text: string): Promise<{ command: string; rows: unknown[] }> {
    this.sql.push(text);
    for (const [prefix, answer] of this.answers) {
      if (text.startsWith(prefix)) {
        if (answer instanceof Error) throw answer;
        return { command: answer, rows: [] };
      }
    }
    return { command: text.split(' ')[0]!, rows: text.startsWith('SELECT') ? this.rows : [] };
  }
}

const xid = branchXid('tm:abc', 'postgres');
const gid = xidToGid(xid);

describe('PostgresResource', () => {
  it('maps the XA calls to BEGIN / PREPARE TRANSACTION / COMMIT PREPARED', async () => {
    const db = new FakePg();
    const r = new PostgresResource(db);
    await r.start(xid);
    await r.end(xid, true);
    expect(await r.prepare(xid)).toBe('prepared');
    await r.commit(xid, false);
    expect(db.sql).toEqual(['BEGIN', `PREPARE TRANSACTION '${gid}'`, `COMMIT PREPARED '${gid}'`]);
  });

  it('one phase: COMMIT; a COMMIT answered ROLLBACK (an earlier statement failed) is a rollback', async () => {
    const db = new FakePg();
    const r = new PostgresResource(db);
    await r.start(xid);
    await r.end(xid, true);
    await r.commit(xid, true);
    expect(db.sql).toEqual(['BEGIN', 'COMMIT']);
    db.answers.set('COMMIT', 'ROLLBACK');
    await r.start(xid);
    await r.end(xid, true);
    await expect(r.commit(xid, true)).rejects.toMatchObject({ code: 'XA_RBROLLBACK' });
  });

  it('votes no when PREPARE TRANSACTION answers ROLLBACK or fails', async () => {
    const db = new FakePg();
    const r = new PostgresResource(db);
    db.answers.set('PREPARE', 'ROLLBACK');
    await r.start(xid);
    await r.end(xid, true);
    await expect(r.prepare(xid)).rejects.toMatchObject({ code: 'XA_RBROLLBACK' });
    db.answers.set('PREPARE', Object.assign(new Error('deferred constraint'), { code: '23505' }));
    await r.start(xid);
    await r.end(xid, true);
    await expect(r.prepare(xid)).rejects.toMatchObject({ code: 'XA_RBROLLBACK' });
    expect(db.sql.at(-1)).toBe('ROLLBACK'); // the session is left outside any failed block
  });

  it('a branch ended with TMFAIL rolls back at prepare', async () => {
    const db = new FakePg();
    const r = new PostgresResource(db);
    await r.start(xid);
    await r.end(xid, false);
    await expect(r.prepare(xid)).rejects.toMatchObject({ code: 'XA_RBROLLBACK' });
    expect(db.sql).toEqual(['BEGIN', 'ROLLBACK']);
  });

  it('rolls back an open branch with ROLLBACK, a prepared one with ROLLBACK PREPARED, an unknown one quietly', async () => {
    const db = new FakePg();
    const r = new PostgresResource(db);
    await r.start(xid);
    await r.rollback(xid);
    await r.rollback(xid);
    expect(db.sql).toEqual(['BEGIN', 'ROLLBACK', `ROLLBACK PREPARED '${gid}'`]);
    db.answers.set('ROLLBACK PREPARED', Object.assign(new Error('does not exist'), { code: '42704' }));
    await r.rollback(xid);
    db.answers.set('ROLLBACK PREPARED', Object.assign(new Error('connection lost'), { code: '57P01' }));
    await expect(r.rollback(xid)).rejects.toThrow('connection lost');
  });

  it('works in one branch at a time', async () => {
    const r = new PostgresResource(new FakePg());
    await r.start(xid);
    await expect(r.start(branchXid('tm:other', 'postgres'))).rejects.toMatchObject({ code: 'ILLEGAL_STATE' });
    await expect(r.end(branchXid('tm:other', 'postgres'), true)).rejects.toMatchObject({ code: 'XA_NOTA' });
  });

  it('recovers the prepared transactions of its database whose gid is an xid', async () => {
    const db = new FakePg();
    db.rows = [{ gid }, { gid: 'someone-elses' }, { gid: 'xa.1.bad!.' }];
    const r = new PostgresResource(db);
    expect(await r.recover()).toEqual([xid]);
    expect(db.sql[0]).toMatch(/FROM pg_prepared_xacts WHERE database = current_database\(\)/);
  });
});
