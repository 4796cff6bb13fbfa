/** startBroker in-process: the loopback rule, wiring of STOMP and HTTP, clean start failure and stop. */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../../src/broker.js';
import { type BlazeConfig, parseConfig } from '../../../src/config/index.js';
import { hashPassword } from '../../../src/security/password.js';
import { writeUsersFile } from '../../../src/security/users-file.js';
import { type LogLine, recordingLogger } from '../../helpers/recording-logger.js';

const dir = mkdtempSync(join(tmpdir(), 'blazemq-broker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, extra: Record<string, unknown> = {}): BlazeConfig {
  return parseConfig({
    dataDir: join(dir, name),
    listeners: { stomp: 0, http: 0, mqtt: 0, native: 'off' },
    logLevel: 'silent',
    ...extra,
  });
}

/** Sends one STOMP frame and returns the first frame the broker answers with. */
async function stompExchange(port: number, frame: string): Promise<string> {
  const s: Socket = connect(port, '127.0.0.1');
  try {
    await once(s, 'connect');
    s.write(frame);
    let text = '';
    for await (const chunk of s) {
      text += chunk;
      if (text.includes('\0')) break;
    }
    return text;
  } finally {
    s.destroy();
  }
}

describe('startBroker', () => {
  it('without users: binds loopback only, says so, serves STOMP and /health, stops cleanly', async () => {
    const lines: LogLine[] = [];
    const broker = await startBroker(config('open', { host: '0.0.0.0' }), { logger: recordingLogger(lines) });
    try {
      expect(broker.host).toBe('127.0.0.1');
      expect(lines.find((l) => l.level === 'warn')?.msg).toContain('listens on 127.0.0.1 only');
      expect(lines.filter((l) => l.msg === 'listening').map((l) => l.obj)).toEqual([
        { protocol: 'stomp', host: '127.0.0.1', port: broker.ports.stomp },
        { protocol: 'mqtt', host: '127.0.0.1', port: broker.ports.mqtt },
        { protocol: 'http', host: '127.0.0.1', port: broker.ports.http },
      ]);
      const reply = await stompExchange(broker.ports.stomp!, 'CONNECT\naccept-version:1.2\nhost:x\n\n\0');
      expect(reply.startsWith('CONNECTED\n')).toBe(true);
      const res = await fetch(`http://127.0.0.1:${broker.ports.http}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok', listeners: broker.ports });
    } finally {
      await broker.stop();
    }
    await broker.stop();
    await expect(fetch(`http://127.0.0.1:${broker.ports.http}/health`)).rejects.toThrow();
  });

  it('with users: binds the requested host and requires a login', async () => {
    const c = config('secured', {
      host: '0.0.0.0',
      listeners: { stomp: 0, http: 'off', mqtt: 'off', native: 'off' },
    });
    await writeUsersFile(join(c.dataDir, 'users.json'), [
      { name: 'alice', groups: ['admins'], password: await hashPassword('pw', { N: 1024, r: 8, p: 1 }) },
    ]);
    let broker: RunningBroker | undefined;
    try {
      broker = await startBroker(c);
      expect(broker.host).toBe('0.0.0.0');
      expect(broker.ports).toEqual({ stomp: broker.ports.stomp });
      const anonymous = await stompExchange(broker.ports.stomp!, 'CONNECT\naccept-version:1.2\nhost:x\n\n\0');
      expect(anonymous.startsWith('ERROR\n')).toBe(true);
      const alice = await stompExchange(
        broker.ports.stomp!,
        'CONNECT\naccept-version:1.2\nhost:x\nlogin:alice\npasscode:pw\n\n\0',
      );
      expect(alice.startsWith('CONNECTED\n')).toBe(true);
    } finally {
      await broker?.stop();
    }
  });

  it('closes what it opened when a later step fails', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const httpPort = (taken.address() as { port: number }).port;
    const lines: LogLine[] = [];
    try {
      await expect(
        startBroker(config('fails', { listeners: { stomp: 0, http: httpPort, mqtt: 0, native: 'off' } }), {
          logger: recordingLogger(lines),
        }),
      ).rejects.toMatchObject({
        code: 'CONFIG',
        message: `http: cannot listen on 127.0.0.1:${httpPort}: EADDRINUSE`,
      });
      const stompPort = (lines.find((l) => l.msg === 'listening')!.obj as { port: number }).port;
      const s = connect(stompPort, '127.0.0.1');
      const [err] = (await once(s, 'error')) as [NodeJS.ErrnoException];
      expect(err.code).toBe('ECONNREFUSED');
    } finally {
      taken.close();
    }
  });
});
