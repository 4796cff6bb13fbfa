/** `blazemq start`: real process, real ports (0), real signals. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blazemq, waitForFile } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'blazemq-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('blazemq start', () => {
  it('reports its ports, serves /health, and exits 0 on SIGTERM', async () => {
    const portsFile = join(dir, 'ports.json');
    const run = blazemq([
      'start',
      '--data',
      join(dir, 'data1'),
      '--stomp',
      '0',
      '--http',
      '0',
      '--mqtt',
      '0',
      '--native',
      '0',
      '--ports-file',
      portsFile,
    ]);
    try {
      const ports = JSON.parse(await waitForFile(portsFile, run)) as { stomp: number; http: number };
      expect(ports.stomp).toBeGreaterThan(0);
      expect(ports.http).toBeGreaterThan(0);
      const res = await fetch(`http://127.0.0.1:${ports.http}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok' });
      const missing = await fetch(`http://127.0.0.1:${ports.http}/nope`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toHaveProperty('error');

      const logs = run
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logs).toContainEqual(
        expect.objectContaining({ msg: 'listening', protocol: 'stomp', port: ports.stomp }),
      );
      expect(logs).toContainEqual(
        expect.objectContaining({ msg: 'listening', protocol: 'http', port: ports.http }),
      );
      // No users: the broker says it stays on loopback.
      expect(logs).toContainEqual(expect.objectContaining({ level: 40, host: '127.0.0.1' }));
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exit).toBe(0);
    expect(run.stdout()).toContain('"msg":"stopped"');
  });

  it('exits 2 with one line on stderr for a bad flag', async () => {
    const run = blazemq(['start', '--stomp', 'abc', '--data', join(dir, 'data2')]);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toBe(
      'blazemq: config: --stomp: expected a port number 0-65535 or "off", got "abc"\n',
    );
  });

  it('exits 2 with one line on stderr for a bad config file', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'listeners:\n  stomp: abc\n');
    const run = blazemq(['start', '--config', file]);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toBe(
      'blazemq: config: listeners.stomp: expected a port number 0-65535 or "off", got "abc"\n',
    );
  });
});
