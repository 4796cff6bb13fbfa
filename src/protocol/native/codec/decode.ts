/**
 * One received `Frame` (the bytes after the length prefix) -> a typed ClientFrame.
 *
 * The hot frames (Send, SendBatch, Credit, Ack, Nack) are decoded by hand in one pass: protobufjs'
 * reflection decode would allocate its message objects and Longs, then need a conversion to these
 * shapes (docs/NATIVE.md has the measurement). The rest go through protobufjs, the reference
 * implementation. Either way a malformed frame fails with a PROTOCOL BlazeError and nothing else.
 *
 * Frame is a oneof: proto3 says the last member on the wire wins, and unknown fields (newer kinds
 * included) are skipped, so a frame whose only member is unknown has no kind and is refused.
 */
import type protobuf from 'protobufjs';
import { isBlazeError } from '../../../util/errors.js';
import { emptyMessage } from '../../../util/native-message.js';
import { loadProto } from '../../../util/proto.js';
import { malformed } from './errors.js';
import { decodeMessage } from './message.js';
import {
  type Ack,
  BROKER_ONLY_KINDS,
  type ClientFrame,
  type ClientFrames,
  type Credit,
  FIELD,
  type FrameKind,
  type Nack,
  type Send,
  type SendBatch,
  type WireMessage,
} from './types.js';
import { Reader, WT_LEN, WT_VARINT } from './wire.js';

const KIND_BY_FIELD = new Map<number, FrameKind>(
  (Object.entries(FIELD) as Array<[FrameKind, number]>).map(([k, f]) => [f, k]),
);

const TYPE_NAMES: Partial<Record<FrameKind, string>> = {
  connect: 'Connect',
  heartbeat: 'Heartbeat',
  disconnect: 'Disconnect',
  subscribe: 'Subscribe',
  unsubscribe: 'Unsubscribe',
  unsubscribe_durable: 'UnsubscribeDurable',
  tx_begin: 'TxBegin',
  tx_commit: 'TxCommit',
  tx_rollback: 'TxRollback',
  xa_start: 'XaStart',
  xa_end: 'XaEnd',
  xa_prepare: 'XaPrepare',
  xa_commit: 'XaCommit',
  xa_rollback: 'XaRollback',
  xa_recover: 'XaRecover',
  browse: 'Browse',
  create_temporary: 'CreateTemporary',
  delete_temporary: 'DeleteTemporary',
};

let coldTypes: Map<FrameKind, protobuf.Type> | undefined;

function coldType(kind: FrameKind): protobuf.Type | undefined {
  if (coldTypes === undefined) {
    const root = loadProto('blaze/v1/native.proto');
    coldTypes = new Map();
    for (const [k, name] of Object.entries(TYPE_NAMES) as Array<[FrameKind, string]>) {
      coldTypes.set(k, root.lookupType(`blaze.v1.${name}`));
    }
  }
  return coldTypes.get(kind);
}

/** Reused for every frame: decoding is synchronous and never re-entered. */
const outer = new Reader(new Uint8Array(0), 0, 0);
const inner = new Reader(new Uint8Array(0), 0, 0);

export function decodeFrame(bytes: Uint8Array): ClientFrame {
  const r = outer.reset(bytes, 0, bytes.length);
  let kind: FrameKind | undefined;
  let start = 0;
  let end = 0;
  while (!r.done) {
    const tag = r.uint32();
    const k = KIND_BY_FIELD.get(tag >>> 3);
    if (k !== undefined && (tag & 7) === WT_LEN) {
      end = r.lenEnd();
      start = r.pos;
      r.pos = end;
      kind = k;
    } else r.skip(tag & 7);
  }
  if (kind === undefined) throw malformed('no frame kind this broker knows');
  if (BROKER_ONLY_KINDS.has(kind)) throw malformed(`'${kind}' is sent by the broker, not to it`);
  const body = inner.reset(bytes, start, end);
  switch (kind) {
    case 'send':
      return { kind, value: decodeSend(body) };
    case 'send_batch':
      return { kind, value: decodeSendBatch(body) };
    case 'credit':
      return { kind, value: decodeCredit(body) };
    case 'ack':
      return { kind, value: decodeAck(body) };
    case 'nack':
      return { kind, value: decodeNack(body) };
    default:
      return decodeCold(kind, bytes.subarray(start, end));
  }
}

function decodeCold(kind: FrameKind, bytes: Uint8Array): ClientFrame {
  const type = coldType(kind);
  if (type === undefined) throw malformed(`unexpected frame kind '${kind}'`);
  try {
    const value = type.toObject(type.decode(bytes), {
      defaults: true,
      longs: Number,
      arrays: true,
      enums: Number,
    });
    return { kind, value } as ClientFrame;
  } catch (e) {
    if (isBlazeError(e)) throw e;
    throw malformed(`${type.name}: ${(e as Error).message}`);
  }
}

function wrongType(frame: string, field: number, wt: number): never {
  throw malformed(`${frame} field ${field} has wire type ${wt}`);
}

