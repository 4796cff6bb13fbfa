/**
 * The byte writers of the MESSAGE hot path must produce exactly what the string-based codec does, and
 * a MESSAGE must never outgrow the bound reserved for it (it would overwrite the next frame in a slab).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../../src/core/api.js';
import type { Message } from '../../../src/core/message.js';
import { parseAckIndex } from '../../../src/protocol/stomp/ack-id.js';
import { escapeHeader, escapeHeaderName } from '../../../src/protocol/stomp/codec/escape.js';
import {
  textBound,
  writeBase36,
  writeEscaped,
  writeNumber,
} from '../../../src/protocol/stomp/codec/writer.js';
import { StompDecoder, type StompVersion } from '../../../src/protocol/stomp/index.js';
import { destinationLine, messageBound, writeMessage } from '../../../src/protocol/stomp/message-out.js';

const VERSIONS: StompVersion[] = ['1.0', '1.1', '1.2'];
const text = fc.string({
  unit: fc.constantFrom('a', 'Z', '0', ':', '\\', '\n', '\r', ' ', 'é', '€', '😀', '\0'),
});
const written = (f: (buf: Buffer, off: number) => number): string => {
  const buf = Buffer.alloc(4096, 0xff);
  const end = f(buf, 7);
  return buf.toString('utf8', 7, end);
};

describe('writers', () => {
  it('writeNumber and writeBase36 write String(n) and n.toString(36)', () => {
    const edges = [0, 9, 10, 35, 36, 2 ** 31 - 1, 2 ** 31, 1e9, 1_700_000_000_123, Number.MAX_SAFE_INTEGER];
    for (const n of edges) {
      expect(written((b, o) => writeNumber(b, o, n))).toBe(String(n));
      expect(written((b, o) => writeBase36(b, o, n))).toBe(n.toString(36));
    }
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        expect(written((b, o) => writeNumber(b, o, n))).toBe(String(n));
        expect(written((b, o) => writeBase36(b, o, n))).toBe(n.toString(36));
      }),
    );
    for (const n of [-1, 1.5, Number.NaN, 1e300])
      expect(written((b, o) => writeNumber(b, o, n))).toBe(String(n));
  });

  it('writeEscaped matches escapeHeader / escapeHeaderName and stays within textBound', () => {
    fc.assert(
      fc.property(text, fc.constantFrom(...VERSIONS), fc.boolean(), (s, version, name) => {
        const buf = Buffer.alloc(textBound(s) + 8, 0xff);
        const end = writeEscaped(buf, 3, s, version, name);
        const expected = name ? escapeHeaderName(s, version) : escapeHeader(s, version);
        expect(buf.toString('utf8', 3, end)).toBe(expected);
        expect(end - 3).toBeLessThanOrEqual(textBound(s));
      }),
    );
  });
});

describe('MESSAGE writer', () => {
  const message = fc.record({
    id: text,
    body: fc.uint8Array({ maxLength: 64 }),
    priority: fc.integer({ min: 0, max: 9 }),
    expiration: fc.oneof(fc.constant(0), fc.maxSafeNat()),
    timestamp: fc.maxSafeNat(),
    persistent: fc.boolean(),
    correlationId: fc.option(text, { nil: undefined }),
    groupId: fc.option(text, { nil: undefined }),
    contentType: fc.option(text, { nil: undefined }),
    properties: fc.dictionary(
      text.filter((k) => k !== '__proto__'),
      fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null)),
      { maxKeys: 4 },
    ),
  });

  it('stays within messageBound and decodes back to the same headers, for any content', () => {
    fc.assert(
      fc.property(
        message,
        fc.constantFrom(...VERSIONS),
        fc.nat({ max: 50 }),
        fc.maxSafeNat(),
        fc.option(text, { nil: undefined }),
        (m, version, index, tag, replyTo) => {
          const msg: Message = { ...m, address: 'queue://q' };
          const delivery: Delivery = { tag, message: msg, redelivered: tag % 2 === 0, deliveryCount: 1 };
          const ackIndex = version === '1.2' ? index : -1;
          const target = {
            headBytes: Buffer.from(`MESSAGE\nsubscription:${escapeHeader('s:1', version)}\nmessage-id:`),
            ackIndex,
          };
          const dest = destinationLine(escapeHeader('/queue/q', version), ackIndex);
          const reply = replyTo === undefined ? undefined : escapeHeader(replyTo, version);
          const bound = messageBound(target, dest, reply, delivery);
          const buf = Buffer.alloc(bound + 10, 0xee);
          const end = writeMessage(buf, 5, target, dest, reply, delivery, version);
          expect(end - 5).toBeLessThanOrEqual(bound);
          expect(buf[end]).toBe(0xee);

          const decoder = new StompDecoder({ version });
          decoder.push(buf.subarray(5, end));
          const f = decoder.next()!;
          expect(f.command).toBe('MESSAGE');
          expect(decoder.next()).toBeNull();
          const h = f.headers;
          if (version === '1.2') {
            // 1.0 cannot carry line breaks and 1.1 has no escape for CR: only 1.2 round-trips any text.
            expect(h['subscription']).toBe('s:1');
            expect(h['message-id']).toBe(m.id);
            if (m.correlationId !== undefined) expect(h['correlation-id']).toBe(m.correlationId);
            if (replyTo !== undefined) expect(h['reply-to']).toBe(replyTo);
          }
          expect(h['destination']).toBe('/queue/q');
          expect(h['ack']).toBe(ackIndex >= 0 ? `${index.toString(36)}-${tag.toString(36)}` : undefined);
          expect(h['priority']).toBe(String(m.priority));
          expect(h['expires']).toBe(String(m.expiration));
          expect(h['timestamp']).toBe(String(m.timestamp));
          expect(h['content-length']).toBe(String(m.body.length));
          expect(h['persistent']).toBe(m.persistent ? 'true' : undefined);
          expect([...f.body]).toEqual([...m.body]);
        },
      ),
    );
  });

  it('message ids sharing a prefix, then a different prefix or version, are all written right', () => {
    const target = { headBytes: Buffer.from('MESSAGE\nmessage-id:'), ackIndex: -1 };
    const dest = destinationLine('/queue/q', -1);
    const ids = ['ID:a:1', 'ID:a:2', 'ID:b:3', 'x', 'ID:b:4', 'ID:b:4'];
    for (const version of ['1.2', '1.0', '1.2'] as const) {
      for (const id of ids) {
        const msg: Message = {
          id,
          address: 'queue://q',
          body: new Uint8Array(0),
          properties: {},
          persistent: false,
          priority: 4,
          expiration: 0,
          timestamp: 1,
        };
        const d: Delivery = { tag: 1, message: msg, redelivered: false, deliveryCount: 1 };
        const buf = Buffer.alloc(messageBound(target, dest, undefined, d));
        const end = writeMessage(buf, 0, target, dest, undefined, d, version);
        const decoder = new StompDecoder({ version: '1.0' });
        decoder.push(buf.subarray(0, end));
        expect(decoder.next()!.headers['message-id']).toBe(escapeHeader(id, version));
      }
    }
  });
});

describe('ack ids', () => {
  it('parseAckIndex accepts what encodeAckId makes and nothing else', () => {
    const tag = [0];
    expect(parseAckIndex('3-1z', tag)).toBe(3);
    expect(tag[0]).toBe(71);
    for (const bad of [
      '',
      '-',
      '1-',
      '-1',
      '1-A',
      '1--2',
      'a-b-c',
      '123456789012-1',
      '1-123456789012',
      ' 1-2',
    ]) {
      expect(parseAckIndex(bad, tag)).toBe(-1);
    }
  });
});
