/**
 * Prepared XA branches in the management API (GET /v1/admin/transactions, POST .../{xid}/commit|rollback),
 * in Prometheus, and the CLI's pure parts (`blazemq transactions`). In process: a real core, the real
 * HTTP server on port 0; root has admin everywhere, alice on queue://alice.> only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchRoute } from '../../../src/admin/management/router.js';
import { UsageError } from '../../../src/cli/admin/options.js';
import { addressesCell, parseXidKey, transactionsTable } from '../../../src/cli/admin/transactions.js';
import type { TransactionInfo } from '../../../src/core/admin.js';
import type { Xid } from '../../../src/core/index.js';
import { bytes, type Harness } from '../core/helpers.js';
import { basic, type ManagementFixture, root, startManagement } from './helpers.js';

let fixture: ManagementFixture;
let h: Harness;

beforeAll(async () => {
  fixture = await startManagement();
  h = fixture.h;
});

afterAll(() => fixture.close());

async function call(method: string, path: string, user = 'root'): Promise<{ status: number; body: unknown }> {
  const res = await fetch(fixture.base + path, { method, headers: { authorization: basic(user) } });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

function xid(n: number): Xid {
  return { formatId: 7, globalId: bytes(`tm-${n}`), branchId: new Uint8Array([1, 2]) };
}
const key = (n: number) => `7:${Buffer.from(`tm-${n}`).toString('hex')}:0102`;
const path = (n: number, outcome: string) =>
  `/v1/admin/transactions/${encodeURIComponent(key(n))}/${outcome}`;

/** Prepares xid(n): one send to queue://tx.out and an ack of one message of queue://tx.in. */
async function prepare(n: number): Promise<void> {
  const c = h.connect(undefined, root);
  await c.send({ address: 'queue://tx.in', body: bytes(`in${n}`) });
  const { sub, rec } = h.sub(c, { address: 'queue://tx.in', prefetch: 1 });
  c.xaStart(xid(n), 't');
  await c.send({ address: 'queue://tx.out', body: bytes(`out${n}`) }, 't');
  sub.ack(rec.last.tag, 't');
  c.xaEnd(xid(n));
  await c.xaPrepare(xid(n));
  c.close();
}

