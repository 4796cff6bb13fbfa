/**
 * MqttDecoder buffering: however the bytes are cut into chunks, and whenever next() is called, the same
 * packets come out (or the same error), a packet spanning chunks is copied on its own (the chunks are
 * not concatenated), and a packet over the maximum is refused from its fixed header.
 */
import fc from 'fast-check';
import { generate, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { MqttDecoder, MqttError, RC } from '../../../src/protocol/mqtt/index.js';

const packet: fc.Arbitrary<Packet> = fc.oneof(
  fc
    .record({
      topic: fc.constantFrom('a', 'a/b', 'bench/w3'),
      size: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 100, max: 20_000 })),
      qos: fc.constantFrom(0, 1, 2),
      id: fc.integer({ min: 1, max: 0xffff }),
    })
    .map(
      (p) =>
        ({
          cmd: 'publish',
          topic: p.topic,
          payload: Buffer.alloc(p.size, p.size & 0xff),
          qos: p.qos,
          retain: false,
          dup: false,
          ...(p.qos > 0 ? { messageId: p.id } : {}),
        }) as Packet,
    ),
  fc
    .record({ cmd: fc.constantFrom('puback', 'pubrec', 'pubcomp'), id: fc.integer({ min: 1, max: 0xffff }) })
    .map((a) => ({ cmd: a.cmd, messageId: a.id }) as Packet),
  fc.constant({ cmd: 'pingreq' } as Packet),
);

/** What a packet looks like for comparison (payloads by content). */
function summary(p: Packet): string {
  const x = p as { messageId?: number; topic?: string | null; payload?: Buffer | null };
  const body = x.payload == null ? '' : `${x.payload.length}:${x.payload.subarray(0, 4).toString('hex')}`;
  return `${p.cmd}/${x.messageId ?? ''}/${x.topic ?? ''}/${body}`;
}

/** Decodes `bytes` pushed as `cuts` chunks, calling next() after each push until it gives null. */
function decode(bytes: Buffer, cuts: number[], maxPacketSize = 1 << 20): string[] {
  const d = new MqttDecoder(maxPacketSize);
  const out: string[] = [];
  const bounds = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  try {
    for (const to of [...bounds, bytes.length]) {
      if (to <= from) continue;
      d.push(bytes.subarray(from, to));
      from = to;
      for (let p = d.next(); p !== null; p = d.next()) out.push(summary(p));
    }
    expect(d.buffered).toBe(0);
  } catch (e) {
    out.push(`error ${e instanceof MqttError ? e.reason : String(e)}`);
  }
  return out;
}

describe('MqttDecoder chunking', () => {
  it('yields the same packets for any cut of the stream (property)', () => {
    fc.assert(
      fc.property(
        fc.array(packet, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (packets, cuts) => {
          const bytes = Buffer.concat(packets.map((p) => generate(p)));
          expect(decode(bytes, cuts)).toEqual(packets.map(summary));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses the same bytes the same way for any cut (property, mutated streams)', () => {
    fc.assert(
      fc.property(
        fc.array(packet, { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (packets, mutations, cuts) => {
          const bytes = Buffer.concat(packets.map((p) => generate(p)));
          for (const [at, value] of mutations) bytes[at % bytes.length] = value;
          const whole = decode(bytes, [], 30_000);
          const cut = decode(bytes, cuts, 30_000);
          // Cut into chunks, a stream may end before a packet the whole stream had in full.
          expect(whole.slice(0, cut.length)).toEqual(cut);
          if (cut.at(-1)?.startsWith('error')) expect(whole).toEqual(cut);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('copies a packet that spans chunks on its own: the payload is not a view of a joined read', () => {
    const a = generate({
      cmd: 'publish',
      topic: 't',
      payload: Buffer.alloc(1000, 1),
      qos: 1,
      messageId: 1,
      dup: false,
      retain: false,
    });
    const stream = Buffer.concat([a, a, a]);
    const d = new MqttDecoder(1 << 20);
    // The second packet is split between two "socket reads" of 1,500 bytes and the rest.
    d.push(stream.subarray(0, 1500));
    d.push(stream.subarray(1500));
    const got = [d.next(), d.next(), d.next(), d.next()];
    expect(got.map((p) => p?.cmd ?? null)).toEqual(['publish', 'publish', 'publish', null]);
    const second = (got[1] as { payload: Buffer }).payload;
    // Its own ArrayBuffer, holding just that packet.
    expect(second.buffer.byteLength).toBe(a.length);
    expect(second.equals(Buffer.alloc(1000, 1))).toBe(true);
  });

  it('refuses a packet over the maximum once its fixed header is in, across chunks (0x95)', () => {
    const d = new MqttDecoder(100);
    d.push(Buffer.from([0x30]));
    expect(d.next()).toBeNull();
    d.push(Buffer.from([0xff]));
    expect(d.next()).toBeNull();
    d.push(Buffer.from([0x7f]));
    expect(() => d.next()).toThrow(expect.objectContaining({ reason: RC.PACKET_TOO_LARGE }));
  });
});
