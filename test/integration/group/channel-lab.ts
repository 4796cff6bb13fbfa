/**
 * Group members (role `channel` of test/netlab/member.ts) in the namespace lab, and the waits the
 * real-socket tests share.
 */
import type { MemberEvent, MemberProcess, NetLab } from '../../netlab/lab.js';
import type { Digest } from '../../netlab/roles/channel.js';

export const GROUP_ADDR = '239.77.0.7';

export interface ChannelMember {
  i: number;
  address: string;
  proc: MemberProcess;
}

export async function startChannel(
  lab: NetLab,
  i: number,
  options: {
    membership?: Record<string, number>;
    nack?: Record<string, number>;
    port?: number;
    /** Fixed port of the member socket (default: any), so that a restarted member keeps its address. */
    memberPort?: number;
  } = {},
): Promise<ChannelMember> {
  const proc = await lab.member(i, {
    role: 'channel',
    group: 'lab',
    udp: {
      bindAddress: lab.ip(i),
      ...(options.memberPort ? { port: options.memberPort } : {}),
      // One member per namespace: no need for the kernel to loop own multicasts back.
      multicast: { group: GROUP_ADDR, port: options.port ?? 45600, interface: lab.ip(i), loopback: false },
    },
    ...(options.membership ? { membership: options.membership } : {}),
    ...(options.nack ? { nack: options.nack } : {}),
  });
  const ready = await proc.waitFor('ready');
  return { i, address: String(ready.address), proc };
}

export type ViewEvent = MemberEvent & { counter: number; coordinator: string; members: string[]; t: number };

/** The last view a member reported. */
export function lastView(m: ChannelMember): ViewEvent | undefined {
  return m.proc.events.filter((e) => e.event === 'view').at(-1) as ViewEvent | undefined;
}

/**
 * Waits until the member's latest view holds exactly `members` (any order). With `sinceEvent` (an index
 * into the member's events), a view reported before that does not count: after a kill the survivors'
 * current view still lists the killed member's address, which a restarted member reuses.
 */
export async function waitForView(
  m: ChannelMember,
  members: string[],
  timeoutMs = 15_000,
  sinceEvent = 0,
): Promise<ViewEvent> {
  const want = [...members].sort().join(',');
  const matches = (e: MemberEvent) =>
    e.event === 'view' && [...(e.members as string[])].sort().join(',') === want;
  const events = m.proc.events;
  let last = events.length - 1;
  while (last >= sinceEvent && events[last]!.event !== 'view') last--;
  if (last >= sinceEvent && matches(events[last]!)) return events[last] as ViewEvent;
  return (await m.proc.waitFor(matches, timeoutMs, events.length)) as ViewEvent;
}

export async function digest(m: ChannelMember): Promise<Record<string, Digest>> {
  return (await m.proc.request({ cmd: 'digest' }, 'digest', 30_000)).senders as Record<string, Digest>;
}

/** Polls a member's digests until `done` holds or `timeoutMs` passes; returns the last digests. */
export async function digestsWhen(
  m: ChannelMember,
  done: (d: Record<string, Digest>) => boolean,
  timeoutMs: number,
): Promise<Record<string, Digest>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await digest(m);
    if (done(d) || Date.now() > deadline) return d;
    await new Promise((r) => setTimeout(r, 250));
  }
}
