/**
 * MQTT encoding. The per-message packets (PUBLISH, and the 4-byte PUBACK/PUBREC/PUBREL/PUBCOMP) are
 * written by hand into one buffer each, because they are the broker's throughput and mqtt-packet's
 * generic generator costs several times more per packet in MQTT 5 (DEPENDENCIES.md). Everything else
 * (CONNACK, SUBACK, DISCONNECT...) is rare and goes through mqtt-packet's `generate`.
 *
 * PUBLISH layout (3.3): fixed header (type 3, DUP/QoS/RETAIN flags, Remaining Length), topic name
 * (UTF-8 string), packet identifier if QoS > 0, properties (MQTT 5: length + properties), payload.
 */
import { generate, type Packet } from 'mqtt-packet';
import type { ProtocolVersion } from './decoder.js';

/** The MQTT 5 PUBLISH properties we send (3.3.2.3). */
export interface PublishProperties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  topicAlias?: number;
  responseTopic?: string;
  correlationData?: Uint8Array;
  userProperties?: ReadonlyArray<readonly [string, string]>;
  subscriptionIdentifiers?: readonly number[];
  contentType?: string;
}

export interface OutgoingPublish {
  /** Empty when a topic alias stands for it (3.3.2.3.4). */
  topic: string;
  qos: 0 | 1 | 2;
  packetId: number;
  dup: boolean;
  retain: boolean;
  payload: Uint8Array;
  properties?: PublishProperties;
}

const PROP = {
  payloadFormatIndicator: 0x01,
  messageExpiryInterval: 0x02,
  contentType: 0x03,
  responseTopic: 0x08,
  correlationData: 0x09,
  subscriptionIdentifier: 0x0b,
  topicAlias: 0x23,
  userProperty: 0x26,
} as const;

function varIntSize(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

function writeVarInt(buf: Buffer, at: number, n: number): number {
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    buf[at++] = b;
  } while (n > 0);
  return at;
}

function writeString(buf: Buffer, at: number, s: string, bytes: number): number {
  buf.writeUInt16BE(bytes, at);
  buf.write(s, at + 2, bytes, 'utf8');
  return at + 2 + bytes;
}

