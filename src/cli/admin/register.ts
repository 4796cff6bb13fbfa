/**
 * Registers the admin commands on the `blazemq` program. Exit codes: 0 success, 1 failure (message on
 * stderr), 2 usage (bad flags or arguments, commander's own parse errors included).
 */
import type { Command } from 'commander';
import { browse, purge, receive, send, stat } from './commands.js';
import { type ConnectionFlags, resolveConnection, UsageError } from './options.js';
import { completeTransaction, listTransactions } from './transactions.js';

const print = (text: string) => process.stdout.write(`${text}\n`);

function exitFor(err: unknown): never {
  process.stderr.write(`blazemq: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
}

function connectionOptions(c: Command): Command {
  return (
    c
      .option('--url <url>', 'broker HTTP URL (env BLAZEMQ_URL; default http://127.0.0.1:8161)')
      .option('--user <name>', 'user (env BLAZEMQ_USER)')
      .option('--password <password>', 'password (env BLAZEMQ_PASSWORD; visible in the process list)')
      // Commander reports bad usage with exit 1; our contract says 2 (help and version stay 0).
      .exitOverride((err) => {
        if (err.exitCode === 0) process.exit(0);
        process.exit(err.code.startsWith('commander.') ? 2 : err.exitCode);
      })
  );
}

function run(action: () => Promise<void>): void {
  // Through a promise, so that a synchronous throw (bad --url) gets the same exit code as a rejection.
  Promise.resolve()
    .then(action)
    .then(
      () => process.exit(0),
      (err: unknown) => exitFor(err),
    );
}

function conn(opts: ConnectionFlags) {
  return resolveConnection(opts, process.env);
}

export function registerAdminCommands(program: Command): void {
  connectionOptions(program.command('stat'))
    .description('show queues, topics and connections of a running broker')
    .option('--json', 'print JSON instead of tables')
    .action((opts) => run(() => stat(conn(opts), opts, print)));

  connectionOptions(program.command('browse <queue>'))
    .description('show the pending messages of a queue without consuming them')
    .option('--max <n>', 'most messages to show (default 100)')
    .option('--selector <sql>', 'JMS selector the messages must match')
    .option('--json', 'print JSON')
    .action((queue: string, opts) => run(() => browse(conn(opts), queue, opts, print)));

  connectionOptions(program.command('purge <queue>'))
    .description('remove every pending message of a queue')
    .action((queue: string, opts) => run(() => purge(conn(opts), queue, print)));

  connectionOptions(program.command('send <address> [body]'))
    .description(
      'send a message (body from stdin when "-" or absent); address queue://X, topic://X or a queue name',
    )
    .option('--persistent', 'persistent message (stored before the broker confirms)')
    .option('--priority <0-9>', 'JMS priority')
    .option('--ttl <ms>', 'time to live in milliseconds')
    .option('--property <name=value>', 'message property (repeatable)', (v: string, prev: string[] = []) => [
      ...prev,
      v,
    ])
    .option('--correlation-id <id>', 'correlation id')
    .option('--reply-to <address>', 'reply-to address, e.g. queue://replies')
    .action((address: string, body: string | undefined, opts) =>
      run(() => send(conn(opts), address, body, opts, print)),
    );

  connectionOptions(program.command('receive <queue>'))
    .description('consume messages from a queue and print their bodies, one per line')
    .option('--count <n>', 'messages to receive (default 1)')
    .option('--timeout <ms>', 'give up (exit 1) when they have not all arrived by then (default 5000)')
    .option('--json', 'one JSON object per message, with its headers')
    .action((queue: string, opts) => run(() => receive(conn(opts), queue, opts, print)));

  const transactions = connectionOptions(program.command('transactions'))
    .description('list prepared (in-doubt) XA transactions; commit or roll one back')
    .option('--json', 'print JSON instead of a table')
    .action((opts) => run(() => listTransactions(conn(opts), opts, print)));
  for (const outcome of ['commit', 'rollback'] as const) {
    connectionOptions(transactions.command(`${outcome} <xid>`))
      .description(
        `${outcome === 'commit' ? 'commit' : 'roll back'} a prepared XA branch whose coordinator is gone for good (a heuristic decision: ` +
          'see docs/OPERATIONS.md); XID as the listing prints it',
      )
      // The parent declares the same flags and commander gives them to it wherever they appear.
      .action((xid: string, _opts, cmd: Command) =>
        run(() => completeTransaction(conn(cmd.optsWithGlobals()), outcome, xid, print)),
      );
  }
}
