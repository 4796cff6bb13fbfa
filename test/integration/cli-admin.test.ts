/**
 * `blazemq stat | browse | purge | send | receive` run as child processes (the built dist/) against a real
 * broker, with the exit codes of the contract: 0 ok, 1 error (stderr), 2 usage.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, CLI, startBroker } from './helpers/broker.js';
import { runCli } from './helpers/cli.js';

const cli = runCli;

describe('admin CLI without users', () => {
  let broker: BrokerProcess;
  let url: string;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'blazemq-cli-admin-'));
    broker = await startBroker({ dataDir });
    url = `http://127.0.0.1:${broker.http}`;
  });
  afterAll(async () => {
    if (broker.child.exitCode === null) await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('send (argument and stdin), browse, stat, receive, purge', async () => {
    const sent = await cli([
      'send',
      'queue://cli.q',
      'first',
      '--url',
      url,
      '--property',
      'k=v',
      '--priority',
      '6',
    ]);
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    expect(sent.stdout.trim()).toMatch(/^ID:/);
    expect((await cli(['send', 'cli.q', '-', '--url', url], { stdin: 'from stdin' })).code).toBe(0);
    // Environment instead of --url; a body that is not UTF-8 goes as base64 and comes back the same.
    const binary = await cli(['send', '/queue/cli.bin'], {
      stdin: Buffer.from([0xff, 0x00, 0x01]),
      env: { BLAZEMQ_URL: url },
    });
    expect(binary.code).toBe(0);

    const browse = await cli(['browse', 'cli.q', '--url', url, '--json']);
    expect(browse.code).toBe(0);
    const messages = JSON.parse(browse.stdout) as Array<{
      body: string;
      properties: Record<string, string>;
      priority: number;
    }>;
    expect(messages.map((m) => m.body)).toEqual(['first', 'from stdin']);
    expect(messages[0]).toMatchObject({ properties: { k: 'v' }, priority: 6 });
    const table = await cli(['browse', 'queue://cli.q', '--url', url]);
    expect(table.stdout).toMatch(/^ID\s+PRI/);
    expect(table.stdout).toContain('from stdin');
    const bin = JSON.parse((await cli(['browse', 'cli.bin', '--url', url, '--json'])).stdout) as Array<{
      body: string;
      bodyEncoding: string;
    }>;
    expect(bin[0]).toMatchObject({
      body: Buffer.from([0xff, 0, 1]).toString('base64'),
      bodyEncoding: 'base64',
    });

    const stat = await cli(['stat', '--url', url, '--json']);
    expect(stat.code).toBe(0);
    const s = JSON.parse(stat.stdout) as {
      queues: Array<{ name: string; depth: number }>;
      overview: { version: string };
    };
    expect(s.queues.find((q) => q.name === 'cli.q')!.depth).toBe(2);
    expect(s.overview.version).toMatch(/^\d+\.\d+/);
    const statText = await cli(['stat', '--url', url]);
    expect(statText.stdout).toMatch(/QUEUE\s+DEPTH/);
    expect(statText.stdout).toMatch(/cli\.q\s+2/);

    const received = await cli(['receive', 'cli.q', '--url', url, '--count', '1', '--timeout', '3000']);
    expect(received).toMatchObject({ code: 0, stdout: 'first\n' });
    await cli(['send', 'cli.q', 'third', '--url', url]);
    expect((await cli(['purge', 'cli.q', '--url', url])).stdout.trim()).toBe(
      'purged 2 messages from queue://cli.q',
    );
    expect(JSON.parse((await cli(['browse', 'cli.q', '--url', url, '--json'])).stdout)).toEqual([]);
  });

  it('receive waits for messages sent later, and fails when too few arrive in time', async () => {
    const waiting = cli([
      'receive',
      'cli.later',
      '--url',
      url,
      '--count',
      '2',
      '--timeout',
      '8000',
      '--json',
    ]);
    await new Promise((r) => setTimeout(r, 300));
    await cli(['send', 'cli.later', 'a', '--url', url]);
    await cli(['send', 'cli.later', 'b', '--url', url]);
    const r = await waiting;
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { body: string }).body),
    ).toEqual(['a', 'b']);
    const none = await cli(['receive', 'cli.empty', '--url', url, '--timeout', '200']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/timed out .* received 0 of 1/);
  });

  it('exit 2 for usage errors, 1 for errors from or reaching the broker', async () => {
    expect((await cli(['browse', '--url', url])).code).toBe(2);
    expect((await cli(['browse', 'topic://t', '--url', url])).code).toBe(2);
    expect((await cli(['receive', 'q', '--count', 'many', '--url', url])).code).toBe(2);
    expect((await cli(['stat', '--url', 'not-a-url'])).code).toBe(2);
    const missing = await cli(['purge', 'never.created', '--url', url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/NOT_FOUND/);
    const down = await cli(['stat', '--url', 'http://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach the broker/);
  });

  it('a persistent message sent with the CLI survives a broker restart', async () => {
    expect((await cli(['send', 'cli.durable', 'kept', '--persistent', '--url', url])).code).toBe(0);
    await cli(['send', 'cli.durable', 'lost', '--url', url]);
    await broker.stop();
    broker = await startBroker({ dataDir });
    url = `http://127.0.0.1:${broker.http}`;
    const browse = await cli(['browse', 'cli.durable', '--url', url, '--json']);
    expect((JSON.parse(browse.stdout) as Array<{ body: string }>).map((m) => m.body)).toEqual(['kept']);
  });
});

describe('admin CLI with users', () => {
  let broker: BrokerProcess;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'blazemq-cli-auth-'));
    execFileSync(process.execPath, [
      CLI,
      'user',
      'add',
      'ops',
      '--password',
      'pw',
      '--groups',
      'admins',
      '--data',
      dir,
    ]);
    broker = await startBroker({ dataDir: dir, args: ['--host', '127.0.0.1'] });
  });
  afterAll(async () => {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('authenticates with --user/--password or the environment; 1 when refused', async () => {
    const url = `http://127.0.0.1:${broker.http}`;
    const refused = await cli(['stat', '--url', url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/UNAUTHENTICATED/);
    expect((await cli(['stat', '--url', url, '--user', 'ops', '--password', 'bad'])).code).toBe(1);
    expect((await cli(['send', 'q', 'x', '--url', url, '--user', 'ops', '--password', 'pw'])).code).toBe(0);
    const env = { BLAZEMQ_URL: url, BLAZEMQ_USER: 'ops', BLAZEMQ_PASSWORD: 'pw' };
    const r = await cli(['receive', 'q'], { env });
    expect(r).toMatchObject({ code: 0, stdout: 'x\n' });
  });
});
