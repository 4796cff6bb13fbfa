/**
 * The interop, browser, XA and namespace-lab tests skip themselves when their third-party tool is missing, so
 * that `npm test` runs on a bare developer machine. In CI a missing tool must fail instead of silently
 * turning those tests into skips: `.ci/run` sets BLAZEMQ_REQUIRE_TOOLS=1 after installing them, and then
 * this file checks that every tool the skipping tests look for is really there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { labSupport, nftAvailable } from '../netlab/lab.js';
import { postgresAvailable } from './helpers/postgres.js';

const required = process.env.BLAZEMQ_REQUIRE_TOOLS === '1';
const PYTHON = '/usr/bin/python3';

function pythonImports(module: string): boolean {
  try {
    execFileSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

describe.runIf(required)('CI has every tool the skipping tests need (BLAZEMQ_REQUIRE_TOOLS=1)', () => {
  it.each([
    ['/usr/bin/python3', PYTHON],
    ['mosquitto_pub', '/usr/bin/mosquitto_pub'],
    ['mosquitto_sub', '/usr/bin/mosquitto_sub'],
    ['curl', '/usr/bin/curl'],
    ['protoc', '/usr/bin/protoc'],
    ['chromium', process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'],
  ])('%s', (_name, path) => {
    expect(existsSync(path)).toBe(true);
  });

  it.each(['stomp', 'paho.mqtt.client', 'google.protobuf'])('python3 imports %s', (module) => {
    expect(pythonImports(module)).toBe(true);
  });

  it('PostgreSQL server binaries (XA tests)', () => {
    expect(postgresAvailable()).toBe(true);
  });

  // The namespace lab needs root; CI runs as root.
  it.runIf(process.getuid?.() === 0)('network namespaces and nftables (netlab tests)', () => {
    expect(labSupport()).toMatchObject({ ok: true });
    expect(nftAvailable()).toBe(true);
  });
});
