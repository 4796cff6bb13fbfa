/**
 * `blazemq group send [text...]`: broadcast (or with --to, send to one member; with --inbox, to a named
 * inbox of that member; with --queue, to whichever member listens on the queue) the text given as
 * arguments, or else every line of stdin, then leave. Leaving is a flush: every member delivers what
 * this one sent before the view without it is installed.
 */
import { createInterface } from 'node:readline';
import type { Channel } from '../../group/channel.js';
import { BlazeError } from '../../util/errors.js';
import type { GroupFlags } from './options.js';
import { leaveAndExit, type OutputFlags, openSession, type Print, settledView } from './session.js';

export interface SendFlags extends GroupFlags, OutputFlags {
  to?: string;
  inbox?: string;
  queue?: string;
  /** Wait until the view holds this many members before sending. */
  members?: string;
  timeout?: string;
}

export function sender(channel: Channel, flags: SendFlags): (text: string) => Promise<void> {
  if (flags.queue !== undefined) {
    if (flags.to !== undefined || flags.inbox !== undefined) {
      throw new BlazeError('CONFIG', '--queue picks its receiver itself: no --to or --inbox with it');
    }
    const q = channel.queue(flags.queue);
    return (text) => q.send(text);
  }
  if (flags.inbox !== undefined) {
    if (flags.to === undefined) throw new BlazeError('CONFIG', '--inbox needs --to MEMBER');
    const box = channel.inbox(flags.inbox);
    const to = flags.to;
    return (text) => box.send(to, text);
  }
  const to = flags.to;
  return to === undefined ? (text) => channel.broadcast(text) : (text) => channel.send(to, text);
}

export async function runSend(words: string[], flags: SendFlags, print: Print): Promise<void> {
  const { channel } = await openSession(flags);
  const min = Number(flags.members ?? 1);
  if (min > 1) await settledView(channel, 200, Number(flags.timeout ?? 30_000), min);
  if (flags.to !== undefined && !channel.members.includes(flags.to)) {
    await channel.close();
    throw new BlazeError(
      'NOT_FOUND',
      `${flags.to} is not a member of the group (${channel.members.join(' ')})`,
    );
  }
  const send = sender(channel, flags);
  let count = 0;
  if (words.length > 0) {
    await send(words.join(' '));
    count++;
  } else {
    for await (const line of createInterface({ input: process.stdin })) {
      await send(line);
      count++;
    }
  }
  if (flags.json) print(JSON.stringify({ event: 'sent', count }));
  await leaveAndExit(channel);
}
