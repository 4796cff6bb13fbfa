/**
 * BlazeMQ group vs Corosync, same namespace lab, same run (issue 7): 3 members on one bridge, sender on
 * member 1, receivers on 2 and 3; messages of 64 B, 1 KiB and 8 KiB; no loss, then 2 % UDP loss at every
 * member (nftables). Ours: `blazemq group bench` (dist/cli/main.js, so build first). Corosync: corosync
 * 3 with udp multicast and default totem timers, driven by cpgbench2 (../../../shared/bench/group, or
 * COROSYNC_BENCH_DIR). bench/group/compare.sh installs nothing, builds, and runs this.
 *
 * Run: npx tsx bench/group/compare.ts [--seconds=5] [--cpgbench=/tmp/cpgbench2] [--out=file.json] [--skip-corosync]
 *   [--only=8KiB+64B] (configs whose label, spaces removed, starts with one of these) [--losses=0,2]
 *   [--no-latency] [--node-args=--cpu-prof,--cpu-prof-dir=/tmp/prof] (passed to every member's node)
 *   [--cli=/tmp/member/a/b/member.mjs] (see CLI below)
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { MemberProcess } from '../../test/netlab/lab.js';
import { NetLab } from '../../test/netlab/lab.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * --cli=FILE runs members from FILE instead of dist/cli/main.js, e.g. an esbuild bundle of
 * bench/group/gc-member.ts (group bench without the broker) when dist/ cannot be built.
 */
const CLI =
  process.argv.find((a) => a.startsWith('--cli='))?.slice('--cli='.length) ?? `${ROOT}dist/cli/main.js`;
