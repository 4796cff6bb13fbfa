import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { attachSession, TcpTransport } from '../../../src/net/tcp-transport.js';
import type { ProtocolSession, Transport } from '../../../src/net/transport.js';
import { silentLogger } from '../../../src/util/logger.js';

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

/** A connected pair over loopback: `server` is the broker side, `client` the peer. */
async function pair(): Promise<{ server: Socket; client: Socket }> {
  const srv: Server = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  const accepted = once(srv, 'connection') as Promise<[Socket]>;
  const client = connect(port, '127.0.0.1');
  const [server] = await accepted;
  await once(client, 'connect').catch(() => {});
  cleanup.push(() => {
    client.destroy();
    server.destroy();
    srv.close();
  });
  return { server, client };
}

function collect(socket: Socket): { bytes: () => Buffer; ended: Promise<void> } {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { bytes: () => Buffer.concat(chunks), ended };
}

function numbered(count: number, size: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.alloc(size, i % 251));
}

describe('TcpTransport writes', () => {
  it('hands all writes of one turn to the socket in a single write, in order', async () => {
    const { server, client } = await pair();
    const write = vi.spyOn(server, 'write');
    const t = new TcpTransport(server);
    const got = collect(client);
    const chunks = numbered(100, 37);
    for (const c of chunks) expect(t.write(c)).toBe(true);
    expect(write).not.toHaveBeenCalled();
    await new Promise((r) => setImmediate(r));
    expect(write).toHaveBeenCalledTimes(1);
    t.end();
    await got.ended;
    expect(got.bytes().equals(Buffer.concat(chunks))).toBe(true);
  });

  it('corks instead of copying a large batch', async () => {
    const { server, client } = await pair();
    const write = vi.spyOn(server, 'write');
    const cork = vi.spyOn(server, 'cork');
    const t = new TcpTransport(server, { highWaterMark: 64 * 1024 * 1024 });
    const got = collect(client);
    const chunks = numbered(5, 1024 * 1024);
    for (const c of chunks) t.write(c);
    await new Promise((r) => setImmediate(r));
    expect(cork).toHaveBeenCalledTimes(1);
    expect(write).toHaveBeenCalledTimes(5);
    t.end();
    await got.ended;
    expect(got.bytes().equals(Buffer.concat(chunks))).toBe(true);
  });

  it('merges chunks that are adjacent in memory instead of copying them', async () => {
    const { server, client } = await pair();
    const write = vi.spyOn(server, 'write');
    const concat = vi.spyOn(Buffer, 'concat');
    const t = new TcpTransport(server);
    const got = collect(client);
    const slab = Buffer.alloc(3000);
    for (let i = 0; i < slab.length; i++) slab[i] = i % 253;
    // Regions cut one after the other from one slab, as the STOMP FrameAllocator hands them out.
    for (let at = 0; at < slab.length; at += 100) t.write(slab.subarray(at, at + 100));
    await new Promise((r) => setImmediate(r));
    expect(write).toHaveBeenCalledTimes(1);
    expect(concat).not.toHaveBeenCalled();
    concat.mockRestore();
    t.end();
    await got.ended;
    expect(got.bytes().equals(slab)).toBe(true);
  });

  it('writes large chunks as they are (writev) rather than copying them into one', async () => {
    const { server, client } = await pair();
    const write = vi.spyOn(server, 'write');
    const t = new TcpTransport(server, { highWaterMark: 64 * 1024 * 1024 });
    const got = collect(client);
    const chunks = numbered(4, 64 * 1024);
    for (const c of chunks) t.write(c);
    await new Promise((r) => setImmediate(r));
    expect(write).toHaveBeenCalledTimes(4);
    t.end();
    await got.ended;
    expect(got.bytes().equals(Buffer.concat(chunks))).toBe(true);
  });

  it('end() flushes what was written in the same turn', async () => {
    const { server, client } = await pair();
    const t = new TcpTransport(server);
    const got = collect(client);
    t.write(Buffer.from('hello '));
    t.write(Buffer.from('world'));
    t.end();
    expect(t.closed).toBe(true);
    expect(t.write(Buffer.from('late'))).toBe(false);
    await got.ended;
    expect(got.bytes().toString()).toBe('hello world');
  });

  it('destroy() drops what is queued', async () => {
    const { server, client } = await pair();
    const t = new TcpTransport(server);
    const got = collect(client);
    t.write(Buffer.from('dropped'));
    t.destroy();
    await got.ended;
    expect(got.bytes().length).toBe(0);
  });
});

