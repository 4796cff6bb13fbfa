/**
 * p99 latency at a fixed rate and what the garbage collector does meanwhile, A/B between source trees
 * (issue 7's target: p99 < 2 ms at 10,000 msg/s, 3 members). Each tree's bench/group/gc-member.ts is
 * bundled with esbuild (the working tree's copy is placed into trees that lack it), then for each run and
 * each tree, back to back: 3 namespaces of test/netlab, receivers on 2 and 3, the sender on 1, every member
 * under `node --trace-gc`. Prints one JSON line per case and a markdown table with the load average.
 *
 * Run (root): npx tsx bench/group/gc-latency.ts --trees=after:.,before:/tmp/head [--runs=3] [--rate=10000]
 *   (a tree is label:dir[:node-flag;node-flag[:nice]], e.g. st:.:--single-threaded-gc for the same code with a
 *   flag, or hi:.::-10 for the same code run with `nice -n -10`; raw:@raw is no group stack at all, plain
 *   dgram with the bench's pacing and bundling, bench/group/raw-member.ts: the machine's floor)
 *   [--seconds=6] [--size=64] [--count=N] [--dump=/tmp/gc-logs] (raw member output) [--node-args=--max-semi-space-size=16] [--out=/tmp/gc.json]
 * A tree for `before` without uncommitted changes: mkdir /tmp/head && git archive HEAD src proto | tar -x -C /tmp/head
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MemberProcess, NetLab } from '../../test/netlab/lab.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const arg = (name: string, dflt: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const TREES = arg('trees', 'after:.')
  .split(',')
  .map((t) => {
    const [label, dir, args, nice] = t.split(':');
    return {
      label: label!,
      dir: resolve(ROOT, dir ?? '.'),
      args: (args ?? '').split(';').filter((a) => a),
      nice: Number(nice ?? 0),
    };
  });
const RUNS = Number(arg('runs', '3'));
const RATE = Number(arg('rate', '10000'));
const SECONDS = Number(arg('seconds', '6'));
const SIZE = Number(arg('size', '64'));
/** --rate=0 sends as fast as flow control allows (a throughput check): give --count then. */
const COUNT = Number(arg('count', String(RATE * SECONDS)));
const OUT = arg('out', '');
const NODE_ARGS = arg('node-args', '')
  .split(',')
  .filter((x) => x !== '');
const WORK = `/tmp/blazemq-gc-latency-${process.pid}`;
/** Directory for each member's raw output (GC trace lines), one file per case and member. */
const DUMP = arg('dump', '');
/** Per cent of UDP packets dropped on arrival at every member (nftables), e.g. --loss=2 with --rate=0. */
const LOSS = Number(arg('loss', '0'));

