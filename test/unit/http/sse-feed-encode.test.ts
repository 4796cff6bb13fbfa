/**
 * Encode once, write to many. The feed encodes each (message, format) once for all its streams
 * (sse-feed.ts): streams at the head share one Buffer, and streams that lag, pause and catch up in any
 * interleaving still get exactly their messages in order (property test against the plain encoding, so the
 * cache never hands out another message's bytes). Live topic streams without history (sse-stream.ts) share
 * the encoding of a message object too; queue streams do not.
 */
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CoreConnection, DeliverySink, Subscription } from '../../../src/core/api.js';
import type { Message } from '../../../src/core/message.js';
import { TopicFeeds } from '../../../src/protocol/http/sse-feed.js';
import { type SseOutput, SseStream } from '../../../src/protocol/http/sse-stream.js';

const msg = (n: number, size = 8): Message =>
  ({
    id: `m${n}`,
    address: 'topic://t',
    body: Buffer.from(`body-${n}-`.padEnd(size, 'x')),
    properties: { n },
    timestamp: n,
  }) as unknown as Message;

/** An SseOutput that records each chunk and reports full while `full` is set. */
class FakeOut extends EventEmitter implements SseOutput {
  chunks: Array<string | Uint8Array> = [];
  full = false;
  write(chunk: string | Uint8Array): boolean {
    this.chunks.push(chunk);
    return !this.full;
  }
  end(): void {}
  destroy(): void {}
  drain(): void {
    this.full = false;
    this.emit('drain');
  }
  text(): string {
    return this.chunks.map((c) => (typeof c === 'string' ? c : Buffer.from(c).toString('utf8'))).join('');
  }
}

function fakeCore() {
  let sink: DeliverySink | undefined;
  const sub = { close: () => undefined } as unknown as Subscription;
  const connection = {
    subscribe(_o: unknown, s: DeliverySink) {
      sink = s;
      return sub;
    },
    close() {},
  } as unknown as CoreConnection;
  let tag = 0;
  const publish = (m: Message) =>
    sink!.deliver(sub, { tag: ++tag, message: m, redelivered: false, deliveryCount: 1 });
  return { connect: () => connection, publish };
}

function setup(maxMessages = 1000) {
  const core = fakeCore();
  const feeds = new TopicFeeds({ maxMessages, maxBytes: 1e9, retentionMs: 10_000, maxRecorders: 10 });
  const attach = (format: 'text' | 'json') => {
    const out = new FakeOut();
    feeds.attach({
      address: 'topic://t',
      selector: undefined,
      lastEventId: undefined,
      connect: core.connect,
      out: out as unknown as SseOutput,
      stream: { format, heartbeatMs: 60_000, slowConsumerTimeoutMs: 60_000 },
      onClosed: () => undefined,
    });
    return out;
  };
  return { core, feeds, attach };
}

const dataOf = (text: string) =>
  text
    .split('\n\n')
    .filter((e) => e.includes('data: '))
    .map((e) => e.slice(e.indexOf('data: ') + 6));

describe('encode once per message', () => {
  it('hands the same bytes to every stream of a format, and each format its own', () => {
    const { core, feeds, attach } = setup();
    const [a, b, j] = [attach('text'), attach('text'), attach('json')];
    core.publish(msg(1));
    core.publish(msg(2));
    expect(a.chunks).toHaveLength(2);
    for (let i = 0; i < 2; i++) expect(b.chunks[i]).toBe(a.chunks[i]);
    expect(dataOf(a.text())).toEqual(['body-1-x', 'body-2-x']);
    expect(dataOf(j.text()).map((d) => JSON.parse(d).body)).toEqual(['body-1-x', 'body-2-x']);
    feeds.close();
  });

  it('does not keep large events (bounded memory), but still sends them', () => {
    const { core, feeds, attach } = setup();
    const [a, b] = [attach('text'), attach('text')];
    core.publish(msg(1, 20_000));
    expect(b.chunks[0]).not.toBe(a.chunks[0]);
    expect(a.text()).toBe(b.text());
    feeds.close();
  });

  it('gives every stream its messages in order whatever the pauses (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('publish' as const), size: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ kind: fc.constant('stall' as const), stream: fc.nat(3) }),
      fc.record({ kind: fc.constant('drain' as const), stream: fc.nat(3) }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 40, maxLength: 150 }), (ops) => {
        const { core, feeds, attach } = setup();
        const outs = [attach('text'), attach('json'), attach('text'), attach('json')];
        const bodies: string[] = [];
        for (const o of ops) {
          if (o.kind === 'publish') {
            const m = msg(bodies.length + 1, o.size);
            bodies.push(m.body.toString());
            core.publish(m);
          } else if (o.kind === 'stall') outs[o.stream]!.full = true;
          else outs[o.stream]!.drain();
        }
        for (const out of outs) out.drain();
        for (const [i, out] of outs.entries()) {
          const got = dataOf(out.text()).map((d) => (i % 2 === 0 ? d : JSON.parse(d).body));
          expect(got).toEqual(bodies);
        }
        feeds.close();
      }),
      { numRuns: 150 },
    );
  });
});

describe('live streams without history', () => {
  function liveStream(format: 'text' | 'json', ackOnFlush = false) {
    let sink: DeliverySink | undefined;
    const sub = { close: () => undefined, ack: () => undefined } as unknown as Subscription;
    const connection = {
      subscribe(_o: unknown, s: DeliverySink) {
        sink = s;
        return sub;
      },
      close() {},
    } as unknown as CoreConnection;
    const out = new FakeOut();
    const stream = new SseStream(out as unknown as SseOutput, connection, {
      address: 'topic://t',
      heartbeatMs: 60_000,
      slowConsumerTimeoutMs: 60_000,
      format,
      prefetch: 10,
      ackOnFlush,
    });
    const deliver = (m: Message) =>
      sink!.deliver(sub, { tag: 1, message: m, redelivered: false, deliveryCount: 1 });
    return { out, stream, deliver };
  }

  it('share the encoding of one message object per format', () => {
    const streams = [liveStream('text'), liveStream('text'), liveStream('json')];
    const m = msg(7);
    for (const s of streams) s.deliver(m);
    const [a, b, j] = streams.map((s) => s.out.chunks.at(-1));
    expect(b).toBe(a);
    expect(j).not.toBe(a);
    expect(dataOf(streams[0]!.out.text())).toEqual(['body-7-x']);
    expect(JSON.parse(dataOf(streams[2]!.out.text())[0]!)).toMatchObject({ id: 'm7', body: 'body-7-x' });
    // Another message object with the same content is encoded on its own (no mix-up by content or id).
    const other = { ...msg(8), id: 'm7' } as Message;
    streams[0]!.deliver(other);
    expect(dataOf(streams[0]!.out.text())).toEqual(['body-7-x', 'body-8-x']);
    for (const s of streams) s.stream.close('client');
  });

  it('queue streams (ack on flush) encode for themselves', () => {
    const q = liveStream('text', true);
    q.deliver(msg(1));
    expect(typeof q.out.chunks.at(-1)).toBe('string');
    q.stream.close('client');
  });
});
