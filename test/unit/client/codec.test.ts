import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, FrameDecoder } from '../../../src/client/codec/codec.js';
import { isClientError } from '../../../src/client/codec/errors.js';
import type { Frame } from '../../../src/client/codec/frames.js';
import { loadProto } from '../../../src/util/proto.js';

const Reference = loadProto('blaze/v1/native.proto').lookupType('blaze.v1.Frame');

const sample: Frame = {
  deliver: {
    deliveries: [
      {
        subscription_id: 7,
        tag: 2 ** 40 + 1,
        redelivered: true,
        delivery_count: 2,
        message: {
          address: 'queue://orders',
          body: new Uint8Array([0, 1, 255]),
          persistent: true,
          priority: 0,
          expiration: 1_700_000_000_000,
          properties: { n: { int_value: -(2 ** 50) }, s: { string_value: 'x' }, z: { null_value: true } },
          id: 'm-1',
        },
      },
    ],
  },
};

describe('native codec', () => {
  it('writes a 4-byte big-endian length then the Frame, byte-identical to protobufjs from the .proto file', () => {
    const bytes = encodeFrame(sample);
    const body = bytes.subarray(4);
    expect(new DataView(bytes.buffer).getUint32(0, false)).toBe(body.length);
    const reference = Reference.encode(
      Reference.fromObject(sample as unknown as Record<string, unknown>),
    ).finish();
    expect(Buffer.from(body).equals(Buffer.from(reference))).toBe(true);
  });

  it('round-trips 64-bit fields as numbers, keeps priority 0 (proto3 optional) and binary bodies', () => {
    const f = decodeFrame(encodeFrame(sample).subarray(4)) as { kind: string } & typeof sample;
    expect(f.kind).toBe('deliver');
    const d = f.deliver.deliveries![0]!;
    expect(d.tag).toBe(2 ** 40 + 1);
    expect(d.message!.priority).toBe(0);
    expect(d.message!.expiration).toBe(1_700_000_000_000);
    expect(Array.from(d.message!.body!)).toEqual([0, 1, 255]);
    expect(d.message!.properties!.n).toMatchObject({ int_value: -(2 ** 50) });
  });

  it('leaves priority absent when the sender did not set it', () => {
    const f = decodeFrame(encodeFrame({ send: { message: { address: 'queue://a' } } }).subarray(4)) as {
      send: { message: { priority?: number } };
    };
    expect(f.send.message.priority).toBeUndefined();
  });

  it('skips unknown fields and reports an unknown frame kind as undefined (native.proto evolution)', () => {
    const w = protobuf.Writer.create();
    w.uint32((999 << 3) | 2).bytes(new Uint8Array([1, 2, 3])); // a future frame kind, field 999
    w.uint32((5 << 3) | 2)
      .fork()
      .uint32(8)
      .uint32(42)
      .uint32((77 << 3) | 0)
      .uint32(1)
      .ldelim(); // Ok + unknown field
    const f = decodeFrame(w.finish()) as { kind: string; ok: { request_id: number } };
    expect(f.kind).toBe('ok');
    expect(f.ok.request_id).toBe(42);
    const w2 = protobuf.Writer.create();
    w2.uint32((999 << 3) | 2).bytes(new Uint8Array([1]));
    expect(decodeFrame(w2.finish()).kind).toBeUndefined();
  });

  it('reassembles frames from any chunking of the stream', () => {
    const frames: Frame[] = [
      sample,
      { ok: { request_id: 1 } },
      { heartbeat: {} },
      { error: { request_id: 3, code: 'FORBIDDEN', message: 'no' } },
    ];
    const stream = Buffer.concat(frames.map(encodeFrame));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 12 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), stream.length];
        const d = new FrameDecoder();
        const out: Uint8Array[] = [];
        for (let i = 1; i < points.length; i++)
          out.push(...d.push(stream.subarray(points[i - 1]!, points[i]!)));
        expect(out.map((b) => decodeFrame(b).kind)).toEqual(['deliver', 'ok', 'heartbeat', 'error']);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a length over the limit before buffering the frame', () => {
    const d = new FrameDecoder(1024);
    const header = new Uint8Array([0, 0, 4, 1]); // 1025
    expect(() => d.push(header)).toThrow(/exceeds the limit 1024/);
  });

  it('random and mutated bytes raise only the typed PROTOCOL error', () => {
    const valid = encodeFrame(sample).subarray(4);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc
            .array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 })
            .map((muts) => {
              const b = Uint8Array.from(valid);
              for (const [i, v] of muts) b[i] = v;
              return b;
            }),
        ),
        (bytes) => {
          try {
            decodeFrame(bytes);
          } catch (e) {
            expect(isClientError(e)).toBe(true);
            expect((e as { code: string }).code).toBe('PROTOCOL');
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
