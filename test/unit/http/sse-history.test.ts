/**
 * SSE resume: the history ring (numbering, bounds, resume points; property-tested against a model) and a
 * FeedStream over a real Writable (replay after Last-Event-ID, gap events, back-pressure, slow cut-off).
 */
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CoreConnection, DeliverySink, SubscribeOptions, Subscription } from '../../../src/core/api.js';
import type { Message } from '../../../src/core/message.js';
import { TopicFeeds } from '../../../src/protocol/http/sse-feed.js';
import { HistoryRing } from '../../../src/protocol/http/sse-history.js';

const msg = (n: number, size = 4): Message =>
  ({
    id: `m${n}`,
    address: 'topic://t',
    body: Buffer.alloc(size, 0x61 + (n % 26)),
    properties: {},
    timestamp: n,
  }) as unknown as Message;

describe('HistoryRing', () => {
  it('numbers messages from 1 and keeps the last maxMessages', () => {
    const ring = new HistoryRing(3, 1e9, 'E');
    for (let i = 1; i <= 5; i++) expect(ring.append(msg(i))).toBe(i);
    expect([ring.oldestSeq, ring.lastSeq, ring.size]).toEqual([3, 5, 3]);
    expect(ring.at(2)).toBeUndefined();
    expect(ring.at(4)?.id).toBe('m4');
    expect(ring.idOf(4)).toBe('E-4');
  });

  it('bounds bytes too (with a per-message overhead)', () => {
    const ring = new HistoryRing(1000, 3000, 'E');
    for (let i = 1; i <= 10; i++) ring.append(msg(i, 1000));
    expect(ring.size).toBe(2);
    expect(ring.byteSize).toBeLessThanOrEqual(3000);
  });

  it('resumes after an id in the ring, counts what fell out, and knows nothing of other epochs', () => {
    const ring = new HistoryRing(3, 1e9, 'E');
    for (let i = 1; i <= 5; i++) ring.append(msg(i));
    expect(ring.resumeFrom(undefined)).toEqual({ after: 5, missed: 0 });
    expect(ring.resumeFrom('E-4')).toEqual({ after: 4, missed: 0 });
    expect(ring.resumeFrom('E-2')).toEqual({ after: 2, missed: 0 });
    expect(ring.resumeFrom('E-0')).toEqual({ after: 2, missed: 2 });
    expect(ring.resumeFrom('X-4')).toEqual({ after: 5, missed: null });
    expect(ring.resumeFrom('E-9')).toEqual({ after: 5, missed: null });
    expect(ring.resumeFrom('garbage')).toEqual({ after: 5, missed: null });
  });

  it('matches a model: replay + missed = everything after the resume point', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 200 }),
        fc.nat(),
        (cap, n, pick) => {
          const ring = new HistoryRing(cap, 1e9, 'E');
          for (let i = 1; i <= n; i++) ring.append(msg(i));
          const last = n === 0 ? 0 : pick % (n + 1);
          const { after, missed } = ring.resumeFrom(`E-${last}`);
          const replay: string[] = [];
          for (let s = after + 1; s <= ring.lastSeq; s++) replay.push(ring.at(s)!.id);
          expect(missed! + replay.length).toBe(n - last);
          expect(replay.length).toBeLessThanOrEqual(cap);
          if (replay.length > 0) expect(replay.at(-1)).toBe(`m${n}`);
        },
      ),
    );
  });
});

function fakeCore() {
  let sink: DeliverySink | undefined;
  const state = {
    subscriptions: 0,
    closedConnections: 0,
    options: undefined as SubscribeOptions | undefined,
  };
  const sub = {
    close: () => undefined,
    pause: () => undefined,
    resume: () => undefined,
  } as unknown as Subscription;
  const connect = () =>
    ({
      subscribe(o: SubscribeOptions, s: DeliverySink) {
        state.subscriptions++;
        state.options = o;
        sink = s;
        return sub;
      },
      close() {
        state.closedConnections++;
      },
    }) as unknown as CoreConnection;
  let tag = 0;
  const publish = (m: Message) =>
    sink!.deliver(sub, { tag: ++tag, message: m, redelivered: false, deliveryCount: 1 });
  return { connect, publish, state };
}

const read = (out: PassThrough) => {
  let text = '';
  for (let c = out.read(); c !== null; c = out.read()) text += String(c);
  return text;
};
const events = (text: string) =>
  text
    .split('\n\n')
    .filter((b) => b.includes('data: '))
    .map((b) =>
      Object.fromEntries(b.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)])),
    );

const streamOptions = { format: 'text' as const, heartbeatMs: 60_000, slowConsumerTimeoutMs: 5000 };

