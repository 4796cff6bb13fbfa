/**
 * HttpConsumer and ConsumerRegistry against a fake core connection: what a long poll gets, when it is
 * acked, and that nothing is lost when a response fails or a consumer is closed.
 */
import { describe, expect, it } from 'vitest';
import type {
  CoreConnection,
  Delivery,
  DeliverySink,
  Principal,
  SubscribeOptions,
  Subscription,
} from '../../../src/core/api.js';
import type { Message } from '../../../src/core/message.js';
import { authenticate, parseBasic } from '../../../src/protocol/http/auth.js';
import { HttpConsumer } from '../../../src/protocol/http/consumer.js';
import { ConsumerRegistry } from '../../../src/protocol/http/consumers.js';
import { HttpError } from '../../../src/protocol/http/errors.js';

interface Fake {
  connection: CoreConnection;
  sink(): DeliverySink;
  sub(): Subscription;
  options(): SubscribeOptions;
  acked: number[];
  closed: { sub: boolean; conn: boolean };
}

function fakeConnection(): Fake {
  let sink: DeliverySink | undefined;
  let subscription: Subscription | undefined;
  let opts: SubscribeOptions | undefined;
  const acked: number[] = [];
  const closed = { sub: false, conn: false };
  const connection = {
    id: 'c1',
    principal: { user: 'u', anonymous: false },
    subscribe(options: SubscribeOptions, s: DeliverySink): Subscription {
      sink = s;
      opts = options;
      subscription = {
        id: 's1',
        options,
        ack: (tag: number) => {
          acked.push(tag);
        },
        nack: () => undefined,
        pause: () => undefined,
        resume: () => undefined,
        close: () => {
          closed.sub = true;
        },
      };
      return subscription;
    },
    close: () => {
      closed.conn = true;
    },
  } as unknown as CoreConnection;
  return { connection, sink: () => sink!, sub: () => subscription!, options: () => opts!, acked, closed };
}

function delivery(tag: number): Delivery {
  const message = {
    id: `m${tag}`,
    address: 'queue://q',
    body: new Uint8Array(),
    properties: {},
  } as unknown as Message;
  return { tag, message, redelivered: false, deliveryCount: 1 };
}

describe('HttpConsumer', () => {
  it('subscribes with individual acks and prefetch 1, so an unpolled consumer holds one message', () => {
    const f = fakeConnection();
    new HttpConsumer(f.connection, 'queue://q', 'a = 1');
    expect(f.options()).toEqual({
      address: 'queue://q',
      ackMode: 'individual',
      prefetch: 1,
      selector: 'a = 1',
    });
  });

  it('gives a held message at once and a later one to the waiting request', async () => {
    const f = fakeConnection();
    const c = new HttpConsumer(f.connection, 'queue://q', undefined);
    f.sink().deliver(f.sub(), delivery(1));
    expect((await c.take(1000))?.delivery.tag).toBe(1);
    const waiting = c.take(1000);
    f.sink().deliver(f.sub(), delivery(2));
    expect((await waiting)?.delivery.tag).toBe(2);
  });

  it('resolves undefined on timeout and on abort, without taking anything', async () => {
    const f = fakeConnection();
    const c = new HttpConsumer(f.connection, 'queue://q', undefined);
    expect(await c.take(10)).toBeUndefined();
    const abort = new AbortController();
    const p = c.take(5000, abort.signal);
    abort.abort();
    expect(await p).toBeUndefined();
    // The aborted waiter is gone: the next message is held for the next request.
    f.sink().deliver(f.sub(), delivery(3));
    expect((await c.take(0))?.delivery.tag).toBe(3);
  });

  it('acks only when told; a released message goes to the next request, marked redelivered', async () => {
    const f = fakeConnection();
    const c = new HttpConsumer(f.connection, 'queue://q', undefined);
    f.sink().deliver(f.sub(), delivery(1));
    const first = (await c.take(0))!;
    first.release();
    first.ack();
    expect(f.acked).toEqual([]);
    const again = (await c.take(0))!;
    expect(again.delivery.tag).toBe(1);
    expect(again.delivery.redelivered).toBe(true);
    again.ack();
    again.ack();
    expect(f.acked).toEqual([1]);
  });

  it('close() wakes waiters, unsubscribes and closes the connection', async () => {
    const f = fakeConnection();
    const c = new HttpConsumer(f.connection, 'queue://q', undefined);
    const p = c.take(5000);
    c.close();
    expect(await p).toBeUndefined();
    expect(f.closed).toEqual({ sub: true, conn: true });
    expect(c.isClosed).toBe(true);
  });
});

