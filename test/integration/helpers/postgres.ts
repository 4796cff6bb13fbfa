/**
 * Starts a throw-away PostgreSQL server for tests: Debian's binaries (`postgresql` package,
 * /usr/lib/postgresql/<major>/bin, or PG_BIN), a fresh cluster in a temporary directory, listening on a
 * free loopback port, with `max_prepared_transactions` > 0 so that PREPARE TRANSACTION works (XA tests).
 *
 * Root. initdb and postgres refuse to run as root ("cannot be run as root"), and tests here run as root
 * in CI. So when the test process is root, the cluster directory is chowned to the `postgres` system
 * user (created by the Debian package) and both programs are started through `setpriv`, which changes
 * uid/gid and then execs: the pid we hold is the postmaster's own, so stop() signals it directly
 * (`runuser` would stay in between as a parent). As another user they run directly.
 *
 * Durability is off by default (fsync, synchronous_commit, full_page_writes): these servers hold test
 * data only and are never crashed by the tests; pass `durable: true` for one that is.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from '../../helpers/ports.js';

export interface PostgresServer {
  readonly port: number;
  /** `postgres://blazemq@127.0.0.1:<port>/postgres` (trust authentication, superuser `blazemq`). */
  readonly connectionString: string;
  readonly pid: number;
  /** The temporary directory holding the cluster (`data/`) and `postgres.log`. */
  readonly dir: string;
  /** The server log so far (for failure messages). */
  log(): string;
  /** Fast shutdown (SIGINT; SIGKILL after 10 s), then removes the directory. Idempotent. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Default 10. */
  maxPreparedTransactions?: number;
  /** Keep fsync and friends on. Default false. */
  durable?: boolean;
  /** How long to wait for the server to accept connections. Default 30 s. */
  timeoutMs?: number;
}

export const PG_USER = 'blazemq';

/** The newest installed major version's bin directory, or PG_BIN. */
export function postgresBin(): string {
  const env = process.env['PG_BIN'];
  if (env !== undefined) return env;
  const base = '/usr/lib/postgresql';
  const majors = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) {
    throw new Error(
      `no PostgreSQL server binaries under ${base} (install Debian's postgresql, or set PG_BIN)`,
    );
  }
  return join(base, majors[0]!, 'bin');
}

/** True when the server binaries are installed (tests skip otherwise). */
export function postgresAvailable(): boolean {
  try {
    postgresBin();
    return true;
  } catch {
    return false;
  }
}

interface RunAs {
  /** Command and arguments that run `file args` as the server's user. */
  wrap(file: string, args: string[]): [string, string[]];
  chown(path: string): void;
}

function runAs(): RunAs {
  if (process.getuid?.() !== 0) return { wrap: (file, args) => [file, args], chown: () => {} };
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  } catch (err) {
    throw new Error(
      'running as root, and PostgreSQL refuses to run as root: a `postgres` user is needed to run it as ' +
        "(Debian's postgresql package creates one)",
      { cause: err },
    );
  }
  return {
    wrap: (file, args) => [
      'setpriv',
      [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', file, ...args],
    ],
    chown: (path) => chownSync(path, uid, gid),
  };
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBin();
  const as = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'blazemq-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  try {
    as.chown(dir);
    const [initdb, initArgs] = as.wrap(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      PG_USER,
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    try {
      execFileSync(initdb, initArgs, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { stderr?: Buffer; stdout?: Buffer };
      throw new Error(`initdb failed: ${e.stderr?.toString() ?? ''}${e.stdout?.toString() ?? ''}`, {
        cause: err,
      });
    }
    // The port is chosen by us (postgres cannot bind port 0 and tell), so another process may take it
    // first: retry with a new one.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const server = await launch(bin, as, dir, data, logFile, port, options);
      if (server !== undefined) return server;
      if (attempt >= 3 || !/could not bind|Address already in use/i.test(readLog())) {
        throw new Error(`postgres did not start:\n${readLog()}`);
      }
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function launch(
  bin: string,
  as: RunAs,
  dir: string,
  data: string,
  logFile: string,
  port: number,
  options: StartPostgresOptions,
): Promise<PostgresServer | undefined> {
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    port,
    unix_socket_directories: dir,
    max_prepared_transactions: options.maxPreparedTransactions ?? 10,
    max_connections: 40,
    shared_buffers: '16MB',
    logging_collector: 'off',
  };
  if (options.durable !== true) {
    settings['fsync'] = 'off';
    settings['synchronous_commit'] = 'off';
    settings['full_page_writes'] = 'off';
  }
  const args = ['-D', data];
  for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
  const [file, argv] = as.wrap(join(bin, 'postgres'), args);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(file, argv, { cwd: dir, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) return undefined;
  const exit = new Promise<void>((resolve) => {
    if (exited(child)) resolve();
    else child.once('exit', () => resolve());
  });
  // If the test process ends without stop(), do not leave a server (and its directory) behind.
  const onExit = () => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const connectionString = `postgres://${PG_USER}@127.0.0.1:${port}/postgres`;

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (!exited(child)) {
        child.kill('SIGINT');
        const killed = await Promise.race([exit.then(() => false), sleep(10_000).then(() => true)]);
        if (killed && !exited(child)) {
          child.kill('SIGKILL');
          await exit;
        }
      }
      process.removeListener('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (exited(child)) {
      process.removeListener('exit', onExit);
      return undefined;
    }
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      break;
    } catch {
      await client.end().catch(() => {});
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`postgres did not accept connections on port ${port}`);
      }
      await sleep(100);
    }
  }
  return {
    port,
    connectionString,
    pid,
    dir,
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    stop,
  };
}
