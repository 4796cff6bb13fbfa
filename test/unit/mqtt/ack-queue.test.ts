/**
 * AckQueue (src/protocol/mqtt/ack-queue.ts): acks written in arrival order whatever order their
 * promises settle in [MQTT-4.6.0-2], [MQTT-4.6.0-3]; acks sharing a promise grouped; failure hooks run
 * when the outcome is known; written acks dropped from the front while others keep waiting.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCEPTED } from '../../../src/core/index.js';
import { AckQueue, type AckSink, type PublishAckType } from '../../../src/protocol/mqtt/ack-queue.js';
import { deferred as deferredOf } from '../../helpers/deferred.js';

/** Acks are written as text: `puback:7`, `pubrec:9!` (refused), or a generic ack's own text. */
class Sink implements AckSink {
  readonly written: string[] = [];
  readonly hooks: string[] = [];
  progressed = 0;
  writeAck(bytes: Uint8Array): void {
    this.written.push(Buffer.from(bytes).toString());
  }
  ackProgressed(): void {
    this.progressed++;
  }
  publishAccepted(type: PublishAckType, packetId: number): Uint8Array {
    return Buffer.from(`${type}:${packetId}`);
  }
  publishRefusedAck(
    type: PublishAckType,
    packetId: number,
    error: unknown,
    onFail: ((error: unknown) => void) | undefined,
  ): Uint8Array | null {
    onFail?.(error);
    return packetId % 7 === 0 ? null : Buffer.from(`${type}:${packetId}!`);
  }
}

const deferred = () => deferredOf({ handled: true });

const ticks = async (n = 3) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

describe('MQTT AckQueue', () => {
  it('writes an ack accepted at once with nothing queued immediately, without a microtask', () => {
    const sink = new Sink();
    const q = new AckQueue(sink);
    q.addPublish(ACCEPTED, 'puback', 1);
    expect(sink.written).toEqual(['puback:1']);
    expect(q.pending).toBe(0);
  });

  it('keeps arrival order when a later group settles first, and runs its failure hooks at once', async () => {
    const sink = new Sink();
    const q = new AckQueue(sink);
    const a = deferred();
    const b = deferred();
    q.addPublish(a.promise, 'puback', 1);
    q.addPublish(a.promise, 'puback', 2);
    q.addPublish(b.promise, 'pubrec', 3, () => sink.hooks.push('hook 3'));
    q.add(
      b.promise,
      () => Buffer.from('suback'),
      () => null,
    );
    q.addPublish(ACCEPTED, 'puback', 4);
    expect(q.pending).toBe(5);
    b.reject(new Error('refused'));
    await ticks();
    // The failure is known, so its hook ran; the bytes wait for the earlier acks.
    expect(sink.hooks).toEqual(['hook 3']);
    expect(sink.written).toEqual([]);
    a.resolve();
    await ticks();
    expect(sink.written).toEqual(['puback:1', 'puback:2', 'pubrec:3!', 'puback:4']);
    expect(q.pending).toBe(0);
  });

  it('writes nothing once stopped', async () => {
    const sink = new Sink();
    const q = new AckQueue(sink);
    const a = deferred();
    q.addPublish(a.promise, 'puback', 1);
    q.stop();
    a.resolve();
    await ticks();
    expect(sink.written).toEqual([]);
  });

  it('drops written acks from the front while a publisher always has more waiting', async () => {
    const sink = new Sink();
    const q = new AckQueue(sink);
    let prev = deferred();
    let id = 0;
    const expected: string[] = [];
    // Batches of 100 acks, each batch settled only after the next one was queued: never empty.
    for (let batch = 0; batch < 60; batch++) {
      const next = deferred();
      for (let i = 0; i < 100; i++) {
        id = (id % 65_535) + 1;
        q.addPublish(next.promise, 'puback', id);
        expected.push(`puback:${id}`);
      }
      prev.resolve();
      await ticks();
      expect(q.pending).toBeLessThanOrEqual(200);
      expect((q as unknown as { codes: number[] }).codes.length).toBeLessThan(2300);
      prev = next;
    }
    prev.resolve();
    await ticks();
    expect(sink.written).toEqual(expected);
    expect(q.pending).toBe(0);
  });

  it('writes every ack once, in arrival order, for any settle order (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ p: fc.integer({ min: 0, max: 5 }), generic: fc.boolean() }), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.array(fc.record({ p: fc.integer({ min: 0, max: 5 }), fail: fc.boolean() }), { maxLength: 12 }),
        async (adds, settles) => {
          const sink = new Sink();
          const q = new AckQueue(sink);
          const ps = Array.from({ length: 6 }, deferred);
          const outcome: Array<'ok' | 'failed' | undefined> = new Array(6).fill(undefined);
          adds.forEach((a, i) => {
            const id = i + 1;
            if (a.generic) {
              q.add(
                ps[a.p]!.promise,
                () => Buffer.from(`g:${id}`),
                () => Buffer.from(`g:${id}!`),
              );
            } else {
              q.addPublish(ps[a.p]!.promise, i % 2 ? 'pubrec' : 'puback', id, () => sink.hooks.push(`${id}`));
            }
          });
          for (const s of settles) {
            if (outcome[s.p] !== undefined) continue;
            outcome[s.p] = s.fail ? 'failed' : 'ok';
            if (s.fail) ps[s.p]!.reject(new Error('x'));
            else ps[s.p]!.resolve();
            await ticks();
          }
          ps.forEach((d, p) => {
            if (outcome[p] === undefined) {
              outcome[p] = 'ok';
              d.resolve();
            }
          });
          await ticks(5);
          const want: string[] = [];
          const hooks: string[] = [];
          adds.forEach((a, i) => {
            const id = i + 1;
            const failed = outcome[a.p] === 'failed';
            if (a.generic) want.push(`g:${id}${failed ? '!' : ''}`);
            else {
              const type = i % 2 ? 'pubrec' : 'puback';
              if (failed) hooks.push(`${id}`);
              if (!failed) want.push(`${type}:${id}`);
              else if (id % 7 !== 0) want.push(`${type}:${id}!`);
            }
          });
          expect(sink.written).toEqual(want);
          expect([...sink.hooks].sort()).toEqual(hooks.sort());
          expect(q.pending).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
