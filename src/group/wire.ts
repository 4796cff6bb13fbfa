/**
 * Codec of proto/blaze/v1/group.proto: plain typed objects <-> bytes. Decoding is defensive: a datagram
 * that is not a valid GroupFrame yields undefined (it is dropped and counted), never an exception, because
 * anything on the network may send to a group's port.
 */
import { loadProto } from '../util/proto.js';
import {
  decodeDataFrame,
  decodeSimpleChannelMessage,
  encodeDataFrame,
  encodeDataFrameParts,
  encodeSimpleChannelMessage,
  GroupHeader,
} from './fast-codec.js';

export interface ViewIdMsg {
  coordinator: string;
  counter: number;
}
export interface ViewMsg {
  id: ViewIdMsg | null;
  members: string[];
  /** Parallel to members; empty or absent when not known. */
  incarnations?: number[];
}
export interface SeqEntry {
  sender: string;
  seq: number;
}
export interface SeqRange {
  from: number;
  to: number;
}

export interface McastData {
  seq: number;
  view: number;
  payload: Uint8Array;
  sender?: string;
  retransmit?: boolean;
}
export interface McastNack {
  sender: string;
  ranges: SeqRange[];
}
export interface McastSeqHeartbeat {
  seq: number;
}
export interface StabilityDigest {
  view: number;
  entries: SeqEntry[];
  want: boolean;
}
export interface UcastData {
  conn: number;
  seq: number;
  payload: Uint8Array;
  first: number;
}
export interface UcastAck {
  conn: number;
  seq: number;
}
export interface PrepareAck {
  flush_id: string;
  digest: SeqEntry[];
  view: number;
}
export interface InstallView {
  view: ViewMsg | null;
  flush_ids: string[];
  cut: SeqEntry[];
}
export interface MergeResponse {
  merge_id: string;
  ok: boolean;
  view: ViewMsg | null;
  flush_id: string;
  digest: SeqEntry[];
}

/** The frame bodies, keyed by their oneof field name in GroupFrame. */
export interface FrameBodies {
  data: McastData;
  nack: McastNack;
  seq_heartbeat: McastSeqHeartbeat;
  stability: StabilityDigest;
  ucast: UcastData;
  ucast_ack: UcastAck;
  discovery: Record<string, never>;
  discovery_response: { view: ViewMsg | null };
  join: Record<string, never>;
  leave: Record<string, never>;
  heartbeat: { view: ViewIdMsg | null; coordinator: boolean };
  suspect: { member: string };
  are_you_alive: Record<string, never>;
  i_am_alive: Record<string, never>;
  not_member: { view: ViewIdMsg | null };
  prepare: { flush_id: string; survivors: string[] };
  prepare_ack: PrepareAck;
  abort: { flush_id: string };
  install: InstallView;
  install_ack: { view: ViewIdMsg | null };
  merge_request: { merge_id: string };
  merge_response: MergeResponse;
  /** Encoded blaze.v1.Fragment of a frame too large for a datagram; only FrameWire sees these. */
  frame_fragment: Uint8Array;
}
export type FrameKind = keyof FrameBodies;

/** A decoded frame: exactly one body kind. */
export type Frame = { [K in FrameKind]: { kind: K; body: FrameBodies[K] } }[FrameKind];

const FRAME_KINDS = new Set<string>([
  'data',
  'nack',
  'seq_heartbeat',
  'stability',
  'ucast',
  'ucast_ack',
  'discovery',
  'discovery_response',
  'join',
  'leave',
  'heartbeat',
  'suspect',
  'are_you_alive',
  'i_am_alive',
  'not_member',
  'prepare',
  'prepare_ack',
  'abort',
  'install',
  'install_ack',
  'merge_request',
  'merge_response',
  'frame_fragment',
]);

const root = loadProto('blaze/v1/group.proto');
const GroupFrameT = root.lookupType('blaze.v1.GroupFrame');
const ChannelMessageT = root.lookupType('blaze.v1.ChannelMessage');
const TO_OBJECT = { longs: Number, oneofs: true, arrays: true, defaults: true } as const;

/** Encoded group names; a process has a handful of groups, the bound only guards against misuse. */
const headers = new Map<string, GroupHeader>();
function groupHeader(group: string): GroupHeader {
  let h = headers.get(group);
  if (!h) {
    if (headers.size >= 64) headers.clear();
    h = new GroupHeader(group);
    headers.set(group, h);
  }
  return h;
}

/** A data frame as head and tail around its payload (see `GroupTransport.multicastParts`). */
export function encodeDataFrameAround(
  group: string,
  body: McastData,
): { head: Uint8Array; tail: Uint8Array } {
  return encodeDataFrameParts(groupHeader(group), body);
}

export function encodeFrame<K extends FrameKind>(group: string, kind: K, body: FrameBodies[K]): Uint8Array {
  // Data frames, the bulk of the traffic, skip protobufjs (src/group/fast-codec.ts).
  if (kind === 'data') return encodeDataFrame(groupHeader(group), body as McastData);
  return GroupFrameT.encode({ group, [kind]: body }).finish();
}

/** Returns undefined for bytes that are not a frame of `group` (foreign group, garbage, unknown kind). */
export function decodeFrame(group: string, bytes: Uint8Array): Frame | undefined {
  const fast = decodeDataFrame(groupHeader(group), bytes);
  if (fast) return fast.kind === 'data' ? fast : undefined;
  let obj: Record<string, unknown>;
  try {
    obj = GroupFrameT.toObject(GroupFrameT.decode(bytes), TO_OBJECT);
  } catch {
    return undefined;
  }
  if (obj.group !== group) return undefined;
  const kind = obj.body;
  if (typeof kind !== 'string' || !FRAME_KINDS.has(kind)) return undefined;
  return { kind, body: obj[kind] } as Frame;
}

export const ChannelKind = {
  BROADCAST: 0,
  DIRECT: 1,
  INBOX: 2,
  QUEUE: 3,
  QUEUE_ACK: 4,
  QUEUE_LISTEN: 5,
  FRAGMENT: 6,
} as const;
export type ChannelKind = (typeof ChannelKind)[keyof typeof ChannelKind];

export interface ChannelMessage {
  kind: ChannelKind;
  name: string;
  id: number;
  body: Uint8Array;
  names: string[];
  reject: boolean;
}

export function encodeChannelMessage(m: Partial<ChannelMessage> & { kind: ChannelKind }): Uint8Array {
  return encodeSimpleChannelMessage(m) ?? ChannelMessageT.encode(m).finish();
}

export function decodeChannelMessage(bytes: Uint8Array): ChannelMessage | undefined {
  const fast = decodeSimpleChannelMessage(bytes);
  if (fast) return fast;
  try {
    const obj = ChannelMessageT.toObject(ChannelMessageT.decode(bytes), {
      longs: Number,
      enums: Number,
      arrays: true,
      defaults: true,
    }) as ChannelMessage;
    return obj;
  } catch {
    return undefined;
  }
}
