/**
 * Delivery -> MESSAGE frame, the hot path: headers and body are written straight into a slab (see
 * codec/writer.ts), after reserving `messageBound` bytes.
 *
 * Order: subscription, message-id, destination, ack (1.2, explicit-ack subscriptions), redelivered,
 * persistent, priority, expires, timestamp, correlation-id, reply-to, JMSXGroupID, content-type,
 * content-length, then application properties. A property named like one of these is skipped: the
 * decoder on the other side would keep the first anyway (1.2 "Repeated Header Entries").
 */
import type { Delivery } from '../../core/api.js';
import type { StompVersion } from './codec/frame.js';
import { NUMBER_BOUND, textBound, writeBase36, writeEscaped, writeNumber, writeRaw } from './codec/writer.js';

const RESERVED = new Set([
  'subscription',
  'message-id',
  'destination',
  'ack',
  'redelivered',
  'persistent',
  'priority',
  'expires',
  'timestamp',
  'correlation-id',
  'reply-to',
  'JMSXGroupID',
  'content-type',
  'content-length',
]);

/** What a MESSAGE needs besides the delivery, pre-rendered per subscription by the session. */
export interface MessageTarget {
  /** `MESSAGE\nsubscription:<escaped id>\nmessage-id:`, encoded. */
  readonly headBytes: Uint8Array;
  /** Whether MESSAGE frames carry a 1.2 `ack` header (then `destinationLine` ends with `ack:<index>-`). */
  readonly ackIndex: number;
}

/**
 * `\ndestination:<destination>\n`, followed by `ack:<index in base 36>-` when the subscription acks
 * explicitly in 1.2 (the tag completes the ack id, ack-id.ts). `destination` is rendered and escaped.
 */
export function destinationLine(destination: string, ackIndex: number): Uint8Array {
  const ack = ackIndex >= 0 ? 'ack:' + ackIndex.toString(36) + '-' : '';
  return Buffer.from('\ndestination:' + destination + '\n' + ack, 'utf8');
}

/** Constant text of every MESSAGE, less what `messageBound` counts per message. */
const FIXED =
  '\nredelivered:true\npersistent:true\npriority:\nexpires:\ntimestamp:\ncorrelation-id:\nreply-to:\nJMSXGroupID:\ncontent-type:\ncontent-length:\n\n\0'
    .length +
  5 * NUMBER_BOUND;

/** Upper bound of the frame's size in bytes. `replyTo` is rendered and escaped, undefined if none. */
export function messageBound(
  target: MessageTarget,
  destination: Uint8Array,
  replyTo: string | undefined,
  delivery: Delivery,
): number {
  const m = delivery.message;
  let n = FIXED + target.headBytes.length + destination.length + textBound(m.id) + m.body.length;
  if (replyTo !== undefined) n += textBound(replyTo);
  if (m.correlationId !== undefined) n += textBound(m.correlationId);
  if (m.groupId !== undefined) n += textBound(m.groupId);
  if (m.contentType !== undefined) n += textBound(m.contentType);
  const props = m.properties;
  for (const name in props) {
    const v = props[name];
    n += textBound(name) + (typeof v === 'string' ? textBound(v) : NUMBER_BOUND) + 2;
  }
  return n;
}

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
// Constant pieces are copied with `set`: for more than a few bytes that beats a loop over characters.
const DEFAULTS = bytes('priority:4\nexpires:0\ntimestamp:');
const PRIORITY = bytes('priority:');
const EXPIRES = bytes('\nexpires:');
const TIMESTAMP = bytes('\ntimestamp:');
const REDELIVERED = bytes('redelivered:true\n');
const PERSISTENT = bytes('persistent:true\n');
const CORRELATION_ID = bytes('correlation-id:');
const REPLY_TO = bytes('reply-to:');
const GROUP_ID = bytes('JMSXGroupID:');
const CONTENT_TYPE = bytes('content-type:');
const CONTENT_LENGTH = bytes('\ncontent-length:');

