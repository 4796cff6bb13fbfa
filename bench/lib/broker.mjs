// Shared by the bench runners: start the built broker (dist/) on free ports, and fork a worker process that
// speaks the runner's small IPC protocol (ready / go / sent / done / stop).
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

/**
 * The node flags of the `blazemq` bin's shebang (`#!/usr/bin/env -S node --flag...`, src/cli/main.ts), so
 * that the bench runs the broker the way `blazemq start` does.
 */
function binNodeFlags() {
  const first = readFileSync(join(ROOT, 'dist/cli/main.js'), 'utf8').split('\n', 1)[0];
  const words = first
    .replace(/^#!\S+\s*(-S\s+)?/, '')
    .split(/\s+/)
    .filter(Boolean);
  return words[0] === 'node' ? words.slice(1) : [];
}

/**
 * `flags`: the listener flags (`--stomp 0 --native off`...). The broker gets the bin's node flags
 * (binNodeFlags); BENCH_NODE_ARGS adds more (e.g. `--cpu-prof`; a later `--max-semi-space-size` wins).
 * Resolves with the bound ports (from --ports-file), the pid and stop().
 */
export async function startBroker(flags) {
  const data = mkdtempSync(join(tmpdir(), 'blazemq-bench-'));
  const portsFile = join(data, 'ports.json');
  const child = spawn(
    process.execPath,
    [
      ...binNodeFlags(),
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
  const child = fork(
    join(ROOT, 'bench', script),
    [JSON.stringify(cfg)],
    process.env.BENCH_WORKER_PROF
      ? {
          execArgv: [
            '--cpu-prof',
            '--cpu-prof-interval=100',
            `--cpu-prof-dir=${process.env.BENCH_WORKER_PROF}`,
          ],
        }
      : {},
  );
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
