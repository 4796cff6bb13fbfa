/**
 * Random and mutated input never crashes a session, never throws out of onData, and never reaches an
 * "unexpected failure" (every rejection is a deliberate MQTT reason code); closing releases the core.
 */
import fc from 'fast-check';
import { generate, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/util/logger.js';
import { flush, startBroker } from './harness.js';

function recordingLogger(errors: unknown[]): Logger {
  const l: Logger = {
    error: (obj) => {
      errors.push(obj);
      if (process.env['FUZZ_DEBUG']) console.log((obj as { err?: Error }).err?.stack ?? obj);
    },
    warn: () => {},
    info: () => {},
    debug: () => {},
    child: () => l,
  };
  return l;
}

const topic = fc.constantFrom('a', 'a/b', 'a/+', '#', '$share/g/a', 'x/y/z', '', '+/#', '$SYS/x');
const qos = fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>;
const id = fc.integer({ min: 1, max: 6 });

const packet: fc.Arbitrary<Packet> = fc.oneof(
  fc
    .record({
      topic,
      payload: fc.string({ maxLength: 10 }),
      qos,
      id,
      retain: fc.boolean(),
      alias: fc.option(fc.integer({ min: 1, max: 3 })),
    })
    .map(
      (p) =>
        ({
          cmd: 'publish',
          topic: p.topic.replace(/[+#]/g, 'w') || 'e',
          payload: p.payload,
          qos: p.qos,
          retain: p.retain,
          dup: false,
          ...(p.qos > 0 ? { messageId: p.id } : {}),
          ...(p.alias === null ? {} : { properties: { topicAlias: p.alias } }),
        }) as Packet,
    ),
  fc.record({ topic, qos, id, nl: fc.boolean(), rh: fc.constantFrom(0, 1, 2) }).map(
    (s) =>
      ({
        cmd: 'subscribe',
        messageId: s.id,
        subscriptions: [
          { topic: s.topic || 'e', qos: s.qos, nl: s.nl && !s.topic.startsWith('$share'), rh: s.rh },
        ],
      }) as Packet,
  ),
  fc
    .record({ topic, id })
    .map((u) => ({ cmd: 'unsubscribe', messageId: u.id, unsubscriptions: [u.topic || 'e'] }) as Packet),
  fc
    .constantFrom('puback', 'pubrec', 'pubrel', 'pubcomp')
    .chain((cmd) => id.map((messageId) => ({ cmd, messageId }) as Packet)),
  fc.constant({ cmd: 'pingreq' } as Packet),
);

describe('fuzz', () => {
  it('random bytes before and after CONNECT', async () => {
    const errors: unknown[] = [];
    const b = await startBroker({}, recordingLogger(errors));
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.boolean(),
          fc.constantFrom(4, 5) as fc.Arbitrary<4 | 5>,
          fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }),
          async (connectFirst, v, chunks) => {
            const c = b.client(v);
            if (connectFirst) await c.connect({ clientId: `f${v}` });
            for (const chunk of chunks) expect(() => c.sendBytes(Buffer.from(chunk))).not.toThrow();
            await flush();
            c.session.onClose();
          },
        ),
        { numRuns: 150 },
      );
      expect(errors).toEqual([]);
      expect(b.core.stats().connections).toEqual([]);
    } finally {
      await b.close();
    }
  });

  it('valid and mutated packet sequences (v4 and v5)', async () => {
    const errors: unknown[] = [];
    const b = await startBroker({ receiveMaximum: 4, topicAliasMaximum: 2 }, recordingLogger(errors));
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(4, 5) as fc.Arbitrary<4 | 5>,
          fc.boolean(),
          fc.array(packet, { maxLength: 25 }),
          fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 3 }),
          async (v, persistent, packets, mutations) => {
            const peer = b.client(4);
            await peer.connect({ clientId: 'peer' });
            peer.subscribe([{ topic: '#', qos: 2 }]);
            const c = b.client(v);
            await c.connect({
              clientId: 'fz',
              clean: !persistent,
              ...(v === 5 && persistent ? { properties: { sessionExpiryInterval: 60 } } : {}),
            });
            const bytes = Buffer.concat(packets.map((p) => generate(p, { protocolVersion: v })));
            for (const [at, value] of mutations) if (bytes.length > 0) bytes[at % bytes.length] = value;
            for (let i = 0; i < bytes.length; i += 13) c.sendBytes(bytes.subarray(i, i + 13));
            peer.publish('a', 'p', { qos: 1 });
            await flush();
            c.read();
            c.session.onClose();
            peer.session.onClose();
            await flush();
          },
        ),
        { numRuns: 150 },
      );
      expect(errors).toEqual([]);
      expect(b.core.stats().connections).toEqual([]);
    } finally {
      await b.close();
    }
  });
});
