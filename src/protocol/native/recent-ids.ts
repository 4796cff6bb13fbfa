/**
 * The message ids given to recent sends that asked for them (native.proto `want_ids`), by (producer id,
 * sequence), so that a resent duplicate is answered with the id of its first send (Ok.message_ids).
 *
 * In memory and bounded: the oldest pairs are forgotten first once `capacity` are held. A resend comes
 * right after a reconnect, so recent pairs are what matters; a forgotten one is answered "" (unknown).
 * What survives a restart is the id of each producer's highest sequence, kept with its duplicate-detection
 * record (producers.ts).
 */
import { FifoMap } from '../../util/fifo-map.js';

export const DEFAULT_RECENT_IDS = 16_384;

export class RecentIds {
  private readonly ids: FifoMap<string, string>;

  constructor(capacity = DEFAULT_RECENT_IDS) {
    this.ids = new FifoMap(capacity);
  }

  get size(): number {
    return this.ids.size;
  }

  /** A sequence freed by a rollback and sent again gets a new id: the later send wins. */
  remember(producerId: string, sequence: number, id: string): void {
    this.ids.set(keyOf(producerId, sequence), id);
  }

  get(producerId: string, sequence: number): string | undefined {
    return this.ids.get(keyOf(producerId, sequence));
  }
}

/** A producer id is free text; the separator cannot occur in a decimal sequence, so keys do not collide. */
function keyOf(producerId: string, sequence: number): string {
  return `${sequence}\u0000${producerId}`;
}
