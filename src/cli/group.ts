/**
 * `blazemq group ...`: try blazemq/group by hand (join, members, send, listen) and measure it (bench).
 * Implementations load on demand, so other commands do not pay for the group stack.
 */
import type { Command } from 'commander';

type Fatal = (err: unknown) => never;
const print = (line: string) => process.stdout.write(`${line}\n`);

/** Flags every group command takes: the group, the network, the failure detector. */
function common(c: Command): Command {
  return c
    .option('--group <name>', 'group name: only members of the same name talk (default "blazemq")')
    .option('--multicast <addr:port>', 'IP multicast group and port (default 239.77.7.7:45566)')
    .option('--peers <list>', 'unicast-only mode: comma-separated ip:port of every member (no multicast)')
    .option('--interface <ip>', 'local IP to multicast on; with --peers, the IP others reach this member at')
    .option('--bind <ip>', 'local IP of the member socket (default 0.0.0.0)')
    .option('--port <n>', 'port of the member socket (default any; fix it with --peers)')
    .option('--ttl <n>', 'multicast TTL (default 1: local segment only)')
    .option(
      '--no-loop',
      'do not loop own multicasts back to this host: one member per host only, saves its CPU and buffers',
    )
    .option('--max-datagram <bytes>', 'largest UDP datagram (default 1472: no IP fragmentation)')
    .option('--heartbeat <ms>', 'heartbeat interval (default 500)')
    .option('--failure-timeout <ms>', 'silence before a member is suspected (default 3000)')
    .option('--verify-timeout <ms>', 'a suspect that does not answer within this is excluded (default 1000)')
    .option('--discovery-timeout <ms>', 'how long to look for an existing group (default 1000)')
    .option('--window <n>', 'flow-control window: unstable messages per sender (default 1024)')
    .option('--window-bytes <n>', 'flow-control window in payload bytes per sender (default 4 MiB)')
    .option('--json', 'one JSON object per line');
}

export function registerGroupCommand(program: Command, fatal: Fatal): void {
  const group = program
    .command('group')
    .description('real-time group communication over UDP (blazemq/group)');

  common(group.command('join'))
    .description('join a group and print view changes, joins and leaves until interrupted')
    .action((opts) => import('./group/join.js').then((m) => m.runJoin(opts, print)).catch(fatal));

  common(group.command('members'))
    .description('join, wait for the view to settle, print the members, leave')
    .option('--settle <ms>', 'the view must stay unchanged this long (default 1500)')
    .option('--min <n>', 'wait for at least this many members; exit 1 if not reached (default 1)')
    .option('--timeout <ms>', 'give up waiting after this long (default 30000)')
    .action((opts) => import('./group/join.js').then((m) => m.runMembers(opts, print)).catch(fatal));

  common(group.command('send [text...]'))
    .description('broadcast the text (or each line of stdin), or send it to one member, then leave')
    .option('--to <member>', 'send to this member (ip:port) only')
    .option('--inbox <name>', "to the member's named inbox (with --to)")
    .option('--queue <name>', 'to exactly one member listening on this queue')
    .option('--members <n>', 'wait until the group has this many members before sending')
    .option('--timeout <ms>', 'how long to wait for --members (default 30000)')
    .action((text: string[], opts) =>
      import('./group/send.js').then((m) => m.runSend(text, opts, print)).catch(fatal),
    );

  common(group.command('listen'))
    .description('print every message received until interrupted')
    .option('--inbox <name>', 'print the messages of this named inbox instead')
    .option('--queue <name>', 'listen on this queue: each of its messages goes to one listener')
    .option('--count <n>', 'exit after this many messages')
    .action((opts) => import('./group/listen.js').then((m) => m.runListen(opts, print)).catch(fatal));

  common(group.command('bench'))
    .description('throughput (msgs/s, MB/s) and latency across member processes')
    .option('--role <role>', 'sender or receiver (default receiver)')
    .option('--members <n>', 'sender: wait for this many members, itself included (default 2)')
    .option('--receivers <n>', 'sender: results to wait for (default members - 1)')
    .option('--senders <n>', 'receiver: exit after this many senders finished (default 1)')
    .option('--count <n>', 'sender: messages to send (default 100000)')
    .option('--duration <s>', 'sender: send for this many seconds instead of --count')
    .option('--size <bytes>', 'sender: message size, at least 16 (default 64)')
    .option('--rate <msgs/s>', 'sender: fixed send rate (default 0: as fast as flow control allows)')
    .option('--warmup <n>', 'sender: messages sent first and not measured (default 5000)')
    .option('--timeout <s>', 'give up after this long (default 300)')
    .action((opts) => import('./group/bench.js').then((m) => m.runBench(opts, print)).catch(fatal));
}
