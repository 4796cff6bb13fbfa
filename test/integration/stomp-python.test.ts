/**
 * Interop with Debian's stomp.py (python3-stomp): the scenarios live in test/interop/stomp_py.py and each
 * asserts on its own side; this file runs them against a real broker process.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, startBroker } from './helpers/broker.js';

const run = promisify(execFile);
// Debian's interpreter: that is where apt puts python3-stomp (a pyenv python3 may shadow it on PATH).
const PYTHON = '/usr/bin/python3';
const SCRIPT = new URL('../interop/stomp_py.py', import.meta.url).pathname;
const available = existsSync(PYTHON);

export async function scenario(
  port: number,
  name: string,
  ...auth: string[]
): Promise<Record<string, unknown>> {
  try {
    const { stdout } = await run(PYTHON, [SCRIPT, String(port), name, ...auth], { timeout: 20_000 });
    return JSON.parse(stdout.trim().split('\n').pop()!);
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`scenario ${name} failed: ${err.stdout ?? ''} ${err.stderr ?? ''}`);
  }
}

describe.skipIf(!available)('stomp.py against the broker', () => {
  let broker: BrokerProcess;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    expect(await broker.stop()).toBe(0);
  });

  for (const name of [
    'queue',
    'shared_queue',
    'durable',
    'selector',
    'transaction',
    'priority_expiry',
    'versions',
  ]) {
    it(name, async () => {
      expect(await scenario(broker.stomp, name)).toMatchObject({ ok: true });
    });
  }
});
