/**
 * Incremental MQTT decoder: our own framing (fixed header, 2.2) in front of mqtt-packet's parser.
 *
 * Why frame ourselves: mqtt-packet buffers whatever it is given and only learns the packet length as it
 * goes; we read the Remaining Length first and refuse a packet over the maximum size before buffering
 * its body (MQTT 5 3.1.2.11: the server MUST NOT process a packet larger than its Maximum Packet Size;
 * DISCONNECT 0x95). Knowing the boundaries also lets the session stop between packets (flow control)
 * with the rest left here, and hands mqtt-packet exactly one whole packet per call, so its buffer list
 * never grows beyond one packet.
 *
 * Fast paths: the 4-byte acks (PUBACK...PUBCOMP), and a PUBLISH without MQTT 5 properties (every 3.1.x PUBLISH, and a 5.0 one whose
 * Property Length is 0) is decoded here into a fixed-shape object: topic, packet id and a zero-copy payload
 * slice. Profiling the QoS 0 1->1 benchmark (docs/PERFORMANCE.md, "Broker: MQTT") put mqtt-packet's
 * generic parse (its BufferList copies, per-field `debug` calls, a fresh Packet per call) at ~16 % of
 * broker CPU; this path does the same work in a few reads. Anything unusual (properties, a length that
 * does not add up, QoS 3) falls back to mqtt-packet, so errors and edge cases keep one implementation.
 *
 * Payloads much smaller than the buffer they arrived in are copied out of it (`ownPayload`).
 *
 * Pure: no I/O, no timers. Errors are MqttError with the reason code to disconnect with.
 */
import type { IPublishPacket, Packet, Parser } from 'mqtt-packet';
import { parser } from 'mqtt-packet';
import { ownBytesOf } from '../../../util/own-bytes.js';
import { internString, StringCache } from '../../../util/protobuf-wire.js';
import { MqttError, RC } from '../reason-codes.js';

export type ProtocolVersion = 3 | 4 | 5;

const EMPTY = Buffer.alloc(0);

/**
 * `payload` (a view into a socket read) as a Buffer the message may keep (util/own-bytes.ts): a small
 * payload is copied out of its read, so that a retained or buffered message does not pin 64 KiB (V8 frees
 * such a read only after a full GC once a view of it survived two scavenges: docs/PERFORMANCE.md,
 * "Broker: MQTT", RSS). Done here rather than only in the core because retained messages are kept by the
 * MQTT layer itself.
 */
export function ownPayload(payload: Buffer): Buffer {
  return ownBytesOf(payload, 0, payload.length);
}

/** What the fast path returns: the fields mqtt-packet would set for a PUBLISH without properties. */
class FastPublish implements IPublishPacket {
  readonly cmd = 'publish' as const;
  constructor(
    readonly qos: 0 | 1 | 2,
    readonly dup: boolean,
    readonly retain: boolean,
    readonly topic: string,
    readonly payload: Buffer,
    readonly messageId: number | undefined,
    readonly length: number,
  ) {}
}

type AckCmd = 'puback' | 'pubrec' | 'pubrel' | 'pubcomp';

/** PUBACK / PUBREC / PUBREL / PUBCOMP in their 4-byte form (3.4-3.7; 5.0 3.4.2.1: Success, no properties). */
class FastAck {
  constructor(
    readonly cmd: AckCmd,
    readonly messageId: number,
    readonly reasonCode: number | undefined,
  ) {}
}

/** Fixed header byte of each 4-byte ack (PUBREL has the reserved flags 0b0010, [MQTT-3.6.1-1]). */
const ACK_CMD: ReadonlyArray<AckCmd | undefined> = (() => {
  const t: Array<AckCmd | undefined> = new Array(256).fill(undefined);
  t[0x40] = 'puback';
  t[0x50] = 'pubrec';
  t[0x62] = 'pubrel';
  t[0x70] = 'pubcomp';
  return t;
})();

