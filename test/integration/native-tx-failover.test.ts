/**
 * A transactional batch whose commit answer is lost (the connection drops after the broker committed):
 * the failover client replays the transaction on a new connection with the same producer id and
 * sequences, and the broker's duplicate detection (protocol/native/producers.ts, transactions) drops
 * what it already committed, so the consumer gets every message once. Real broker (embedded, with its
 * journal and TCP listener, running this checkout's src) behind a TCP proxy that cuts the connection
 * instead of forwarding the TxCommit answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type BlazeClient, connect } from '../../src/client/index.js';
import { Broker } from '../../src/index.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** Forwards to `port`; `cutNextReply()` makes it drop both sockets instead of forwarding the next reply. */
async function proxy(port: number): Promise<{ port: number; cutNextReply(): void; cuts: number }> {
  const sockets = new Set<Socket>();
  let cut = false;
  const state = { port: 0, cuts: 0, cutNextReply: () => (cut = true) };
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (cut) {
        cut = false;
        state.cuts++;
        kill();
        return;
      }
      client.write(d);
    });
    client.on('close', kill).on('error', kill);
    upstream.on('close', kill).on('error', kill);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as { port: number }).port;
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return state;
}

describe('transactional batch resent after failover', () => {
  it('is delivered once when the commit happened but its answer was lost', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'blazemq-txfo-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const broker = await Broker.start({ dataDir, listeners: { native: 0 } });
    cleanups.push(() => broker.stop());
    const p = await proxy(broker.ports.native!);
    const url = `failover:(tcp://127.0.0.1:${p.port})?initialReconnectDelay=20&maxReconnectDelay=100`;
    const client: BlazeClient = await connect(url, { heartbeatMs: 0 });
    cleanups.push(() => client.close());
    const q = `queue://txfo.${process.pid}`;

    const tx = await client.transaction();
    await tx.publishBatch([
      { address: q, body: 'a', options: { persistent: true } },
      { address: q, body: 'b', options: { persistent: true } },
    ]);
    await tx.publish(q, 'c', { persistent: true });
    p.cutNextReply();
    await tx.commit(); // replayed on the next connection; the broker drops the committed sequences
    expect(p.cuts).toBe(1);

    const consumer = await connect(`tcp://127.0.0.1:${broker.ports.native}`);
    cleanups.push(() => consumer.close());
    const sub = consumer.subscribe(q);
    const got: string[] = [];
    for (;;) {
      const m = await sub.receive({ timeout: 300 });
      if (m === undefined) break;
      got.push(m.text());
      await m.ack();
    }
    expect(got).toEqual(['a', 'b', 'c']);
  });
});
