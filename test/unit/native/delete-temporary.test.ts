/**
 * Deleting a temporary destination before its connection ends: the core's rules
 * (`Connection.deleteTemporary`: owner only, not while it has consumers, JMS 1.1 section 4.4.3) and the
 * native DeleteTemporary frame (version 2) that reaches them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CoreConnection, DeliverySink } from '../../../src/core/api.js';
import { type BlazeCore, createBrokerCore } from '../../../src/core/index.js';
import { isBlazeError } from '../../../src/util/errors.js';
import { type Client, type Decoded, type Harness, harness, openV2 } from './helpers.js';

const principal = { user: 'u', anonymous: false };
const sink: DeliverySink = { deliver() {} };

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return isBlazeError(e) ? e.code : `not a BlazeError: ${String(e)}`;
  }
  return 'no error';
}

describe('core: Connection.deleteTemporary', () => {
  let core: BlazeCore | undefined;
  afterEach(async () => {
    await core?.shutdown();
    core = undefined;
  });

  async function connect(): Promise<CoreConnection> {
    core ??= await createBrokerCore({});
    return core.connect({ principal, protocol: 'test' });
  }

  const listed = (address: string) => core!.admin.addresses().some((a) => a.address === address);

  it('deletes a temporary queue with its messages; sends to it then fail with NOT_FOUND', async () => {
    const c = await connect();
    const q = c.createTemporary('queue');
    await c.send({ address: q, body: new Uint8Array([1]) });
    expect(listed(q)).toBe(true);
    c.deleteTemporary!(q);
    expect(listed(q)).toBe(false);
    await expect(c.send({ address: q, body: new Uint8Array([1]) })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(codeOf(() => c.subscribe({ address: q, ackMode: 'auto', prefetch: 1 }, sink))).toBe('NOT_FOUND');
    // Deleted already.
    expect(codeOf(() => c.deleteTemporary!(q))).toBe('NOT_FOUND');
  });

  it('refuses while the destination has consumers (CONFLICT), and deletes once they are gone', async () => {
    const c = await connect();
    const q = c.createTemporary('queue');
    const t = c.createTemporary('topic');
    const qs = c.subscribe({ address: q, ackMode: 'individual', prefetch: 1 }, sink);
    const ts = c.subscribe({ address: t, ackMode: 'auto', prefetch: 1 }, sink);
    expect(codeOf(() => c.deleteTemporary!(q))).toBe('CONFLICT');
    expect(codeOf(() => c.deleteTemporary!(t))).toBe('CONFLICT');
    expect(listed(q) && listed(t)).toBe(true);
    qs.close();
    ts.close();
    c.deleteTemporary!(q);
    c.deleteTemporary!(t);
    expect(listed(q) || listed(t)).toBe(false);
  });

  it('only the creating connection may delete; other addresses are not temporaries', async () => {
    const owner = await connect();
    const other = await connect();
    const q = owner.createTemporary('queue');
    expect(codeOf(() => other.deleteTemporary!(q))).toBe('FORBIDDEN');
    expect(codeOf(() => other.deleteTemporary!('temp-queue://never.made'))).toBe('NOT_FOUND');
    expect(codeOf(() => owner.deleteTemporary!('queue://orders'))).toBe('INVALID_ADDRESS');
    expect(codeOf(() => owner.deleteTemporary!('not an address'))).toBe('INVALID_ADDRESS');
    expect(listed(q)).toBe(true);
    // Deleted by hand, then the connection closes: nothing left to delete twice.
    owner.deleteTemporary!(q);
    owner.close();
    expect(listed(q)).toBe(false);
  });
});

describe('native DeleteTemporary', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.core.shutdown();
    h = undefined;
  });

  const open = () => openV2(h!);

  async function request(c: Client, kind: string, value: object): Promise<Decoded> {
    c.send(kind, value);
    await c.settle();
    const fs = c.take();
    return fs[fs.length - 1]!;
  }

  async function temporary(c: Client, kind = 0): Promise<string> {
    const f = await request(c, 'create_temporary', { request_id: 1, kind });
    return f.temporary_created.address;
  }

  it('answers Ok; a send to it then fails NOT_FOUND and a second delete too', async () => {
    h = await harness();
    const c = await open();
    const q = await temporary(c);
    expect(await request(c, 'delete_temporary', { request_id: 2, address: q })).toEqual({
      kind: 'ok',
      ok: { request_id: 2 },
    });
    const sent = await request(c, 'send', { request_id: 3, message: { address: q } });
    expect(sent.error).toEqual({ request_id: 3, code: 'NOT_FOUND', message: expect.any(String) });
    const again = await request(c, 'delete_temporary', { request_id: 4, address: q });
    expect(again.error).toMatchObject({ request_id: 4, code: 'NOT_FOUND' });
  });

  it('TEMPORARY_IN_USE while subscribed, Ok after Unsubscribe; the connection stays up', async () => {
    h = await harness();
    const c = await open();
    const t = await temporary(c, 1);
    await request(c, 'subscribe', { request_id: 2, subscription_id: 1, address: t, credit: 1 });
    const refused = await request(c, 'delete_temporary', { request_id: 3, address: t });
    // Not fatal: protobufjs (defaults off) leaves `fatal: false` out.
    expect(refused.error).toEqual({ request_id: 3, code: 'TEMPORARY_IN_USE', message: expect.any(String) });
    await request(c, 'unsubscribe', { request_id: 4, subscription_id: 1 });
    expect((await request(c, 'delete_temporary', { request_id: 5, address: t })).kind).toBe('ok');
  });

  it('FORBIDDEN from another connection; the owner can still use it', async () => {
    h = await harness();
    const owner = await open();
    const other = await open();
    const q = await temporary(owner);
    const refused = await request(other, 'delete_temporary', { request_id: 2, address: q });
    expect(refused.error).toMatchObject({ code: 'FORBIDDEN' });
    expect((await request(owner, 'send', { request_id: 3, message: { address: q } })).kind).toBe('ok');
  });

  it('a deleted temporary no longer counts against maxTemporaries', async () => {
    h = await harness({ limits: { maxTemporaries: 1 } });
    const c = await open();
    const q = await temporary(c);
    expect((await request(c, 'create_temporary', { request_id: 2, kind: 0 })).error).toMatchObject({
      code: 'LIMIT_EXCEEDED',
    });
    await request(c, 'delete_temporary', { request_id: 3, address: q });
    expect((await request(c, 'create_temporary', { request_id: 4, kind: 0 })).kind).toBe('temporary_created');
  });
});

describe('native version negotiation', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.core.shutdown();
    h = undefined;
  });

  it('answers version 2 to a client offering it, 1 to a version 1 client or one listing none', async () => {
    h = await harness();
    expect((await h.open().connect({ versions: [1, 2] })).connected.version).toBe(2);
    expect((await h.open().connect({ versions: [1] })).connected.version).toBe(1);
    expect((await h.open().connect({ versions: [] })).connected.version).toBe(1);
  });
});
