import fc from 'fast-check';
import { generate, type IPublishPacket, parser } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { encodeAck, encodePublish, MqttDecoder, MqttError, RC } from '../../../src/protocol/mqtt/index.js';

function parseOne(bytes: Buffer, version: 4 | 5): IPublishPacket {
  const p = parser({ protocolVersion: version });
  let out: IPublishPacket | undefined;
  p.on('packet', (x) => {
    out = x as IPublishPacket;
  });
  p.on('error', (e) => {
    throw e;
  });
  p.parse(bytes);
  return out!;
}

describe('MqttDecoder', () => {
  it('reassembles packets split at every byte and yields several from one chunk', () => {
    const a = generate({
      cmd: 'publish',
      topic: 'a/b',
      payload: Buffer.alloc(300, 7),
      qos: 1,
      messageId: 5,
      dup: false,
      retain: false,
    });
    const b = generate({ cmd: 'pingreq' });
    const all = Buffer.concat([a, b, a]);
    for (let cut = 1; cut < all.length; cut += 7) {
      const d = new MqttDecoder(1 << 20);
      d.push(all.subarray(0, cut));
      const got: string[] = [];
      for (let p = d.next(); p !== null; p = d.next()) got.push(p.cmd);
      d.push(all.subarray(cut));
      for (let p = d.next(); p !== null; p = d.next()) got.push(p.cmd);
      expect(got).toEqual(['publish', 'pingreq', 'publish']);
      expect(d.buffered).toBe(0);
    }
  });

  it('refuses a packet over the maximum from its fixed header alone (0x95)', () => {
    const d = new MqttDecoder(100);
    d.push(Buffer.from([0x30, 0xff, 0x7f]));
    expect(() => d.next()).toThrow(expect.objectContaining({ reason: RC.PACKET_TOO_LARGE }));
  });

  it('a Remaining Length over 4 bytes, or a bad packet, is malformed (0x81)', () => {
    const d = new MqttDecoder(1 << 30);
    d.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
    expect(() => d.next()).toThrow(MqttError);
    const e = new MqttDecoder(1 << 20);
    // PUBREL with reserved flags 0 (must be 2) [MQTT-3.6.1-1].
    e.push(Buffer.from([0x60, 2, 0, 1]));
    expect(() => e.next()).toThrow(expect.objectContaining({ reason: RC.MALFORMED_PACKET }));
  });
});

describe('encodePublish (golden: same bytes as mqtt-packet generate)', () => {
  const props = fc.record(
    {
      payloadFormatIndicator: fc.constant(true),
      messageExpiryInterval: fc.integer({ min: 0, max: 0xffffffff }),
      topicAlias: fc.integer({ min: 1, max: 65535 }),
      contentType: fc.string({ maxLength: 20 }),
      responseTopic: fc.string({ minLength: 1, maxLength: 20 }),
      correlationData: fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)),
      userProperties: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }), {
        maxKeys: 3,
      }),
      subscriptionIdentifier: fc.integer({ min: 1, max: 268_435_455 }),
    },
    { requiredKeys: [] },
  );
  it('round-trips through mqtt-packet parser, v4 and v5', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.constantFrom(0, 1, 2),
        fc.boolean(),
        fc.boolean(),
        fc.uint8Array({ maxLength: 300 }),
        props,
        (topic, qos, dup, retain, payload, p) => {
          const packetId = qos > 0 ? 77 : 0;
          const v4 = encodePublish(
            { topic, qos: qos as 0, packetId, dup: qos > 0 && dup, retain, payload },
            4,
          );
          const ref = generate({
            cmd: 'publish',
            topic,
            payload: Buffer.from(payload),
            qos: qos as 0,
            dup: qos > 0 && dup,
            retain,
            ...(qos > 0 ? { messageId: packetId } : {}),
          });
          expect(v4).toEqual(ref);
          const { subscriptionIdentifier, userProperties, ...rest } = p;
          const ours = {
            ...rest,
            ...(userProperties && Object.keys(userProperties).length > 0
              ? { userProperties: Object.entries(userProperties) as Array<[string, string]> }
              : {}),
            ...(subscriptionIdentifier === undefined
              ? {}
              : { subscriptionIdentifiers: [subscriptionIdentifier] }),
          };
          const v5 = encodePublish(
            { topic, qos: qos as 0, packetId, dup: false, retain, payload, properties: ours },
            5,
          );
          const back = parseOne(v5, 5);
          expect(back.topic).toBe(topic);
          expect(Buffer.from(back.payload as Buffer)).toEqual(Buffer.from(payload));
          const want: Record<string, unknown> = { ...rest };
          if (ours.userProperties) want['userProperties'] = userProperties;
          if (subscriptionIdentifier !== undefined) want['subscriptionIdentifier'] = subscriptionIdentifier;
          expect(back.properties ?? {}).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('acks: the 4-byte form, and the reason code form in 5.0', () => {
    expect([...encodeAck('puback', 0x1234)]).toEqual([0x40, 2, 0x12, 0x34]);
    expect([...encodeAck('pubrel', 1)]).toEqual([0x62, 2, 0, 1]);
    expect([...encodeAck('pubrec', 1, 0x87, 5)]).toEqual([0x50, 3, 0, 1, 0x87]);
    expect([...encodeAck('pubcomp', 1, 0x92, 4)]).toEqual([0x70, 2, 0, 1]);
  });

  it('cuts acks one after the other from one slab, so that the acks of a turn merge into one write', () => {
    const a = encodeAck('puback', 1);
    const b = encodeAck('pubrec', 2, 0x87, 5);
    const c = encodeAck('puback', 3);
    expect(b.buffer).toBe(a.buffer);
    expect(c.buffer).toBe(a.buffer);
    expect(b.byteOffset).toBe(a.byteOffset + 4);
    expect(c.byteOffset).toBe(b.byteOffset + 5);
  });
});
