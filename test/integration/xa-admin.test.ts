import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type BlazeClient, BrokerResource, connect, type Xid } from '../../src/client/index.js';
import { type BrokerProcess, startBroker } from './helpers/broker.js';
import { runCli } from './helpers/cli.js';

interface Listed {
  xidKey: string;
  recovered: boolean;
  sends: number;
  acks: number;
  addresses: string[];
}

const cli = runCli;

const hex = (s: string) => Buffer.from(s).toString('hex');
const xid = (n: number): Xid => ({
  formatId: 0x1234,
  globalId: new TextEncoder().encode(`lost-tm-${n}`),
  branchId: new TextEncoder().encode('broker'),
});
const keyOf = (n: number) => `${0x1234}:${hex(`lost-tm-${n}`)}:${hex('broker')}`;

describe('operator resolution of prepared XA branches (real broker process)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'blazemq-xa-admin-'));
  let broker: BrokerProcess | undefined;
  const clients: BlazeClient[] = [];

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => {});
    if (broker !== undefined && broker.child.exitCode === null) await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function client(): Promise<BlazeClient> {
    const c = await connect(`tcp://127.0.0.1:${broker!.native}`);
    clients.push(c);
    return c;
  }

  async function api(method: string, path: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`http://127.0.0.1:${broker!.http}${path}`, { method });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
  }

  const listed = async () => {
    const r = await api('GET', '/v1/admin/transactions');
    expect(r.status).toBe(200);
    return (r.body as Listed[]).sort((a, b) => a.xidKey.localeCompare(b.xidKey));
  };

  it('lists branches across a kill -9, then rollback returns and drops, commit sends and removes', async () => {
    broker = await startBroker({ dataDir });
    const c = await client();
    await c.publish('queue://xa.in', 'in-1', { persistent: true });
    await c.publish('queue://xa.in', 'in-2', { persistent: true });
    const sub = c.subscribe('queue://xa.in', { prefetch: 1 });
    const res = new BrokerResource(c);
    // Two branches, each consuming one message and sending one, prepared by a coordinator that then
    // disappears for good.
    for (const n of [1, 2]) {
      const m = (await sub.receive({ timeout: 5000 }))!;
      expect(m.text()).toBe(`in-${n}`);
      await res.start(xid(n));
      await res.ack(m);
      await res.publish(`queue://xa.out${n}`, `out-${n}`, { persistent: true });
      await res.end(xid(n), true);
      expect(await res.prepare(xid(n))).toBe('prepared');
    }
    await c.close();

    const before = await listed();
    expect(before).toMatchObject([
      { xidKey: keyOf(1), recovered: false, sends: 1, acks: 1 },
      { xidKey: keyOf(2), recovered: false, sends: 1, acks: 1 },
    ]);
    expect(before[0]!.addresses.sort()).toEqual(['queue://xa.in', 'queue://xa.out1']);

    await broker.kill9();
    broker = await startBroker({ dataDir });
    const after = await listed();
    expect(after).toMatchObject([
      { xidKey: keyOf(1), recovered: true, sends: 1, acks: 1 },
      { xidKey: keyOf(2), recovered: true, sends: 1, acks: 1 },
    ]);
    const scrape = await (await fetch(`http://127.0.0.1:${broker.http}/metrics`)).text();
    expect(scrape).toMatch(/^blazemq_xa_prepared_transactions 2$/m);

    const table = await cli(['transactions', '--url', `http://127.0.0.1:${broker.http}`]);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^XID\s+PREPARED\s+RECOVERED\s+SENDS\s+ACKS\s+ADDRESSES$/);
    const row1 = lines.find((l) => l.startsWith(keyOf(1)));
    expect(row1).toMatch(/ ago\s+yes\s+1\s+1\s+\S*queue:\/\/xa\.in/);

    // While in doubt, both consumed messages are locked: a new consumer gets nothing.
    const d = await client();
    const inSub = d.subscribe('queue://xa.in');
    expect(await inSub.receive({ timeout: 300 })).toBeUndefined();

    expect(await api('POST', `/v1/admin/transactions/${encodeURIComponent(keyOf(1))}/rollback`)).toEqual({
      status: 204,
      body: undefined,
    });
    const back = (await inSub.receive({ timeout: 5000 }))!;
    expect(back.text()).toBe('in-1');
    expect(back.redelivered).toBe(true);
    await back.ack();
    expect(await d.browse('queue://xa.out1')).toEqual([]);

    // The commit through the CLI, as an operator would.
    const committed = await cli([
      'transactions',
      'commit',
      keyOf(2),
      '--url',
      `http://127.0.0.1:${broker.http}`,
    ]);
    expect(committed).toMatchObject({ code: 0, stderr: '' });
    expect(committed.stdout).toContain(`committed prepared XA branch ${keyOf(2)}`);
    const out2 = (await d.subscribe('queue://xa.out2').receive({ timeout: 5000 }))!;
    expect(out2.text()).toBe('out-2');
    // in-2 was dequeued by the commit; in-1 was acked above: the queue is empty and nothing more arrives.
    expect(await inSub.receive({ timeout: 300 })).toBeUndefined();
    const q = await api('GET', '/v1/admin/queues/xa.in');
    expect(q.body).toMatchObject({ depth: 0 });

    expect(await listed()).toEqual([]);
    const missing = await api('POST', `/v1/admin/transactions/${encodeURIComponent(keyOf(2))}/commit`);
    expect(missing).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    const again = await cli([
      'transactions',
      'rollback',
      keyOf(2),
      '--url',
      `http://127.0.0.1:${broker.http}`,
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/NOT_FOUND/);
    expect((await cli(['transactions', '--url', `http://127.0.0.1:${broker.http}`])).stdout).toMatch(
      /no prepared XA transactions/,
    );
    // The operator's decision is in the broker's log, with the outcome.
    expect(broker.output()).toMatch(/heuristic commit of prepared XA branch/);

    // The outcome is durable: after another restart nothing is in doubt and out1 never appeared.
    await d.close();
    await broker.kill9();
    broker = await startBroker({ dataDir });
    expect(await listed()).toEqual([]);
    const e = await client();
    expect(await e.browse('queue://xa.out1')).toEqual([]);
    expect(await e.browse('queue://xa.in')).toEqual([]);
  });
});
