import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Listener, listen } from '../../../src/net/listener.js';
import type { ProtocolFactory } from '../../../src/net/transport.js';
import { type LogLine, recordingLogger } from '../../helpers/recording-logger.js';

const open: Listener[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const l of open.splice(0)) await l.close(100);
});

/** Echoes every chunk back; counts sessions and closes. */
function echo() {
  const stats = { opened: 0, closed: 0 };
  const factory: ProtocolFactory = (t) => {
    stats.opened++;
    return {
      onData: (chunk) => {
        t.write(chunk);
      },
      onClose: () => {
        stats.closed++;
      },
    };
  };
  return { stats, factory };
}

async function client(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  sockets.push(s);
  await once(s, 'connect');
  return s;
}

async function roundTrip(s: Socket, text: string): Promise<string> {
  s.write(text);
  const [data] = (await once(s, 'data')) as [Buffer];
  return data.toString();
}

describe('listen', () => {
  it('binds port 0 to a free port and serves the protocol', async () => {
    const { factory, stats } = echo();
    const l = await listen({
      name: 'echo',
      host: '127.0.0.1',
      port: 0,
      protocol: factory,
      maxConnections: 10,
      logger: recordingLogger([]),
    });
    open.push(l);
    expect(l.port).toBeGreaterThan(0);
    const s = await client(l.port);
    expect(await roundTrip(s, 'hi')).toBe('hi');
    expect(l.connections).toBe(1);
    s.end();
    await vi.waitFor(() => expect(stats.closed).toBe(1));
    expect(l.connections).toBe(0);
  });

  it('logs one line per connection open and close', async () => {
    const lines: LogLine[] = [];
    const l = await listen({
      name: 'echo',
      host: '127.0.0.1',
      port: 0,
      protocol: echo().factory,
      maxConnections: 10,
      logger: recordingLogger(lines),
    });
    open.push(l);
    const s = await client(l.port);
    for (let i = 0; i < 5; i++) await roundTrip(s, `m${i}`);
    s.end();
    await vi.waitFor(() => expect(l.connections).toBe(0));
    expect(lines.map((l) => `${l.level} ${l.msg}`)).toEqual([
      'info connection open',
      'info connection closed',
    ]);
  });

  it('closes connections beyond maxConnections and accepts again after one leaves', async () => {
    const lines: LogLine[] = [];
    const { factory, stats } = echo();
    const l = await listen({
      name: 'echo',
      host: '127.0.0.1',
      port: 0,
      protocol: factory,
      maxConnections: 2,
      logger: recordingLogger(lines),
    });
    open.push(l);
    const a = await client(l.port);
    const b = await client(l.port);
    expect(await roundTrip(a, 'a')).toBe('a');
    expect(await roundTrip(b, 'b')).toBe('b');
    const c = await client(l.port);
    await once(c, 'close');
    expect(stats.opened).toBe(2);
    expect(lines.some((l) => l.level === 'warn' && l.msg?.includes('limit'))).toBe(true);
    a.end();
    await vi.waitFor(() => expect(l.connections).toBe(1));
    const d = await client(l.port);
    expect(await roundTrip(d, 'd')).toBe('d');
  });

  it('close() stops accepting and ends live connections cleanly', async () => {
    const { factory, stats } = echo();
    const l = await listen({
      name: 'echo',
      host: '127.0.0.1',
      port: 0,
      protocol: factory,
      maxConnections: 10,
      logger: recordingLogger([]),
    });
    const s = await client(l.port);
    await roundTrip(s, 'x');
    const ended = once(s, 'end');
    await l.close(1000);
    await ended;
    expect(stats.closed).toBe(1);
    const refused = connect(l.port, '127.0.0.1');
    sockets.push(refused);
    const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('close() destroys connections that do not finish in time', async () => {
    const { factory, stats } = echo();
    const l = await listen({
      name: 'echo',
      host: '127.0.0.1',
      port: 0,
      protocol: factory,
      maxConnections: 10,
      logger: recordingLogger([]),
    });
    const s = await client(l.port);
    await roundTrip(s, 'x');
    // A peer that never reads: the echo of 8 MiB cannot be flushed, so `end` cannot complete.
    s.pause();
    s.write(Buffer.alloc(8 * 1024 * 1024));
    await new Promise((r) => setTimeout(r, 100));
    await l.close(100);
    expect(stats.closed).toBe(1);
    expect(l.connections).toBe(0);
  });

  it('reports a port in use as a one-line CONFIG error', async () => {
    const l = await listen({
      name: 'echo',
      host: '127.0.0.1',
      port: 0,
      protocol: echo().factory,
      maxConnections: 1,
      logger: recordingLogger([]),
    });
    open.push(l);
    await expect(
      listen({
        name: 'stomp',
        host: '127.0.0.1',
        port: l.port,
        protocol: echo().factory,
        maxConnections: 1,
        logger: recordingLogger([]),
      }),
    ).rejects.toMatchObject({
      code: 'CONFIG',
      message: `stomp: cannot listen on 127.0.0.1:${l.port}: EADDRINUSE`,
    });
  });
});
