// Shared by the bench runners: start the built broker (dist/) on free ports, and fork a worker process that
// speaks the runner's small IPC protocol (ready / go / sent / done / stop).
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

/**
 * `flags`: the listener flags (`--stomp 0 --native off`...). BENCH_NODE_ARGS adds node flags to the broker
 * (e.g. `--cpu-prof`). Resolves with the bound ports (from --ports-file), the pid and stop().
 */
export async function startBroker(flags) {
  const data = mkdtempSync(join(tmpdir(), 'blazemq-bench-'));
  const portsFile = join(data, 'ports.json');
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      join(ROOT, 'dist/cli/main.js'),
      'start',
      '--data',
      data,
      ...flags,
      '--ports-file',
      portsFile,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  for (let i = 0; i < 200; i++) {
    try {
      const ports = JSON.parse(readFileSync(portsFile, 'utf8'));
      return {
        ports,
        pid: child.pid,
        stop: () => {
          child.kill('SIGTERM');
          rmSync(data, { recursive: true, force: true });
        },
      };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill('SIGTERM');
  throw new Error('broker did not start');
}

/** Forks `bench/<script>` with `cfg`; `next(type)` resolves with the worker's next message of that type. */
export function worker(script, cfg) {
  const child = fork(join(ROOT, 'bench', script), [JSON.stringify(cfg)]);
  const next = (type) =>
    new Promise((resolve, reject) => {
      const onMsg = (m) => {
        if (m.type !== type) return;
        child.off('message', onMsg);
        resolve(m);
      };
      child.on('message', onMsg);
      child.once('exit', (code) => reject(new Error(`${cfg.role} exited ${code} waiting for ${type}`)));
    });
  return { child, next };
}
