/**
 * Ids of messages the application acknowledged on one subscription whose ack may not have taken effect
 * (lost with a connection, or acked in a transaction: subscription.ts), kept across reconnects: the
 * broker redelivers such a message, and the client must not hand it to the application again. Bounded:
 * at least the last `capacity` ids are remembered, at most twice that.
 *
 * Two generations of Sets, the older dropped whole when the newer is full: one Set.add per id, no
 * eviction walk.
 */
export class AckedIds {
  private current = new Set<string>();
  private previous = new Set<string>();

  constructor(private readonly capacity = 10_000) {}

  add(id: string): void {
    if (!id) return;
    if (this.current.size >= this.capacity) {
      this.previous = this.current;
      this.current = new Set();
    }
    this.current.add(id);
  }

  has(id: string): boolean {
    return this.current.has(id) || this.previous.has(id);
  }

  /** Ids held: between the last `capacity` acked and twice that. */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}
