/**
 * The client's hand-written hot frames against the references: protobufjs loaded from the .proto file
 * (the encoders must give its exact bytes, the decoders its objects) and the broker's own hand codec
 * (what a real broker sends must decode to the message it sent). Fuzzing: any bytes, random or mutated,
 * decode or fail with the client's PROTOCOL error, nothing else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame } from '../../../src/client/codec/codec.js';
import { isClientError } from '../../../src/client/codec/errors.js';
import { FRAME_FIELD } from '../../../src/client/codec/frame-encode.js';
import type { Delivery, Frame, WireMessage, WireValue } from '../../../src/client/codec/frames.js';
import { fromWireMessage, toWireValue } from '../../../src/client/message.js';
import {
  decodeFrame as brokerDecode,
  DeliverBuilder,
  encodeOk,
  encodeOkIds,
} from '../../../src/protocol/native/codec/index.js';
import { loadProto } from '../../../src/util/proto.js';
import { coreMessage, propertyValue, text } from '../../helpers/native-arbitraries.js';

const Reference = loadProto('blaze/v1/native.proto').lookupType('blaze.v1.Frame');
const referenceBytes = (f: Frame) =>
  Reference.encode(Reference.fromObject(f as unknown as Record<string, unknown>)).finish();
const referenceObject = (body: Uint8Array) =>
  Reference.toObject(Reference.decode(body), { longs: Number, oneofs: true }) as Record<string, unknown>;

/** ASCII, any Unicode (astral planes included), long strings (two-byte lengths, the non-loop path). */
const u53 = fc.oneof(fc.nat(), fc.constantFrom(0, 127, 128, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1));
const u32 = fc.oneof(fc.nat({ max: 300 }), fc.constantFrom(0, 127, 128, 16383, 16384, 2 ** 32 - 1));

/** What the client may put in a message: any subset of the fields, defaults included. */
const wireMessage: fc.Arbitrary<WireMessage> = fc.record(
  {
    address: fc.oneof(fc.constantFrom('queue://a', 'topic://prices.eur', ''), text()),
    body: fc.uint8Array({ maxLength: 300 }),
    persistent: fc.boolean(),
    priority: fc.integer({ min: 0, max: 9 }),
    expiration: u53,
    correlation_id: text(),
    reply_to: text(),
    group_id: text(),
    content_type: fc.oneof(fc.constant('text/plain; charset=utf-8'), text()),
    properties: fc
      .dictionary(text(), propertyValue, { maxKeys: 4 })
      .map((d) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, toWireValue(v)]))),
    time_to_live_ms: u53,
    id: text(),
    timestamp: u53,
    original_address: text(),
  },
  { requiredKeys: [] },
);

const tags = fc.array(u53, { maxLength: 6 });

const hotFrame: fc.Arbitrary<Frame> = fc.oneof(
  fc
    .record(
      {
        request_id: u32,
        message: wireMessage,
        tx_id: text(),
        producer_id: text(),
        sequence: u53,
        want_ids: fc.boolean(),
      },
      { requiredKeys: [] },
    )
    .map((send) => ({ send })),
  fc
    .record(
      {
        request_id: u32,
        messages: fc.array(wireMessage, { maxLength: 4 }),
        tx_id: text(),
        producer_id: text(),
        first_sequence: u53,
        want_ids: fc.boolean(),
      },
      { requiredKeys: [] },
    )
    .map((send_batch) => ({ send_batch })),
  fc
    .record({ request_id: u32, subscription_id: u32, tags, up_to: u53, tx_id: text() }, { requiredKeys: [] })
    .map((ack) => ({ ack })),
  fc
    .record({ request_id: u32, subscription_id: u32, tags, tx_id: text() }, { requiredKeys: [] })
    .map((nack) => ({ nack })),
  fc.record({ subscription_id: u32, credit: u32 }, { requiredKeys: [] }).map((credit) => ({ credit })),
);

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * protobufjs' object for a decoded Deliver, in the hand decoder's shape: every field present with its
 * default, a map value without kind (or null_value false) read as null, and the `kind` virtual dropped.
 */
function filledDelivery(d: Record<string, unknown>): Delivery {
  const m = d.message as Record<string, unknown> | undefined;
  return {
    subscription_id: (d.subscription_id as number) ?? 0,
    tag: (d.tag as number) ?? 0,
    message: m === undefined ? undefined : filledMessage(m),
    redelivered: (d.redelivered as boolean) ?? false,
    delivery_count: (d.delivery_count as number) ?? 0,
  };
}

