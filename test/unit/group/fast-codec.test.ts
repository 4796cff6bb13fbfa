/**
 * The hand-written hot-path codecs (src/group/fast-codec.ts) against protobufjs, the reference: what one
 * encodes the other decodes to the same values, both ways, for arbitrary frames; anything the fast path
 * does not handle falls back instead of being misread.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeDataFrame,
  decodeSimpleChannelMessage,
  encodeDataFrame,
  encodeSimpleChannelMessage,
  GroupHeader,
} from '../../../src/group/fast-codec.js';
import { decodeChannelMessage, decodeFrame, encodeFrame, type McastData } from '../../../src/group/wire.js';
import { loadProto } from '../../../src/util/proto.js';

const root = loadProto('blaze/v1/group.proto');
const GroupFrameT = root.lookupType('blaze.v1.GroupFrame');
const ChannelMessageT = root.lookupType('blaze.v1.ChannelMessage');

const seq = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const data = fc.record({
  seq,
  view: fc.integer({ min: 0, max: 2 ** 40 }),
  payload: fc.uint8Array({ maxLength: 300 }),
  sender: fc.oneof(fc.constant(''), fc.string({ maxLength: 30 })),
  retransmit: fc.boolean(),
});
const group = fc.string({ minLength: 1, maxLength: 40 });

function referenceData(bytes: Uint8Array): { group: string; data: McastData } {
  const o = GroupFrameT.toObject(GroupFrameT.decode(bytes), { longs: Number, defaults: true }) as {
    group: string;
    data: McastData;
  };
  return { group: o.group, data: { ...o.data, payload: new Uint8Array(o.data.payload) } };
}

describe('fast data frame codec', () => {
  it('encodes what protobufjs decodes to the same frame', () => {
    fc.assert(
      fc.property(group, data, (g, d) => {
        const ref = referenceData(encodeDataFrame(new GroupHeader(g), d));
        expect(ref.group).toBe(g);
        expect(ref.data).toEqual(d);
      }),
    );
  });

  it('decodes what protobufjs encodes', () => {
    fc.assert(
      fc.property(group, data, (g, d) => {
        const bytes = GroupFrameT.encode({ group: g, data: d }).finish();
        const f = decodeDataFrame(new GroupHeader(g), bytes);
        expect(f?.kind).toBe('data');
        if (f?.kind !== 'data') return;
        expect({ ...f.body, payload: new Uint8Array(f.body.payload) }).toEqual(d);
      }),
    );
  });

  it('leaves other groups, other kinds and trailing fields to the caller', () => {
    const h = new GroupHeader('g');
    const d = { seq: 5, view: 1, payload: new Uint8Array([1, 2]), sender: '', retransmit: false };
    expect(decodeDataFrame(h, encodeDataFrame(new GroupHeader('other'), d))).toEqual({ kind: 'foreign' });
    expect(
      decodeDataFrame(h, GroupFrameT.encode({ group: 'g', nack: { sender: 'x' } }).finish()),
    ).toBeUndefined();
    const withTrailer = new Uint8Array([...encodeDataFrame(h, d), 0x08, 0x01]);
    expect(decodeDataFrame(h, withTrailer)).toBeUndefined();
    // decodeFrame still answers for every kind, through the reference decoder.
    expect(
      decodeFrame('g', encodeFrame('g', 'nack', { sender: 'x', ranges: [{ from: 1, to: 2 }] })),
    ).toMatchObject({
      kind: 'nack',
      body: { sender: 'x' },
    });
    expect(decodeFrame('g', encodeFrame('other', 'data', d))).toBeUndefined();
  });

  it('never throws on garbage and agrees with the reference where both accept', () => {
    const h = new GroupHeader('g');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const f = decodeDataFrame(h, bytes);
        if (f?.kind === 'data') {
          const ref = referenceData(bytes);
          expect(ref.group).toBe('g');
          expect(ref.data.seq).toBe(f.body.seq);
          expect(ref.data.payload).toEqual(new Uint8Array(f.body.payload));
        }
      }),
    );
  });
});

describe('fast channel message codec', () => {
  const simple = fc.record({ kind: fc.constantFrom(0, 1, 6), body: fc.uint8Array({ maxLength: 200 }) });

  it('round-trips kind + body with protobufjs both ways', () => {
    fc.assert(
      fc.property(simple, (m) => {
        const mine = encodeSimpleChannelMessage(m)!;
        const ref = ChannelMessageT.toObject(ChannelMessageT.decode(mine), { defaults: true, enums: Number });
        expect(ref.kind).toBe(m.kind);
        expect(new Uint8Array(ref.body as Uint8Array)).toEqual(m.body);
        const back = decodeSimpleChannelMessage(ChannelMessageT.encode(m).finish())!;
        expect(back.kind).toBe(m.kind);
        expect(new Uint8Array(back.body)).toEqual(m.body);
      }),
    );
  });

  it('leaves messages with other fields to protobufjs', () => {
    const q = { kind: 3 as const, name: 'jobs', id: 7, body: new Uint8Array([9]) };
    expect(encodeSimpleChannelMessage(q)).toBeUndefined();
    const bytes = ChannelMessageT.encode(q).finish();
    expect(decodeSimpleChannelMessage(bytes)).toBeUndefined();
    expect(decodeChannelMessage(bytes)).toMatchObject({ kind: 3, name: 'jobs', id: 7 });
  });
});
