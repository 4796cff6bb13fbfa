/**
 * Retained messages (MQTT 3.3.1.3): the last message published with the retain flag on each topic name,
 * handed to every new subscription whose pattern matches it. Kept in the core's terms (topic names with
 * `.` levels, ActiveMQ wildcards) so that any protocol may use it; today MQTT does.
 *
 * Storage is a trie over levels, so a wildcard subscription walks only the matching branches instead of
 * testing every retained topic. Expired messages are dropped lazily when a lookup meets them.
 *
 * Persistence seam: every change is reported to `RetainedPersistence.write` in order, and `restore`
 * reloads what it saved at start-up. The core's store-backed implementation (retained-persistence.ts)
 * keeps one stored queue per retained topic; a core created with a store owns a durable RetainedStore
 * (`BlazeCore.retained`). Without persistence, retained messages live for the life of the process.
 */
import { ANY_DESCENDANTS, ANY_LEVEL, levels } from './address.js';
import { isExpired } from './context.js';
import type { Message } from './message.js';
import { type Clock, systemClock } from './scheduler.js';
import { ACCEPTED } from './store-writer.js';

export type RetainedOp =
  | { readonly type: 'retain'; readonly topic: string; readonly message: Message }
  | { readonly type: 'clear'; readonly topic: string };

export interface RetainedPersistence {
  /** Called synchronously for each change, in order; a durable implementation batches them. */
  write(op: RetainedOp): void;
  /** Resolves once every change written so far is durable (a publisher's ack may wait for it). */
  flushed?(): Promise<void>;
}

export interface RetainedOptions {
  clock?: Clock;
  /** Topics with a retained message at most; a new topic beyond it is refused (existing ones update). */
  maxTopics?: number;
  persistence?: RetainedPersistence;
}

interface Node {
  readonly children: Map<string, Node>;
  message: Message | undefined;
}

const node = (): Node => ({ children: new Map(), message: undefined });

export const DEFAULT_MAX_RETAINED = 100_000;

export class RetainedStore {
  private readonly root = node();
  private count = 0;
  private readonly clock: Clock;
  private readonly maxTopics: number;
  private persistence: RetainedPersistence | undefined;

  constructor(options: RetainedOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxTopics = options.maxTopics ?? DEFAULT_MAX_RETAINED;
    this.persistence = options.persistence;
  }

  get size(): number {
    return this.count;
  }

  /**
   * Retains `message` for `topic` (a topic name, no wildcards), replacing the previous one; an empty
   * body clears it (MQTT-3.3.1-10/11). Returns false when the store is full and the topic is new.
   */
  set(topic: string, message: Message): boolean {
    if (message.body.length === 0) {
      this.clear(topic);
      return true;
    }
    const ls = levels(topic);
    let n = this.root;
    for (const l of ls) {
      let next = n.children.get(l);
      if (next === undefined) {
        if (this.count >= this.maxTopics && this.find(ls) === undefined) return false;
        next = node();
        n.children.set(l, next);
      }
      n = next;
    }
    if (n.message === undefined) {
      if (this.count >= this.maxTopics) return false;
      this.count++;
    }
    n.message = message;
    this.persistence?.write({ type: 'retain', topic, message });
    return true;
  }

  /** Removes the retained message of `topic`, if any, and prunes the emptied branch. */
  clear(topic: string): void {
    const ls = levels(topic);
    const path: Node[] = [this.root];
    let n: Node | undefined = this.root;
    for (const l of ls) {
      n = n.children.get(l);
      if (n === undefined) return;
      path.push(n);
    }
    if (n.message === undefined) return;
    n.message = undefined;
    this.count--;
    this.persistence?.write({ type: 'clear', topic });
    for (let i = ls.length; i > 0; i--) {
      const child = path[i]!;
      if (child.message !== undefined || child.children.size > 0) break;
      path[i - 1]!.children.delete(ls[i - 1]!);
    }
  }

  /** Resolves once every change so far is durable; at once without (durable) persistence. */
  flushed(): Promise<void> {
    return this.persistence?.flushed?.() ?? ACCEPTED;
  }

  get(topic: string): Message | undefined {
    return this.find(levels(topic))?.message;
  }

  /** Retained messages whose topic matches `pattern` (`*` one level, `>` the rest), expired ones dropped. */
  match(pattern: string): Message[] {
    const out: Message[] = [];
    if (this.count === 0) return out;
    const expired: string[] = [];
    collect(this.root, levels(pattern), 0, [], out, expired, this.clock.now());
    for (const topic of expired) this.clear(topic);
    return out;
  }

  /**
   * Reloads saved messages at start-up (not reported back to the persistence). Returns the topics not
   * kept because the store is full (`maxTopics` lowered since they were saved).
   */
  restore(messages: Iterable<{ topic: string; message: Message }>): string[] {
    const persistence = this.persistence;
    const refused: string[] = [];
    this.persistence = undefined;
    try {
      for (const { topic, message } of messages) if (!this.set(topic, message)) refused.push(topic);
    } finally {
      this.persistence = persistence;
    }
    return refused;
  }

  private find(ls: readonly string[]): Node | undefined {
    let n: Node | undefined = this.root;
    for (const l of ls) {
      n = n.children.get(l);
      if (n === undefined) return undefined;
    }
    return n;
  }
}

function collect(
  n: Node,
  pattern: readonly string[],
  i: number,
  path: string[],
  out: Message[],
  expired: string[],
  now: number,
): void {
  if (i === pattern.length) {
    take(n, path, out, expired, now);
    return;
  }
  const p = pattern[i]!;
  if (p === ANY_DESCENDANTS) {
    // `a.>` matches `a` itself too (zero levels), like MQTT `a/#`.
    take(n, path, out, expired, now);
    for (const [l, child] of n.children) {
      path.push(l);
      collect(child, pattern, i, path, out, expired, now);
      path.pop();
    }
    return;
  }
  if (p === ANY_LEVEL) {
    for (const [l, child] of n.children) {
      path.push(l);
      collect(child, pattern, i + 1, path, out, expired, now);
      path.pop();
    }
    return;
  }
  const child = n.children.get(p);
  if (child === undefined) return;
  path.push(p);
  collect(child, pattern, i + 1, path, out, expired, now);
  path.pop();
}

function take(n: Node, path: readonly string[], out: Message[], expired: string[], now: number): void {
  const m = n.message;
  if (m === undefined) return;
  if (isExpired(m, now)) expired.push(path.join('.'));
  else out.push(m);
}
