/**
 * What every `blazemq group` command shares: join the group with the flags' options, print lines on
 * stdout (human text, or one JSON object per line with --json), and leave gracefully on SIGINT/SIGTERM
 * (a second signal exits at once, as `blazemq start` does).
 */
import { type Channel, createChannel } from '../../group/channel.js';
import type { View } from '../../group/view.js';
import { channelOptions, type GroupFlags } from './options.js';

export interface OutputFlags {
  json?: boolean;
}

export type Print = (line: string) => void;

export interface Output {
  /** A human line, or with --json the object as one JSON line. */
  event(human: string, obj: Record<string, unknown>): void;
}

export function output(flags: OutputFlags, print: Print): Output {
  return {
    event: (human, obj) => print(flags.json ? JSON.stringify(obj) : human),
  };
}

export function describeView(v: View): string {
  return `view ${v.id.coordinator}#${v.id.counter} (${v.members.length}): ${v.members.join(' ')}`;
}

export function viewEvent(v: View): Record<string, unknown> {
  return { event: 'view', coordinator: v.id.coordinator, counter: v.id.counter, members: [...v.members] };
}

/** Creates and connects a channel; `done()` resolves on the first SIGINT/SIGTERM. */
export async function openSession(flags: GroupFlags): Promise<{ channel: Channel; stopped: Promise<void> }> {
  const channel = createChannel(channelOptions(flags));
  let signalled = false;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = () => {
      if (signalled) process.exit(1);
      signalled = true;
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await channel.connect();
  return { channel, stopped };
}

/** Leaves the group (graceful leave, bounded by the membership's leave timeout) and ends the process. */
export async function leaveAndExit(channel: Channel, code?: number): Promise<never> {
  await channel.close();
  process.exit(code ?? (typeof process.exitCode === 'number' ? process.exitCode : 0));
}

/** Resolves once the view has not changed for `quietMs` (and holds at least `min` members), or at `maxMs`. */
export function settledView(channel: Channel, quietMs: number, maxMs: number, min = 1): Promise<View> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      off();
      clearTimeout(timer);
      clearTimeout(deadline);
      resolve(channel.view!);
    };
    const arm = () => {
      clearTimeout(timer);
      if (channel.members.length >= min) timer = setTimeout(finish, quietMs);
    };
    const off = channel.on('view', arm);
    const deadline = setTimeout(finish, maxMs);
    arm();
  });
}
