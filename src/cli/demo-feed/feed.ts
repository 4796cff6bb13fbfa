/**
 * The feed loop: quotes from a PriceWalk sent at a steady rate, paced by elapsed time (so a slow tick
 * catches up instead of drifting) and by the socket (a full buffer pauses the loop, never buffers more).
 */
import type { PriceWalk, Quote } from './prices.js';

/** How many messages are due after `elapsedMs` at `rate` per second, minus those `sent` already. Pure. */
export function due(elapsedMs: number, rate: number, sent: number): number {
  return Math.max(0, Math.floor((elapsedMs * rate) / 1000) + 1 - sent);
}

/** The STOMP destination and JSON body of a quote (the format web/ticker/model.ts reads). Pure. */
export function quoteFrame(q: Quote, now: number): { destination: string; body: string } {
  return {
    destination: `/topic/prices.${q.symbol}`,
    body: JSON.stringify({ symbol: q.symbol, price: q.price, change: q.change, ts: now }),
  };
}

export interface Sink {
  send(destination: string, body: string, headers: Record<string, string>): boolean;
  drained(): Promise<void>;
}

export interface FeedOptions {
  walk: PriceWalk;
  sink: Sink;
  /** Messages per second, all symbols together. */
  rate: number;
  /** Stop after this many (default: until aborted). */
  count?: number;
  signal?: AbortSignal;
  now?: () => number;
  /** Tick interval in ms (default 20). */
  tickMs?: number;
}

/** Resolves with the number of messages sent once `count` is reached or `signal` aborts. */
export async function runFeed(o: FeedOptions): Promise<number> {
  const now = o.now ?? Date.now;
  const limit = o.count ?? Number.POSITIVE_INFINITY;
  const start = now();
  let sent = 0;
  const headers = { 'content-type': 'application/json' };
  while (sent < limit && !o.signal?.aborted) {
    const n = Math.min(due(now() - start, o.rate, sent), limit - sent);
    for (let i = 0; i < n; i++) {
      const f = quoteFrame(o.walk.next(), now());
      sent++;
      if (!o.sink.send(f.destination, f.body, headers)) await o.sink.drained();
    }
    if (sent >= limit) break;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, o.tickMs ?? 20);
      o.signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
  return sent;
}
