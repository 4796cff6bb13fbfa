import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  messageToJson,
  parseSendRequest,
  utf8OrUndefined,
} from '../../../src/admin/management/message-json.js';
import type { Message } from '../../../src/core/index.js';
import { HttpError } from '../../../src/protocol/http/errors.js';

function message(body: Uint8Array, extra: Partial<Message> = {}): Message {
  return {
    id: 'ID:t:1',
    address: 'queue://q',
    body,
    properties: { a: 1, b: 'x', c: true, d: null },
    persistent: true,
    priority: 7,
    expiration: 0,
    timestamp: 1000,
    ...extra,
  };
}

const status = (f: () => unknown): number => {
  try {
    f();
  } catch (e) {
    if (e instanceof HttpError) return e.status;
    if ((e as { code?: string }).code === 'INVALID_ADDRESS') return 400;
    throw e;
  }
  return 0;
};

describe('messageToJson', () => {
  it('shows a UTF-8 body as text with all headers', () => {
    const j = messageToJson(
      message(Buffer.from('héllo'), { correlationId: 'c', replyTo: 'queue://r', groupId: 'g' }),
      2,
      true,
    );
    expect(j).toEqual({
      id: 'ID:t:1',
      address: 'queue://q',
      body: 'héllo',
      properties: { a: 1, b: 'x', c: true, d: null },
      persistent: true,
      priority: 7,
      timestamp: 1000,
      expiration: 0,
      correlationId: 'c',
      replyTo: 'queue://r',
      groupId: 'g',
      deliveryCount: 2,
      redelivered: true,
    });
  });

  it('shows a body that is not valid UTF-8 as base64', () => {
    const j = messageToJson(message(new Uint8Array([0xff, 0xfe, 0x00])), 0, false);
    expect(j).toMatchObject({ body: '//4A', bodyEncoding: 'base64', correlationId: null, replyTo: null });
  });

  it('uses only the slice of a shared buffer', () => {
    const big = Buffer.from('xxhelloxx');
    expect(messageToJson(message(big.subarray(2, 7)), 0, false).body).toBe('hello');
    const bin = new Uint8Array([1, 0xff, 2, 3]);
    expect(messageToJson(message(bin.subarray(1, 3)), 0, false).body).toBe(
      Buffer.from([0xff, 2]).toString('base64'),
    );
  });
});

describe('parseSendRequest', () => {
  it('builds a MessageInit from the fields', () => {
    const init = parseSendRequest(
      {
        body: 'hi',
        properties: { n: 1.5, s: 's', b: false, z: null },
        persistent: true,
        priority: 9,
        timeToLive: 500,
        correlationId: 'c',
        replyTo: 'queue://r',
        groupId: 'g',
        contentType: 'text/plain',
      },
      'queue://q',
      10_000,
    );
    expect(Buffer.from(init.body).toString()).toBe('hi');
    expect(init).toMatchObject({
      address: 'queue://q',
      properties: { n: 1.5, s: 's', b: false, z: null },
      persistent: true,
      priority: 9,
      expiration: 10_500,
      correlationId: 'c',
      replyTo: 'queue://r',
      groupId: 'g',
      contentType: 'text/plain',
    });
  });

  it('decodes a base64 body', () => {
    const init = parseSendRequest({ body: '//4A', bodyEncoding: 'base64' }, 'queue://q', 0);
    expect([...init.body]).toEqual([0xff, 0xfe, 0]);
  });

  it('refuses bad input with a 400', () => {
    const bad: unknown[] = [
      null,
      [],
      'text',
      {},
      { body: 1 },
      { body: 'x', extra: 1 },
      { body: 'x', bodyEncoding: 'hex' },
      { body: '!!', bodyEncoding: 'base64' },
      { body: 'x', priority: 10 },
      { body: 'x', priority: 1.5 },
      { body: 'x', persistent: 'yes' },
      { body: 'x', properties: [] },
      { body: 'x', properties: { o: {} } },
      { body: 'x', properties: { '': 1 } },
      { body: 'x', expiration: -1 },
      { body: 'x', expiration: 5, timeToLive: 5 },
      { body: 'x', timeToLive: 'soon' },
      { body: 'x', correlationId: 3 },
      { body: 'x', replyTo: 'nowhere' },
      // The limits of every HTTP way in (protocol/http/v1/message-json.ts parseProperties).
      { body: 'x', properties: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`p${i}`, i])) },
      { body: 'x', properties: { ['n'.repeat(257)]: 1 } },
      { body: 'x', properties: { 'a\nb': 1 } },
    ];
    for (const b of bad)
      expect(
        status(() => parseSendRequest(b, 'queue://q', 0)),
        JSON.stringify(b),
      ).toBe(400);
  });

  it('round-trips any body and properties through browse JSON and send (property)', () => {
    const prop = fc.oneof(
      fc.string(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.dictionary(fc.string({ minLength: 1 }), prop),
        fc.integer({ min: 0, max: 9 }),
        (body, properties, priority) => {
          const shown = messageToJson(message(body, { properties, priority }), 0, false);
          const wire = JSON.parse(JSON.stringify(shown)) as Record<string, unknown>;
          const back = parseSendRequest(
            {
              body: wire['body'],
              ...(wire['bodyEncoding'] ? { bodyEncoding: wire['bodyEncoding'] } : {}),
              properties: wire['properties'],
              priority: wire['priority'],
            },
            'queue://q',
            0,
          );
          expect([...back.body]).toEqual([...body]);
          expect(back.properties).toEqual(JSON.parse(JSON.stringify(properties)));
          expect(back.priority).toBe(priority);
        },
      ),
    );
  });

  it('never throws anything but a 400 on arbitrary JSON (fuzz)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        const s = status(() => parseSendRequest(json, 'queue://q', 0));
        expect([0, 400]).toContain(s);
      }),
    );
  });
});

describe('utf8OrUndefined', () => {
  it('accepts exactly the valid UTF-8 byte strings (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(utf8OrUndefined(Buffer.from(s, 'utf8'))).toBe(s);
      }),
    );
    expect(utf8OrUndefined(new Uint8Array([0xc3]))).toBeUndefined();
  });
});
