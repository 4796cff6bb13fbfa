/**
 * The receive side of a channel: an async iterator over a bounded buffer. Reaching `capacity` reports
 * "full" (the channel then pauses deliveries, so the reliability protocol withholds credit from the
 * senders); draining to half reports "drained". Pushes are never refused: what is already delivered by
 * the protocol is kept, and the senders' windows bound how far past `capacity` it can go.
 */
export interface ReceiverHooks<T> {
  onFull(): void;
  onDrained(): void;
  /** Called when the application takes an item (queue semantics acknowledge here). */
  onTake?(item: T): void;
  /** Called on close with the items nobody took. */
  onClose?(rest: T[]): void;
}

export class Receiver<T> implements AsyncIterableIterator<T> {
  private buf: T[] = [];
  private head = 0;
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private full = false;
  private closed = false;

  constructor(
    private readonly capacity: number,
    private readonly hooks: ReceiverHooks<T>,
  ) {}

  get size(): number {
    return this.buf.length - this.head;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal Returns false when the receiver is closed (the item is not kept). */
  push(item: T): boolean {
    if (this.closed) return false;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      this.hooks.onTake?.(item);
      w({ value: item, done: false });
      return true;
    }
    this.buf.push(item);
    if (!this.full && this.size >= this.capacity) {
      this.full = true;
      this.hooks.onFull();
    }
    return true;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.size > 0) {
      const item = this.buf[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.buf.length) {
        this.buf = this.buf.slice(this.head);
        this.head = 0;
      }
      if (this.full && this.size <= this.capacity / 2) {
        this.full = false;
        this.hooks.onDrained();
      }
      this.hooks.onTake?.(item);
      return Promise.resolve({ value: item, done: false });
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter) return Promise.reject(new Error('concurrent next() on a group receiver'));
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Ends iteration (`break` in a for-await calls this). */
  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const rest = this.buf.slice(this.head);
    this.buf = [];
    this.head = 0;
    if (this.full) {
      this.full = false;
      this.hooks.onDrained();
    }
    this.hooks.onClose?.(rest);
    const w = this.waiter;
    this.waiter = undefined;
    w?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
