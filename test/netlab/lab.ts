/**
 * Test-side driver of netlab.sh: brings up N network namespaces on a private bridge, runs member
 * processes inside them (test/netlab/member.ts, JSON lines out, JSON commands in), injects loss with
 * nftables, partitions and heals, and always tears down: explicitly with `down()`, at process exit for
 * labs still up, and at the next `NetLab.up` for labs whose creating process died (pid in the prefix).
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('./netlab.sh', import.meta.url));
const MEMBER = fileURLToPath(new URL('./member.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Prefix shape: 'z' + creator pid (base 36) + '_' + one letter + '-'; at most 9 characters. */
const PREFIX_RE = /^z([0-9a-z]+)_[a-z]-/;

let probed: { ok: boolean; reason: string } | undefined;

/** Whether namespaces can be made here: root, `ip` installed, `ip netns` usable. Cached. */
export function labSupport(): { ok: boolean; reason: string } {
  if (probed) return probed;
  if (process.platform !== 'linux') probed = { ok: false, reason: 'not Linux' };
  else if (process.getuid?.() !== 0) probed = { ok: false, reason: 'not root' };
  else {
    // Listing namespaces works even where creating them is not allowed (a container without
    // CAP_SYS_ADMIN): create a namespace with a veth pair inside, as the lab will, then remove it.
    const ns = `blzprobe${process.pid}`;
    try {
      execFileSync('ip', ['netns', 'add', ns], { stdio: 'ignore' });
      execFileSync('ip', ['-n', ns, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1'], {
        stdio: 'ignore',
      });
      probed = { ok: true, reason: '' };
    } catch {
      probed = { ok: false, reason: 'cannot create network namespaces with veth pairs here' };
    } finally {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // never created
      }
    }
  }
  return probed;
}

/** Loss injection needs nftables in addition to the lab. */
export function nftAvailable(): boolean {
  return ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'].some((p) => existsSync(p));
}

const live = new Set<NetLab>();
let labCounter = 0;
process.once('exit', () => {
  for (const lab of live) lab.downSync();
});

export interface MemberEvent {
  event: string;
  [key: string]: unknown;
}

/** A member process: its stdout JSON lines as events, its stdin for commands. */
export class MemberProcess {
  readonly events: MemberEvent[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  private waiters: { pred: (e: MemberEvent) => boolean; from: number; resolve: (e: MemberEvent) => void }[] =
    [];

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let e: MemberEvent;
      try {
        e = JSON.parse(line) as MemberEvent;
      } catch {
        e = { event: 'log', line };
      }
      this.events.push(e);
      const index = this.events.length - 1;
      this.waiters = this.waiters.filter((w) => {
        if (index < w.from || !w.pred(e)) return true;
        w.resolve(e);
        return false;
      });
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (this.stderr.length < 200) this.stderr.push(line);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  send(command: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  /** First event (at or after index `from`, default: any seen so far) matching `pred`. */
  waitFor(pred: string | ((e: MemberEvent) => boolean), timeoutMs = 10_000, from = 0): Promise<MemberEvent> {
    const test = typeof pred === 'string' ? (e: MemberEvent) => e.event === pred : pred;
    const seen = this.events.slice(from).find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(`${this.name}: no matching event in ${timeoutMs} ms; stderr: ${this.stderr.join('\n')}`),
        );
      }, timeoutMs);
      const waiter = {
        pred: test,
        from,
        resolve: (e: MemberEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Sends a command and waits for the next event of type `reply`. */
  async request(command: Record<string, unknown>, reply: string, timeoutMs = 10_000): Promise<MemberEvent> {
    const from = this.events.length;
    const p = this.waitFor((e) => e.event === reply || e.event === 'error', timeoutMs, from);
    this.send(command);
    const e = await p;
    if (e.event === 'error') throw new Error(`${this.name}: ${String(e.message)}`);
    return e;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    const c = this.child;
    if (c.exitCode !== null || c.signalCode !== null || !c.pid) return;
    try {
      process.kill(c.pid, signal);
    } catch {
      // already gone between the check and the kill
    }
  }
}

export class NetLab {
  private readonly procs = new Set<MemberProcess>();
  private isUp = true;

  private constructor(
    readonly prefix: string,
    readonly size: number,
  ) {}

  /** Creates `size` member namespaces, 10.77.0.1 .. 10.77.0.size, on one bridge. */
  static async up(size: number, options: { mtu?: number } = {}): Promise<NetLab> {
    const support = labSupport();
    if (!support.ok) throw new Error(`netlab unavailable: ${support.reason}`);
    await reapOrphans();
    const letter = String.fromCharCode(97 + (labCounter++ % 26));
    const lab = new NetLab(`z${process.pid.toString(36)}_${letter}-`, size);
    live.add(lab);
    try {
      await lab.sh(['up', String(size)], options.mtu ? { NETLAB_MTU: String(options.mtu) } : {});
    } catch (err) {
      await lab.down();
      throw err;
    }
    return lab;
  }

  ip(i: number): string {
    return `10.77.0.${i}`;
  }

  ns(i: number): string {
    return `${this.prefix}${i}`;
  }

  /** Runs a netlab.sh verb with this lab's prefix; returns stdout. */
  async sh(args: string[], env: Record<string, string> = {}): Promise<string> {
    const { stdout } = await run('bash', [SCRIPT, ...args], {
      env: { ...process.env, ...env, NETLAB_PREFIX: this.prefix },
    });
    return stdout;
  }

  /** Drops `pct` % of UDP packets received by (in) or sent by (out) member i. */
  loss(i: number, pct: number, dir: 'in' | 'out' = 'in'): Promise<string> {
    return this.sh(['loss', String(i), String(pct), dir]);
  }

  clear(i: number | 'all' = 'all'): Promise<string> {
    return this.sh(['clear', String(i)]);
  }

  isolate(i: number): Promise<string> {
    return this.sh(['isolate', String(i)]);
  }

  unisolate(i: number): Promise<string> {
    return this.sh(['unisolate', String(i)]);
  }

  partition(a: number[], b: number[]): Promise<string> {
    return this.sh(['partition', a.join(' '), b.join(' ')]);
  }

  heal(): Promise<string> {
    return this.sh(['heal']);
  }

  counters(): Promise<string> {
    return this.sh(['counters']);
  }

  /** Udp counters of /proc/net/snmp inside member i (RcvbufErrors tells socket overruns). */
  async udpCounters(i: number): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const line of (await this.sh(['snmp', String(i)])).split('\n')) {
      const [k, v] = line.split(' ');
      if (k && v) out[k] = Number(v);
    }
    return out;
  }

