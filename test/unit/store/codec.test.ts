import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../../src/core/message.js';
import { ByteReader, ByteWriter, JournalDecodeError } from '../../../src/store/journal/bytes.js';
import {
  decodeMessage,
  decodeOp,
  encodeMessage,
  encodeOp,
  type JournalOp,
} from '../../../src/store/journal/codec.js';

const sample: Message = {
  id: 'ID:a:1',
  address: 'queue://q',
  body: new Uint8Array([1, 2, 3]),
  properties: { k: 'v', n: 1.5, b: true, z: null },
  persistent: true,
  priority: 4,
  expiration: 0,
  timestamp: 1_700_000_000_000,
  correlationId: 'c',
};

function encode(f: (w: ByteWriter) => void): Buffer {
  const w = new ByteWriter(8);
  f(w);
  return Buffer.from(w.view());
}

const optional = (arb: fc.Arbitrary<string>) => fc.option(arb, { nil: undefined });

const arbMessage: fc.Arbitrary<Message> = fc
  .record({
    id: fc.string(),
    address: fc.string({ unit: 'grapheme', maxLength: 60 }),
    body: fc.uint8Array({ maxLength: 300 }),
    properties: fc.dictionary(
      fc.string({ maxLength: 50 }),
      fc.oneof(fc.string({ maxLength: 100 }), fc.double(), fc.boolean(), fc.constant(null)),
    ),
    persistent: fc.boolean(),
    priority: fc.integer({ min: 0, max: 9 }),
    expiration: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 52 })),
    timestamp: fc.integer({ min: 0, max: 2 ** 52 }),
    correlationId: optional(fc.string()),
    replyTo: optional(fc.string()),
    groupId: optional(fc.string()),
    contentType: optional(fc.string()),
    producerConnectionId: optional(fc.string()),
    originalAddress: optional(fc.string({ minLength: 43, maxLength: 200 })),
  })
  .map((m) => {
    // Absent optional fields are absent, not present-and-undefined, as the core builds messages.
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(m)) if (v !== undefined) out[k] = v;
    return out as unknown as Message;
  });

describe('journal codec', () => {
  it('encodes a message to the documented bytes', () => {
    const hex = encode((w) => encodeMessage(w, sample)).toString('hex');
    expect(hex).toBe(
      '03' + // flags: persistent | correlationId
        '04' + // priority
        '0000000000000000' + // expiration 0
        '00008056febc7842' + // timestamp 1.7e12 as f64
        '06' +
        Buffer.from('ID:a:1').toString('hex') +
        '09' +
        Buffer.from('queue://q').toString('hex') +
        '01' +
        Buffer.from('c').toString('hex') +
        '04' + // 4 properties
        '016b' +
        '03' +
        '0176' + // k: string "v"
        '016e' +
        '04' +
        '000000000000f83f' + // n: number 1.5
        '0162' +
        '02' + // b: true
        '017a' +
        '00' + // z: null
        '03010203', // body
    );
  });

  it('encodes a dequeue to the documented bytes', () => {
    const bytes = encode((w) => encodeOp(w, { type: 'dequeue', queue: 'queue://q', messageId: 'ID:a:1' }));
    expect(bytes.toString('hex')).toBe(
      '02' + '09' + Buffer.from('queue://q').toString('hex') + '06' + Buffer.from('ID:a:1').toString('hex'),
    );
  });

  it('encodes kv-put and kv-delete to the documented bytes', () => {
    const put = encode((w) =>
      encodeOp(w, { type: 'kv-put', namespace: 'ns', key: 'k', value: new Uint8Array([0xaa, 0xbb]) }),
    );
    expect(put.toString('hex')).toBe('07' + '026e73' + '016b' + '02aabb');
    const del = encode((w) => encodeOp(w, { type: 'kv-delete', namespace: 'ns', key: 'k' }));
    expect(del.toString('hex')).toBe('08' + '026e73' + '016b');
  });

  it('round-trips any kv-put', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.uint8Array({ maxLength: 300 }), (namespace, key, value) => {
        const op: JournalOp = { type: 'kv-put', namespace, key, value };
        const r = new ByteReader(encode((w) => encodeOp(w, op)));
        expect(decodeOp(r)).toEqual(op);
        expect(r.remaining).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips any message', () => {
    fc.assert(
      fc.property(arbMessage, (m) => {
        const bytes = encode((w) => encodeMessage(w, m));
        const r = new ByteReader(bytes);
        const back = decodeMessage(r);
        expect(r.remaining).toBe(0);
        expect(back).toStrictEqual({ ...m, body: new Uint8Array(m.body), properties: { ...m.properties } });
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a property named __proto__ as a property', () => {
    const props = JSON.parse('{"__proto__": "x", "a": 1}') as Record<string, string | number>;
    const back = decodeMessage(
      new ByteReader(encode((w) => encodeMessage(w, { ...sample, properties: props }))),
    );
    expect(Object.getPrototypeOf(back.properties)).toBe(Object.prototype);
    expect(Object.keys(back.properties)).toEqual(['__proto__', 'a']);
  });

  it('round-trips every operation type', () => {
    const ops: JournalOp[] = [
      { type: 'enqueue', queue: 'queue://a', message: sample },
      { type: 'dequeue', queue: 'queue://a', messageId: 'x' },
      { type: 'delivery-count', queue: 'queue://a', messageId: 'x', deliveryCount: 300_000 },
      {
        type: 'durable-add',
        record: { queue: 'durable://c/n', clientId: 'c', name: 'n', address: 'topic://t.>', noLocal: true },
      },
      {
        type: 'durable-add',
        record: {
          queue: 'durable://c/m',
          clientId: 'c',
          name: 'm',
          address: 'topic://t',
          selector: 'a > 1',
          noLocal: false,
        },
      },
      { type: 'durable-remove', queue: 'durable://c/n' },
      { type: 'relocate', queue: 'queue://a', order: 2 ** 40, deliveryCount: 3, message: sample },
      { type: 'kv-put', namespace: 'mqtt-sessions', key: 's:dev', value: new Uint8Array([1, 2, 3]) },
      { type: 'kv-put', namespace: '', key: '', value: new Uint8Array(0) },
      { type: 'kv-delete', namespace: 'mqtt-sessions', key: 's:dev' },
    ];
    const bytes = encode((w) => {
      for (const op of ops) encodeOp(w, op);
    });
    const r = new ByteReader(bytes);
    const back = ops.map(() => decodeOp(r));
    expect(r.remaining).toBe(0);
    expect(back).toEqual(ops);
  });

  it('rejects truncated or garbage input with a decode error, never anything else', () => {
    const full = encode((w) => encodeOp(w, { type: 'enqueue', queue: 'queue://a', message: sample }));
    for (let n = 0; n < full.length; n++) {
      expect(() => decodeOp(new ByteReader(full, 0, n))).toThrow(JournalDecodeError);
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeOp(new ByteReader(Buffer.from(bytes)));
        } catch (e) {
          expect(e).toBeInstanceOf(JournalDecodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('writes varuints up to 32 bits and refuses longer ones', () => {
    for (const v of [0, 127, 128, 16_383, 16_384, 2 ** 31, 2 ** 32 - 1]) {
      const r = new ByteReader(encode((w) => w.varuint(v)));
      expect(r.varuint()).toBe(v);
    }
    expect(() => new ByteReader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f])).varuint()).toThrow(
      JournalDecodeError,
    );
  });
});
