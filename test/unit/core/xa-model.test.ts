/**
 * The XA state table (core/xa.ts) against a model: random sequences of start/end/send/prepare/commit/
 * rollback/close over two connections and three xids must give the model's outcome (result or error
 * code) at every step, xaRecover must list exactly the model's prepared branches, and in the end the
 * queue must hold exactly the messages of committed branches, once each.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CoreConnection, Xid } from '../../../src/core/index.js';
import { XA_FLAGS } from '../../../src/core/index.js';
import { bytes, harness } from './helpers.js';

const { TMNOFLAGS, TMJOIN, TMRESUME, TMSUCCESS, TMFAIL, TMSUSPEND } = XA_FLAGS;

type Op =
  | { op: 'start'; c: number; x: number; flags: number }
  | { op: 'end'; c: number; x: number; flags: number }
  | { op: 'send'; c: number; x: number }
  | { op: 'prepare'; x: number }
  | { op: 'commit'; x: number; onePhase: boolean }
  | { op: 'rollback'; x: number }
  | { op: 'close'; c: number };

interface ModelBranch {
  readonly assoc: Map<number, 'active' | 'suspended'>;
  readonly workers: Set<number>;
  readonly sends: string[];
  rbOnly: boolean;
  prepared: boolean;
}

const conn = fc.integer({ min: 0, max: 1 });
const x = fc.integer({ min: 0, max: 2 });
const arbOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('start' as const),
    c: conn,
    x,
    flags: fc.constantFrom(TMNOFLAGS, TMJOIN, TMRESUME),
  }),
  fc.record({
    op: fc.constant('end' as const),
    c: conn,
    x,
    flags: fc.constantFrom(TMSUCCESS, TMFAIL, TMSUSPEND),
  }),
  fc.record({ op: fc.constant('send' as const), c: conn, x }),
  fc.record({ op: fc.constant('send' as const), c: conn, x }),
  fc.record({ op: fc.constant('prepare' as const), x }),
  fc.record({ op: fc.constant('commit' as const), x, onePhase: fc.boolean() }),
  fc.record({ op: fc.constant('rollback' as const), x }),
  fc.record({ op: fc.constant('close' as const), c: conn }),
);

const xidOf = (n: number): Xid => ({ formatId: 1, globalId: bytes(`g${n}`), branchId: bytes('b') });

/** The model's answer: a result, or the error code expected. */
function step(model: Map<number, ModelBranch>, committed: string[], o: Op, seq: number): string {
  const b = 'x' in o ? model.get(o.x) : undefined;
  switch (o.op) {
    case 'start': {
      if (o.flags === TMNOFLAGS) {
        if (b !== undefined) return 'XA_DUPID';
        model.set(o.x, {
          assoc: new Map([[o.c, 'active']]),
          workers: new Set([o.c]),
          sends: [],
          rbOnly: false,
          prepared: false,
        });
        return 'ok';
      }
      if (b === undefined) return 'XA_NOTA';
      if (o.flags === TMJOIN) {
        if (b.prepared || b.assoc.has(o.c)) return 'XA_PROTO';
      } else if (b.assoc.get(o.c) !== 'suspended') return 'XA_PROTO';
      if (b.rbOnly) return 'XA_RBROLLBACK';
      b.assoc.set(o.c, 'active');
      b.workers.add(o.c);
      return 'ok';
    }
    case 'end': {
      if (b === undefined) return 'XA_NOTA';
      const a = b.assoc.get(o.c);
      if (a === undefined) return 'XA_PROTO';
      if (o.flags === TMSUSPEND) {
        if (a === 'suspended') return 'XA_PROTO';
        b.assoc.set(o.c, 'suspended');
      } else {
        b.assoc.delete(o.c);
        if (o.flags === TMFAIL) b.rbOnly = true;
      }
      return 'ok';
    }
    case 'send':
      if (b === undefined || b.assoc.get(o.c) !== 'active') return 'NOT_FOUND';
      b.sends.push(`m${seq}`);
      return 'ok';
    case 'prepare':
      if (b === undefined) return 'XA_NOTA';
      if (b.prepared || b.assoc.size > 0) return 'XA_PROTO';
      if (b.rbOnly) {
        model.delete(o.x);
        return 'XA_RBROLLBACK';
      }
      if (b.sends.length === 0) {
        model.delete(o.x);
        return 'readonly';
      }
      b.prepared = true;
      b.workers.clear();
      return 'prepared';
    case 'commit':
      if (b === undefined) return 'XA_NOTA';
      if (b.assoc.size > 0) return 'XA_PROTO';
      if (o.onePhase) {
        if (b.prepared) return 'XA_PROTO';
        if (b.rbOnly) {
          model.delete(o.x);
          return 'XA_RBROLLBACK';
        }
      } else if (!b.prepared) return 'XA_PROTO';
      model.delete(o.x);
      committed.push(...b.sends);
      return 'ok';
    case 'rollback':
      if (b === undefined) return 'XA_NOTA';
      for (const a of b.assoc.values()) if (a === 'active') return 'XA_PROTO';
      model.delete(o.x);
      return 'ok';
    case 'close':
      for (const [k, mb] of model) {
        mb.assoc.delete(o.c);
        if (!mb.prepared && mb.workers.has(o.c)) model.delete(k);
      }
      return 'ok';
  }
}

async function run(h: Awaited<ReturnType<typeof harness>>, conns: CoreConnection[], o: Op, seq: number) {
  const txId = (n: number) => `t${n}`;
  try {
    switch (o.op) {
      case 'start':
        conns[o.c]!.xaStart(xidOf(o.x), txId(o.x), o.flags);
        return 'ok';
      case 'end':
        conns[o.c]!.xaEnd(xidOf(o.x), o.flags);
        return 'ok';
      case 'send':
        await conns[o.c]!.send({ address: 'queue://q', body: bytes(`m${seq}`), persistent: true }, txId(o.x));
        return 'ok';
      case 'prepare':
        return await conns[0]!.xaPrepare(xidOf(o.x));
      case 'commit':
        await conns[1]!.xaCommit(xidOf(o.x), o.onePhase);
        return 'ok';
      case 'rollback':
        await conns[0]!.xaRollback(xidOf(o.x));
        return 'ok';
      case 'close':
        conns[o.c]!.close();
        conns[o.c] = h.connect();
        return 'ok';
    }
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

describe('XA state table against a model', () => {
  it('matches the model on random call sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbOp, { maxLength: 40 }), async (ops) => {
        const h = await harness();
        const conns = [h.connect(), h.connect()];
        const model = new Map<number, ModelBranch>();
        const committed: string[] = [];
        for (let i = 0; i < ops.length; i++) {
          const o = ops[i]!;
          const expected = step(model, committed, o, i);
          expect(await run(h, conns, o, i), `step ${i} ${JSON.stringify(o)}`).toBe(expected);
          const prepared = [...model].filter(([, b]) => b.prepared).map(([n]) => n);
          const listed = conns[0]!
            .xaRecover()
            .map((id) => Number(new TextDecoder().decode(id.globalId).slice(1)));
          expect(listed.sort()).toEqual(prepared.sort());
        }
        const { rec } = h.sub(h.connect(), { address: 'queue://q' });
        expect(rec.texts().sort()).toEqual([...committed].sort());
      }),
      { numRuns: 300 },
    );
  });
});