function filledMessage(m: Record<string, unknown>): WireMessage {
  const props = (m.properties ?? {}) as Record<string, Record<string, unknown>>;
  // fromEntries, not assignment: a "__proto__" key stays a property.
  const properties: Record<string, WireValue> = Object.fromEntries(
    Object.entries(props).map(([k, v]) => {
      const { kind: _kind, ...rest } = v;
      const set = Object.entries(rest);
      const none = set.length === 0 || (set[0]![0] === 'null_value' && set[0]![1] === false);
      return [k, none ? { null_value: true } : (rest as WireValue)];
    }),
  );
  return {
    address: (m.address as string) ?? '',
    body: (m.body as Uint8Array) ?? new Uint8Array(0),
    persistent: (m.persistent as boolean) ?? false,
    priority: m.priority as number | undefined,
    expiration: (m.expiration as number) ?? 0,
    correlation_id: (m.correlation_id as string) ?? '',
    reply_to: (m.reply_to as string) ?? '',
    group_id: (m.group_id as string) ?? '',
    content_type: (m.content_type as string) ?? '',
    properties,
    time_to_live_ms: (m.time_to_live_ms as number) ?? 0,
    id: (m.id as string) ?? '',
    timestamp: (m.timestamp as number) ?? 0,
    original_address: (m.original_address as string) ?? '',
  };
}

/** Bytes as arrays (Buffer and Uint8Array alike); -0 as 0 (sint64 has no negative zero). */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Array.from(v);
  if (Object.is(v, -0)) return 0;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

function protocolErrorOrNothing(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!isClientError(e) || e.code !== 'PROTOCOL') throw e;
  }
}

describe('hand-written encoders (Send, SendBatch, Ack, Credit, Nack)', () => {
  it('use the Frame field numbers of the .proto', () => {
    for (const [kind, field] of Object.entries(FRAME_FIELD)) expect(Reference.fields[kind]?.id).toBe(field);
  });

  it('write exactly the bytes protobufjs writes for the same object', () => {
    fc.assert(
      fc.property(hotFrame, (f) => {
        const mine = encodeFrame(f);
        const body = referenceBytes(f);
        expect(new DataView(mine.buffer, mine.byteOffset).getUint32(0, false)).toBe(mine.length - 4);
        expect(hex(mine.subarray(4))).toBe(hex(body));
      }),
      { numRuns: 600 },
    );
  });

  it('are read back by the broker codec as the message the client meant', () => {
    fc.assert(
      fc.property(wireMessage, u53, (m, sequence) => {
        const f = brokerDecode(
          encodeFrame({ send: { request_id: 9, message: m, producer_id: 'p', sequence } }).subarray(4),
        );
        expect(f.kind).toBe('send');
        if (f.kind !== 'send') return;
        expect(f.value.sequence).toBe(sequence);
        const got = f.value.message;
        const want = filledMessage(m as Record<string, unknown>);
        expect(plain({ ...got, properties: { ...got.properties } })).toEqual(plain(want));
      }),
      { numRuns: 300 },
    );
  });

  it('cover the edges: empty frames, empty message, an empty string member, 2^53 - 1', () => {
    const cases: Frame[] = [
      { send: {} },
      { send: { message: {} } },
      { send: { request_id: 1, message: { priority: 0, properties: { '': { string_value: '' } } } } },
      { send: { message: { properties: { a: { int_value: 0 }, b: { bool_value: false } } } } },
      {
        send: {
          message: { properties: { n: { int_value: -(2 ** 53) + 1 }, p: { int_value: 2 ** 53 - 1 } } },
        },
      },
      { send_batch: { messages: [{}, { address: 'queue://x' }] } },
      { ack: {} },
      { ack: { tags: [0] } },
      { ack: { tags: [2 ** 53 - 1, 1], up_to: 2 ** 53 - 1, tx_id: 'tx-ü' } },
      { credit: {} },
      { nack: { request_id: 2 ** 32 - 1, tags: [1, 2 ** 40] } },
    ];
    for (const f of cases) expect(hex(encodeFrame(f).subarray(4))).toBe(hex(referenceBytes(f)));
  });

  it('encode strings with lone surrogates as U+FFFD, like TextEncoder', () => {
    const lone = 'a\ud800b\udc00';
    const f: Frame = { send: { producer_id: lone } };
    const body = encodeFrame(f).subarray(4);
    const tail = body.subarray(body.length - 8);
    expect(Array.from(tail)).toEqual(Array.from(new TextEncoder().encode(lone)));
  });
});