/** Writes the whole frame (headers, body, NUL) at `off`; returns the offset after it. */
export function writeMessage(
  buf: Buffer,
  off: number,
  target: MessageTarget,
  destination: Uint8Array,
  replyTo: string | undefined,
  delivery: Delivery,
  version: StompVersion,
): number {
  const m = delivery.message;
  let o = put(buf, off, target.headBytes);
  o = ids.write(buf, o, m.id, version);
  o = put(buf, o, destination);
  if (target.ackIndex >= 0) {
    o = writeBase36(buf, o, delivery.tag);
    buf[o++] = 0x0a;
  }
  if (delivery.redelivered) o = put(buf, o, REDELIVERED);
  if (m.persistent) o = put(buf, o, PERSISTENT);
  if (m.priority === 4 && m.expiration === 0) {
    o = put(buf, o, DEFAULTS);
  } else {
    o = writeNumber(buf, put(buf, o, PRIORITY), m.priority);
    o = writeNumber(buf, put(buf, o, EXPIRES), m.expiration);
    o = put(buf, o, TIMESTAMP);
  }
  o = timestamps.write(buf, o, m.timestamp);
  if (m.correlationId !== undefined) o = header(buf, o, CORRELATION_ID, m.correlationId, version);
  if (replyTo !== undefined) {
    buf[o] = 0x0a;
    o = writeRaw(buf, put(buf, o + 1, REPLY_TO), replyTo);
  }
  if (m.groupId !== undefined) o = header(buf, o, GROUP_ID, m.groupId, version);
  if (m.contentType !== undefined) o = header(buf, o, CONTENT_TYPE, m.contentType, version);
  o = writeNumber(buf, put(buf, o, CONTENT_LENGTH), m.body.length);
  buf[o++] = 0x0a;
  const props = m.properties;
  for (const name in props) {
    const v = props[name];
    if (v === null || v === undefined || RESERVED.has(name)) continue;
    o = writeEscaped(buf, o, name, version, true);
    buf[o++] = 0x3a;
    o = writeEscaped(buf, o, typeof v === 'string' ? v : String(v), version, false);
    buf[o++] = 0x0a;
  }
  buf[o++] = 0x0a;
  o = put(buf, o, m.body);
  buf[o++] = 0;
  return o;
}

/** Ends the previous line, then writes `name:` and the escaped value (the line's LF comes next). */
function header(
  buf: Buffer,
  off: number,
  nameColon: Uint8Array,
  value: string,
  version: StompVersion,
): number {
  buf[off] = 0x0a;
  return writeEscaped(buf, put(buf, off + 1, nameColon), value, version, false);
}

function put(buf: Buffer, off: number, bytes: Uint8Array): number {
  buf.set(bytes, off);
  return off + bytes.length;
}

/**
 * Message ids share a long prefix (`ID:<broker>:` then a sequence number): the prefix up to the last
 * ':' is escaped and encoded once, then copied; only the tail is escaped per message.
 */
class IdWriter {
  private raw = '';
  private version: StompVersion = '1.2';
  private encoded: Uint8Array = new Uint8Array(0);

  write(buf: Buffer, off: number, id: string, version: StompVersion): number {
    const cut = id.lastIndexOf(':') + 1;
    if (cut === 0 || cut > 64) return writeEscaped(buf, off, id, version, false);
    if (cut !== this.raw.length || version !== this.version || !id.startsWith(this.raw)) {
      const raw = id.slice(0, cut);
      const tmp = Buffer.allocUnsafe(textBound(raw));
      this.encoded = new Uint8Array(tmp.subarray(0, writeEscaped(tmp, 0, raw, version, false)));
      this.raw = raw;
      this.version = version;
    }
    return writeEscaped(buf, put(buf, off, this.encoded), id, version, false, cut);
  }
}

/** Consecutive messages mostly carry the same millisecond timestamp: its digits are kept. */
class TimestampWriter {
  private value = -1;
  private digits: Uint8Array = new Uint8Array(0);

  write(buf: Buffer, off: number, t: number): number {
    if (t !== this.value) {
      const tmp = Buffer.allocUnsafe(NUMBER_BOUND);
      this.digits = new Uint8Array(tmp.subarray(0, writeNumber(tmp, 0, t)));
      this.value = t;
    }
    return put(buf, off, this.digits);
  }
}

const ids = new IdWriter();
const timestamps = new TimestampWriter();
