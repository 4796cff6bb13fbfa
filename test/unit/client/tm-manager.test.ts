/**
 * TransactionManager over in-memory resource managers that follow the XA state rules: the order of
 * calls in run(), rollback on every kind of failure, the one-phase and read-only optimisations, and
 * recovery (decisions honoured, presumed abort otherwise, other TMs' and in-flight branches untouched).
 */
import { describe, expect, it } from 'vitest';
import {
  type DecisionLog,
  MemoryDecisionLog,
  type ResourceManager,
  TransactionManager,
} from '../../../src/client/index.js';
import { branchXid } from '../../../src/client/tm/xid.js';
import type { Xid } from '../../../src/client/xa.js';

type Step = 'start' | 'end' | 'prepare' | 'commit' | 'rollback' | 'recover';

const key = (x: Xid) =>
  `${x.formatId}/${Buffer.from(x.globalId).toString('hex')}/${Buffer.from(x.branchId).toString('hex')}`;

/** What survives a "crash" of the coordinator: the resource manager's own state. */
class FakeRm {
  /** Branches by key: state and the xid. */
  readonly branches = new Map<string, { xid: Xid; state: 'active' | 'ended' | 'failed' | 'prepared' }>();
  readonly committed: string[] = [];
  readonly rolledBack: string[] = [];
}

class FakeResource implements ResourceManager {
  readonly calls: string[] = [];
  /** The next call of this step fails. */
  failAt: Step | undefined;
  vote: 'prepared' | 'readonly' = 'prepared';

  constructor(
    readonly name: string,
    readonly rm = new FakeRm(),
  ) {}

  private step(s: Step, detail = ''): void {
    this.calls.push(`${s}${detail}`);
    if (this.failAt === s) {
      this.failAt = undefined; // once: the retry (or the rollback's end(TMFAIL)) goes through
      throw Object.assign(new Error(`${this.name} ${s} failed`), { code: 'FAKE' });
    }
  }

  async start(xid: Xid): Promise<void> {
    this.step('start');
    if (this.rm.branches.has(key(xid))) throw new Error('XAER_DUPID');
    this.rm.branches.set(key(xid), { xid, state: 'active' });
  }

  async end(xid: Xid, success: boolean): Promise<void> {
    this.step('end', success ? '' : '(fail)');
    const b = this.rm.branches.get(key(xid));
    if (b?.state !== 'active') throw new Error('XAER_PROTO');
    b.state = success ? 'ended' : 'failed';
  }

  async prepare(xid: Xid): Promise<'prepared' | 'readonly'> {
    this.step('prepare');
    const b = this.rm.branches.get(key(xid));
    if (b?.state !== 'ended') throw new Error('XAER_PROTO');
    if (this.vote === 'readonly') {
      this.rm.branches.delete(key(xid));
      return 'readonly';
    }
    b.state = 'prepared';
    return 'prepared';
  }

  async commit(xid: Xid, onePhase: boolean): Promise<void> {
    this.step('commit', onePhase ? '(1pc)' : '');
    const b = this.rm.branches.get(key(xid));
    if (b === undefined || b.state !== (onePhase ? 'ended' : 'prepared')) throw new Error('XAER_PROTO');
    this.rm.branches.delete(key(xid));
    this.rm.committed.push(key(xid));
  }

  async rollback(xid: Xid): Promise<void> {
    this.step('rollback');
    const b = this.rm.branches.get(key(xid));
    if (b === undefined) return;
    if (b.state === 'active') throw new Error('XAER_PROTO');
    this.rm.branches.delete(key(xid));
    this.rm.rolledBack.push(key(xid));
  }

  async recover(): Promise<Xid[]> {
    this.step('recover');
    return [...this.rm.branches.values()].filter((b) => b.state === 'prepared').map((b) => b.xid);
  }
}

/** A log that records what it was asked, on top of the memory log. */
function loggingLog(inner = new MemoryDecisionLog()): DecisionLog & { ops: string[] } {
  const ops: string[] = [];
  return {
    ops,
    commit: async (d) => {
      ops.push(`commit ${d.resources.join(',')}`);
      await inner.commit(d);
    },
    forget: async (g) => {
      ops.push('forget');
      await inner.forget(g);
    },
    pending: () => inner.pending(),
    close: () => inner.close(),
  };
}