describe('hand-written decoders (Deliver, Ok)', () => {
  const delivery = fc.record(
    {
      subscription_id: u32,
      tag: u53,
      message: wireMessage,
      redelivered: fc.boolean(),
      delivery_count: u32,
    },
    { requiredKeys: [] },
  );

  it('decode what protobufjs encodes to the object protobufjs decodes', () => {
    fc.assert(
      fc.property(fc.array(delivery, { maxLength: 5 }), (deliveries) => {
        const body = referenceBytes({ deliver: { deliveries } });
        const mine = decodeFrame(body) as { kind: string; deliver: { deliveries: Delivery[] } };
        const ref = referenceObject(body) as { deliver: { deliveries?: Array<Record<string, unknown>> } };
        expect(mine.kind).toBe('deliver');
        expect(plain(mine.deliver.deliveries)).toEqual(
          plain((ref.deliver.deliveries ?? []).map(filledDelivery)),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('decode Ok exactly as protobufjs does, ids ("" included) in order', () => {
    fc.assert(
      fc.property(
        fc.record({ request_id: u32, message_ids: fc.array(text(), { maxLength: 4 }) }, { requiredKeys: [] }),
        (ok) => {
          const body = referenceBytes({ ok });
          expect(decodeFrame(body)).toEqual(referenceObject(body));
        },
      ),
      { numRuns: 200 },
    );
    expect(decodeFrame(encodeOk(7).subarray(4))).toEqual({ kind: 'ok', ok: { request_id: 7 } });
    expect(decodeFrame(encodeOkIds(8, ['ID:1', '', 'ID:ü']).subarray(4))).toEqual({
      kind: 'ok',
      ok: { request_id: 8, message_ids: ['ID:1', '', 'ID:ü'] },
    });
  });

  it("turn the broker's own Deliver frames into the messages it sent", () => {
    fc.assert(
      fc.property(fc.array(coreMessage, { minLength: 1, maxLength: 4 }), fc.boolean(), (messages, red) => {
        const b = new DeliverBuilder();
        messages.forEach((m, i) => {
          b.add(i + 1, 1000 + i, m, red, red ? 3 : 1);
        });
        const out = b.finish();
        const f = decodeFrame(out.subarray(4)) as { deliver: { deliveries: Delivery[] } };
        const ds = f.deliver.deliveries;
        expect(ds).toHaveLength(messages.length);
        messages.forEach((m, i) => {
          const d = ds[i]!;
          expect([d.subscription_id, d.tag, d.redelivered, d.delivery_count]).toEqual([
            i + 1,
            1000 + i,
            red,
            red ? 3 : 1,
          ]);
          const r = fromWireMessage(d.message!, d.redelivered, d.delivery_count);
          // The broker sends integers beyond 2^52 as doubles: the value is the same number either way.
          expect(plain({ ...r.properties })).toEqual(plain(m.properties));
          expect(
            plain([r.id, r.address, r.body, r.persistent, r.priority, r.expiration, r.timestamp]),
          ).toEqual(plain([m.id, m.address, m.body, m.persistent, m.priority, m.expiration, m.timestamp]));
          expect([r.correlationId, r.replyTo, r.groupId, r.contentType, r.originalAddress]).toEqual([
            m.correlationId || undefined,
            m.replyTo || undefined,
            m.groupId || undefined,
            m.contentType,
            m.originalAddress,
          ]);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('skip unknown fields at every level and keep the last oneof member of a Frame', () => {
    const unknown = [0xf8, 0x07, 0x05, 0x82, 0x08, 0x02, 0x61, 0x62]; // field 127 varint, field 128 LEN "ab"
    // Value{7: ?, 3: int -2}; entry {1: "k", 2: value, 9: ?}
    const value = [...unknown, 0x18, 0x03];
    const entry = [0x0a, 0x01, 0x6b, 0x12, value.length, ...value, ...unknown];
    const message = [...unknown, 0x0a, 0x01, 0x71, 0x52, entry.length, ...entry, 0x62, 0x01, 0x69];
    const delivery = [0x08, 0x04, ...unknown, 0x1a, message.length, ...message, 0x28, 0x02];
    const deliver = [...unknown, 0x0a, delivery.length, ...delivery];
    const okFirst = [0x2a, 0x02, 0x08, 0x01]; // an Ok before the Deliver: the Deliver wins
    const body = Uint8Array.from([...okFirst, 0xc2, 0x01, deliver.length, ...deliver, ...unknown]);
    const f = decodeFrame(body) as { kind: string; deliver: { deliveries: Delivery[] } };
    expect(f.kind).toBe('deliver');
    const d = f.deliver.deliveries[0]!;
    expect([d.subscription_id, d.delivery_count, d.message?.address, d.message?.id]).toEqual([
      4,
      2,
      'q',
      'i',
    ]);
    expect(d.message?.properties).toEqual({ k: { int_value: -2 } });
    // Only an unknown kind: ignored by the caller (native.proto evolution), not an error.
    expect(decodeFrame(Uint8Array.from([0xba, 0x3e, 0x00])).kind).toBeUndefined();
  });

  it('refuse a known field with the wrong wire type, a length past its message, a truncated varint', () => {
    const code = (bytes: number[]) => {
      try {
        decodeFrame(Uint8Array.from(bytes));
      } catch (e) {
        return isClientError(e) ? e.code : 'not a ClientError';
      }
      return 'decoded';
    };
    expect(code([0xc2, 0x01, 0x02, 0x08, 0x01])).toBe('PROTOCOL'); // Deliver.deliveries as a varint
    expect(code([0xc2, 0x01, 0x03, 0x0a, 0x05, 0x08])).toBe('PROTOCOL'); // Delivery longer than Deliver
    expect(code([0xc2, 0x01, 0x04, 0x0a, 0x02, 0x10, 0xff])).toBe('PROTOCOL'); // tag varint cut short
    expect(code([0x2a, 0x02, 0x12, 0x05])).toBe('PROTOCOL'); // an id longer than the Ok
    expect(code([0x2a, 0x02, 0x08, 0x01])).toBe('decoded');
  });
});

describe('fuzzing the hand-written decoders', () => {
  const seeds: Uint8Array[] = [
    referenceBytes({
      deliver: {
        deliveries: [
          {
            subscription_id: 3,
            tag: 2 ** 40,
            redelivered: true,
            delivery_count: 2,
            message: {
              address: 'queue://ü',
              body: new Uint8Array([1, 2, 3]),
              priority: 0,
              expiration: 99,
              id: 'ID:1',
              properties: {
                s: { string_value: 'x' },
                d: { double_value: 1.5 },
                i: { int_value: -7 },
                b: { bool_value: true },
                n: { null_value: true },
              },
            },
          },
          { subscription_id: 3, tag: 2, message: { address: 'queue://ü', body: new Uint8Array(40) } },
        ],
      },
    }),
    referenceBytes({ ok: { request_id: 300, message_ids: ['ID:a', '', 'ID:ü'] } }),
  ];

  it('raise only the PROTOCOL error on mutated or truncated hot frames', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        (seed, flips, cut) => {
          const bytes = Uint8Array.from(seed);
          for (const [i, v] of flips) bytes[i % bytes.length] = v;
          protocolErrorOrNothing(() => decodeFrame(bytes));
          protocolErrorOrNothing(() => decodeFrame(bytes.subarray(0, cut % (bytes.length + 1))));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('raise only the PROTOCOL error on random bytes inside a Deliver, a Delivery, a Message or an Ok', () => {
    const wrap = (tag: number[], inner: Uint8Array) => {
      const len: number[] = [];
      let n = inner.length;
      while (n >= 0x80) {
        len.push((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      len.push(n);
      return Uint8Array.from([...tag, ...len, ...inner]);
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat({ max: 3 }), (random, depth) => {
        let bytes = random;
        if (depth >= 3) bytes = wrap([0x1a], bytes); // Delivery.message
        if (depth >= 2) bytes = wrap([0x0a], bytes); // Deliver.deliveries
        bytes = depth === 0 ? wrap([0x2a], bytes) : wrap([0xc2, 0x01], bytes);
        protocolErrorOrNothing(() => decodeFrame(bytes));
      }),
      { numRuns: 3000 },
    );
  });
});