describe('TopicFeeds', () => {
  it('shares one recorder; a reconnecting stream gets what it missed, by Last-Event-ID', () => {
    const core = fakeCore();
    const feeds = new TopicFeeds({ maxMessages: 100, maxBytes: 1e6, retentionMs: 10_000, maxRecorders: 10 });
    const attach = (out: PassThrough, lastEventId?: string) =>
      feeds.attach({
        address: 'topic://t',
        selector: undefined,
        lastEventId,
        connect: core.connect,
        out,
        stream: streamOptions,
        onClosed: () => undefined,
      })!;
    const out1 = new PassThrough();
    const s1 = attach(out1);
    const out2 = new PassThrough();
    attach(out2);
    expect(core.state.subscriptions).toBe(1);
    expect(core.state.options).toMatchObject({ address: 'topic://t', ackMode: 'auto' });
    core.publish(msg(1));
    core.publish(msg(2));
    const seen = events(read(out1));
    expect(seen.map((e) => e.data)).toEqual(['bbbb', 'cccc']);
    expect(events(read(out2)).map((e) => e.id)).toEqual(seen.map((e) => e.id));
    s1.close('client');
    core.publish(msg(3));
    core.publish(msg(4));
    const back = new PassThrough();
    attach(back, seen[0]!.id);
    expect(events(read(back)).map((e) => e.data)).toEqual(['cccc', 'dddd', 'eeee']);
    feeds.close();
    expect(core.state.closedConnections).toBe(1);
  });

  it('tells a stream that fell out of the ring how much it lost (gap event)', () => {
    const core = fakeCore();
    const feeds = new TopicFeeds({ maxMessages: 2, maxBytes: 1e6, retentionMs: 10_000, maxRecorders: 10 });
    const first = new PassThrough();
    const s = feeds.attach({
      address: 'topic://t',
      selector: undefined,
      lastEventId: undefined,
      connect: core.connect,
      out: first,
      stream: streamOptions,
      onClosed: () => undefined,
    })!;
    core.publish(msg(1));
    const id = events(read(first))[0]!.id!;
    s.close('client');
    for (let i = 2; i <= 6; i++) core.publish(msg(i));
    const out = new PassThrough();
    feeds.attach({
      address: 'topic://t',
      selector: undefined,
      lastEventId: id,
      connect: core.connect,
      out,
      stream: streamOptions,
      onClosed: () => undefined,
    });
    const got = events(read(out));
    expect(got[0]).toMatchObject({ event: 'gap', data: '{"missed":3}' });
    expect(got.slice(1).map((e) => e.data)).toEqual(['ffff', 'gggg']);
    // Another epoch: missed is unknown.
    const other = new PassThrough();
    feeds.attach({
      address: 'topic://t',
      selector: undefined,
      lastEventId: 'zz-1',
      connect: core.connect,
      out: other,
      stream: streamOptions,
      onClosed: () => undefined,
    });
    expect(events(read(other))[0]).toMatchObject({ event: 'gap', data: '{"missed":null}' });
    feeds.close();
  });

  it('stops at a full output and catches up from the ring on drain; cuts off a stream that never drains', async () => {
    const core = fakeCore();
    const feeds = new TopicFeeds({ maxMessages: 100, maxBytes: 1e6, retentionMs: 10_000, maxRecorders: 10 });
    const out = new PassThrough({ highWaterMark: 64 });
    feeds.attach({
      address: 'topic://t',
      selector: undefined,
      lastEventId: undefined,
      connect: core.connect,
      out,
      stream: streamOptions,
      onClosed: () => undefined,
    });
    for (let i = 1; i <= 10; i++) core.publish(msg(i, 100));
    // Only what fits before the output reports full has been written.
    expect(out.writableLength).toBeLessThan(300);
    let total = 0;
    for (let i = 0; i < 20; i++) {
      total += events(read(out)).length;
      await new Promise((r) => setImmediate(r));
    }
    expect(total).toBe(10);
    const slow = new PassThrough({ highWaterMark: 64 });
    let reason: string | undefined;
    feeds.attach({
      address: 'topic://t',
      selector: undefined,
      lastEventId: undefined,
      connect: core.connect,
      out: slow,
      stream: { ...streamOptions, slowConsumerTimeoutMs: 50 },
      onClosed: (r) => {
        reason = r;
      },
    });
    core.publish(msg(11, 200));
    await new Promise((r) => setTimeout(r, 120));
    expect(reason).toBe('slow');
    expect(slow.destroyed).toBe(true);
    feeds.close();
  });

  it('keeps a recorder for the retention time after its last stream, then closes it; bounded count', async () => {
    const core = fakeCore();
    const feeds = new TopicFeeds({ maxMessages: 10, maxBytes: 1e6, retentionMs: 40, maxRecorders: 1 });
    const s = feeds.attach({
      address: 'topic://a',
      selector: undefined,
      lastEventId: undefined,
      connect: core.connect,
      out: new PassThrough(),
      stream: streamOptions,
      onClosed: () => undefined,
    })!;
    // The limit is reached and the only recorder is streaming: no history for another address.
    expect(
      feeds.attach({
        address: 'topic://b',
        selector: undefined,
        lastEventId: undefined,
        connect: core.connect,
        out: new PassThrough(),
        stream: streamOptions,
        onClosed: () => undefined,
      }),
    ).toBeUndefined();
    s.close('client');
    expect(feeds.size).toBe(1);
    await new Promise((r) => setTimeout(r, 80));
    expect(feeds.size).toBe(0);
    feeds.close();
  });
});
