import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../../src/core/message.js';
import {
  DeliverBuilder,
  decodeFrame,
  encodeBrowseResult,
  encodeOk,
  FrameReader,
  HEARTBEAT_FRAME,
} from '../../../src/protocol/native/codec/index.js';
import { isBlazeError } from '../../../src/util/errors.js';
import { coreMessage, propertyValue } from '../../helpers/native-arbitraries.js';
import { Frame, frame, parseFrames } from './helpers.js';

/** What protobufjs (defaults off) makes of a message the broker encoded. */
function wireOf(m: Message): Record<string, unknown> {
  const out: Record<string, unknown> = { address: m.address, id: m.id };
  if (m.body.length > 0) out.body = m.body;
  if (m.persistent) out.persistent = true;
  if (m.priority !== 4) out.priority = m.priority;
  if (m.expiration > 0) out.expiration = m.expiration;
  if (m.timestamp > 0) out.timestamp = m.timestamp;
  if (m.correlationId) out.correlation_id = m.correlationId;
  if (m.replyTo) out.reply_to = m.replyTo;
  if (m.groupId) out.group_id = m.groupId;
  if (m.contentType) out.content_type = m.contentType;
  if (m.originalAddress) out.original_address = m.originalAddress;
  const props = wireProps(m.properties);
  if (props !== undefined) out.properties = props;
  return out;
}

function wireProps(properties: Message['properties']): Record<string, unknown> | undefined {
  const props = Object.entries(properties);
  if (props.length > 0) {
    return Object.fromEntries(
      props.map(([k, v]) => [
        k,
        v === null
          ? { null_value: true }
          : typeof v === 'string'
            ? { string_value: v }
            : typeof v === 'boolean'
              ? { bool_value: v }
              : Number.isInteger(v) && Math.abs(v) < 2 ** 52
                ? { int_value: v }
                : { double_value: v },
      ]),
    );
  }
  return undefined;
}

function normalize(v: unknown): unknown {
  // Buffers reach the replacer already turned into {type: 'Buffer', data} by their toJSON.
  return JSON.parse(
    JSON.stringify(v, (_k, x) =>
      x instanceof Uint8Array ? Array.from(x) : x?.type === 'Buffer' && Array.isArray(x.data) ? x.data : x,
    ),
  );
}

describe('FrameReader', () => {
  it('returns frames split anywhere across chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 8 }),
        fc.array(fc.nat({ max: 60 }), { maxLength: 10 }),
        (payloads, cuts) => {
          const stream = Buffer.concat(
            payloads.map((p) => {
              const b = Buffer.alloc(4 + p.length);
              b.writeUInt32BE(p.length, 0);
              b.set(p, 4);
              return b;
            }),
          );
          const reader = new FrameReader(1000);
          const got: number[][] = [];
          let pos = 0;
          for (const c of [...cuts, stream.length]) {
            const end = Math.min(stream.length, pos + c);
            reader.push(stream.subarray(pos, end));
            pos = end;
            for (let f = reader.next(); f !== null; f = reader.next()) got.push(Array.from(f));
          }
          expect(got).toEqual(payloads.map((p) => Array.from(p)));
          expect(reader.buffered).toBe(0);
        },
      ),
    );
  });

  it('refuses an oversized frame as soon as its length is read, before its body arrives', () => {
    const reader = new FrameReader(100);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(101, 0);
    reader.push(head);
    try {
      reader.next();
      expect.unreachable();
    } catch (e) {
      expect(isBlazeError(e) && e.code).toBe('LIMIT_EXCEEDED');
    }
  });

  it('returns a frame inside one chunk as a view of it (zero-copy)', () => {
    const chunk = frame('heartbeat', {});
    const reader = new FrameReader(100);
    reader.push(chunk);
    const f = reader.next()!;
    expect(f.buffer).toBe(chunk.buffer);
  });
});

