/**
 * Runs the `blazemq` command as a user does: a real process (through tsx, so no build is needed).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = new URL('../../../', import.meta.url).pathname;
const MAIN = join(ROOT, 'src/cli/main.ts');

export interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

export function blazemq(args: string[], input?: string): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  if (input !== undefined) child.stdin!.end(input);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

export async function waitForFile(file: string, run: Run): Promise<string> {
  for (let i = 0; i < 200; i++) {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      if (run.child.exitCode !== null) throw new Error(`exited ${run.child.exitCode}: ${run.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`no ${file}: ${run.stdout()} ${run.stderr()}`);
}