function decodeSend(r: Reader): Send {
  const f: Send = {
    request_id: 0,
    message: EMPTY_MESSAGE,
    tx_id: '',
    producer_id: '',
    sequence: 0,
    want_ids: false,
  };
  while (!r.done) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    switch (field) {
      case 1:
        if (wt !== WT_VARINT) wrongType('Send', field, wt);
        f.request_id = r.uint32();
        break;
      case 2:
        if (wt !== WT_LEN) wrongType('Send', field, wt);
        f.message = decodeMessage(r, r.lenEnd());
        break;
      case 3:
        if (wt !== WT_LEN) wrongType('Send', field, wt);
        f.tx_id = r.string();
        break;
      case 4:
        if (wt !== WT_LEN) wrongType('Send', field, wt);
        f.producer_id = r.string();
        break;
      case 5:
        if (wt !== WT_VARINT) wrongType('Send', field, wt);
        f.sequence = r.uint64();
        break;
      case 6:
        if (wt !== WT_VARINT) wrongType('Send', field, wt);
        f.want_ids = r.bool();
        break;
      default:
        r.skip(wt);
    }
  }
  return f;
}

function decodeSendBatch(r: Reader): SendBatch {
  const f: SendBatch = {
    request_id: 0,
    messages: [],
    tx_id: '',
    producer_id: '',
    first_sequence: 0,
    want_ids: false,
  };
  while (!r.done) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    switch (field) {
      case 1:
        if (wt !== WT_VARINT) wrongType('SendBatch', field, wt);
        f.request_id = r.uint32();
        break;
      case 2:
        if (wt !== WT_LEN) wrongType('SendBatch', field, wt);
        f.messages.push(decodeMessage(r, r.lenEnd()));
        break;
      case 3:
        if (wt !== WT_LEN) wrongType('SendBatch', field, wt);
        f.tx_id = r.string();
        break;
      case 4:
        if (wt !== WT_LEN) wrongType('SendBatch', field, wt);
        f.producer_id = r.string();
        break;
      case 5:
        if (wt !== WT_VARINT) wrongType('SendBatch', field, wt);
        f.first_sequence = r.uint64();
        break;
      case 6:
        if (wt !== WT_VARINT) wrongType('SendBatch', field, wt);
        f.want_ids = r.bool();
        break;
      default:
        r.skip(wt);
    }
  }
  return f;
}

function decodeCredit(r: Reader): Credit {
  const f: Credit = { subscription_id: 0, credit: 0 };
  while (!r.done) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    if ((field === 1 || field === 2) && wt !== WT_VARINT) wrongType('Credit', field, wt);
    if (field === 1) f.subscription_id = r.uint32();
    else if (field === 2) f.credit = r.uint32();
    else r.skip(wt);
  }
  return f;
}

/** `repeated uint64`: packed (proto3's default) or one field per value; parsers accept both. */
function readTags(r: Reader, wt: number, into: number[], frame: string): void {
  if (wt === WT_VARINT) {
    into.push(r.uint64());
    return;
  }
  if (wt !== WT_LEN) wrongType(frame, 3, wt);
  const end = r.lenEnd();
  const outer = r.end;
  r.end = end;
  while (r.pos < end) into.push(r.uint64());
  r.end = outer;
}

function decodeAck(r: Reader): Ack {
  const f: Ack = { request_id: 0, subscription_id: 0, tags: [], up_to: 0, tx_id: '' };
  while (!r.done) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    switch (field) {
      case 1:
        if (wt !== WT_VARINT) wrongType('Ack', field, wt);
        f.request_id = r.uint32();
        break;
      case 2:
        if (wt !== WT_VARINT) wrongType('Ack', field, wt);
        f.subscription_id = r.uint32();
        break;
      case 3:
        readTags(r, wt, f.tags, 'Ack');
        break;
      case 4:
        if (wt !== WT_VARINT) wrongType('Ack', field, wt);
        f.up_to = r.uint64();
        break;
      case 5:
        if (wt !== WT_LEN) wrongType('Ack', field, wt);
        f.tx_id = r.string();
        break;
      default:
        r.skip(wt);
    }
  }
  return f;
}

function decodeNack(r: Reader): Nack {
  const f: Nack = { request_id: 0, subscription_id: 0, tags: [], tx_id: '' };
  while (!r.done) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    switch (field) {
      case 1:
        if (wt !== WT_VARINT) wrongType('Nack', field, wt);
        f.request_id = r.uint32();
        break;
      case 2:
        if (wt !== WT_VARINT) wrongType('Nack', field, wt);
        f.subscription_id = r.uint32();
        break;
      case 3:
        readTags(r, wt, f.tags, 'Nack');
        break;
      case 4:
        if (wt !== WT_LEN) wrongType('Nack', field, wt);
        f.tx_id = r.string();
        break;
      default:
        r.skip(wt);
    }
  }
  return f;
}

/** A Send without a message field: decoded as the empty message (proto3), refused by the session. */
const EMPTY_MESSAGE: WireMessage = Object.freeze(emptyMessage()) as WireMessage;

export type { ClientFrames };