describe('decodeFrame (hand-written hot frames against protobufjs)', () => {
  it('decodes Send as protobufjs encoded it', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 2 ** 32 - 1 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.boolean(),
        fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }),
        fc.nat({ max: 2 ** 53 - 1 }),
        fc.dictionary(fc.string({ maxLength: 6 }), propertyValue, { maxKeys: 3 }),
        (requestId, body, persistent, priority, sequence, props) => {
          const message: Record<string, unknown> = {
            address: 'queue://q',
            body,
            persistent,
            time_to_live_ms: 5000,
            correlation_id: 'c1',
            properties: wireProps(props) ?? {},
          };
          if (priority !== undefined) message.priority = priority;
          const bytes = frame('send', {
            request_id: requestId,
            message,
            producer_id: 'p',
            sequence,
            tx_id: 't',
          }).subarray(4);
          const f = decodeFrame(bytes);
          expect(f.kind).toBe('send');
          if (f.kind !== 'send') return;
          expect(f.value.request_id).toBe(requestId);
          expect(f.value.sequence).toBe(sequence);
          expect(f.value.producer_id).toBe('p');
          expect(f.value.tx_id).toBe('t');
          const m = f.value.message;
          expect(Array.from(m.body)).toEqual(Array.from(body));
          expect(m.persistent).toBe(persistent);
          expect(m.priority).toBe(priority);
          expect(m.time_to_live_ms).toBe(5000);
          expect(m.correlation_id).toBe('c1');
          expect(normalize(m.properties)).toEqual(normalize(message.properties));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('decodes Ack tags packed and unpacked, SendBatch, Credit and Nack', () => {
    const ack = decodeFrame(
      frame('ack', { request_id: 3, subscription_id: 7, tags: [1, 2, 2 ** 40], up_to: 9 }).subarray(4),
    );
    expect(ack).toEqual({
      kind: 'ack',
      value: { request_id: 3, subscription_id: 7, tags: [1, 2, 2 ** 40], up_to: 9, tx_id: '' },
    });
    // Unpacked: field 3 as three varints (what a proto2 peer may send).
    const unpacked = Buffer.from([0xca, 0x01, 0x08, 0x10, 0x07, 0x18, 0x01, 0x18, 0x02, 0x18, 0x05]);
    const u = decodeFrame(unpacked);
    expect(u.kind === 'ack' && u.value.tags).toEqual([1, 2, 5]);
    const batch = decodeFrame(
      frame('send_batch', {
        request_id: 1,
        messages: [{ address: 'queue://a' }, { address: 'queue://b', body: Buffer.from('x') }],
        first_sequence: 10,
      }).subarray(4),
    );
    expect(batch.kind === 'send_batch' && batch.value.messages.map((m) => m.address)).toEqual([
      'queue://a',
      'queue://b',
    ]);
    expect(decodeFrame(frame('credit', { subscription_id: 2, credit: 50 }).subarray(4))).toEqual({
      kind: 'credit',
      value: { subscription_id: 2, credit: 50 },
    });
    const nack = decodeFrame(frame('nack', { subscription_id: 2, tags: [4] }).subarray(4));
    expect(nack.kind === 'nack' && nack.value.tags).toEqual([4]);
  });

  it('decodes cold frames through protobufjs with defaults filled', () => {
    const c = decodeFrame(frame('connect', { request_id: 1, versions: [1, 2], login: 'a' }).subarray(4));
    expect(c.kind).toBe('connect');
    expect(c.value).toMatchObject({
      request_id: 1,
      versions: [1, 2],
      login: 'a',
      token: '',
      heartbeat_ms: 0,
    });
  });

  it('skips unknown fields and refuses frames of no known kind or sent by brokers only', () => {
    const withUnknown = Buffer.concat([
      Buffer.from([0xf8, 0x07, 0x05]), // field 127, varint 5: a newer peer's field
      frame('credit', { subscription_id: 1, credit: 1 }).subarray(4),
    ]);
    expect(decodeFrame(withUnknown).kind).toBe('credit');
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isBlazeError(e) ? e.code : 'not a BlazeError';
      }
      return 'no error';
    };
    expect(code(() => decodeFrame(Buffer.from([0xf8, 0x07, 0x05])))).toBe('PROTOCOL');
    expect(code(() => decodeFrame(frame('ok', { request_id: 1 }).subarray(4)))).toBe('PROTOCOL');
    expect(code(() => decodeFrame(new Uint8Array(0)))).toBe('PROTOCOL');
  });

  it('never throws anything but a PROTOCOL BlazeError on random or mutated bytes', () => {
    const seeds = [
      frame('send', { request_id: 1, message: { address: 'queue://a', body: Buffer.alloc(20, 1) } }),
      frame('ack', { subscription_id: 1, tags: [1, 2, 3] }),
      frame('connect', { versions: [1], login: 'x' }),
      frame('subscribe', { subscription_id: 1, address: 'topic://t', credit: 10 }),
      frame('xa_start', { xid: { format_id: 1, global_transaction_id: Buffer.from('g') }, tx_id: 'x' }),
    ].map((b) => b.subarray(4));
    const check = (bytes: Uint8Array) => {
      try {
        decodeFrame(bytes);
      } catch (e) {
        if (!isBlazeError(e) || e.code !== 'PROTOCOL') throw e;
      }
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => check(bytes)),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (seed, flips, cut) => {
          const bytes = Uint8Array.from(seed);
          for (const [i, v] of flips) bytes[i % bytes.length] = v;
          check(bytes);
          check(bytes.subarray(0, cut % (bytes.length + 1)));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('encoders (hand-written, decoded by protobufjs)', () => {
  it('Deliver carries every message field as protobufjs reads it', () => {
    fc.assert(
      fc.property(fc.array(coreMessage, { minLength: 1, maxLength: 5 }), fc.boolean(), (messages, red) => {
        const b = new DeliverBuilder();
        messages.forEach((m, i) => {
          b.add(i + 1, 100 + i, m, red, red ? 2 : 1);
        });
        // A message delivered twice in a row (topic fan-out) is copied, not re-encoded.
        b.add(99, 1, messages[0]!, false, 1);
        const expectedSize = b.frameSize;
        const out = b.finish();
        expect(out.length).toBe(expectedSize);
        const [f] = parseFrames(out);
        expect(f!.kind).toBe('deliver');
        const ds = f!.deliver.deliveries;
        expect(ds).toHaveLength(messages.length + 1);
        messages.forEach((m, i) => {
          expect(ds[i].subscription_id).toBe(i + 1);
          expect(ds[i].tag).toBe(100 + i);
          expect(ds[i].redelivered ?? false).toBe(red);
          expect(normalize(ds[i].message)).toEqual(normalize(wireOf(m)));
        });
        expect(normalize(ds[messages.length].message)).toEqual(normalize(wireOf(messages[0]!)));
      }),
      { numRuns: 300 },
    );
  });

  it('Ok, Heartbeat and BrowseResult', () => {
    for (const id of [0, 1, 127, 128, 2 ** 32 - 1]) {
      expect(parseFrames(encodeOk(id))).toEqual([{ kind: 'ok', ok: id === 0 ? {} : { request_id: id } }]);
    }
    expect(parseFrames(HEARTBEAT_FRAME)).toEqual([{ kind: 'heartbeat', heartbeat: {} }]);
    const m: Message = {
      id: 'ID:1',
      address: 'queue://a',
      body: Buffer.from('hi'),
      properties: {},
      persistent: true,
      priority: 0,
      expiration: 0,
      timestamp: 5,
    };
    const [br] = parseFrames(encodeBrowseResult(4, [m, { ...m, id: 'ID:2' }]));
    expect(br!.browse_result.request_id).toBe(4);
    expect(
      br!.browse_result.messages.map((x: { id: string; priority: number }) => [x.id, x.priority]),
    ).toEqual([
      ['ID:1', 0],
      ['ID:2', 0],
    ]);
    void Frame;
  });
});
