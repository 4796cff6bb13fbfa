/**
 * Operator actions over a real core (core/admin.ts): browse, purge, delete, move, subscriptions,
 * connections and eviction, and what of them reaches the store (checked by recovering a second core from
 * the same MemoryStore).
 */
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/core/index.js';
import { MemoryStore } from '../../../src/store/memory/index.js';
import { anonymous, bytes, expectCode, harness, sendAll, text } from '../core/helpers.js';

describe('CoreAdmin queues', () => {
  it('lists queues with counters and the age of the oldest pending message', async () => {
    const h = await harness();
    const c = h.connect();
    await sendAll(c, 'queue://a', ['1', '2', '3']);
    h.time.advance(1500);
    const { sub, rec } = h.sub(c, { address: 'queue://a', prefetch: 1 });
    const info = h.core.admin.queue('a')!;
    expect(info).toMatchObject({ address: 'queue://a', name: 'a', depth: 3, pending: 2, inFlight: 1 });
    expect(info).toMatchObject({ enqueued: 3, dequeued: 0, consumers: 1 });
    expect(info.oldestMessageAgeMs).toBe(1500);
    await sub.ack(rec.last.tag);
    expect(h.core.admin.queue('a')).toMatchObject({ depth: 2, dequeued: 1 });
    expect(h.core.admin.queue('missing')).toBeUndefined();
    expect(h.core.admin.queues().map((q) => q.name)).toEqual(['a']);
  });

  it('reports null age for a queue with nothing pending', async () => {
    const h = await harness();
    const c = h.connect();
    h.sub(c, { address: 'queue://empty' });
    expect(h.core.admin.queue('empty')!.oldestMessageAgeMs).toBeNull();
  });

  it('browses pending messages in delivery order without taking them', async () => {
    const h = await harness();
    const c = h.connect();
    await sendAll(c, 'queue://b', ['low'], { priority: 1 });
    await sendAll(c, 'queue://b', ['high'], { priority: 8, properties: { k: 'x' } });
    await sendAll(c, 'queue://b', ['mid']);
    const all = h.core.admin.browse('b');
    expect(all.map((b) => text(b.message))).toEqual(['high', 'mid', 'low']);
    expect(all[0]).toMatchObject({ deliveryCount: 0, redelivered: false });
    expect(h.core.admin.browse('b', { max: 2 })).toHaveLength(2);
    expect(h.core.admin.browse('b', { selector: "k = 'x'" }).map((b) => text(b.message))).toEqual(['high']);
    expect(h.core.admin.queue('b')!.depth).toBe(3);
    await expectCode(() => h.core.admin.browse('nope'), 'NOT_FOUND');
    await expectCode(() => h.core.admin.browse('b', { selector: '???' }), 'INVALID_SELECTOR');
  });

  it('shows a returned message as redelivered with its delivery count', async () => {
    const h = await harness();
    const c = h.connect();
    await sendAll(c, 'queue://r', ['m']);
    const { sub, rec } = h.sub(c, { address: 'queue://r' });
    expect(rec.deliveries).toHaveLength(1);
    sub.close();
    expect(h.core.admin.browse('r')[0]).toMatchObject({ deliveryCount: 1, redelivered: true });
  });

  it('skips expired messages when browsing', async () => {
    const h = await harness();
    const c = h.connect();
    await sendAll(c, 'queue://e', ['old'], { expiration: h.time.now() + 100 });
    await sendAll(c, 'queue://e', ['new']);
    h.time.advance(200);
    expect(h.core.admin.browse('e').map((b) => text(b.message))).toEqual(['new']);
  });

  it('purges pending messages, leaves in-flight ones, and the store forgets them', async () => {
    const store = new MemoryStore();
    const h = await harness({ store });
    const c = h.connect();
    await sendAll(c, 'queue://p', ['1', '2', '3'], { persistent: true });
    h.sub(c, { address: 'queue://p', prefetch: 1 });
    expect(h.core.admin.purge('p')).toBe(2);
    expect(h.core.admin.queue('p')).toMatchObject({ depth: 1, pending: 0, inFlight: 1, dequeued: 2 });
    await expectCode(() => h.core.admin.purge('nope'), 'NOT_FOUND');
    await h.core.shutdown();
    const again = await harness({ store });
    expect(again.core.admin.browse('p').map((b) => text(b.message))).toEqual(['1']);
  });

  it('deletes a queue: consumers are told, messages and stored copies are gone', async () => {
    const store = new MemoryStore();
    const h = await harness({ store });
    const c = h.connect();
    await sendAll(c, 'queue://d', ['1', '2'], { persistent: true });
    const { rec } = h.sub(c, { address: 'queue://d', prefetch: 1 });
    h.core.admin.deleteQueue('d');
    expect(rec.closedReason).toMatch(/deleted/);
    expect(h.core.admin.queue('d')).toBeUndefined();
    expect(h.core.stats().memory.used).toBe(0);
    await expectCode(() => h.core.admin.deleteQueue('d'), 'NOT_FOUND');
    await h.core.shutdown();
    const again = await harness({ store });
    expect(again.core.admin.queue('d')).toBeUndefined();
  });

  it('deletes one pending message by id', async () => {
    const h = await harness();
    const c = h.connect();
    await sendAll(c, 'queue://x', ['1', '2', '3']);
    const id = h.core.admin.browse('x')[1]!.message.id;
    h.core.admin.deleteMessage('x', id);
    expect(h.core.admin.browse('x').map((b) => text(b.message))).toEqual(['1', '3']);
    await expectCode(() => h.core.admin.deleteMessage('x', id), 'NOT_FOUND');
  });

  it('moves a message to another queue with its id and headers, durably', async () => {
    const store = new MemoryStore();
    const h = await harness({ store });
    const c = h.connect();
    await sendAll(c, 'queue://src', ['keep', 'move'], { persistent: true, properties: { p: 1 } });
    const moving = h.core.admin.browse('src')[1]!.message;
    h.core.admin.moveMessage('src', moving.id, 'queue://dst');
    const moved = h.core.admin.browse('dst')[0]!.message;
    expect(moved).toMatchObject({
      id: moving.id,
      address: 'queue://dst',
      properties: { p: 1 },
      persistent: true,
    });
    expect(text(moved)).toBe('move');
    expect(h.core.admin.browse('src').map((b) => text(b.message))).toEqual(['keep']);
    await expectCode(() => h.core.admin.moveMessage('src', 'ID:none', 'queue://dst'), 'NOT_FOUND');
    await expectCode(() => h.core.admin.moveMessage('src', moving.id, 'temp-queue://t'), 'INVALID_ADDRESS');
    const keep = h.core.admin.browse('src')[0]!.message.id;
    await expectCode(() => h.core.admin.moveMessage('src', keep, 'queue://src'), 'BAD_REQUEST');
    await h.core.shutdown();
    const again = await harness({ store });
    expect(again.core.admin.browse('dst').map((b) => text(b.message))).toEqual(['move']);
    expect(again.core.admin.browse('src').map((b) => text(b.message))).toEqual(['keep']);
  });

  it('moves a message to a topic, reaching its subscribers', async () => {
    const h = await harness();
    const c = h.connect();
    await sendAll(c, 'queue://q', ['hello']);
    const { rec } = h.sub(c, { address: 'topic://t.*' });
    h.core.admin.moveMessage('q', h.core.admin.browse('q')[0]!.message.id, 'topic://t.x');
    expect(rec.texts()).toEqual(['hello']);
    expect(h.core.admin.topics()).toEqual([
      { address: 'topic://t.x', name: 't.x', published: 1, subscribers: 1 },
    ]);
    expect(h.core.admin.addresses()).toEqual([
      { address: 'queue://q', kind: 'queue', depth: 0, consumers: 0 },
      { address: 'topic://t.x', kind: 'topic', consumers: 1 },
    ]);
  });

  it('lists temporary destinations among the addresses while their owner lives', async () => {
    const h = await harness();
    const c = h.connect();
    const tq = c.createTemporary('queue');
    const tt = c.createTemporary('topic');
    const kinds = () => h.core.admin.addresses().map((a) => `${a.kind} ${a.address}`);
    expect(kinds()).toEqual([`temp-queue ${tq}`, `temp-topic ${tt}`]);
    c.close();
    expect(kinds()).toEqual([]);
  });

  it('sends and returns the broker-assigned id', async () => {
    const h = await harness();
    const id = await h.core.admin.send(anonymous, { address: 'queue://s', body: bytes('x') });
    expect(h.core.admin.browse('s')[0]!.message.id).toBe(id);
    expect(h.core.admin.connections()).toEqual([]);
  });

  it('sends as the principal, so its write permission applies', async () => {
    const bob: Principal = { user: 'bob', anonymous: false };
    const h = await harness({ authorizer: { allowed: (_p, perm) => perm !== 'write' } });
    await expectCode(h.core.admin.send(bob, { address: 'queue://s', body: bytes('x') }), 'FORBIDDEN');
  });
});