/**
 * PUBLISH (3.3) from `start` (fixed header byte) with its variable header at `at` and its end at `end`,
 * or null to let mqtt-packet decide (properties present, or malformed).
 */
function fastPublish(
  buf: Buffer,
  start: number,
  at: number,
  end: number,
  v5: boolean,
  lastTopic: StringCache,
): Packet | null {
  const flags = buf[start]!;
  const remaining = end - at;
  const qos = (flags >> 1) & 3;
  if (qos === 3) return null;
  if (at + 2 > end) return null;
  const topicEnd = at + 2 + ((buf[at]! << 8) | buf[at + 1]!);
  if (topicEnd > end) return null;
  // A publisher usually repeats one topic: the same bytes give the same string back, undecoded, and later
  // steps (name checks, the address cache) find it at once.
  const topic = internString(lastTopic, buf, at + 2, topicEnd);
  at = topicEnd;
  let messageId: number | undefined;
  if (qos > 0) {
    if (at + 2 > end) return null;
    messageId = (buf[at]! << 8) | buf[at + 1]!;
    at += 2;
  }
  if (v5) {
    // Property Length 0 is one byte; anything else goes through the full property parser.
    if (at >= end || buf[at] !== 0) return null;
    at++;
  }
  return new FastPublish(
    qos as 0 | 1 | 2,
    (flags & 0x08) !== 0,
    (flags & 0x01) !== 0,
    topic,
    ownBytesOf(buf, at, end),
    messageId,
    remaining,
  );
}

export class MqttDecoder {
  private buf: Buffer = EMPTY;
  private pos = 0;
  /**
   * Chunks received after `buf`, waiting while the packet at `pos` is incomplete. A packet that spans
   * chunks is copied into a buffer of its own (`assemble`) and the chunks are used from where it ends:
   * nothing else is copied, whereas concatenating the rest of a read with the whole next one copied
   * ~64 KiB per socket read when QoS 1 PUBLISHes of 1 KiB streamed in (MQTT W3).
   */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private readonly parser: Parser;
  private packet: Packet | null = null;
  private error: Error | null = null;
  private v5 = false;
  private readonly lastTopic = new StringCache();

  /** `maxPacketSize`: whole packet, fixed header included (3.1.2.11). */
  constructor(public maxPacketSize: number) {
    this.parser = parser({ protocolVersion: 4 });
    this.parser.on('packet', (p: Packet) => {
      this.packet = p;
    });
    this.parser.on('error', (e: Error) => {
      this.error = e;
    });
  }

  /** Packets after CONNECT are parsed with the version it negotiated (properties exist only in 5). */
  set version(v: ProtocolVersion) {
    this.v5 = v === 5;
    (this.parser as unknown as { settings: { protocolVersion: number } }).settings.protocolVersion = v;
  }

