/**
 * Input bounds per event-loop turn (session.ts `countInput`) and payloads copied out of the socket read
 * (decoder.ts `ownPayload`): what keeps a fast publisher's backlog in the kernel instead of the heap.
 */
import { generate } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttDecoder } from '../../../src/protocol/mqtt/index.js';
import { type Broker, flush, startBroker } from './harness.js';

let b: Broker | undefined;
afterEach(() => b?.close());

const publishBytes = (topic: string, payload: Buffer, qos: 0 | 1 = 0, messageId = 1) =>
  generate(
    { cmd: 'publish', topic, payload, qos, dup: false, retain: false, messageId },
    { protocolVersion: 4 },
  );

describe('input per event-loop turn', () => {
  it('stops reading once a turn has brought inputTurnBytes, and reads again on the next turn', async () => {
    b = await startBroker({ inputTurnBytes: 4096 });
    const s = b.client(4);
    await s.connect({ clientId: 's' });
    s.subscribe([{ topic: 't', qos: 0 }]);
    s.read();
    const p = b.client(4);
    await p.connect({ clientId: 'p' });
    const one = publishBytes('t', Buffer.alloc(1000, 1));
    p.sendBytes(Buffer.concat([one, one, one]));
    expect(p.transport.readingPaused).toBe(false);
    // The chunk that crosses the bound is still handled in full: all 5 are delivered.
    p.sendBytes(Buffer.concat([one, one]));
    expect(p.transport.readingPaused).toBe(true);
    expect(s.read()).toHaveLength(5);
    await flush();
    expect(p.transport.readingPaused).toBe(false);
    // A new turn has a new budget.
    p.sendBytes(one);
    expect(p.transport.readingPaused).toBe(false);
  });

  it('handles a single packet larger than the bound, then reads again on the next turn', async () => {
    b = await startBroker({ inputTurnBytes: 4096 });
    const p = b.client(4);
    await p.connect({ clientId: 'p' });
    p.sendBytes(publishBytes('t', Buffer.alloc(5000, 1)));
    expect(p.transport.readingPaused).toBe(true);
    await flush();
    expect(p.transport.readingPaused).toBe(false);
  });
});

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
