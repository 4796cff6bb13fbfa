/**
 * Role `transport`: the raw UDP transport, no protocol above it. Config: `{ transport: UdpTransportOptions }`.
 * Payloads carry [kind u8][seq u32 BE][padding], kind 0 = multicast, 1 = unicast, so receivers check
 * per-sender order and count loss without any reliability layer.
 *
 * Commands:
 *   { cmd: 'send', to?: address (default: multicast), count, size, rate?: msgs/s, batch?: per turn }
 *       -> { event: 'sent', count, ms, stats }
 *   { cmd: 'stats' } -> { event: 'stats', streams: { "<from>/<kind>": Stream }, transport: stats }
 *   { cmd: 'reset' } -> { event: 'reset' }
 */
import { openUdpTransport, type UdpTransportOptions } from '../../../src/group/transport/udp.js';
import type { Role, RoleContext } from '../member.js';

interface Stream {
  received: number;
  bytes: number;
  nextSeq: number;
  /** Payloads that arrived with a lower sequence number than an earlier one (reordering). */
  outOfOrder: number;
  /** Sequence numbers skipped (lost, or late). */
  gaps: number;
  firstAt: number;
  lastAt: number;
}

/** Keep at most this many bytes waiting in libuv before yielding to the event loop. */
const MAX_QUEUED = 1 << 20;

export async function start(ctx: RoleContext): Promise<Role> {
  const t = await openUdpTransport(ctx.config.transport as UdpTransportOptions);
  let streams = new Map<string, Stream>();

  t.onMessage((from, p) => {
    if (p.length < 5) return;
    const key = `${from}/${p[0] === 0 ? 'm' : 'u'}`;
    const seq = ((p[1]! << 24) | (p[2]! << 16) | (p[3]! << 8) | p[4]!) >>> 0;
    const now = performance.now();
    let s = streams.get(key);
    if (!s) {
      s = { received: 0, bytes: 0, nextSeq: 0, outOfOrder: 0, gaps: 0, firstAt: now, lastAt: now };
      streams.set(key, s);
    }
    s.received++;
    s.bytes += p.length;
    s.lastAt = now;
    if (seq < s.nextSeq) s.outOfOrder++;
    else {
      s.gaps += seq - s.nextSeq;
      s.nextSeq = seq + 1;
    }
  });

  ctx.emit({
    event: 'ready',
    address: t.localAddress,
    maxPayload: t.maxPayload,
    multicastPort: t.multicastPort,
  });

  return {
    async command(cmd) {
      switch (cmd.cmd) {
        case 'send': {
          const to = cmd.to as string | undefined;
          const count = Number(cmd.count ?? 1);
          const size = Math.max(5, Number(cmd.size ?? 64));
          const batch = Number(cmd.batch ?? 256);
          const rate = Number(cmd.rate ?? 0);
          const buf = Buffer.alloc(size);
          buf[0] = to ? 1 : 0;
          const t0 = performance.now();
          for (let seq = 0; seq < count; ) {
            const end = Math.min(count, seq + batch);
            for (; seq < end; seq++) {
              buf.writeUInt32BE(seq, 1);
              if (to) t.unicast(to, buf);
              else t.multicast(buf);
            }
            t.flush();
            if (rate > 0) {
              const due = t0 + (seq / rate) * 1000;
              const wait = due - performance.now();
              if (wait > 1) await new Promise((r) => setTimeout(r, wait));
            }
            // Let libuv drain and receive; wait while the socket's own queue is long.
            do await new Promise((r) => setImmediate(r));
            while ((t.queuedBytes ?? 0) > MAX_QUEUED);
          }
          ctx.emit({ event: 'sent', count, ms: performance.now() - t0, stats: { ...t.stats } });
          return;
        }
        case 'stats':
          ctx.emit({ event: 'stats', streams: Object.fromEntries(streams), transport: { ...t.stats } });
          return;
        case 'reset':
          streams = new Map();
          ctx.emit({ event: 'reset' });
          return;
        default:
          throw new Error(`unknown command ${String(cmd.cmd)}`);
      }
    },
    close: () => t.close(),
  };
}
