/**
 * The native protocol's frames (proto/blaze/v1/native.proto) as plain typed objects, field names as in the
 * .proto (protobufjs keepCase). 64-bit fields are JavaScript numbers (the .proto guarantees < 2^53).
 * Optional in TypeScript = may be absent on the wire (proto3 default).
 */

/** Property values as the wire carries them; the decoder is shared with the broker (util/native-message.ts). */
import type { WireValue } from '../../util/native-message.js';

export type { WireValue };

export interface WireMessage {
  address?: string;
  body?: Uint8Array;
  persistent?: boolean;
  priority?: number;
  expiration?: number;
  correlation_id?: string;
  reply_to?: string;
  group_id?: string;
  content_type?: string;
  properties?: Record<string, WireValue>;
  time_to_live_ms?: number;
  id?: string;
  timestamp?: number;
  original_address?: string;
}

export interface WireXid {
  format_id?: number;
  global_transaction_id?: Uint8Array;
  branch_qualifier?: Uint8Array;
}

export const AckModeWire = { AUTO: 0, CUMULATIVE: 1, INDIVIDUAL: 2 } as const;
export const TemporaryKindWire = { QUEUE: 0, TOPIC: 1 } as const;

export interface Connect {
  request_id?: number;
  versions?: number[];
  login?: string;
  passcode?: string;
  token?: string;
  client_id?: string;
  heartbeat_ms?: number;
  max_frame_size?: number;
  client_name?: string;
}
export interface Connected {
  request_id?: number;
  version?: number;
  server?: string;
  connection_id?: string;
  heartbeat_ms?: number;
  max_frame_size?: number;
  store_id?: string;
}
export interface ErrorFrame {
  request_id?: number;
  code?: string;
  message?: string;
  fatal?: boolean;
}
export interface Send {
  request_id?: number;
  message?: WireMessage;
  tx_id?: string;
  producer_id?: string;
  sequence?: number;
  /** Version 2: answer with Ok.message_ids. */
  want_ids?: boolean;
}
export interface SendBatch {
  request_id?: number;
  messages?: WireMessage[];
  tx_id?: string;
  producer_id?: string;
  first_sequence?: number;
  /** Version 2: answer with Ok.message_ids, one per message. */
  want_ids?: boolean;
}
export interface Subscribe {
  request_id?: number;
  subscription_id?: number;
  address?: string;
  ack_mode?: number;
  credit?: number;
  selector?: string;
  durable_name?: string;
  no_local?: boolean;
  share_group?: string;
}
export interface Credit {
  subscription_id?: number;
  credit?: number;
}
export interface Delivery {
  subscription_id?: number;
  tag?: number;
  message?: WireMessage;
  redelivered?: boolean;
  delivery_count?: number;
}
export interface Ack {
  request_id?: number;
  subscription_id?: number;
  tags?: number[];
  up_to?: number;
  tx_id?: string;
}
export interface Nack {
  request_id?: number;
  subscription_id?: number;
  tags?: number[];
  tx_id?: string;
}
export interface Browse {
  request_id?: number;
  address?: string;
  selector?: string;
  max_messages?: number;
}

type Req = { request_id?: number };

/** One frame: exactly one member of the `kind` oneof is set. */
export type Frame =
  | { connect: Connect }
  | { connected: Connected }
  | { heartbeat: Record<string, never> }
  | { disconnect: Req }
  /** `message_ids`: version 2, the answer to a Send/SendBatch with want_ids ('' = not known). */
  | { ok: Req & { message_ids?: string[] } }
  | { error: ErrorFrame }
  | { send: Send }
  | { send_batch: SendBatch }
  | { subscribe: Subscribe }
  | { subscribed: Req & { subscription_id?: number } }
  | { unsubscribe: Req & { subscription_id?: number } }
  | { credit: Credit }
  | { deliver: { deliveries?: Delivery[] } }
  | { ack: Ack }
  | { nack: Nack }
  | { subscription_closed: { subscription_id?: number; reason?: string } }
  | { unsubscribe_durable: Req & { durable_name?: string } }
  | { tx_begin: Req & { tx_id?: string } }
  | { tx_commit: Req & { tx_id?: string } }
  | { tx_rollback: Req & { tx_id?: string } }
  | { xa_start: Req & { xid?: WireXid; tx_id?: string; flags?: number } }
  | { xa_end: Req & { xid?: WireXid; flags?: number } }
  | { xa_prepare: Req & { xid?: WireXid } }
  | { xa_commit: Req & { xid?: WireXid; one_phase?: boolean } }
  | { xa_rollback: Req & { xid?: WireXid } }
  | { xa_recover: Req }
  | { xa_recovered: Req & { xids?: WireXid[] } }
  | { browse: Browse }
  | { browse_result: Req & { messages?: WireMessage[] } }
  | { create_temporary: Req & { kind?: number } }
  | { temporary_created: Req & { address?: string } }
  | { delete_temporary: Req & { address?: string } };

/** A decoded frame: the oneof's name in `kind` (protobufjs `oneofs: true`) next to the member itself. */
export type DecodedFrame = Frame & { kind: FrameKind };

type KeysOfUnion<T> = T extends T ? keyof T : never;
export type FrameKind = KeysOfUnion<Frame>;
