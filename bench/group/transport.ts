/**
 * Raw UDP transport throughput (no reliability layer): one sender, two receivers, each a separate process
 * running test/netlab/member.ts with role `transport`.
 *   loopback: processes on the host, multicast over 127.0.0.1 (and unicast 1 -> 2)
 *   lab:      three network namespaces on a bridge (test/netlab), multicast over the bridge (needs root)
 * Rates are measured at the receivers (first to last payload); loss is what never arrived.
 * Run: npx tsx bench/group/transport.ts [loopback|lab|both] [--quick] [--max-datagram=N]
 */
import { hostSpawner, labSupport, type MemberProcess, NetLab, startMember } from '../../test/netlab/lab.js';

interface Stream {
  received: number;
  bytes: number;
  firstAt: number;
  lastAt: number;
}

const where = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'both';
const quick = process.argv.includes('--quick');
const maxArg = process.argv.find((a) => a.startsWith('--max-datagram='));
const maxDatagram = maxArg ? { maxDatagram: Number(maxArg.split('=')[1]) } : {};

interface Case {
  size: number;
  count: number;
  bundling: boolean;
  unicast?: boolean;
}

const cases: Case[] = [
  { size: 64, count: quick ? 200_000 : 1_000_000, bundling: true },
  { size: 64, count: quick ? 50_000 : 200_000, bundling: false },
  { size: 1024, count: quick ? 50_000 : 200_000, bundling: true },
  { size: 64, count: quick ? 200_000 : 1_000_000, bundling: true, unicast: true },
  { size: 1024, count: quick ? 50_000 : 200_000, bundling: true, unicast: true },
];

async function measure(label: string, start: (bundling: boolean) => Promise<MemberProcess[]>) {
  console.log(`\n== ${label}`);
  console.log('payload  bundling  mode       sent msgs/s   recv msgs/s (per receiver)   MB/s    loss');
  for (const bundling of [true, false]) {
    const members = await start(bundling);
    try {
      const [sender, ...receivers] = members;
      const dest = String(receivers[0]!.events[0]!.address);
      for (const c of cases.filter((k) => k.bundling === bundling)) {
        await Promise.all(members.map((m) => m.request({ cmd: 'reset' }, 'reset')));
        const sent = await sender!.request(
          { cmd: 'send', count: c.count, size: c.size, ...(c.unicast ? { to: dest } : {}) },
          'sent',
          300_000,
        );
        await new Promise((r) => setTimeout(r, 500));
        const targets = c.unicast ? receivers.slice(0, 1) : receivers;
        const rates: string[] = [];
        let mb = 0;
        let lost = 0;
        for (const r of targets) {
          const streams = (await r.request({ cmd: 'stats' }, 'stats')).streams as Record<string, Stream>;
          const s = Object.values(streams)[0] ?? { received: 0, bytes: 0, firstAt: 0, lastAt: 0 };
          const secs = Math.max(1e-3, (s.lastAt - s.firstAt) / 1000);
          rates.push(Math.round(s.received / secs).toLocaleString('en'));
          mb = s.bytes / secs / 1e6;
          lost += c.count - s.received;
        }
        const sendRate = Math.round(c.count / (Number(sent.ms) / 1000)).toLocaleString('en');
        console.log(
          `${String(c.size).padStart(5)} B  ${String(bundling).padEnd(8)}  ${(c.unicast ? 'unicast' : 'multicast').padEnd(9)}  ` +
            `${sendRate.padStart(11)}   ${rates.join(' / ').padEnd(27)}  ${mb.toFixed(1).padStart(6)}  ` +
            `${((100 * lost) / (c.count * targets.length)).toFixed(2)} %`,
        );
      }
    } finally {
      for (const m of members) m.kill();
      await Promise.all(members.map((m) => m.exited));
    }
  }
}

const group = `239.255.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;

if (where === 'loopback' || where === 'both') {
  const host = hostSpawner();
  try {
    await measure('loopback (host processes, 127.0.0.1)', async (bundling) => {
      const mc = { group, port: 0, interface: '127.0.0.1', loopback: true };
      const cfg = (port: number) => ({
        role: 'transport',
        transport: { bindAddress: '127.0.0.1', bundling, ...maxDatagram, multicast: { ...mc, port } },
      });
      const first = await startMember(host.spawn, 'recv1', cfg(0));
      const port = Number(first.events[0]!.multicastPort);
      const [second, sender] = await Promise.all([
        startMember(host.spawn, 'recv2', cfg(port)),
        startMember(host.spawn, 'sender', cfg(port)),
      ]);
      return [sender, first, second];
    });
  } finally {
    await host.killAll();
  }
}

if (where === 'lab' || where === 'both') {
  if (!labSupport().ok) console.log(`\n== lab skipped: ${labSupport().reason}`);
  else {
    const lab = await NetLab.up(3);
    try {
      await measure('lab (3 namespaces on a bridge)', (bundling) =>
        Promise.all(
          [1, 2, 3].map((i) =>
            lab.member(i, {
              role: 'transport',
              transport: {
                bindAddress: lab.ip(i),
                bundling,
                ...maxDatagram,
                multicast: { group: '239.77.0.1', port: 45588, interface: lab.ip(i), loopback: false },
              },
            }),
          ),
        ),
      );
    } finally {
      await lab.down();
    }
  }
}
