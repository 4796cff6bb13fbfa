/**
 * Payloads copied out of the socket read (decoder.ts `ownPayload`), so that a buffered message does not
 * pin a whole 64 KiB read. (The per-turn input bound is the transport's: test/unit/net/input-turn-limit.)
 */
import { generate } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { MqttDecoder } from '../../../src/protocol/mqtt/index.js';

const publishBytes = (topic: string, payload: Buffer, qos: 0 | 1 = 0, messageId = 1) =>
  generate(
    { cmd: 'publish', topic, payload, qos, dup: false, retain: false, messageId },
    { protocolVersion: 4 },
  );

describe('payloads do not pin the socket read they came in', () => {
  const decodeFrom = (chunk: Buffer) => {
    const d = new MqttDecoder(1 << 20);
    d.push(chunk);
    const packet = d.next();
    if (packet?.cmd !== 'publish') throw new Error('expected a PUBLISH');
    return packet.payload as Buffer;
  };

  it('copies a small payload out of a large read, with the same bytes', () => {
    const packet = publishBytes('a/b', Buffer.from('hello'));
    const read = Buffer.alloc(64 * 1024);
    packet.copy(read);
    const payload = decodeFrom(read.subarray(0, packet.length));
    expect(payload.toString()).toBe('hello');
    expect(payload.buffer).not.toBe(read.buffer);
    // Changing the read buffer (Node may reuse or free it) does not change the message.
    read.fill(0);
    expect(payload.toString()).toBe('hello');
  });

  it('keeps a payload that fills most of its buffer as a view (no copy of large messages)', () => {
    const packet = publishBytes('a', Buffer.alloc(50_000, 7));
    const payload = decodeFrom(packet);
    expect(payload.buffer).toBe(packet.buffer);
    expect(payload.length).toBe(50_000);
  });

  it('copies on the mqtt-packet path too (MQTT 5 PUBLISH with properties)', () => {
    const d = new MqttDecoder(1 << 20);
    d.version = 5;
    const packet = generate(
      {
        cmd: 'publish',
        topic: 't',
        payload: Buffer.from('v5'),
        qos: 0,
        dup: false,
        retain: false,
        properties: { contentType: 'text/plain' },
      },
      { protocolVersion: 5 },
    );
    const read = Buffer.alloc(64 * 1024);
    packet.copy(read);
    d.push(read.subarray(0, packet.length));
    const p = d.next();
    if (p?.cmd !== 'publish') throw new Error('expected a PUBLISH');
    expect(String(p.payload)).toBe('v5');
    expect((p.payload as Buffer).buffer).not.toBe(read.buffer);
  });
});