/** Bundles a tree's member entry; proto/ must sit two levels above the bundle (src/util/proto.ts). */
function bundle(label: string, dir: string): string {
  // `@raw`: no group stack, plain dgram with the same pacing and bundling (raw-member.ts): the floor.
  const entry = dir.endsWith('/@raw')
    ? `${ROOT}bench/group/raw-member.ts`
    : `${dir}/bench/group/gc-member.ts`;
  if (!existsSync(entry)) {
    mkdirSync(`${dir}/bench/group`, { recursive: true });
    copyFileSync(`${ROOT}bench/group/gc-member.ts`, entry);
  }
  const out = `${WORK}/${label}`;
  mkdirSync(`${out}/a/b`, { recursive: true });
  symlinkSync(dir.endsWith('/@raw') ? `${ROOT}proto` : `${dir}/proto`, `${out}/proto`);
  execFileSync(
    `${ROOT}node_modules/.bin/esbuild`,
    [
      entry,
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--log-level=warning',
      // Trees outside the checkout (git archive) have no node_modules: resolve packages from this one.
      `--resolve-extensions=.ts,.js,.mjs,.cjs,.json`,
      `--outfile=${out}/a/b/member.mjs`,
      "--banner:js=import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    ],
    { stdio: 'inherit', cwd: ROOT, env: { ...process.env, NODE_PATH: `${ROOT}node_modules` } },
  );
  return `${out}/a/b/member.mjs`;
}

interface Gc {
  scavenges: number;
  scavengeMs: number;
  maxScavengeMs: number;
  markCompacts: number;
  /** Largest incremental-marking step or mark-compact pause, ms. */
  maxMarkMs: number;
  /** With --node-args=--trace-gc-nvp: KiB copied within the young generation and promoted, per scavenge. */
  copiedKiB?: number;
  promotedKiB?: number;
}

/** Sums `--trace-gc` lines, e.g. "[1:0x..]  812 ms: Scavenge 5.1 (6.3) -> 4.2 (7.3) MB, 1.25 / 0.00 ms ...". */
function gcOf(p: MemberProcess): Gc {
  const g: Gc = { scavenges: 0, scavengeMs: 0, maxScavengeMs: 0, markCompacts: 0, maxMarkMs: 0 };
  let nvp = 0;
  let copied = 0;
  let promoted = 0;
  for (const e of p.events) {
    if (e.event !== 'log') continue;
    const line = String(e.line);
    // --trace-gc-nvp: "pause=1.2 mutator=... gc=s ... promoted=1234 new_space_survived=5678 ..."
    if (/\bgc=s\b/.test(line)) {
      const pause = Number(/\bpause=([\d.]+)/.exec(line)?.[1] ?? 0);
      nvp++;
      g.scavenges++;
      g.scavengeMs += pause;
      g.maxScavengeMs = Math.max(g.maxScavengeMs, pause);
      copied += Number(/\bnew_space_survived=(\d+)/.exec(line)?.[1] ?? 0);
      promoted += Number(/\bpromoted=(\d+)/.exec(line)?.[1] ?? 0);
      continue;
    }
    if (/\bgc=(mc|mmc|ms)\b/.test(line)) {
      g.markCompacts++;
      g.maxMarkMs = Math.max(g.maxMarkMs, Number(/\bpause=([\d.]+)/.exec(line)?.[1] ?? 0));
      continue;
    }
    const pause = /MB, ([\d.]+) \/ [\d.]+ ms/.exec(line);
    const ms = pause ? Number(pause[1]) : 0;
    if (/ms: Scavenge/.test(line)) {
      g.scavenges++;
      g.scavengeMs += ms;
      g.maxScavengeMs = Math.max(g.maxScavengeMs, ms);
    } else if (/ms: Mark-Compact|ms: Mark-sweep/.test(line)) {
      g.markCompacts++;
      const step = /biggest step ([\d.]+) ms/.exec(line);
      g.maxMarkMs = Math.max(g.maxMarkMs, ms, step ? Number(step[1]) : 0);
    }
  }
  g.scavengeMs = Math.round(g.scavengeMs * 10) / 10;
  g.maxScavengeMs = Math.round(g.maxScavengeMs * 100) / 100;
  if (nvp > 0) {
    g.copiedKiB = Math.round(copied / nvp / 1024);
    g.promotedKiB = Math.round(promoted / nvp / 1024);
  }
  return g;
}

let port = 47000;

async function runCase(lab: NetLab, member: string, nodeArgs: string[], nice: number) {
  const p = port++;
  // Scheduling priority of the members (negative: ahead of the machine's other processes), to tell
  // stalls of the process from stalls of the heap.
  const spawn = (i: number, args: string[]) =>
    nice === 0
      ? lab.spawn(i, process.execPath, args)
      : lab.spawn(i, 'nice', ['-n', String(nice), process.execPath, ...args]);
  const common = (i: number) => [
    ...(NODE_ARGS.includes('--trace-gc-nvp') ? [] : ['--trace-gc']),
    ...NODE_ARGS,
    ...nodeArgs,
    member,
    '--group',
    `gc${p}`,
    '--multicast',
    `239.77.0.51:${p}`,
    '--interface',
    lab.ip(i),
    '--bind',
    lab.ip(i),
    '--no-loop',
    '--discovery-timeout',
    '500',
    '--window',
    '16384',
  ];
  const load = loadavg()[0]!;
  const receivers: MemberProcess[] = [];
  for (const i of [2, 3]) {
    const r = spawn(i, [...common(i), '--role', 'receiver', '--timeout', '120']);
    receivers.push(r);
    await r.waitFor('joined', 15_000);
  }
  const sender = spawn(1, [
    ...common(1),
    '--role',
    'sender',
    '--members',
    '3',
    '--size',
    String(SIZE),
    '--rate',
    String(RATE),
    '--count',
    String(COUNT),
    '--json',
    '--timeout',
    '120',
  ]);
  const s = (await sender.waitFor('bench', 150_000).catch(() => ({}))) as Record<string, unknown>;
  const procs = [sender, ...receivers];
  await Promise.race([Promise.all(procs.map((x) => x.exited)), new Promise((r) => setTimeout(r, 5000))]);
  for (const x of procs) x.kill();
  if (DUMP) {
    mkdirSync(DUMP, { recursive: true });
    for (const [k, x] of procs.entries()) {
      const lines = x.events.map((e) => (e.event === 'log' ? String(e.line) : JSON.stringify(e)));
      writeFileSync(`${DUMP}/${p}-${k === 0 ? 'sender' : `receiver${k}`}.log`, `${lines.join('\n')}\n`);
    }
  }
  const lat = (s.latencyMs ?? {}) as { p50?: number; p99?: number };
  const perReceiver = ((s.receivers ?? []) as { latencyMs: { p99: number; max: number } }[]).map((r) => ({
    p99: r.latencyMs.p99,
    max: r.latencyMs.max,
  }));
  return {
    load: Math.round(load * 100) / 100,
    msgsPerSec: s.msgsPerSec,
    p50: lat.p50,
    p99: lat.p99,
    receivers: perReceiver,
    complete: s.complete === true,
    cpu: s.cpuUsPerMsg,
    retransmitted: (s.stats as { retransmitted?: number } | undefined)?.retransmitted,
    windowFull: (s.stats as { windowFull?: number } | undefined)?.windowFull,
    windowFullMs: Math.round((s.stats as { windowFullMs?: number } | undefined)?.windowFullMs ?? 0),
    gc: { sender: gcOf(sender), receivers: receivers.map(gcOf) },
  };
}

async function main(): Promise<void> {
  rmSync(WORK, { recursive: true, force: true });
  process.once('exit', () => rmSync(WORK, { recursive: true, force: true }));
  // Trees that share a directory share its bundle (e.g. the same code with other node flags).
  const bundles = new Map<string, string>();
  const members = TREES.map((t) => {
    let member = bundles.get(t.dir);
    if (!member) {
      member = bundle(t.label, t.dir);
      bundles.set(t.dir, member);
    }
    return { ...t, member };
  });
  const lab = await NetLab.up(3);
  const results: Record<string, unknown>[] = [];
  try {
    if (LOSS > 0) for (const i of [1, 2, 3]) await lab.loss(i, LOSS, 'in');
    for (let run = 1; run <= RUNS; run++) {
      for (const t of members) {
        const r = { tree: t.label, run, ...(await runCase(lab, t.member, t.args, t.nice)) };
        process.stderr.write(`${JSON.stringify(r)}\n`);
        results.push(r);
      }
    }
  } finally {
    await lab.down();
    rmSync(WORK, { recursive: true, force: true });
  }
  if (OUT) writeFileSync(OUT, JSON.stringify({ date: new Date().toISOString(), results }, null, 2));
  const lines = [
    '| tree | run | load | p50 ms | p99 ms (worst receiver) | receiver scavenges (total ms, max ms; KiB survived/promoted per scavenge) | sender scavenges (same) | mark-compacts r/s (max step ms) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results as unknown as Awaited<ReturnType<typeof runCase>>[] & { tree: string }[]) {
    const x = r as unknown as Awaited<ReturnType<typeof runCase>> & { tree: string; run: number };
    const rg = x.gc.receivers;
    const fmt = (g: Gc) =>
      `${g.scavenges} (${g.scavengeMs}, ${g.maxScavengeMs}${g.copiedKiB === undefined ? '' : `; ${g.copiedKiB}/${g.promotedKiB} KiB`})`;
    lines.push(
      `| ${x.tree} | ${x.run} | ${x.load} | ${x.p50} | ${x.p99} | ${rg.map(fmt).join('; ')} | ${fmt(x.gc.sender)} | ` +
        `${rg.map((g) => g.markCompacts).join('+')}/${x.gc.sender.markCompacts} (${Math.max(...rg.map((g) => g.maxMarkMs), x.gc.sender.maxMarkMs)}) |`,
    );
  }
  console.log(lines.join('\n'));
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
