/**
 * `blazemq group join`: stay in the group and print view changes, joins and leaves as they happen.
 * `blazemq group members`: join, wait for the view to settle, print it, leave.
 */
import type { GroupFlags } from './options.js';
import {
  describeView,
  leaveAndExit,
  type OutputFlags,
  openSession,
  output,
  type Print,
  settledView,
  viewEvent,
} from './session.js';

export async function runJoin(flags: GroupFlags & OutputFlags, print: Print): Promise<void> {
  const out = output(flags, print);
  const { channel, stopped } = await openSession(flags);
  out.event(`joined as ${channel.localAddress}`, { event: 'joined', address: channel.localAddress });
  const v = channel.view!;
  out.event(describeView(v), viewEvent(v));
  channel.on('view', (view) => out.event(describeView(view), viewEvent(view)));
  channel.on('join', (m) => out.event(`join ${m}`, { event: 'join', member: m }));
  channel.on('leave', (m) => out.event(`leave ${m}`, { event: 'leave', member: m }));
  await stopped;
  await leaveAndExit(channel);
}

export interface MembersFlags extends GroupFlags, OutputFlags {
  /** The view must stay unchanged this long (ms) to count as settled. */
  settle?: string;
  /** Wait for at least this many members (bounded by --timeout). */
  min?: string;
  timeout?: string;
}

export async function runMembers(flags: MembersFlags, print: Print): Promise<void> {
  const { channel } = await openSession(flags);
  const settle = Number(flags.settle ?? 1500);
  const view = await settledView(channel, settle, Number(flags.timeout ?? 30_000), Number(flags.min ?? 1));
  if (flags.json) print(JSON.stringify({ ...viewEvent(view), self: channel.localAddress }));
  else {
    print(`view ${view.id.coordinator}#${view.id.counter}`);
    for (const m of view.members) {
      const tags = [m === view.members[0] ? 'coordinator' : '', m === channel.localAddress ? 'self' : '']
        .filter(Boolean)
        .join(', ');
      print(tags ? `${m} (${tags})` : m);
    }
  }
  await leaveAndExit(channel, view.members.length >= Number(flags.min ?? 1) ? 0 : 1);
}