describe('ConsumerRegistry', () => {
  const alice: Principal = { user: 'alice', anonymous: false };
  const bob: Principal = { user: 'bob', anonymous: false };

  it('reuses a consumer per (user, id, address, selector) and never across users', () => {
    const r = new ConsumerRegistry({ maxConsumers: 10, idleTimeoutMs: 1000 });
    const make = () => new HttpConsumer(fakeConnection().connection, 'queue://q', undefined);
    const a1 = r.acquire(alice, 'c', 'queue://q', undefined, make);
    expect(r.acquire(alice, 'c', 'queue://q', undefined, make)).toBe(a1);
    expect(r.acquire(bob, 'c', 'queue://q', undefined, make)).not.toBe(a1);
    expect(r.acquire(alice, 'c', 'queue://q', 'x = 1', make)).not.toBe(a1);
    expect(r.size).toBe(3);
    expect(r.release(alice, 'c', 'queue://q')).toBe(true);
    expect(a1.isClosed).toBe(true);
    expect(r.size).toBe(1);
    expect(r.release(alice, 'c', 'queue://q')).toBe(false);
    r.close();
  });

  it('refuses beyond maxConsumers with 503', () => {
    const r = new ConsumerRegistry({ maxConsumers: 1, idleTimeoutMs: 1000 });
    const make = () => new HttpConsumer(fakeConnection().connection, 'queue://q', undefined);
    r.acquire(alice, 'a', 'queue://q', undefined, make);
    expect(() => r.acquire(alice, 'b', 'queue://q', undefined, make)).toThrow(HttpError);
    r.close();
  });

  it('closes consumers idle past the timeout, but not one a request is using', () => {
    let now = 0;
    const r = new ConsumerRegistry({ maxConsumers: 10, idleTimeoutMs: 1000, now: () => now });
    const make = () => new HttpConsumer(fakeConnection().connection, 'queue://q', undefined);
    const idle = r.acquire(alice, 'idle', 'queue://q', undefined, make);
    const busy = r.acquire(alice, 'busy', 'queue://q', undefined, make);
    busy.active = 1;
    now = 5000;
    r.sweep();
    expect(idle.isClosed).toBe(true);
    expect(busy.isClosed).toBe(false);
    r.close();
    expect(busy.isClosed).toBe(true);
  });
});

describe('Basic auth', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  it('parses user and password (the password may contain colons)', () => {
    expect(parseBasic(`Basic ${b64('alice:a:b')}`)).toEqual({ user: 'alice', password: 'a:b' });
    expect(parseBasic(undefined)).toBeUndefined();
    expect(() => parseBasic('Bearer xyz')).toThrow(HttpError);
    expect(() => parseBasic(`Basic ${b64('nocolon')}`)).toThrow(HttpError);
  });

  it('401 with a challenge when the authenticator refuses', async () => {
    const authenticator = {
      required: true,
      authenticate: async (u?: string, p?: string) =>
        u === 'a' && p === 'b' ? { user: 'a', anonymous: false } : null,
    };
    await expect(authenticate(authenticator, `Basic ${b64('a:b')}`)).resolves.toEqual({
      user: 'a',
      anonymous: false,
    });
    const err = await authenticate(authenticator, undefined).catch((e: HttpError) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(401);
    expect((err as HttpError).headers['www-authenticate']).toMatch(/^Basic realm=/);
  });
});
