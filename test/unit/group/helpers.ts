/** Shared harness for group protocol tests on the simulated network. */
import { FrameWire } from '../../../src/group/frame-wire.js';
import type { NackOptions } from '../../../src/group/reliable/nack/options.js';
import { NackProtocol } from '../../../src/group/reliable/nack/protocol.js';
import type { Delivery } from '../../../src/group/reliable/types.js';
import type { SimNetwork } from '../../../src/group/testing/sim-network.js';
import type { View } from '../../../src/group/view.js';
import { silentLogger } from '../../../src/util/logger.js';

export interface StaticMember {
  address: string;
  protocol: NackProtocol;
  wire: FrameWire;
  deliveries: Delivery[];
}

/** N NACK protocol instances sharing one fixed view (no membership), for reliability tests. */
export function staticGroup(net: SimNetwork, n: number, opts: Partial<NackOptions> = {}): StaticMember[] {
  const addresses = Array.from({ length: n }, (_, i) => `m${i + 1}`);
  const view: View = { id: { coordinator: addresses[0]!, counter: 1 }, members: addresses };
  return addresses.map((address) => {
    const transport = net.endpoint(address);
    let protocol: NackProtocol | undefined;
    const wire = new FrameWire(transport, 'g', (from, f) => protocol!.handle(from, f.kind, f.body));
    protocol = new NackProtocol(
      {
        self: address,
        wire,
        clock: net.clock,
        random: net.randomFor(address),
        log: silentLogger,
        maxPayload: wire.maxPayload,
      },
      opts,
    );
    const deliveries: Delivery[] = [];
    protocol.onDeliver((d) => deliveries.push(d));
    protocol.start(view);
    return { address, protocol, wire, deliveries };
  });
}

export function payload(sender: string, i: number): Uint8Array {
  return new TextEncoder().encode(`${sender}:${i}`);
}

export function text(p: Uint8Array): string {
  return new TextDecoder().decode(p);
}

/**
 * Drives `count` multicasts from `member` as fast as flow control allows: every `tick` ms it sends
 * until the protocol refuses (back-pressure) or `burst` messages went out.
 */
export function pump(
  net: SimNetwork,
  member: StaticMember,
  count: number,
  burst = 20,
  tick = 1,
): { sent: () => number } {
  let i = 0;
  const loop = () => {
    for (let b = 0; b < burst && i < count; b++) {
      if (!member.protocol.multicast(payload(member.address, i + 1))) break;
      i++;
    }
    if (i < count) net.clock.setTimer(tick, loop);
  };
  net.clock.setTimer(0, loop);
  return { sent: () => i };
}

/** Per sender, the list of message indexes a member delivered, in delivery order. */
export function bySender(deliveries: readonly Delivery[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const d of deliveries) {
    const [sender, idx] = text(d.payload).split(':');
    if (sender !== d.sender) throw new Error(`payload of ${sender} delivered as from ${d.sender}`);
    let list = out.get(sender!);
    if (!list) {
      list = [];
      out.set(sender!, list);
    }
    list.push(Number(idx));
  }
  return out;
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
