/**
 * The ids of messages the application acknowledged on one subscription, kept across reconnects: the
 * broker may redeliver a message whose ack was lost with a connection (or not yet durable when a broker
 * restarted), and the client must not hand it to the application again. Bounded: the oldest ids go first
 * (an ack older than `capacity` later acks is long durable).
 */
export class AckedIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity = 10_000) {}

  add(id: string): void {
    if (!id) return;
    this.ids.delete(id);
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  get size(): number {
    return this.ids.size;
  }
}
