/**
 * The hand-written PUBLISH paths (decoder fast path, shared QoS 0 encoding) against mqtt-packet, which
 * stays the reference: every PUBLISH the fast path accepts must decode exactly as mqtt-packet decodes it,
 * and everything it declines must still reach mqtt-packet.
 */
import fc from 'fast-check';
import { generate, type IPublishPacket, parser } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../../src/core/message.js';
import { MqttDecoder, MqttError } from '../../../src/protocol/mqtt/index.js';
import { sharedQos0Publish } from '../../../src/protocol/mqtt/message-out.js';

function reference(bytes: Buffer, version: 4 | 5): IPublishPacket | Error {
  const p = parser({ protocolVersion: version });
  let out: IPublishPacket | Error = new Error('incomplete');
  p.on('packet', (x) => {
    out = x as IPublishPacket;
  });
  p.on('error', (e) => {
    out = e;
  });
  p.parse(bytes);
  return out;
}

function decodeOne(bytes: Buffer, version: 4 | 5): IPublishPacket | Error {
  const d = new MqttDecoder(1 << 20);
  d.version = version;
  d.push(bytes);
  try {
    return d.next() as IPublishPacket;
  } catch (e) {
    return e as Error;
  }
}

function fields(p: IPublishPacket) {
  return {
    cmd: p.cmd,
    topic: p.topic,
    qos: p.qos,
    dup: p.dup,
    retain: p.retain,
    messageId: p.qos > 0 ? p.messageId : undefined,
    payload: Buffer.from(p.payload as Buffer).toString('hex'),
    properties: p.properties,
  };
}

const publishArb = fc.record({
  topic: fc.string({ maxLength: 40 }),
  payload: fc.uint8Array({ maxLength: 300 }),
  qos: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
  messageId: fc.integer({ min: 1, max: 0xffff }),
  dup: fc.boolean(),
  retain: fc.boolean(),
  version: fc.constantFrom(4, 5) as fc.Arbitrary<4 | 5>,
  withProps: fc.boolean(),
});

