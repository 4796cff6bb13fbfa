/**
 * native.proto "Requests and replies" + "Subscribe": Subscribed is always on the wire before the
 * subscription's first Deliver, even when an earlier request's answer (a persistent send waiting for
 * the store) holds Subscribed back while messages are routed to the new subscription.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Decoded, type Harness, harness } from './helpers.js';

const body = (s: string) => Buffer.from(s);
let h: Harness | undefined;

afterEach(async () => {
  await h?.core.shutdown();
  h = undefined;
});

const bodies = (frames: Decoded[]) =>
  frames
    .filter((f) => f.kind === 'deliver')
    .flatMap((f) =>
      f.deliver.deliveries.map((d: { message: { body: Buffer } }) => d.message.body.toString()),
    );

describe('native session: Subscribed precedes the first Deliver', () => {
  it('holds backlog and live deliveries while an earlier answer is pending', async () => {
    h = await harness();
    const producer = h.open();
    await producer.connect();
    const c = h.open();
    await c.connect();
    producer.send('send', { request_id: 2, message: { address: 'queue://o', body: body('backlog') } });
    h.store.hold();
    c.send('send', {
      request_id: 3,
      message: { address: 'queue://p', body: body('slow'), persistent: true },
    });
    c.send('subscribe', { request_id: 4, subscription_id: 1, address: 'queue://o', credit: 2, ack_mode: 2 });
    // Routed while Subscribed waits behind request 3: held, within credit (2), the third stays queued.
    producer.send('send', { request_id: 5, message: { address: 'queue://o', body: body('live1') } });
    producer.send('send', { request_id: 6, message: { address: 'queue://o', body: body('live2') } });
    await c.settle();
    expect(c.take()).toEqual([]);
    h.store.release();
    await c.settle();
    const frames = c.take();
    expect(frames.map((f) => f.kind)).toEqual(['ok', 'subscribed', 'deliver']);
    expect(bodies(frames)).toEqual(['backlog', 'live1']);
    c.send('credit', { subscription_id: 1, credit: 5 });
    expect(bodies(c.take())).toEqual(['live2']);
  });

  it('a Credit that arrives before Subscribed is out does not release held deliveries early', async () => {
    h = await harness();
    const c = h.open();
    await c.connect();
    c.send('send', { request_id: 2, message: { address: 'queue://o', body: body('m1') } });
    h.store.hold();
    c.send('send', {
      request_id: 3,
      message: { address: 'queue://p', body: body('slow'), persistent: true },
    });
    c.send('subscribe', { request_id: 4, subscription_id: 1, address: 'queue://o', credit: 0, ack_mode: 2 });
    c.send('credit', { subscription_id: 1, credit: 3 });
    c.send('send', { request_id: 5, message: { address: 'queue://o', body: body('m2') } });
    await c.settle();
    expect(c.take().map((f) => f.kind)).toEqual(['ok']);
    h.store.release();
    await c.settle();
    const frames = c.take();
    // Ok and Deliver are different streams for the client (no order between them); Subscribed is not.
    const kinds = frames.map((f) => f.kind);
    expect(kinds.slice(0, 2)).toEqual(['ok', 'subscribed']);
    expect(kinds.slice(2).sort()).toEqual(['deliver', 'ok']);
    expect(bodies(frames)).toEqual(['m1', 'm2']);
  });
});
