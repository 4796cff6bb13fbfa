/**
 * The UDP transport on the host's loopback interface: unicast, multicast (sender and receivers both name
 * 127.0.0.1 as the multicast interface), unicast-only mode, bundling, limits and hostile input.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  openUdpTransport,
  type UdpTransport,
  type UdpTransportOptions,
} from '../../../src/group/transport/udp.js';
import { isBlazeError } from '../../../src/util/errors.js';

const open: UdpTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function make(options: UdpTransportOptions): Promise<UdpTransport> {
  const t = await openUdpTransport({ bindAddress: '127.0.0.1', ...options });
  open.push(t);
  return t;
}

/** Collects payloads; resolves `until(n)` once n arrived. */
function collector(t: UdpTransport) {
  const got: { from: string; payload: Uint8Array }[] = [];
  let waiter: { n: number; resolve: () => void } | undefined;
  t.onMessage((from, payload) => {
    got.push({ from, payload });
    if (waiter && got.length >= waiter.n) waiter.resolve();
  });
  return {
    got,
    until: (n: number) =>
      new Promise<void>((resolve, reject) => {
        if (got.length >= n) return resolve();
        const timer = setTimeout(() => reject(new Error(`only ${got.length}/${n} arrived`)), 5000);
        waiter = {
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      }),
  };
}

const settle = (ms = 100) => new Promise((r) => setTimeout(r, ms));
const randomGroup = () =>
  `239.255.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
const u32 = (n: number, size = 64) => {
  const b = Buffer.alloc(size);
  b.writeUInt32BE(n);
  return b;
};

describe('UDP transport on 127.0.0.1', () => {
  it('unicasts in order and bundles a burst of small payloads into few datagrams', async () => {
    const a = await make({ peers: [] });
    const b = await make({ peers: [] });
    const rx = collector(b);
    for (let i = 0; i < 1000; i++) a.unicast(b.localAddress, u32(i));
    await rx.until(1000);
    expect(rx.got.every((m) => m.from === a.localAddress)).toBe(true);
    expect(rx.got.map((m) => Buffer.from(m.payload).readUInt32BE())).toEqual([...Array(1000).keys()]);
    // a 1472-byte datagram holds (1472 - 17 header - 9 incarnation) / 66 = 21 payloads of 64 B
    expect(a.stats.datagramsSent).toBe(Math.ceil(1000 / 21));
    expect(b.stats.datagramsReceived).toBe(a.stats.datagramsSent);
    expect(a.localAddress).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('sends one datagram per payload when bundling is off', async () => {
    const a = await make({ peers: [], bundling: false });
    const b = await make({ peers: [] });
    const rx = collector(b);
    for (let i = 0; i < 50; i++) a.unicast(b.localAddress, u32(i, 8));
    await rx.until(50);
    expect(a.stats.datagramsSent).toBe(50);
  });

  it('multicasts to every member but the sender', async () => {
    const group = randomGroup();
    const mc = { group, port: 0, interface: '127.0.0.1', loopback: true };
    const a = await make({ multicast: mc });
    const port = a.multicastPort!;
    expect(port).toBeGreaterThan(0);
    const b = await make({ multicast: { ...mc, port } });
    const c = await make({ multicast: { ...mc, port } });
    const [ra, rb, rc] = [collector(a), collector(b), collector(c)];
    for (let i = 0; i < 200; i++) a.multicast(u32(i, 100));
    b.multicast(u32(9999));
    await Promise.all([rb.until(200), rc.until(201), ra.until(1)]);
    await settle();
    expect(rb.got.map((m) => Buffer.from(m.payload).readUInt32BE())).toEqual([...Array(200).keys()]);
    expect(rc.got.length).toBe(201);
    expect(ra.got.map((m) => m.from)).toEqual([b.localAddress]);
    expect(a.stats.selfDropped).toBeGreaterThan(0);
    expect(a.stats.decodeErrors + b.stats.decodeErrors + c.stats.decodeErrors).toBe(0);
  });

  it('in unicast-only mode sends a multicast to each peer, skipping itself', async () => {
    const b = await make({ peers: [] });
    const c = await make({ peers: [] });
    const a = await make({ peers: [b.localAddress] });
    a.setPeers([a.localAddress, b.localAddress, c.localAddress]);
    const [rb, rc] = [collector(b), collector(c)];
    a.multicast(Uint8Array.of(7));
    await Promise.all([rb.until(1), rc.until(1)]);
    expect(a.stats.datagramsSent).toBe(2);
    expect(rc.got[0]!.from).toBe(a.localAddress);
  });

  it('carries payloads up to maxPayload and refuses bigger ones', async () => {
    const a = await make({ peers: [] });
    const b = await make({ peers: [] });
    const rx = collector(b);
    expect(a.maxPayload).toBeGreaterThan(1400);
    a.unicast(b.localAddress, new Uint8Array(a.maxPayload).fill(5));
    await rx.until(1);
    expect(rx.got[0]!.payload.length).toBe(a.maxPayload);
    expect(() => a.unicast(b.localAddress, new Uint8Array(a.maxPayload + 1))).toThrow(/maxPayload/);
    expect(() => a.unicast('not-an-address', Uint8Array.of(1))).toThrow(/member address/);
  });

  it('survives garbage datagrams and throwing handlers', async () => {
    const b = await make({ peers: [] });
    const a = await make({ peers: [] });
    const got: number[] = [];
    b.onMessage((_from, p) => {
      if (p[0] === 1) throw new Error('handler bug');
      got.push(p[0]!);
    });
    const raw = dgram.createSocket('udp4');
    const port = Number(b.localAddress.split(':')[1]);
    await new Promise<void>((r) =>
      raw.send(Buffer.from('not a bundle at all'), port, '127.0.0.1', () => r()),
    );
    await new Promise<void>((r) => raw.send(Buffer.alloc(0), port, '127.0.0.1', () => r()));
    raw.close();
    a.unicast(b.localAddress, Uint8Array.of(1));
    a.unicast(b.localAddress, Uint8Array.of(2));
    await settle();
    expect(b.stats.decodeErrors).toBe(2);
    expect(b.stats.handlerErrors).toBe(1);
    expect(got).toEqual([2]);
  });

  it('counts random datagrams as decode errors and keeps serving (fuzz over the socket)', async () => {
    const b = await make({ peers: [] });
    const a = await make({ peers: [] });
    const rx = collector(b);
    const raw = dgram.createSocket('udp4');
    const port = Number(b.localAddress.split(':')[1]);
    const junk = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 1500 }), 300);
    for (const d of junk) await new Promise<void>((r) => raw.send(d, port, '127.0.0.1', () => r()));
    raw.close();
    a.unicast(b.localAddress, Uint8Array.of(42));
    await rx.until(1);
    await settle();
    expect(b.stats.datagramsReceived).toBe(301);
    // a random datagram that happens to be a valid bundle is delivered, never half-delivered
    expect(
      b.stats.decodeErrors + rx.got.filter((m) => m.from !== a.localAddress).length,
    ).toBeGreaterThanOrEqual(300);
    expect(rx.got.at(-1)).toMatchObject({ from: a.localAddress });
  });

  it('flushes queued bundles on close and refuses sends afterwards', async () => {
    const a = await make({ peers: [] });
    const b = await make({ peers: [] });
    const rx = collector(b);
    a.unicast(b.localAddress, Uint8Array.of(1));
    await Promise.all([a.close(), a.close()]);
    await rx.until(1);
    try {
      a.unicast(b.localAddress, Uint8Array.of(2));
      expect.unreachable();
    } catch (e) {
      expect(isBlazeError(e) && e.code).toBe('CLOSED');
    }
  });

  it('asks the kernel for 4 MiB socket buffers by default', async () => {
    const a = await make({ peers: [] });
    const cap = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    // Linux grants min(request, rmem_max) and reports it doubled
    expect(a.socketBuffers().recv).toBe(2 * Math.min(4 * 1024 * 1024, cap));
  });

  it('requires exactly one of multicast and peers', async () => {
    await expect(openUdpTransport({ bindAddress: '127.0.0.1' })).rejects.toThrow(/exactly one/);
  });
});