  /** Spawns a command inside member i's namespace (i = 0: on the host). Killed at `down()`. */
  spawn(i: number, command: string, args: string[], name = `member${i}`): MemberProcess {
    const [cmd, argv] = i === 0 ? [command, args] : ['ip', ['netns', 'exec', this.ns(i), command, ...args]];
    const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    const p = new MemberProcess(name, child);
    this.procs.add(p);
    void p.exited.then(() => this.procs.delete(p));
    return p;
  }

  /** Starts test/netlab/member.ts in member i with `config` and waits for its `ready` event. */
  async member(i: number, config: Record<string, unknown>, timeoutMs = 15_000): Promise<MemberProcess> {
    return startMember((cmd, args, name) => this.spawn(i, cmd, args, name), `member${i}`, config, timeoutMs);
  }

  async down(): Promise<void> {
    if (!this.isUp) return;
    this.isUp = false;
    live.delete(this);
    for (const p of this.procs) p.kill();
    await Promise.all([...this.procs].map((p) => p.exited));
    await this.sh(['down']);
  }

  /** @internal for the exit hook: no event loop left there. */
  downSync(): void {
    if (!this.isUp) return;
    this.isUp = false;
    for (const p of this.procs) p.kill();
    execFileSync('bash', [SCRIPT, 'down'], {
      env: { ...process.env, NETLAB_PREFIX: this.prefix },
      stdio: 'ignore',
    });
  }
}

/** Starts member.ts through `spawnFn` (inside a namespace or on the host) and waits for `ready`. */
export async function startMember(
  spawnFn: (cmd: string, args: string[], name: string) => MemberProcess,
  name: string,
  config: Record<string, unknown>,
  timeoutMs = 15_000,
): Promise<MemberProcess> {
  const p = spawnFn(process.execPath, ['--import', 'tsx', MEMBER, JSON.stringify(config)], name);
  const first = await Promise.race([
    p.waitFor((e) => e.event === 'ready' || e.event === 'error', timeoutMs),
    p.exited.then((code) => ({ event: 'error', message: `exited with ${code}: ${p.stderr.join('\n')}` })),
  ]);
  if (first.event !== 'ready') {
    p.kill();
    throw new Error(`${name} failed to start: ${String(first.message)}`);
  }
  return p;
}

/** Member processes on the host, for loopback runs; tracked and killed like lab members. */
export function hostSpawner(): {
  spawn: (cmd: string, args: string[], name: string) => MemberProcess;
  killAll: () => Promise<void>;
} {
  const procs = new Set<MemberProcess>();
  return {
    spawn: (cmd, args, name) => {
      const p = new MemberProcess(name, spawn(cmd, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] }));
      procs.add(p);
      return p;
    },
    killAll: async () => {
      for (const p of procs) p.kill();
      await Promise.all([...procs].map((p) => p.exited));
    },
  };
}

/** Removes labs left by processes that died before tearing down (kill -9 of a test worker). */
async function reapOrphans(): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'list']);
  const prefixes = new Set<string>();
  for (const line of stdout.split('\n')) {
    const m = PREFIX_RE.exec(line.split(' ')[0] ?? '');
    if (!m) continue;
    const pid = Number.parseInt(m[1]!, 36);
    if (!alive(pid)) prefixes.add(m[0]);
  }
  for (const prefix of prefixes) {
    await run('bash', [SCRIPT, 'down'], { env: { ...process.env, NETLAB_PREFIX: prefix } }).catch(() => {});
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
