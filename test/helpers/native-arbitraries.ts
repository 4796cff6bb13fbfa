/**
 * fast-check arbitraries for the native protocol's codecs, shared by the broker's (test/unit/native) and
 * the client's (test/unit/client) property tests, which both cross-check against protobufjs.
 */
import fc from 'fast-check';
import type { Message } from '../../src/core/message.js';

/** ASCII, any Unicode (lone surrogates included), and strings past 127 UTF-8 bytes (two-byte lengths). */
export const text = (minLength = 0) =>
  fc.oneof(
    fc.string({ minLength }),
    fc.string({ unit: 'grapheme', minLength }),
    fc.string({ unit: 'binary', minLength }),
    fc.string({ minLength: Math.max(minLength, 100), maxLength: 300 }),
  );

/** Property values, with the integer and double edges of the Value encoding. */
export const propertyValue = fc.oneof(
  text(),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(0, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 52, -(2 ** 52), 2 ** 53 - 1, -(2 ** 53) + 1),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.constant(null),
);

/** A core message as the broker delivers it. */
export const coreMessage: fc.Arbitrary<Message> = fc.record({
  id: text(1),
  address: fc.constantFrom(
    'queue://a',
    'topic://prices.eur',
    'queue://ünïcode',
    `queue://${'x'.repeat(140)}`,
  ),
  body: fc.uint8Array({ maxLength: 300 }),
  properties: fc.dictionary(text(), propertyValue, { maxKeys: 4 }),
  persistent: fc.boolean(),
  priority: fc.integer({ min: 0, max: 9 }),
  expiration: fc.nat(),
  timestamp: fc.nat(),
  correlationId: fc.option(text(1), { nil: undefined }),
  replyTo: fc.option(text(1), { nil: undefined }),
  groupId: fc.option(text(1), { nil: undefined }),
  contentType: fc.option(fc.constantFrom('text/plain', 'application/json'), { nil: undefined }),
  originalAddress: fc.option(fc.constant('queue://orig'), { nil: undefined }),
});