const arg = (name: string, dflt: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const SECONDS = Number(arg('seconds', '5'));
const CPGBENCH = arg('cpgbench', '/tmp/cpgbench2');
const OUT = arg('out', '');
const COROSYNC_DIR = process.env.COROSYNC_BENCH_DIR ?? `${ROOT}../shared/bench/group`;
const SKIP_COROSYNC = process.argv.includes('--skip-corosync');
const ONLY = arg('only', '')
  .split('+')
  .filter((x) => x !== '');
const LOSSES = arg('losses', '0,2').split(',').map(Number);
const LATENCY = !process.argv.includes('--no-latency');
const NODE_ARGS = (process.argv.find((a) => a.startsWith('--node-args='))?.slice('--node-args='.length) ?? '')
  .split(',')
  .filter((x) => x !== '');

interface Config {
  label: string;
  size: number;
  /** Extra `blazemq group bench` flags. */
  flags: string[];
}

/**
 * One flow-control setting for every row: up to 16384 unstable messages per sender, and the default byte
 * window (4 MiB, about the receivers' socket buffers here: a bigger one overruns them in bursts, i.e.
 * retransmissions without any loss). At 1472-byte datagrams (never IP-fragmented) an 8 KiB message is 6
 * fragments. 8832-byte datagrams apply to large payloads only: small ones stay within 1472 (BundleWriter),
 * so the 64 B row would be the same with them.
 */
const WINDOW = ['--window', '16384'];
const BIG = ['--max-datagram', '8832'];
const CONFIGS: Config[] = [
  { label: '64 B', size: 64, flags: WINDOW },
  { label: '1 KiB', size: 1024, flags: WINDOW },
  { label: '1 KiB, 8832 B datagrams', size: 1024, flags: [...WINDOW, ...BIG] },
  { label: '8 KiB', size: 8192, flags: WINDOW },
  { label: '8 KiB, 8832 B datagrams', size: 8192, flags: [...WINDOW, ...BIG] },
];

interface OurResult {
  config: string;
  loss: number;
  rate?: number;
  msgsPerSec: number;
  mbPerSec: number;
  p50: number;
  p99: number;
  /** CPU microseconds per message: sender, busiest receiver. */
  cpuSender: number;
  cpuReceiver: number;
  complete: boolean;
  /** The sender's protocol counters (retransmissions, window stalls...), for the JSON output. */
  senderStats?: unknown;
}

interface CorosyncResult {
  size: number;
  loss: number;
  msgsPerSec: number;
  mbPerSec: number;
}

let portBase = 46000;

async function ours(lab: NetLab, c: Config, loss: number, rate = 0, count = 0): Promise<OurResult> {
  const port = portBase++;
  const common = (i: number) => [
    ...NODE_ARGS,
    CLI,
    'group',
    'bench',
    '--group',
    `cmp${port}`,
    '--multicast',
    `239.77.0.50:${port}`,
    '--interface',
    lab.ip(i),
    '--bind',
    lab.ip(i),
    '--no-loop',
    '--discovery-timeout',
    '500',
    ...c.flags,
  ];
  const receivers: MemberProcess[] = [];
  for (const i of [2, 3]) {
    const p = lab.spawn(i, process.execPath, [...common(i), '--role', 'receiver', '--timeout', '120']);
    receivers.push(p);
    await p.waitFor('joined', 15_000);
  }
  const sender = lab.spawn(1, process.execPath, [
    ...common(1),
    '--role',
    'sender',
    '--members',
    '3',
    '--size',
    String(c.size),
    '--json',
    '--timeout',
    '120',
    ...(count > 0 ? ['--count', String(count)] : ['--duration', String(SECONDS)]),
    ...(rate > 0 ? ['--rate', String(rate)] : []),
  ]);
  const summary = await sender
    .waitFor('bench', 150_000)
    .catch((e: Error) => ({ event: 'failed', error: e.message }));
  // Members exit by themselves once done; a profiled one must (SIGKILL would lose its profile).
  const procs = [sender, ...receivers];
  await Promise.race([Promise.all(procs.map((p) => p.exited)), new Promise((r) => setTimeout(r, 5000))]);
  for (const p of procs) p.kill();
  const s = summary as Record<string, unknown>;
  const lat = (s.latencyMs ?? {}) as { p50?: number; p99?: number };
  return {
    config: c.label,
    loss,
    ...(rate > 0 ? { rate } : {}),
    msgsPerSec: Number(s.msgsPerSec ?? 0),
    mbPerSec: Number(s.mbPerSec ?? 0),
    p50: lat.p50 ?? Number.NaN,
    p99: lat.p99 ?? Number.NaN,
    cpuSender: Number((s.cpuUsPerMsg as { sender?: number } | undefined)?.sender ?? Number.NaN),
    cpuReceiver: Number((s.cpuUsPerMsg as { receiver?: number } | undefined)?.receiver ?? Number.NaN),
    complete: s.complete === true,
    senderStats: s.stats,
  };
}

/** corosync in each member namespace (private /run per instance), as ../shared/bench/group/README.md. */
async function startCorosync(lab: NetLab): Promise<() => Promise<void>> {
  const dir = `/tmp/corosync-lab-${lab.prefix}`;
  mkdirSync(dir, { recursive: true });
  const env = { ...process.env, COROSYNC_LAB: dir };
  const pids: number[] = [];
  for (const i of [1, 2, 3]) {
    await run(
      'bash',
      [`${COROSYNC_DIR}/mkconf.sh`, `n${i}`, 'udp', String(i), lab.ip(i), lab.ip(1), lab.ip(2), lab.ip(3)],
      { env },
    );
    await run('bash', [`${COROSYNC_DIR}/start-node.sh`, lab.ns(i), `${dir}/n${i}`], { env });
    pids.push(Number(readFileSync(`${dir}/n${i}/pid`, 'utf8').trim()));
  }
  await new Promise((r) => setTimeout(r, 4000)); // ring formation with default timers
  return async () => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
  };
}

