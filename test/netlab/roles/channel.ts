/**
 * Role `channel`: a full group member (createChannel over UDP). Config:
 *   { group?: string, udp: UdpTransportOptions, membership?: Partial<MembershipOptions>,
 *     nack?: Partial<NackOptions> }
 * Payloads are [seq u32 BE][bytes derived from seq], so every member can check per-sender order and
 * compute the same digest of what it delivered.
 *
 * Events: `ready` { address }, `view` { counter, coordinator, members, t, issued } on every view installed
 *   (t = Date.now(), issued = broadcasts this member had issued by then).
 * Commands:
 *   { cmd: 'send', count, size?, rate? } -> { event: 'sent', count, ms }   (broadcasts seq 0..count-1)
 *   { cmd: 'digest' } -> { event: 'digest', senders: { "<addr>": Digest } }
 *   { cmd: 'view' } -> { event: 'view', ... }
 *   { cmd: 'stats' } -> { event: 'stats', stats }
 */
import { createHash, type Hash } from 'node:crypto';
import { createChannel } from '../../../src/group/channel.js';
import type { MembershipOptions } from '../../../src/group/membership/options.js';
import type { NackOptions } from '../../../src/group/reliable/nack/options.js';
import type { UdpTransportOptions } from '../../../src/group/transport/udp.js';
import type { View } from '../../../src/group/view.js';
import type { Role, RoleContext } from '../member.js';

export interface Digest {
  count: number;
  first: number;
  last: number;
  /** Every message was the previous one's seq + 1: per-sender FIFO, no loss, no duplicate. */
  ordered: boolean;
  sha1: string;
}

class Tally {
  count = 0;
  first = -1;
  last = -1;
  ordered = true;
  private readonly hash: Hash = createHash('sha1');

  add(data: Uint8Array): void {
    const seq = data.length >= 4 ? Buffer.from(data.buffer, data.byteOffset, 4).readUInt32BE(0) : -1;
    if (this.count === 0) this.first = seq;
    else if (seq !== this.last + 1) this.ordered = false;
    this.last = seq;
    this.count++;
    this.hash.update(data);
  }

  digest(): Digest {
    return {
      count: this.count,
      first: this.first,
      last: this.last,
      ordered: this.ordered,
      sha1: this.hash.copy().digest('hex'),
    };
  }
}

export function payload(seq: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(Math.max(4, size));
  b.writeUInt32BE(seq, 0);
  for (let i = 4; i < b.length; i++) b[i] = (seq * 31 + i) & 0xff;
  return b;
}

export async function start(ctx: RoleContext): Promise<Role> {
  const c = ctx.config;
  const channel = createChannel({
    name: String(c.group ?? 'netlab'),
    udp: c.udp as UdpTransportOptions,
    ...(c.membership ? { membership: c.membership as Partial<MembershipOptions> } : {}),
    ...(c.nack ? { nack: c.nack as Partial<NackOptions> } : {}),
  });
  let issued = 0;
  const viewEvent = (v: View) => ({
    event: 'view',
    counter: v.id.counter,
    coordinator: v.id.coordinator,
    members: [...v.members],
    t: Date.now(),
    issued,
  });
  channel.on('view', (v) => ctx.emit(viewEvent(v)));
  await channel.connect();

  const tallies = new Map<string, Tally>();
  void (async () => {
    for await (const m of channel.messages) {
      let t = tallies.get(m.from);
      if (!t) {
        t = new Tally();
        tallies.set(m.from, t);
      }
      t.add(m.data);
    }
  })();

  ctx.emit({ event: 'ready', address: channel.localAddress });
  ctx.emit(viewEvent(channel.view!));

  return {
    async command(cmd) {
      switch (cmd.cmd) {
        case 'send': {
          const count = Number(cmd.count ?? 1);
          const size = Number(cmd.size ?? 64);
          const rate = Number(cmd.rate ?? 0);
          const t0 = performance.now();
          for (let seq = 0; seq < count; ) {
            const end = Math.min(count, seq + (rate > 0 ? Math.max(1, Math.ceil(rate / 1000)) : 256));
            let last: Promise<void> = Promise.resolve();
            for (; seq < end; seq++) {
              issued++;
              last = channel.broadcast(payload(seq, size));
            }
            await last;
            if (rate > 0) {
              const wait = t0 + (seq / rate) * 1000 - performance.now();
              if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            } else await new Promise((r) => setImmediate(r));
          }
          ctx.emit({ event: 'sent', count, ms: performance.now() - t0 });
          return;
        }
        case 'digest':
          ctx.emit({
            event: 'digest',
            senders: Object.fromEntries([...tallies].map(([k, t]) => [k, t.digest()])),
          });
          return;
        case 'view':
          ctx.emit(viewEvent(channel.view!));
          return;
        case 'stats':
          ctx.emit({ event: 'stats', stats: channel.stats });
          return;
        default:
          throw new Error(`unknown command ${String(cmd.cmd)}`);
      }
    },
    close: () => channel.close(),
  };
}
