#!/usr/bin/env -S node --max-semi-space-size=2 --v8-pool-size=1 --single-threaded-gc
/**
 * The `blazemq` command. Exit codes: 0 success, 1 failure, 2 invalid configuration or usage, 3 the
 * store cannot be used (damaged journal, journal locked by another process).
 *
 * Node flags (the line above; bench/lib/broker.mjs and `npm start` pass the same): V8's young generation
 * capped at 2 x 2 MB instead of growing to 2 x 16 MB, one V8 worker thread instead of four, and GC on the
 * main thread only. A broker's messages die young or are held on purpose, so small semi-spaces cost
 * little CPU, and GC helper threads kept memory of their own (malloc arenas, marking worklists) that
 * made the peak RSS swing by 5-15 MB. Measured in docs/PERFORMANCE.md ("Broker: MQTT", RSS).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { isBlazeError } from '../util/errors.js';
import { registerAdminCommands } from './admin/register.js';
import { registerDemoFeedCommand } from './demo-feed.js';
import { registerGroupCommand } from './group.js';
import { registerStoreCommand } from './store.js';
import { userAdd, userList, userRemove } from './user.js';

function version(): string {
  // Same relative path from src/cli/ (tsx) and dist/cli/ (built).
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Errors end the process with one line on stderr; configuration and usage errors exit 2. */
function fatal(err: unknown): never {
  if (isBlazeError(err)) {
    process.stderr.write(`blazemq: ${err.message}\n`);
    // 3: the store refuses to start (damaged journal): restarting will not help, `store repair` does.
    process.exit(err.code === 'CONFIG' || err.code === 'BAD_REQUEST' ? 2 : err.code === 'STORE' ? 3 : 1);
  }
  process.stderr.write(`blazemq: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

const print = (line: string) => process.stdout.write(`${line}\n`);

const program = new Command()
  .name('blazemq')
  .description('BlazeMQ message broker')
  .version(version(), '-v, --version');

program
  .command('start')
  .description('run the broker in the foreground')
  .option('--config <file>', 'configuration file (JSON or YAML)')
  .option('--data <dir>', 'data directory (default ./data)')
  .option('--host <addr>', 'address to bind when users are configured (default 0.0.0.0)')
  .option('--stomp <port>', 'STOMP port, or "off" (default 61613)')
  .option('--http <port>', 'HTTP port for /health, or "off" (default 8161)')
  .option('--mqtt <port>', 'MQTT port, or "off" (default 1883)')
  .option('--native <port>', 'native protocol port, or "off" (default 61616)')
  .option('--native-tls <port>', 'native protocol over TLS port (tls.cert, tls.key), or "off" (default)')
  .option('--stomp-tls <port>', 'STOMP over TLS port (tls.cert, tls.key), or "off" (default)')
  .option('--mqtt-tls <port>', 'MQTT over TLS port (tls.cert, tls.key), or "off" (default)')
  .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent (default info)')
  .option('--ports-file <file>', 'write the bound ports as JSON to this file once listening')
  // Loaded on demand: `user` commands should not pay for loading the whole broker.
  .action((opts) => import('./start.js').then(({ runStart }) => runStart(opts)).catch(fatal));

const users = program.command('user').description('manage the users allowed to connect');
const fileOptions = (c: Command) =>
  c
    .option('--config <file>', 'configuration file naming the users file or data directory')
    .option('--data <dir>', 'data directory whose users.json to edit')
    .option('--users-file <file>', 'users file to edit');

fileOptions(users.command('add <name>'))
  .description('add a user, or change an existing one (password prompted when --password is absent)')
  .option('--password <password>', 'password (visible in the process list: prefer the prompt or stdin)')
  .option('--groups <list>', 'comma-separated groups; "admins" may do everything')
  .action((name: string, opts) => userAdd(name, opts, print).catch(fatal));

fileOptions(users.command('list'))
  .description('list users and their groups')
  .action((opts) => userList(opts, print).catch(fatal));

fileOptions(users.command('remove <name>'))
  .description('remove a user')
  .action((name: string, opts) => userRemove(name, opts, print).catch(fatal));

registerGroupCommand(program, fatal);
registerStoreCommand(program, fatal);
registerAdminCommands(program);
registerDemoFeedCommand(program, fatal);

program.parseAsync().catch(fatal);