  /** Bytes received and not yet returned as packets. */
  get buffered(): number {
    return this.buf.length - this.pos + this.partsBytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.pos >= this.buf.length && this.parts.length === 0) {
      this.buf = chunk;
      this.pos = 0;
      return;
    }
    this.parts.push(chunk);
    this.partsBytes += chunk.length;
  }

  /** The next whole packet, or null when more bytes are needed. Throws MqttError. */
  next(): Packet | null {
    if (this.pos >= this.buf.length) {
      if (this.parts.length === 0) {
        this.buf = EMPTY;
        this.pos = 0;
        return null;
      }
      this.buf = this.parts.shift()!;
      this.partsBytes -= this.buf.length;
      this.pos = 0;
    }
    const buf = this.buf;
    const start = this.pos;
    const available = buf.length - start;
    // Remaining Length: variable byte integer, at most 4 bytes (1.5.5).
    let length = 0;
    let mul = 1;
    let i = start + 1;
    for (;;) {
      // The fixed header continues in the next chunk.
      if (i >= buf.length) return this.assemble();
      const b = buf[i++]!;
      length += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) break;
      mul *= 128;
      if (i - start - 1 >= 4) throw new MqttError(RC.MALFORMED_PACKET, 'Remaining Length over 4 bytes');
    }
    const total = i - start + length;
    this.checkSize(total);
    if (available < total) return this.assemble();
    this.pos = start + total;
    const first = buf[start]!;
    if ((first & 0xf0) === 0x30) {
      const p = fastPublish(buf, start, i, start + total, this.v5, this.lastTopic);
      if (p !== null) return p;
    } else if (total === 4) {
      const cmd = ACK_CMD[first];
      // mqtt-packet gives a 5.0 ack without a Reason Code reasonCode 0, a 3.1.1 one none.
      if (cmd !== undefined)
        return new FastAck(cmd, (buf[start + 2]! << 8) | buf[start + 3]!, this.v5 ? 0 : undefined) as Packet;
    }
    return this.parse(buf.subarray(start, start + total));
  }

  private checkSize(total: number): void {
    if (total > this.maxPacketSize) {
      throw new MqttError(
        RC.PACKET_TOO_LARGE,
        `packet of ${total} bytes over the maximum ${this.maxPacketSize}`,
      );
    }
  }

  /**
   * The packet at `pos` continues in `parts`: once all of it is here, it is copied into a buffer of its
   * own, which becomes `buf`, and decoded from there. Its size is checked as soon as its fixed header
   * is complete, before the rest is waited for (MQTT 5 3.1.2.11).
   */
  private assemble(): Packet | null {
    const rest = this.buf.length - this.pos;
    if (rest + this.partsBytes < 2) return null;
    // The fixed header across chunks: byte k of what is buffered.
    let chunk = -1;
    let at = this.pos;
    let from = this.buf;
    const byte = (): number | undefined => {
      while (at >= from.length) {
        if (++chunk >= this.parts.length) return undefined;
        from = this.parts[chunk]!;
        at = 0;
      }
      return from[at++];
    };
    byte();
    let length = 0;
    let mul = 1;
    let headerBytes = 1;
    for (;;) {
      const b = byte();
      if (b === undefined) return null;
      headerBytes++;
      length += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) break;
      mul *= 128;
      if (headerBytes - 1 >= 4) throw new MqttError(RC.MALFORMED_PACKET, 'Remaining Length over 4 bytes');
    }
    const total = headerBytes + length;
    this.checkSize(total);
    if (rest + this.partsBytes < total) return null;
    // An ArrayBuffer of its own, exactly the packet: a payload view then keeps nothing else alive, so
    // ownPayload need not copy it a second time.
    const packet = Buffer.allocUnsafeSlow(total);
    this.buf.copy(packet, 0, this.pos);
    let filled = rest;
    while (filled < total) {
      const part = this.parts[0]!;
      const take = Math.min(part.length, total - filled);
      part.copy(packet, filled, 0, take);
      filled += take;
      this.partsBytes -= take;
      if (take === part.length) this.parts.shift();
      else this.parts[0] = part.subarray(take);
    }
    this.buf = packet;
    this.pos = 0;
    return this.next();
  }

  private parse(bytes: Buffer): Packet {
    this.packet = null;
    this.error = null;
    this.parser.parse(bytes);
    const error = this.error as Error | null;
    if (error !== null) {
      const reason =
        error.message === 'Invalid protocol version' ? RC.UNSUPPORTED_PROTOCOL_VERSION : RC.MALFORMED_PACKET;
      throw new MqttError(reason, `malformed packet: ${error.message}`);
    }
    const packet = this.packet as Packet | null;
    if (packet === null) throw new MqttError(RC.MALFORMED_PACKET, 'malformed packet: incomplete');
    // mqtt-packet's payload is a slice of `bytes`, itself a slice of the socket read (see ownPayload).
    if (packet.cmd === 'publish' && Buffer.isBuffer(packet.payload))
      packet.payload = ownPayload(packet.payload);
    return packet;
  }
}
