/**
 * `blazemq group` as a user runs it: real processes (through tsx) on the host's loopback, over IP
 * multicast on 127.0.0.1 and in unicast-only mode with --peers. Two processes see each other and
 * exchange a message.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = new URL('../../../', import.meta.url).pathname;
const MAIN = `${ROOT}src/cli/main.ts`;
const FAST = ['--heartbeat', '100', '--failure-timeout', '1000', '--discovery-timeout', '300'];

interface Run {
  child: ChildProcess;
  lines: string[];
  exit: Promise<number | null>;
  line(pred: (l: string) => boolean, timeoutMs?: number): Promise<string>;
}

const runs: Run[] = [];
afterEach(async () => {
  for (const r of runs.splice(0)) {
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    await r.exit;
  }
});

function blazemq(args: string[], input?: string): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'group', ...args], {
    cwd: ROOT,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin!.end(input);
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const waiters: { pred: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.splice(0)) {
      if (w.pred(l)) w.resolve(l);
      else waiters.push(w);
    }
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const run: Run = {
    child,
    lines,
    exit,
    line: (pred, timeoutMs = 15_000) => {
      const seen = lines.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`no matching line in ${timeoutMs} ms: ${lines.join('\n')}\n${stderr}`)),
          timeoutMs,
        );
        waiters.push({
          pred,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
      });
    },
  };
  runs.push(run);
  return run;
}

const json = (l: string) => JSON.parse(l) as Record<string, unknown>;
const isEvent = (name: string) => (l: string) => l.startsWith('{') && json(l).event === name;

function multicastFlags(): string[] {
  const group = `239.255.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  return ['--multicast', `${group}:${port}`, '--interface', '127.0.0.1', '--bind', '127.0.0.1', ...FAST];
}

/** Free UDP ports on 127.0.0.1 (bound, read back, released). */
async function freePorts(n: number): Promise<number[]> {
  const sockets = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<dgram.Socket>((resolve) => {
          const s = dgram.createSocket('udp4');
          s.bind(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = sockets.map((s) => s.address().port);
  await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

describe('blazemq group CLI', () => {
  it('over multicast: listen receives what send broadcasts; members and join see both', async () => {
    const net = multicastFlags();
    const join = blazemq(['join', ...net, '--json']);
    const joined = json(await join.line(isEvent('joined')));
    const listen = blazemq(['listen', ...net, '--json', '--count', '1']);
    const listener = json(await listen.line(isEvent('joined')));
    await join.line((l) => isEvent('join')(l) && json(l).member === listener.address);

    const members = blazemq(['members', ...net, '--json', '--min', '3', '--settle', '300']);
    const view = json(await members.line(isEvent('view')));
    expect(view.members).toEqual(expect.arrayContaining([joined.address, listener.address, view.self]));
    expect(await members.exit).toBe(0);

    const send = blazemq(['send', ...net, '--members', '2', 'hello', 'group']);
    expect(await send.exit).toBe(0);
    const got = json(await listen.line(isEvent('message')));
    expect(got).toMatchObject({ kind: 'broadcast', text: 'hello group' });
    expect(await listen.exit).toBe(0);
    // The join process saw the senders come and go.
    await join.line((l) => isEvent('leave')(l) && json(l).member === got.from);
  }, 60_000);

  it('in unicast-only mode (--peers): a direct message from stdin reaches the named member', async () => {
    const [pa, pb] = await freePorts(2);
    const a = `127.0.0.1:${pa}`;
    const b = `127.0.0.1:${pb}`;
    const common = ['--peers', `${a},${b}`, '--bind', '127.0.0.1', ...FAST];
    const listen = blazemq(['listen', ...common, '--port', String(pa), '--json', '--count', '2']);
    expect(json(await listen.line(isEvent('joined'))).address).toBe(a);
    const send = blazemq(
      ['send', ...common, '--port', String(pb), '--members', '2', '--to', a],
      'one\ntwo\n',
    );
    expect(await send.exit).toBe(0);
    await listen.line((l) => isEvent('message')(l) && json(l).text === 'two');
    const messages = listen.lines.filter(isEvent('message')).map(json);
    expect(messages).toEqual([
      expect.objectContaining({ from: b, kind: 'direct', text: 'one' }),
      expect.objectContaining({ from: b, kind: 'direct', text: 'two' }),
    ]);
    expect(await listen.exit).toBe(0);
  }, 60_000);

  it('bench: a sender and a receiver report throughput and latency as JSON', async () => {
    const net = multicastFlags();
    const receiver = blazemq(['bench', ...net, '--role', 'receiver']);
    await receiver.line(isEvent('joined'));
    const sender = blazemq([
      'bench',
      ...net,
      '--role',
      'sender',
      '--members',
      '2',
      '--count',
      '2000',
      '--warmup',
      '100',
      '--json',
    ]);
    const summary = json(await sender.line(isEvent('bench'), 30_000));
    expect(summary).toMatchObject({ sent: 2000, size: 64, complete: true });
    expect(summary.msgsPerSec).toBeGreaterThan(0);
    const result = json(await receiver.line(isEvent('result')));
    expect(result).toMatchObject({ received: 2000, expected: 2000, disorder: 0 });
    expect(await sender.exit).toBe(0);
    expect(await receiver.exit).toBe(0);
  }, 60_000);

  it('rejects bad flags with exit code 2', async () => {
    const bad = blazemq(['members', '--multicast', '10.0.0.1:5000']);
    expect(await bad.exit).toBe(2);
    const both = blazemq(['send', '--peers', '127.0.0.1:1', '--multicast', '239.1.1.1:5000', 'x']);
    expect(await both.exit).toBe(2);
  }, 30_000);
});