/** Size of the properties block's content (without its own length prefix). */
function propertiesSize(p: PublishProperties): number {
  let n = 0;
  if (p.payloadFormatIndicator) n += 2;
  if (p.messageExpiryInterval !== undefined) n += 5;
  if (p.topicAlias !== undefined) n += 3;
  if (p.contentType !== undefined) n += 3 + Buffer.byteLength(p.contentType);
  if (p.responseTopic !== undefined) n += 3 + Buffer.byteLength(p.responseTopic);
  if (p.correlationData !== undefined) n += 3 + p.correlationData.length;
  if (p.subscriptionIdentifiers !== undefined)
    for (const id of p.subscriptionIdentifiers) n += 1 + varIntSize(id);
  if (p.userProperties !== undefined)
    for (const [k, v] of p.userProperties) n += 5 + Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

function writeProperties(buf: Buffer, at: number, p: PublishProperties, size: number): number {
  at = writeVarInt(buf, at, size);
  if (p.payloadFormatIndicator) {
    buf[at++] = PROP.payloadFormatIndicator;
    buf[at++] = 1;
  }
  if (p.messageExpiryInterval !== undefined) {
    buf[at++] = PROP.messageExpiryInterval;
    buf.writeUInt32BE(p.messageExpiryInterval, at);
    at += 4;
  }
  if (p.topicAlias !== undefined) {
    buf[at++] = PROP.topicAlias;
    buf.writeUInt16BE(p.topicAlias, at);
    at += 2;
  }
  if (p.contentType !== undefined) {
    buf[at++] = PROP.contentType;
    at = writeString(buf, at, p.contentType, Buffer.byteLength(p.contentType));
  }
  if (p.responseTopic !== undefined) {
    buf[at++] = PROP.responseTopic;
    at = writeString(buf, at, p.responseTopic, Buffer.byteLength(p.responseTopic));
  }
  if (p.correlationData !== undefined) {
    buf[at++] = PROP.correlationData;
    buf.writeUInt16BE(p.correlationData.length, at);
    buf.set(p.correlationData, at + 2);
    at += 2 + p.correlationData.length;
  }
  if (p.subscriptionIdentifiers !== undefined) {
    for (const id of p.subscriptionIdentifiers) {
      buf[at++] = PROP.subscriptionIdentifier;
      at = writeVarInt(buf, at, id);
    }
  }
  if (p.userProperties !== undefined) {
    for (const [k, v] of p.userProperties) {
      buf[at++] = PROP.userProperty;
      at = writeString(buf, at, k, Buffer.byteLength(k));
      at = writeString(buf, at, v, Buffer.byteLength(v));
    }
  }
  return at;
}

const SLAB_SIZE = 256 * 1024;
/** PUBLISHes bigger than this get their own buffer instead of wasting the rest of a slab. */
const SLAB_MAX_PACKET = 64 * 1024;
let slab: Buffer = Buffer.alloc(0);
let slabOffset = 0;

/**
 * `size` bytes for one outgoing packet, cut from a shared slab right after the previous one. Packets
 * written to a session one after the other are then adjacent in memory, and the transport merges them
 * into one view instead of concatenating (src/net/tcp-transport.ts): the batch costs no copy. A region is
 * never reused (a transport may still hold it); a slab is freed by GC once all its regions are written.
 */
function allocPacket(size: number): Buffer {
  if (size > SLAB_MAX_PACKET) return Buffer.allocUnsafe(size);
  if (slabOffset + size > slab.length) {
    slab = Buffer.allocUnsafe(SLAB_SIZE);
    slabOffset = 0;
  }
  const start = slabOffset;
  slabOffset += size;
  return slab.subarray(start, slabOffset);
}

/**
 * The last topic encoded, as its length-prefixed UTF-8 bytes: a stream of PUBLISHes usually repeats one
 * topic (and topics.ts hands out the same string for the same address), so the common case is a copy.
 */
let lastTopic = '';
let lastTopicBytes: Buffer = Buffer.from([0, 0]);

function topicByteLength(topic: string): number {
  return topic === lastTopic ? lastTopicBytes.length - 2 : Buffer.byteLength(topic);
}

function writeTopic(buf: Buffer, at: number, topic: string): number {
  if (topic !== lastTopic) {
    const n = Buffer.byteLength(topic);
    const bytes = Buffer.allocUnsafe(2 + n);
    writeString(bytes, 0, topic, n);
    lastTopic = topic;
    lastTopicBytes = bytes;
  }
  buf.set(lastTopicBytes, at);
  return at + lastTopicBytes.length;
}

/** Encodes a PUBLISH into one buffer (header, topic, id, properties, payload copied once). */
export function encodePublish(p: OutgoingPublish, version: ProtocolVersion): Buffer {
  const topicBytes = topicByteLength(p.topic);
  let propsSize = 0;
  let propsTotal = 0;
  if (version === 5) {
    propsSize = p.properties === undefined ? 0 : propertiesSize(p.properties);
    propsTotal = varIntSize(propsSize) + propsSize;
  }
  const remaining = 2 + topicBytes + (p.qos > 0 ? 2 : 0) + propsTotal + p.payload.length;
  const buf = allocPacket(1 + varIntSize(remaining) + remaining);
  buf[0] = 0x30 | (p.dup ? 0x08 : 0) | (p.qos << 1) | (p.retain ? 0x01 : 0);
  let at = writeVarInt(buf, 1, remaining);
  at = writeTopic(buf, at, p.topic);
  if (p.qos > 0) {
    buf.writeUInt16BE(p.packetId, at);
    at += 2;
  }
  if (version === 5) {
    if (p.properties === undefined) buf[at++] = 0;
    else at = writeProperties(buf, at, p.properties, propsSize);
  }
  buf.set(p.payload, at);
  return buf;
}

/** Size of the PUBLISH `encodePublish` would produce, to honour the client's Maximum Packet Size. */
export function publishSize(p: OutgoingPublish, version: ProtocolVersion): number {
  let propsTotal = 0;
  if (version === 5) {
    const s = p.properties === undefined ? 0 : propertiesSize(p.properties);
    propsTotal = varIntSize(s) + s;
  }
  const remaining = 2 + Buffer.byteLength(p.topic) + (p.qos > 0 ? 2 : 0) + propsTotal + p.payload.length;
  return 1 + varIntSize(remaining) + remaining;
}

export type AckType = 'puback' | 'pubrec' | 'pubrel' | 'pubcomp';
const ACK_BYTE: Readonly<Record<AckType, number>> = {
  puback: 0x40,
  pubrec: 0x50,
  pubrel: 0x62,
  pubcomp: 0x70,
};

/**
 * PUBACK / PUBREC / PUBREL / PUBCOMP. With reason Success and no properties MQTT 5 allows the 3.1.1
 * form (3.4.2.1: "the Reason Code and Property Length can be omitted"); otherwise reason code and an
 * empty property list. Cut from the PUBLISH slab, so that the acks of one turn are adjacent in memory
 * and go out as one run (output.ts); Node's own pool would align each to 8 bytes and break the run.
 */
export function encodeAck(type: AckType, packetId: number, reason = 0, version: ProtocolVersion = 4): Buffer {
  if (reason === 0 || version !== 5) {
    const b = allocPacket(4);
    b[0] = ACK_BYTE[type];
    b[1] = 2;
    b.writeUInt16BE(packetId, 2);
    return b;
  }
  const b = allocPacket(5);
  b[0] = ACK_BYTE[type];
  b[1] = 3;
  b.writeUInt16BE(packetId, 2);
  b[4] = reason;
  return b;
}

export const PINGRESP: Buffer = Buffer.from([0xd0, 0x00]);

/** Any other packet, through mqtt-packet. */
export function encodePacket(packet: Packet, version: ProtocolVersion): Buffer {
  return generate(packet, { protocolVersion: version });
}
