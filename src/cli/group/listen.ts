/**
 * `blazemq group listen`: print every message received (broadcasts and direct messages; with --inbox,
 * that inbox; with --queue, the messages of that queue routed to this member) until interrupted, or
 * until --count messages arrived.
 */
import type { GroupMessage } from '../../group/message.js';
import type { GroupFlags } from './options.js';
import { leaveAndExit, type OutputFlags, openSession, output, type Print } from './session.js';

export interface ListenFlags extends GroupFlags, OutputFlags {
  inbox?: string;
  queue?: string;
  count?: string;
}

export async function runListen(flags: ListenFlags, print: Print): Promise<void> {
  const out = output(flags, print);
  const { channel, stopped } = await openSession(flags);
  out.event(`listening as ${channel.localAddress}`, { event: 'joined', address: channel.localAddress });
  const source: AsyncIterable<GroupMessage> =
    flags.queue !== undefined
      ? channel.queue(flags.queue).listen()
      : flags.inbox !== undefined
        ? channel.inbox(flags.inbox)
        : channel.messages;
  const limit = flags.count === undefined ? Number.POSITIVE_INFINITY : Number(flags.count);
  const done = (async () => {
    let n = 0;
    if (n >= limit) return;
    for await (const m of source) {
      const text = m.text();
      const where = m.name !== undefined ? `${m.kind} ${m.name}` : m.kind;
      out.event(`${m.from} [${where}] ${text}`, {
        event: 'message',
        from: m.from,
        kind: m.kind,
        ...(m.name !== undefined ? { name: m.name } : {}),
        text,
      });
      if (++n >= limit) return;
    }
  })();
  await Promise.race([done, stopped]);
  await leaveAndExit(channel);
}