describe('PUBLISH decoder fast path', () => {
  it('decodes well-formed PUBLISHes exactly as mqtt-packet does (3.1.1 and 5, with and without properties)', () => {
    fc.assert(
      fc.property(publishArb, (a) => {
        const packet = {
          cmd: 'publish' as const,
          topic: a.topic,
          payload: Buffer.from(a.payload),
          qos: a.qos,
          messageId: a.messageId,
          dup: a.dup,
          retain: a.retain,
          ...(a.version === 5 && a.withProps
            ? { properties: { contentType: 'text/plain', userProperties: { k: 'v' } } }
            : {}),
        };
        const bytes = generate(packet, { protocolVersion: a.version });
        const want = reference(bytes, a.version);
        const got = decodeOne(bytes, a.version);
        expect(want).not.toBeInstanceOf(Error);
        expect(fields(got as IPublishPacket)).toEqual(fields(want as IPublishPacket));
      }),
      { numRuns: 300 },
    );
  });

  it('accepts or refuses mutated PUBLISHes as mqtt-packet does', () => {
    fc.assert(
      fc.property(publishArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (a, at, byte) => {
        const bytes = Buffer.from(
          generate(
            {
              cmd: 'publish',
              topic: a.topic,
              payload: Buffer.from(a.payload),
              qos: a.qos,
              messageId: a.messageId,
              dup: a.dup,
              retain: a.retain,
            },
            { protocolVersion: a.version },
          ),
        );
        // Mutate the flags or the variable header, keeping the frame length (the decoder frames first).
        const i = at % bytes.length;
        if (i === 0) bytes[0] = 0x30 | (byte & 0x0f);
        else if (i > 1) bytes[i] = byte;
        else return;
        const want = reference(bytes, a.version);
        const got = decodeOne(bytes, a.version);
        if (want instanceof Error) {
          expect(got).toBeInstanceOf(MqttError);
        } else {
          expect(got).not.toBeInstanceOf(Error);
          expect(fields(got as IPublishPacket)).toEqual(fields(want));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('hands out the payload as a slice of the received bytes, not a copy', () => {
    const bytes = generate({
      cmd: 'publish',
      topic: 't',
      payload: Buffer.from('hello'),
      qos: 0,
      dup: false,
      retain: false,
    });
    const p = decodeOne(bytes, 4) as IPublishPacket;
    expect((p.payload as Buffer).buffer).toBe(bytes.buffer);
  });

  it('decodes repeated and changing topics right on one connection, whatever happens to earlier reads', () => {
    // The decoder remembers the last topic's bytes: a topic that differs in one byte, a prefix, the same
    // length, or a read buffer reused afterwards must never give back the remembered name by mistake.
    const topicArb = fc.constantFrom(
      'a/b',
      'a/c',
      'a/bc',
      'a',
      'b/b',
      'é/ü',
      'x'.repeat(300),
      'x'.repeat(299) + 'y',
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(topicArb, fc.constantFrom(0, 1) as fc.Arbitrary<0 | 1>), { maxLength: 12 }),
        (list) => {
          const d = new MqttDecoder(1 << 20);
          d.version = 4;
          for (const [topic, qos] of list) {
            const bytes = generate({
              cmd: 'publish',
              topic,
              payload: Buffer.from('p'),
              qos,
              messageId: 7,
              dup: false,
              retain: false,
            });
            d.push(bytes);
            const p = d.next() as IPublishPacket;
            expect(p.topic).toBe(topic);
            bytes.fill(0x41);
          }
        },
      ),
    );
  });
});

describe('ack decoder fast path', () => {
  it('decodes 4-byte PUBACK/PUBREC/PUBREL/PUBCOMP as mqtt-packet does, and leaves bad flags to it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0x40, max: 0x7f }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.constantFrom(4, 5) as fc.Arbitrary<4 | 5>,
        (first, id, version) => {
          const bytes = Buffer.from([first, 2, id >> 8, id & 0xff]);
          const want = reference(bytes, version) as unknown as Error | Record<string, unknown>;
          const got = decodeOne(bytes, version) as unknown as Error | Record<string, unknown>;
          if (want instanceof Error) {
            expect(got).toBeInstanceOf(MqttError);
            return;
          }
          expect(got).not.toBeInstanceOf(Error);
          const pick = (p: Record<string, unknown>) => ({
            cmd: p['cmd'],
            messageId: p['messageId'],
            reasonCode: p['reasonCode'],
          });
          expect(pick(got as Record<string, unknown>)).toEqual(pick(want));
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('shared QoS 0 PUBLISH bytes', () => {
  const message = (body: string): Message => ({
    id: body,
    address: 'topic://a.b',
    body: Buffer.from(body),
    properties: {},
    persistent: false,
    priority: 4,
    expiration: 0,
    timestamp: 0,
  });

  it('encodes a message once per flavour and RETAIN flag, and the bytes are the PUBLISH', () => {
    const m = message('x');
    const a = sharedQos0Publish(m, false, 4);
    expect(sharedQos0Publish(m, false, 3)).toBe(a);
    expect(sharedQos0Publish(m, false, 4)).toBe(a);
    const retained = sharedQos0Publish(m, true, 4);
    expect(retained).not.toBe(a);
    const v5 = sharedQos0Publish(m, false, 5);
    expect(fields(reference(Buffer.from(a), 4) as IPublishPacket)).toMatchObject({
      topic: 'a/b',
      qos: 0,
      retain: false,
      payload: Buffer.from('x').toString('hex'),
    });
    expect(fields(reference(Buffer.from(v5), 5) as IPublishPacket)).toMatchObject({ topic: 'a/b', qos: 0 });
    expect(sharedQos0Publish(message('y'), false, 4)).not.toBe(a);
  });
});
