/** What a channel's receivers yield. */
export interface GroupMessage {
  /** Address of the sending member. */
  readonly from: string;
  readonly data: Uint8Array;
  /** broadcast: `channel.broadcast`; direct: `channel.send`; inbox / queue: named, see `name`. */
  readonly kind: 'broadcast' | 'direct' | 'inbox' | 'queue';
  /** Inbox or queue name. */
  readonly name?: string;
  /** `data` decoded as UTF-8. */
  text(): string;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A class rather than an object literal with a closure: one allocation per delivered message, not three. */
class Message implements GroupMessage {
  declare readonly name?: string;
  constructor(
    readonly from: string,
    readonly data: Uint8Array,
    readonly kind: GroupMessage['kind'],
    name: string | undefined,
  ) {
    if (name !== undefined) this.name = name;
  }

  text(): string {
    return decoder.decode(this.data);
  }
}

export function groupMessage(
  from: string,
  data: Uint8Array,
  kind: GroupMessage['kind'],
  name?: string,
): GroupMessage {
  return new Message(from, data, kind, name);
}

/** Messages are bytes; strings are sent as UTF-8. */
export function toBytes(msg: Uint8Array | string): Uint8Array {
  return typeof msg === 'string' ? encoder.encode(msg) : msg;
}
