/**
 * /v1 receive leases (protocol/http/v1/leases.ts) over a real in-memory core: held messages stay invisible
 * to other consumers, acks remove them, nacks and the visibility timeout return them (redelivered), and
 * receipts are all-or-nothing and private to their user.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/core/api.js';
import type { BlazeCore } from '../../../src/core/broker.js';
import { createBrokerCore } from '../../../src/core/index.js';
import { HttpError } from '../../../src/protocol/http/errors.js';
import { LeaseRegistry } from '../../../src/protocol/http/v1/leases.js';

const alice: Principal = { user: 'alice', anonymous: false };
const bob: Principal = { user: 'bob', anonymous: false };

let core: BlazeCore;
let leases: LeaseRegistry;
beforeEach(async () => {
  core = await createBrokerCore();
  leases = new LeaseRegistry({ maxLeases: 3 });
});
afterEach(async () => {
  leases.close();
  await core.shutdown();
});

const connect = (p: Principal) => () => core.connect({ principal: p, protocol: 'http' });

async function send(address: string, ...bodies: string[]) {
  const c = core.connect({ principal: alice, protocol: 'test' });
  for (const b of bodies) await c.send({ address, body: Buffer.from(b), persistent: false });
  c.close();
}

const receive = (p: Principal, max: number, extra: Partial<Parameters<LeaseRegistry['receive']>[2]> = {}) =>
  leases.receive(connect(p), p, {
    address: 'queue://q',
    max,
    timeoutMs: 0,
    visibilityTimeoutMs: 10_000,
    selector: undefined,
    ...extra,
  });

const bodies = (r: Array<{ delivery: { message: { body: Uint8Array } } }>) =>
  r.map((x) => Buffer.from(x.delivery.message.body).toString());

const depth = () => core.stats().queues.find((q) => q.address === 'queue://q')?.depth ?? 0;

describe('LeaseRegistry', () => {
  it('takes up to max, holds them from other consumers, and acks remove them', async () => {
    await send('queue://q', 'a', 'b', 'c');
    const first = await receive(alice, 2);
    expect(bodies(first)).toEqual(['a', 'b']);
    expect(bodies(await receive(alice, 5))).toEqual(['c']);
    expect(await receive(alice, 5)).toEqual([]);
    expect(
      await leases.settle(
        alice,
        first.map((r) => r.receipt),
        'ack',
      ),
    ).toBe(2);
    expect(leases.held).toBe(1);
  });

  it('settles by message id, only for the user holding the message, all or nothing', async () => {
    await send('queue://q', 'a', 'b');
    const got = await receive(alice, 2);
    const ids = got.map((r) => r.delivery.message.id);
    expect(() => leases.receiptsOf(bob, ids)).toThrow(HttpError);
    expect(() => leases.receiptsOf(alice, [ids[0]!, 'ID:nope'])).toThrow(/not held/);
    expect(await leases.settle(alice, leases.receiptsOf(alice, [ids[0]!]), 'ack')).toBe(1);
    // Settled: its id is no longer held; the other one still is.
    expect(() => leases.receiptsOf(alice, [ids[0]!])).toThrow(/not held/);
    expect(await leases.settle(alice, leases.receiptsOf(alice, [ids[1]!]), 'nack')).toBe(1);
    expect(depth()).toBe(1);
    const again = await receive(alice, 1);
    expect(bodies(again)).toEqual(['b']);
    expect(again[0]!.delivery.redelivered).toBe(true);
  });

  it('long-polls for the first message', async () => {
    const pending = receive(alice, 2, { timeoutMs: 2000 });
    setTimeout(() => void send('queue://q', 'late'), 30);
    expect(bodies(await pending)).toEqual(['late']);
  });

  it('returns nacked messages and expired leases to the queue, redelivered', async () => {
    await send('queue://q', 'a', 'b');
    const [a] = await receive(alice, 1);
    await leases.settle(alice, [a!.receipt], 'nack');
    const again = await receive(alice, 1, { visibilityTimeoutMs: 50 });
    expect(bodies(again)).toEqual(['a']);
    expect(again[0]!.delivery.redelivered).toBe(true);
    await new Promise((r) => setTimeout(r, 120));
    // The lease expired: its receipt is gone and the message is back.
    await expect(leases.settle(alice, [again[0]!.receipt], 'ack')).rejects.toMatchObject({ status: 404 });
    const third = await receive(alice, 5);
    expect(bodies(third).sort()).toEqual(['a', 'b']);
  });

  it('settles all or nothing, and another user cannot use a receipt', async () => {
    await send('queue://q', 'a');
    const [a] = await receive(alice, 1);
    const err = await leases.settle(alice, [a!.receipt, 'bogus'], 'ack').catch((e: HttpError) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).details).toEqual({ unknown: ['bogus'] });
    await expect(leases.settle(bob, [a!.receipt], 'ack')).rejects.toMatchObject({ status: 404 });
    expect(await leases.settle(alice, [a!.receipt], 'ack')).toBe(1);
    expect(depth()).toBe(0);
  });

  it('closing returns everything held; a lease limit answers 503', async () => {
    await send('queue://q', 'a', 'b', 'c', 'd');
    await receive(alice, 1);
    await receive(alice, 1);
    await receive(alice, 1);
    await expect(receive(alice, 1)).rejects.toMatchObject({ status: 503 });
    leases.close();
    expect(leases.size).toBe(0);
    expect(depth()).toBe(4);
  });

  it('takes nothing when the client went away', async () => {
    await send('queue://q', 'a');
    const abort = new AbortController();
    abort.abort();
    expect(await receive(alice, 1, { timeoutMs: 1000, signal: abort.signal })).toEqual([]);
    expect(depth()).toBe(1);
    expect(leases.size).toBe(0);
  });
});
