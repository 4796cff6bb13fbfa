/**
 * Authentication and per-address authorization with real clients (stompjs and stomp.py): users created with
 * `blazemq user add`, ACL rules from a YAML config file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, CLI, startBroker } from './helpers/broker.js';
import { connectStomp, sendWithReceipt, subscribe } from './helpers/stomp.js';
import { scenario } from './stomp-python.test.js';

describe('with users configured', () => {
  let broker: BrokerProcess;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'blazemq-auth-'));
    execFileSync(process.execPath, [CLI, 'user', 'add', 'alice', '--password', 's3cret', '--data', dir]);
    execFileSync(process.execPath, [
      CLI,
      'user',
      'add',
      'root',
      '--password',
      'r00t',
      '--groups',
      'admins',
      '--data',
      dir,
    ]);
    const config = join(dir, 'blazemq.yaml');
    writeFileSync(
      config,
      [
        'security:',
        '  acl:',
        '    - pattern: "queue://public.>"',
        '      users: [alice]',
        '      permissions: [read, write]',
        '',
      ].join('\n'),
    );
    broker = await startBroker({ dataDir: dir, args: ['--config', config, '--host', '127.0.0.1'] });
  });
  afterAll(async () => {
    expect(await broker.stop()).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a connection without credentials', async () => {
    await expect(connectStomp(broker.stomp)).rejects.toThrow(/auth/i);
  });

  it('refuses a wrong password (stompjs and stomp.py)', async () => {
    await expect(connectStomp(broker.stomp, { login: 'alice', passcode: 'nope' })).rejects.toThrow(/auth/i);
    expect(await scenario(broker.stomp, 'auth_refused')).toMatchObject({ ok: true });
  });

  it('lets a user use the addresses its rules grant', async () => {
    const c = await connectStomp(broker.stomp, { login: 'alice', passcode: 's3cret' });
    const inbox = subscribe(c, '/queue/public.greetings');
    await sendWithReceipt(c, '/queue/public.greetings', 'hi');
    expect((await inbox.waitFor(1))[0]!.body).toBe('hi');
    await c.deactivate();
  });

  it('denies what no rule grants, with an ERROR frame naming the address', async () => {
    const c = await connectStomp(broker.stomp, { login: 'alice', passcode: 's3cret' });
    const error = new Promise<string>((resolve) => {
      c.onStompError = (f) => resolve(`${f.headers.message} ${f.body}`);
    });
    c.subscribe('/queue/secret.orders', () => {});
    expect(await error).toMatch(/secret\.orders/);
    await c.deactivate();
    expect(await scenario(broker.stomp, 'acl_denied', 'alice', 's3cret')).toMatchObject({ ok: true });
  });

  it('lets members of the admins group do everything', async () => {
    const c = await connectStomp(broker.stomp, { login: 'root', passcode: 'r00t' });
    const inbox = subscribe(c, '/queue/secret.orders');
    await sendWithReceipt(c, '/queue/secret.orders', 'classified');
    expect((await inbox.waitFor(1))[0]!.body).toBe('classified');
    await c.deactivate();
  });
});

describe('without users', () => {
  it('binds to loopback only and says so', async () => {
    const broker = await startBroker({ args: ['--host', '0.0.0.0'] });
    try {
      expect(broker.output()).toMatch(/127\.0\.0\.1/);
      const res = await fetch(`http://127.0.0.1:${broker.http}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok' });
    } finally {
      expect(await broker.stop()).toBe(0);
    }
  });
});