describe('CoreAdmin authorization', () => {
  it('checks the admin permission on the address', async () => {
    const h = await harness({
      authorizer: {
        allowed: (p, perm, address) => perm === 'admin' && (p.user === 'root' || address === 'queue://mine'),
      },
    });
    const alice: Principal = { user: 'alice', anonymous: false };
    expect(h.core.admin.allowed(alice, 'queue://mine')).toBe(true);
    expect(h.core.admin.allowed(alice, '*')).toBe(false);
    await expectCode(() => h.core.admin.authorize(alice, 'queue://other'), 'FORBIDDEN');
    h.core.admin.authorize({ user: 'root', anonymous: false }, '*');
  });
});

describe('CoreAdmin subscriptions and connections', () => {
  it('lists live subscriptions and inactive durable ones', async () => {
    const h = await harness();
    const c = h.connect('client-1');
    await sendAll(c, 'queue://w', ['1', '2']);
    h.sub(c, { address: 'queue://w', prefetch: 1, selector: "k = 'v'" });
    const { sub: durable } = h.sub(c, { address: 'topic://news', durableName: 'd1', ackMode: 'cumulative' });
    const subs = h.core.admin.subscriptions();
    expect(subs).toContainEqual(
      expect.objectContaining({
        connectionId: c.id,
        address: 'queue://w',
        durable: false,
        active: true,
        ackMode: 'individual',
        pending: 2,
        inFlight: 0,
        selector: "k = 'v'",
      }),
    );
    expect(subs).toContainEqual(
      expect.objectContaining({
        address: 'topic://news',
        durable: true,
        clientId: 'client-1',
        name: 'd1',
        active: true,
      }),
    );
    durable.close();
    await sendAll(h.connect(), 'topic://news', ['while away']);
    const inactive = h.core.admin.subscriptions().find((s) => s.name === 'd1')!;
    expect(inactive).toMatchObject({ durable: true, active: false, clientId: 'client-1', pending: 1 });
    expect(inactive.connectionId).toBeUndefined();
  });

  it('deletes an inactive durable subscription, refuses an active one', async () => {
    const h = await harness();
    const c = h.connect('cid');
    const { sub } = h.sub(c, { address: 'topic://t', durableName: 'n' });
    await expectCode(() => h.core.admin.deleteDurable('cid', 'n'), 'CONFLICT');
    sub.close();
    h.core.admin.deleteDurable('cid', 'n');
    expect(h.core.admin.subscriptions()).toEqual([]);
    await expectCode(() => h.core.admin.deleteDurable('cid', 'n'), 'NOT_FOUND');
  });

  it('lists connections with the time they connected', async () => {
    const h = await harness();
    h.time.advance(1000);
    const c = h.core.connect({
      principal: anonymous,
      protocol: 'stomp',
      remoteAddress: '1.2.3.4:5',
      clientId: 'k',
    });
    expect(h.core.admin.connections()).toEqual([
      expect.objectContaining({
        id: c.id,
        protocol: 'stomp',
        remoteAddress: '1.2.3.4:5',
        clientId: 'k',
        connectedAt: h.time.now(),
      }),
    ]);
  });

  it('evicts through onEvict, which the session uses to close', async () => {
    const h = await harness();
    const reasons: string[] = [];
    const c = h.core.connect({
      principal: anonymous,
      protocol: 'stomp',
      onEvict: (reason) => {
        reasons.push(reason);
        c.close();
      },
    });
    h.core.admin.closeConnection(c.id, 'bye');
    expect(reasons).toEqual(['bye']);
    expect(h.core.admin.connections()).toEqual([]);
    await expectCode(() => h.core.admin.closeConnection(c.id), 'NOT_FOUND');
  });

  it('evicts a connection without onEvict: its subscriptions end with the reason, messages go back', async () => {
    const h = await harness();
    const other = h.connect();
    await sendAll(other, 'queue://ev', ['m']);
    const c = h.connect();
    const { rec } = h.sub(c, { address: 'queue://ev' });
    expect(rec.deliveries).toHaveLength(1);
    h.core.admin.closeConnection(c.id, 'operator says no');
    expect(rec.closedReason).toBe('operator says no');
    expect(h.core.admin.queue('ev')).toMatchObject({ pending: 1, inFlight: 0 });
    await expectCode(c.send({ address: 'queue://ev', body: bytes('x') }), 'CLOSED');
  });

  it('still closes the core side when onEvict does not', async () => {
    const h = await harness();
    const c = h.core.connect({ principal: anonymous, protocol: 'x', onEvict: () => {} });
    h.core.admin.closeConnection(c.id);
    expect(h.core.admin.connections()).toEqual([]);
  });

  it('counts totals over queues and durable subscriptions', async () => {
    const h = await harness();
    const c = h.connect('t');
    h.sub(c, { address: 'topic://x', durableName: 'd' });
    await sendAll(c, 'queue://a', ['1', '2']);
    await sendAll(c, 'topic://x', ['3']);
    expect(h.core.admin.totals()).toEqual({
      connections: 1,
      queues: 1,
      topics: 1,
      durables: 1,
      messages: 3,
      enqueued: 3,
      dequeued: 0,
    });
  });
});

