/**
 * Starts the real `blazemq` process (the built dist/, as a user would run it) on free ports and tears it
 * down. Tests read the bound ports from `--ports-file`, never assume the standard ones.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../../../', import.meta.url).pathname;
export const CLI = join(ROOT, 'dist/cli/main.js');

export interface BrokerProcess {
  readonly stomp: number;
  readonly mqtt: number;
  readonly http: number;
  /** Native protocol (TCP); 0 when turned off with `--native off`. */
  readonly native: number;
  /** Native protocol over TLS, when started with `--native-tls 0` (and a tls config). */
  readonly nativeTls?: number;
  /** STOMP and MQTT over TLS, when started with `--stomp-tls 0` / `--mqtt-tls 0` (and a tls config). */
  readonly stompTls?: number;
  readonly mqttTls?: number;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Everything the broker printed, for assertions and for debugging failures. */
  output(): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** kill -9, for crash tests. */
  kill9(): Promise<void>;
}

export interface StartOptions {
  args?: string[];
  dataDir?: string;
  env?: Record<string, string>;
  /** Keep the data dir after stop (crash/restart tests pass the same dir again). */
  keepData?: boolean;
}

export async function startBroker(options: StartOptions = {}): Promise<BrokerProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: run \`npm run build\` first`);
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'blazemq-it-'));
  const portsFile = join(mkdtempSync(join(tmpdir(), 'blazemq-ports-')), 'ports.json');
  const args = [
    CLI,
    'start',
    '--data',
    dataDir,
    '--stomp',
    '0',
    '--mqtt',
    '0',
    '--http',
    '0',
    '--native',
    '0',
    '--ports-file',
    portsFile,
  ];
  args.push('--log-level', 'warn', ...(options.args ?? []));
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let ports:
    | {
        stomp: number;
        mqtt: number;
        http: number;
        native?: number;
        nativeTls?: number;
        stompTls?: number;
        mqttTls?: number;
      }
    | undefined;
  for (let i = 0; i < 300 && !ports; i++) {
    if (child.exitCode !== null) throw new Error(`broker exited ${child.exitCode}: ${out}`);
    try {
      ports = JSON.parse(readFileSync(portsFile, 'utf8'));
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (!ports) {
    child.kill('SIGKILL');
    throw new Error(`broker did not report its ports: ${out}`);
  }
  const cleanup = () => {
    if (!options.keepData && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  return {
    stomp: ports.stomp,
    mqtt: ports.mqtt,
    http: ports.http,
    native: ports.native ?? 0,
    ...(ports.nativeTls === undefined ? {} : { nativeTls: ports.nativeTls }),
    ...(ports.stompTls === undefined ? {} : { stompTls: ports.stompTls }),
    ...(ports.mqttTls === undefined ? {} : { mqttTls: ports.mqttTls }),
    dataDir,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      cleanup();
      return code;
    },
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