describe('TransactionManager.run', () => {
  it('starts, runs, ends, prepares, logs the decision, commits, forgets', async () => {
    const log = loggingLog();
    const a = new FakeResource('a');
    const b = new FakeResource('b');
    const events: string[] = [];
    const tm = new TransactionManager({ log, tmId: 'u', onEvent: (e) => events.push(e.type) });
    const out = await tm.run(
      async (tx) => {
        expect(tx.gtrid).toMatch(/^u:/);
        expect(new TextDecoder().decode(tx.xid(b).branchId)).toBe('b');
        return 42;
      },
      [a, b],
    );
    expect(out).toBe(42);
    expect(a.calls).toEqual(['start', 'end', 'prepare', 'commit']);
    expect(b.calls).toEqual(['start', 'end', 'prepare', 'commit']);
    expect(log.ops).toEqual(['commit a,b', 'forget']);
    expect(events).toEqual(['started', 'prepared', 'decided', 'committed']);
    expect(a.rm.committed).toHaveLength(1);
    expect(await log.pending()).toEqual([]);
  });

  it('work that throws: ends with TMFAIL, rolls every branch back, rethrows, logs nothing', async () => {
    const log = loggingLog();
    const tm = new TransactionManager({ log });
    const [a, b] = [new FakeResource('a'), new FakeResource('b')];
    const boom = new Error('boom');
    await expect(
      tm.run(async () => {
        throw boom;
      }, [a, b]),
    ).rejects.toBe(boom);
    expect(a.calls).toEqual(['start', 'end(fail)', 'rollback']);
    expect(b.rm.rolledBack).toHaveLength(1);
    expect(log.ops).toEqual([]);
  });

  it('a start that fails rolls back the branches already started', async () => {
    const tm = new TransactionManager({ log: new MemoryDecisionLog() });
    const [a, b] = [new FakeResource('a'), new FakeResource('b')];
    b.failAt = 'start';
    let ran = false;
    await expect(
      tm.run(async () => {
        ran = true;
      }, [a, b]),
    ).rejects.toThrow('b start failed');
    expect(ran).toBe(false);
    expect(a.calls).toEqual(['start', 'end(fail)', 'rollback']);
    expect(a.rm.branches.size).toBe(0);
  });

  it.each(['end', 'prepare'] as const)(
    'a failed %s rolls back all branches (prepared ones too)',
    async (step) => {
      const log = loggingLog();
      const tm = new TransactionManager({ log });
      const [a, b, c] = [new FakeResource('a'), new FakeResource('b'), new FakeResource('c')];
      b.failAt = step;
      await expect(tm.run(async () => {}, [a, b, c])).rejects.toMatchObject({ code: 'XA_ROLLED_BACK' });
      for (const r of [a, b, c]) {
        expect(r.calls.at(-1)).toBe('rollback');
        expect(r.rm.branches.size).toBe(0);
        expect(r.rm.committed).toEqual([]);
      }
      expect(log.ops).toEqual([]);
    },
  );

  it('a decision that cannot be logged rolls the prepared branches back', async () => {
    const log = loggingLog();
    log.commit = async () => {
      throw new Error('disk full');
    };
    const tm = new TransactionManager({ log });
    const [a, b] = [new FakeResource('a'), new FakeResource('b')];
    await expect(tm.run(async () => {}, [a, b])).rejects.toMatchObject({ code: 'XA_ROLLED_BACK' });
    expect(a.rm.rolledBack).toHaveLength(1);
    expect(b.rm.rolledBack).toHaveLength(1);
  });

  it('one resource: one-phase commit, no prepare, no log', async () => {
    const log = loggingLog();
    const tm = new TransactionManager({ log });
    const a = new FakeResource('a');
    await tm.run(async () => {}, [a]);
    expect(a.calls).toEqual(['start', 'end', 'commit(1pc)']);
    expect(log.ops).toEqual([]);
  });

  it('read-only voters drop out; no decision at all when every branch is read-only', async () => {
    const log = loggingLog();
    const tm = new TransactionManager({ log });
    const [a, b] = [new FakeResource('a'), new FakeResource('b')];
    a.vote = 'readonly';
    await tm.run(async () => {}, [a, b]);
    expect(a.calls).toEqual(['start', 'end', 'prepare']);
    expect(b.calls).toEqual(['start', 'end', 'prepare', 'commit']);
    expect(log.ops).toEqual(['commit b', 'forget']);
    b.vote = 'readonly';
    await tm.run(async () => {}, [a, b]);
    expect(b.calls.slice(4)).toEqual(['start', 'end', 'prepare']);
    expect(log.ops).toHaveLength(2);
  });

  it('a commit that fails leaves the decision logged (XA_COMMIT_INCOMPLETE); recover() finishes it', async () => {
    const log = loggingLog();
    const tm = new TransactionManager({ log, tmId: 'c' });
    const [a, b] = [new FakeResource('a'), new FakeResource('b')];
    b.failAt = 'commit';
    await expect(tm.run(async () => {}, [a, b])).rejects.toMatchObject({ code: 'XA_COMMIT_INCOMPLETE' });
    expect(a.rm.committed).toHaveLength(1);
    expect(await log.pending()).toHaveLength(1);
    b.failAt = undefined;
    expect(await tm.recover([a, b])).toEqual({ committed: 1, rolledBack: 0, pendingDecisions: 0 });
    expect(b.rm.committed).toHaveLength(1);
    expect(await log.pending()).toEqual([]);
  });

  it('refuses no resources, and two resources with one name', async () => {
    const tm = new TransactionManager({ log: new MemoryDecisionLog() });
    await expect(tm.run(async () => {}, [])).rejects.toThrow(RangeError);
    await expect(tm.run(async () => {}, [new FakeResource('a'), new FakeResource('a')])).rejects.toThrow(
      /two resources/,
    );
    await expect(tm.run(async () => {}, [new FakeResource('a:b')])).rejects.toThrow(RangeError);
    expect(() => new TransactionManager({ log: new MemoryDecisionLog(), tmId: 'x'.repeat(41) })).toThrow(
      RangeError,
    );
  });
});