describe('CoreConnection.browse', () => {
  it('browses a queue with read permission, never creating it', async () => {
    const h = await harness();
    const c = h.connect();
    await sendAll(c, 'queue://cb', ['a', 'b']);
    expect(c.browse('queue://cb').map(text)).toEqual(['a', 'b']);
    expect(c.browse('queue://cb', { max: 1 }).map(text)).toEqual(['a']);
    expect(c.browse('queue://absent')).toEqual([]);
    expect(h.core.admin.queue('absent')).toBeUndefined();
    await expectCode(() => c.browse('topic://t'), 'INVALID_ADDRESS');
    await expectCode(() => c.browse('queue://cb', { max: -1 }), 'BAD_REQUEST');
  });

  it('refuses without read permission, and a temporary queue of another connection', async () => {
    const h = await harness({ authorizer: { allowed: (_p, perm) => perm !== 'read' } });
    const c = h.connect();
    await expectCode(() => c.browse('queue://x'), 'FORBIDDEN');
    const h2 = await harness();
    const owner = h2.connect();
    const temp = owner.createTemporary('queue');
    await owner.send({ address: temp, body: bytes('t') });
    expect(owner.browse(temp).map(text)).toEqual(['t']);
    await expectCode(() => h2.connect().browse(temp), 'FORBIDDEN');
  });
});