async function corosync(lab: NetLab, loss: number): Promise<CorosyncResult[]> {
  const listeners = [2, 3].map((i) => lab.spawn(i, CPGBENCH, ['-l', '-s', '5'], `cpg-listen${i}`));
  await new Promise((r) => setTimeout(r, 1500));
  const out: CorosyncResult[] = [];
  try {
    const { stdout } = await run(
      'ip',
      ['netns', 'exec', lab.ns(1), CPGBENCH, '-s', String(SECONDS), '64', '1024', '8192'],
      {
        timeout: (SECONDS * 3 + 60) * 1000,
      },
    );
    for (const line of stdout.split('\n')) {
      // "size     64 members 3: sent N delivered N (own N) in 5.00s ->     30000 deliv/s     1.92 MB/s ..."
      const m = /size\s+(\d+).*->\s+([\d.]+) deliv\/s\s+([\d.]+) MB\/s/.exec(line);
      if (m)
        out.push({ size: Number(m[1]), loss, msgsPerSec: Math.round(Number(m[2])), mbPerSec: Number(m[3]) });
    }
  } catch (e) {
    process.stderr.write(`cpgbench2 failed (loss ${loss}): ${String(e)}\n`);
  } finally {
    for (const l of listeners) l.kill();
  }
  return out;
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: run \`npx tsc -p tsconfig.json\` first`);
  const lab = await NetLab.up(3);
  const results: OurResult[] = [];
  const coro: CorosyncResult[] = [];
  const log = (o: unknown) => process.stderr.write(`${JSON.stringify(o)}\n`);
  try {
    // IP fragment reassembly: with the defaults (30 s, 4 MiB) lost fragments pin reassembly memory and then
    // every fragmented datagram is refused for up to 30 s (see docs/GROUP.md). Per namespace.
    for (const i of [1, 2, 3]) {
      await lab.sh([
        'exec',
        String(i),
        'sysctl',
        '-qw',
        'net.ipv4.ipfrag_time=2',
        'net.ipv4.ipfrag_high_thresh=33554432',
        'net.ipv4.ipfrag_low_thresh=25165824',
      ]);
    }
    const configs = CONFIGS.filter(
      (c) => ONLY.length === 0 || ONLY.some((o) => c.label.replaceAll(' ', '').startsWith(o)),
    );
    for (const loss of LOSSES) {
      if (loss > 0) for (const i of [1, 2, 3]) await lab.loss(i, loss, 'in');
      for (const c of configs) {
        const r = await ours(lab, c, loss);
        log(r);
        results.push(r);
      }
      if (loss === 0 && LATENCY) {
        for (const c of [CONFIGS[0]!, CONFIGS[1]!]) {
          const r = await ours(lab, c, 0, 10_000, 10_000 * SECONDS * 2);
          log(r);
          results.push(r);
        }
      }
      if (!SKIP_COROSYNC) {
        const stop = await startCorosync(lab);
        try {
          const r = await corosync(lab, loss);
          log(r);
          coro.push(...r);
        } finally {
          await stop();
        }
      }
      await lab.clear();
    }
  } finally {
    await lab.down();
  }
  if (OUT)
    writeFileSync(OUT, JSON.stringify({ date: new Date().toISOString(), results, corosync: coro }, null, 2));
  console.log(table(results, coro));
}

function table(results: OurResult[], coro: CorosyncResult[]): string {
  const lines = [
    '| BlazeMQ config | loss | rate | msgs/s | MB/s | p50 ms | p99 ms | CPU us/msg sender, receiver | complete |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.config} | ${r.loss} % | ${r.rate ? `${r.rate}/s` : 'max'} | ${r.msgsPerSec} | ${r.mbPerSec} | ${r.p50} | ${r.p99} | ${r.cpuSender}, ${r.cpuReceiver} | ${r.complete ? 'yes' : 'NO'} |`,
    );
  }
  lines.push('', '| Corosync message | loss | msgs/s | MB/s |', '|---|---|---|---|');
  for (const c of coro) lines.push(`| ${c.size} B | ${c.loss} % | ${c.msgsPerSec} | ${c.mbPerSec} |`);
  return lines.join('\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