describe('TransactionManager.recover', () => {
  /** Leaves prepared branches of gtrid `g` on the given resources, as a coordinator crash would. */
  async function prepareBranches(gtrid: string, resources: FakeResource[]): Promise<void> {
    for (const r of resources) {
      const x = branchXid(gtrid, r.name);
      await r.start(x);
      await r.end(x, true);
      await r.prepare(x);
    }
  }

  it('commits branches with a decision and rolls back the others (presumed abort)', async () => {
    const log = new MemoryDecisionLog();
    const tm = new TransactionManager({ log, tmId: 'r' });
    const [a, b] = [new FakeResource('a'), new FakeResource('b')];
    await prepareBranches('r:decided', [a, b]);
    await prepareBranches('r:undecided', [a, b]);
    await log.commit({ gtrid: 'r:decided', resources: ['a', 'b'] });
    expect(await tm.recover([a, b])).toEqual({ committed: 2, rolledBack: 2, pendingDecisions: 0 });
    expect(a.rm.committed).toEqual([key(branchXid('r:decided', 'a'))]);
    expect(b.rm.rolledBack).toEqual([key(branchXid('r:undecided', 'b'))]);
    expect(await log.pending()).toEqual([]);
  });

  it('a decision whose branch already committed before the crash is just forgotten', async () => {
    const log = new MemoryDecisionLog();
    const tm = new TransactionManager({ log, tmId: 'r' });
    const [a, b] = [new FakeResource('a'), new FakeResource('b')];
    await prepareBranches('r:half', [b]); // a's branch committed, then the coordinator died
    await log.commit({ gtrid: 'r:half', resources: ['a', 'b'] });
    expect(await tm.recover([a, b])).toEqual({ committed: 1, rolledBack: 0, pendingDecisions: 0 });
  });

  it('keeps a decision while one of its resources was not recovered', async () => {
    const log = new MemoryDecisionLog();
    const tm = new TransactionManager({ log, tmId: 'r' });
    const [a, b] = [new FakeResource('a'), new FakeResource('b')];
    await prepareBranches('r:g', [a, b]);
    await log.commit({ gtrid: 'r:g', resources: ['a', 'b'] });
    expect(await tm.recover([a])).toEqual({ committed: 1, rolledBack: 0, pendingDecisions: 1 });
    b.failAt = 'recover';
    await expect(tm.recover([a, b])).rejects.toMatchObject({ code: 'XA_RECOVERY_INCOMPLETE' });
    expect(await log.pending()).toHaveLength(1);
    b.failAt = undefined;
    expect(await tm.recover([a, b])).toEqual({ committed: 1, rolledBack: 0, pendingDecisions: 0 });
  });

  it('leaves alone the branches of other TMs, of other resources sharing the RM, and of running transactions', async () => {
    const shared = new FakeRm();
    const a = new FakeResource('a', shared);
    const a2 = new FakeResource('a2', shared); // a second connection to the same resource manager
    const tm = new TransactionManager({ log: new MemoryDecisionLog(), tmId: 'mine' });
    await prepareBranches('other:g', [a]);
    await prepareBranches('mine:g', [a2]);
    expect(await tm.recover([a])).toEqual({ committed: 0, rolledBack: 0, pendingDecisions: 0 });
    expect(shared.branches.size).toBe(2);

    // A transaction in progress in this TM: prepared on a, recovery runs before it commits.
    const b = new FakeResource('b');
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slowB: ResourceManager = {
      ...b,
      name: 'b',
      start: (x) => b.start(x),
      end: (x, s) => b.end(x, s),
      prepare: (x) => b.prepare(x),
      commit: async (x, o) => {
        await gate;
        return b.commit(x, o);
      },
      rollback: (x) => b.rollback(x),
      recover: () => b.recover(),
    };
    const running = tm.run(async () => {}, [a, slowB]);
    while (!b.calls.includes('commit') && !b.calls.includes('prepare'))
      await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, 5));
    await tm.recover([a, b]);
    release();
    await running;
    expect(b.rm.committed).toHaveLength(1);
    expect(b.rm.rolledBack).toHaveLength(0);
  });
});