describe('TcpTransport back-pressure', () => {
  it('returns false above the high-water mark and drains once the peer reads', async () => {
    const { server, client } = await pair();
    client.pause();
    const t = new TcpTransport(server, { highWaterMark: 256 * 1024, lowWaterMark: 64 * 1024 });
    const chunk = Buffer.alloc(64 * 1024, 7);
    let written = 0;
    // The kernel buffers absorb some; keep writing (one turn at a time) until the transport says stop.
    for (let turn = 0; turn < 500; turn++) {
      const ok = t.write(chunk);
      written += chunk.length;
      if (!ok) break;
      await new Promise((r) => setImmediate(r));
    }
    expect(t.bufferedBytes).toBeGreaterThan(256 * 1024);
    // Still queued, never dropped, and still false until drained.
    expect(t.write(chunk)).toBe(false);
    written += chunk.length;
    const drained = vi.fn();
    t.onDrain(drained);
    await new Promise((r) => setTimeout(r, 50));
    expect(drained).not.toHaveBeenCalled();

    let received = 0;
    client.on('data', (d: Buffer) => {
      received += d.length;
    });
    client.resume();
    await vi.waitFor(() => expect(drained).toHaveBeenCalledTimes(1));
    expect(t.bufferedBytes).toBeLessThanOrEqual(64 * 1024);
    expect(t.write(Buffer.alloc(1))).toBe(true);
    written += 1;
    await vi.waitFor(() => expect(received).toBe(written));
    expect(drained).toHaveBeenCalledTimes(1);
  });

  it('end() gives up on a peer that never reads', async () => {
    const { server, client } = await pair();
    client.pause();
    const t = new TcpTransport(server, { endTimeoutMs: 100 });
    const closed = once(server, 'close');
    for (let i = 0; i < 64; i++) t.write(Buffer.alloc(256 * 1024));
    t.end();
    await closed;
    expect(server.destroyed).toBe(true);
  });
});

describe('attachSession', () => {
  function recorder() {
    const events: string[] = [];
    let transport!: Transport;
    const session: ProtocolSession = {
      onData: (chunk) => {
        events.push(`data:${chunk.toString()}`);
      },
      onClose: (err) => {
        events.push(err ? `close:${(err as NodeJS.ErrnoException).code ?? err.message}` : 'close');
      },
    };
    const factory = (t: Transport) => {
      transport = t;
      return session;
    };
    return { events, factory, transport: () => transport, session };
  }

  it('delivers bytes and reports close exactly once when the peer closes', async () => {
    const { server, client } = await pair();
    const r = recorder();
    attachSession(server, r.factory, { logger: silentLogger });
    client.write('ping');
    await vi.waitFor(() => expect(r.events).toContain('data:ping'));
    client.end();
    await once(server, 'close');
    r.transport().destroy();
    r.transport().end();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.events).toEqual(['data:ping', 'close']);
  });

  it('reports the error of a reset connection', async () => {
    const { server, client } = await pair();
    const r = recorder();
    attachSession(server, r.factory, { logger: silentLogger });
    // events.once would reject on the 'error' that precedes 'close'.
    const closed = new Promise((resolve) => server.once('close', resolve));
    client.resetAndDestroy();
    await closed;
    expect(r.events).toEqual(['close:ECONNRESET']);
  });

  it('reports close once when the session ends the transport itself', async () => {
    const { server, client } = await pair();
    const r = recorder();
    attachSession(server, r.factory, { logger: silentLogger });
    const got = collect(client);
    r.transport().write(Buffer.from('bye'));
    r.transport().end();
    r.transport().end();
    await got.ended;
    await once(server, 'close').catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(got.bytes().toString()).toBe('bye');
    expect(r.events).toEqual(['close']);
  });

  it('pauses and resumes reading', async () => {
    const { server, client } = await pair();
    const r = recorder();
    attachSession(server, r.factory, { logger: silentLogger });
    r.transport().pauseReading();
    client.write('held');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.events).toEqual([]);
    r.transport().resumeReading();
    await vi.waitFor(() => expect(r.events).toEqual(['data:held']));
  });

  it('destroys the connection of a session that throws, without crashing', async () => {
    const { server, client } = await pair();
    const r = recorder();
    r.session.onData = () => {
      throw new Error('bug');
    };
    attachSession(server, r.factory, { logger: silentLogger });
    const got = collect(client);
    client.write('x');
    await got.ended;
    await vi.waitFor(() => expect(r.events).toEqual(['close']));
  });
});