/** `name{labels} value` lines of the exposition text, as a map. */
async function samples(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await fixture.metrics.scrape()).split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe('management API: prepared XA branches', () => {
  it('lists them, commits one (204), rolls one back (204), then 404s; metrics follow', async () => {
    let s = await samples();
    expect(s.get('blazemq_xa_prepared_transactions')).toBe(0);
    expect(s.get('blazemq_xa_oldest_prepared_age_seconds')).toBe(0);

    await prepare(1);
    h.time.advance(1500);
    await prepare(2);
    h.time.advance(500);
    const list = await call('GET', '/v1/admin/transactions');
    expect(list.status).toBe(200);
    expect(list.body).toEqual([
      expect.objectContaining({ xidKey: key(1), ageMs: 2000, recovered: false, sends: 1, acks: 1 }),
      expect.objectContaining({ xidKey: key(2), ageMs: 500 }),
    ]);
    expect((list.body as TransactionInfo[])[0]!.addresses).toEqual(['queue://tx.out', 'queue://tx.in']);
    s = await samples();
    expect(s.get('blazemq_xa_prepared_transactions')).toBe(2);
    expect(s.get('blazemq_xa_oldest_prepared_age_seconds')).toBe(2);

    const c = h.connect(undefined, root);
    const { rec: out } = h.sub(c, { address: 'queue://tx.out' });
    const { rec: back } = h.sub(c, { address: 'queue://tx.in' });
    expect(await call('POST', path(1, 'commit'))).toEqual({ status: 204, body: undefined });
    expect(out.texts()).toEqual(['out1']);
    expect(await call('POST', path(2, 'rollback'))).toEqual({ status: 204, body: undefined });
    expect(back.texts()).toEqual(['in2']);
    expect(out.texts()).toEqual(['out1']);
    c.close();

    expect((await call('GET', '/v1/admin/transactions')).body).toEqual([]);
    const again = await call('POST', path(1, 'rollback'));
    expect(again).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    s = await samples();
    expect(s.get('blazemq_xa_prepared_transactions')).toBe(0);
    expect(s.get('blazemq_xa_oldest_prepared_age_seconds')).toBe(0);
  });

  it('404s a branch that is not prepared and leaves it to its connection', async () => {
    const c = h.connect(undefined, root);
    c.xaStart(xid(3), 't');
    await c.send({ address: 'queue://tx.other', body: bytes('x') }, 't');
    c.xaEnd(xid(3));
    const r = await call('POST', path(3, 'commit'));
    expect(r).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    expect((r.body as { error: string }).error).toMatch(/not prepared/);
    expect(await c.xaPrepare(xid(3))).toBe('prepared');
    await c.xaRollback(xid(3));
    c.close();
  });

  it('needs admin on * for the listing and for resolving', async () => {
    await prepare(4);
    expect(await call('GET', '/v1/admin/transactions', 'alice')).toMatchObject({
      status: 403,
      body: { code: 'FORBIDDEN' },
    });
    expect((await call('POST', path(4, 'commit'), 'alice')).status).toBe(403);
    expect(h.core.admin.transactions().map((t) => t.xidKey)).toEqual([key(4)]);
    expect((await call('POST', path(4, 'rollback'))).status).toBe(204);
  });

  it('routes only POST to commit and rollback, and decodes the xid segment', () => {
    expect(matchRoute('POST', '/v1/admin/transactions/7%3Aab%3A/commit')).toEqual({
      kind: 'route',
      name: 'commitTransaction',
      params: { xid: '7:ab:' },
    });
    expect(matchRoute('GET', '/v1/admin/transactions/7:ab:/rollback')).toEqual({
      kind: 'method',
      allow: ['POST'],
    });
    expect(matchRoute('GET', '/v1/admin/transactions')).toMatchObject({ name: 'listTransactions' });
  });
});

describe('CLI: blazemq transactions', () => {
  it('accepts xid keys as listed (hex of any case) and refuses others as usage errors', () => {
    expect(parseXidKey('7:746d2d31:0102')).toBe('7:746d2d31:0102');
    expect(parseXidKey('-3:AB:')).toBe('-3:ab:');
    for (const bad of [
      '',
      '7',
      '7:ab',
      '7::01',
      'x:ab:01',
      '7:abc:01',
      '7:ab:01:02',
      `1:${'ab'.repeat(65)}:`,
    ]) {
      expect(() => parseXidKey(bad), bad).toThrow(UsageError);
    }
  });

  it('prints one row per branch with its age, recovery flag, counts and addresses', () => {
    const row = (over: Partial<TransactionInfo>): TransactionInfo => ({
      xidKey: '7:ab:01',
      xid: { formatId: 7, globalId: 'ab', branchId: '01' },
      preparedAt: 0,
      ageMs: 90_000,
      recovered: false,
      sends: 2,
      acks: 1,
      addresses: ['queue://a', 'queue://b'],
      moreAddresses: 0,
      ...over,
    });
    const text = transactionsTable([row({}), row({ xidKey: '7:cd:', recovered: true, moreAddresses: 3 })]);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^XID\s+PREPARED\s+RECOVERED\s+SENDS\s+ACKS\s+ADDRESSES$/);
    expect(lines[1]).toMatch(/^7:ab:01\s+1m30s ago\s+no\s+2\s+1\s+queue:\/\/a,queue:\/\/b$/);
    expect(lines[2]).toMatch(/^7:cd:\s+1m30s ago\s+yes .* \(\+3 more\)$/);
    expect(addressesCell({ addresses: [], moreAddresses: 0 })).toBe('-');
  });
});
