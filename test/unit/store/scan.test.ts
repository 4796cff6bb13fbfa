import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../../src/core/message.js';
import { ByteReader, ByteWriter, JournalDecodeError } from '../../../src/store/journal/bytes.js';
import { decodeOp, encodeOp, type JournalOp, OP_CODES } from '../../../src/store/journal/codec.js';
import { OpScan, scanOp } from '../../../src/store/journal/scan.js';

const optional = (arb: fc.Arbitrary<string>) => fc.option(arb, { nil: undefined });

const arbMessage: fc.Arbitrary<Message> = fc
  .record({
    id: fc.string(),
    address: fc.string({ maxLength: 60 }),
    body: fc.uint8Array({ maxLength: 300 }),
    properties: fc.dictionary(
      fc.string({ maxLength: 20 }),
      fc.oneof(fc.string({ maxLength: 50 }), fc.double(), fc.boolean(), fc.constant(null)),
    ),
    persistent: fc.boolean(),
    priority: fc.integer({ min: 0, max: 9 }),
    expiration: fc.integer({ min: 0, max: 2 ** 52 }),
    timestamp: fc.integer({ min: 0, max: 2 ** 52 }),
    correlationId: optional(fc.string()),
    replyTo: optional(fc.string()),
    groupId: optional(fc.string()),
    contentType: optional(fc.string()),
    producerConnectionId: optional(fc.string()),
    originalAddress: optional(fc.string({ maxLength: 100 })),
  })
  .map((m) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(m)) if (v !== undefined) out[k] = v;
    return out as unknown as Message;
  });

const arbXid = fc.record({
  formatId: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  globalId: fc.uint8Array({ maxLength: 64 }),
  branchId: fc.uint8Array({ maxLength: 64 }),
});

const arbOp: fc.Arbitrary<JournalOp> = fc.oneof(
  fc.record({ type: fc.constant('enqueue' as const), queue: fc.string(), message: arbMessage }),
  fc.record({ type: fc.constant('dequeue' as const), queue: fc.string(), messageId: fc.string() }),
  fc.record({
    type: fc.constant('delivery-count' as const),
    queue: fc.string(),
    messageId: fc.string(),
    deliveryCount: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  }),
  fc.record({
    type: fc.constant('durable-add' as const),
    record: fc.record(
      {
        queue: fc.string(),
        clientId: fc.string(),
        name: fc.string(),
        address: fc.string(),
        noLocal: fc.boolean(),
        selector: fc.string(),
      },
      { requiredKeys: ['queue', 'clientId', 'name', 'address', 'noLocal'] },
    ),
  }),
  fc.record({ type: fc.constant('durable-remove' as const), queue: fc.string() }),
  fc.record({
    type: fc.constant('relocate' as const),
    queue: fc.string(),
    order: fc.integer({ min: 0, max: 2 ** 52 }),
    deliveryCount: fc.integer({ min: 0, max: 1000 }),
    message: arbMessage,
  }),
  fc.record({
    type: fc.constant('kv-put' as const),
    namespace: fc.string(),
    key: fc.string(),
    value: fc.uint8Array({ maxLength: 100 }),
  }),
  fc.record({ type: fc.constant('kv-delete' as const), namespace: fc.string(), key: fc.string() }),
  fc.record({
    type: fc.constant('xa-prepare' as const),
    xid: arbXid,
    sends: fc.array(fc.record({ address: fc.string(), message: arbMessage }), { maxLength: 3 }),
    acks: fc.array(fc.record({ queue: fc.string(), messageId: fc.string() }), { maxLength: 3 }),
  }),
  fc.record({ type: fc.constant('xa-forget' as const), xid: arbXid }),
);

function encodeAll(ops: readonly JournalOp[]): Buffer {
  const w = new ByteWriter(16);
  for (const op of ops) encodeOp(w, op);
  return Buffer.from(w.view());
}

/** What the scan must report for `op`: the identifying fields compaction looks up. */
function expected(op: JournalOp): { queue: string; id: string } {
  switch (op.type) {
    case 'enqueue':
    case 'relocate':
      return { queue: op.queue, id: op.message.id };
    case 'delivery-count':
      return { queue: op.queue, id: op.messageId };
    case 'durable-add':
      return { queue: op.record.queue, id: '' };
    case 'kv-put':
      return { queue: op.namespace, id: op.key };
    default:
      return { queue: '', id: '' };
  }
}

describe('journal operation scan (compaction)', () => {
  it('finds the same operations, extents and identifying fields as a full decode', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { minLength: 1, maxLength: 12 }), (ops) => {
        const buf = encodeAll(ops);
        const r = new ByteReader(buf);
        const d = new ByteReader(buf);
        const scan = new OpScan();
        for (const op of ops) {
          scanOp(r, scan);
          decodeOp(d);
          expect(scan.code).toBe(OP_CODES[op.type]);
          expect(scan.end).toBe(d.pos);
          expect(r.pos).toBe(d.pos);
          expect({ queue: scan.queue, id: scan.id }).toEqual(expected(op));
          // The range it reports decodes back to the operation on its own.
          const one = new ByteReader(buf, scan.start, scan.end);
          expect(decodeOp(one)).toEqual(decodeOp(new ByteReader(encodeAll([op]))));
          expect(one.remaining).toBe(0);
        }
        expect(r.remaining).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('reuses the string of a repeated queue but not of a different one of the same length', () => {
    const m = (id: string): Message => ({
      id,
      address: 'topic://t',
      body: new Uint8Array(3),
      properties: {},
      persistent: true,
      priority: 4,
      expiration: 0,
      timestamp: 1,
    });
    const buf = encodeAll([
      { type: 'enqueue', queue: 'queue://aa', message: m('1') },
      { type: 'enqueue', queue: 'queue://aa', message: m('2') },
      { type: 'enqueue', queue: 'queue://ab', message: m('3') },
      { type: 'kv-put', namespace: 'ns', key: 'k', value: new Uint8Array(1) },
      { type: 'enqueue', queue: 'queue://ab', message: m('4') },
    ]);
    const r = new ByteReader(buf);
    const scan = new OpScan();
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      scanOp(r, scan);
      seen.push(`${scan.queue}/${scan.id}`);
    }
    expect(seen).toEqual(['queue://aa/1', 'queue://aa/2', 'queue://ab/3', 'ns/k', 'queue://ab/4']);
  });

  it('refuses truncated or garbage bytes exactly when a full decode does, with a decode error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const buf = Buffer.from(bytes);
        let decoded: number | JournalDecodeError;
        try {
          const d = new ByteReader(buf);
          decodeOp(d);
          decoded = d.pos;
        } catch (e) {
          expect(e).toBeInstanceOf(JournalDecodeError);
          decoded = e as JournalDecodeError;
        }
        try {
          const r = new ByteReader(buf);
          scanOp(r, new OpScan());
          expect(r.pos).toBe(decoded);
        } catch (e) {
          expect(e).toBeInstanceOf(JournalDecodeError);
          expect(decoded).toBeInstanceOf(JournalDecodeError);
        }
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(arbOp, (op) => {
        const full = encodeAll([op]);
        for (let n = 0; n < full.length; n += 1 + (full.length >> 5)) {
          expect(() => scanOp(new ByteReader(full, 0, n), new OpScan())).toThrow(JournalDecodeError);
        }
      }),
      { numRuns: 100 },
    );
  });
});
