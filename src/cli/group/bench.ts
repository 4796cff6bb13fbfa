/**
 * `blazemq group bench`: throughput and latency across members, one process per member, coordinated
 * through the group itself.
 *
 *   receivers:  blazemq group bench --role receiver [--senders K]
 *               count every sender's broadcasts; on a sender's end marker print a JSON `result` line
 *               and send the same result to that sender (direct message); exit after K end markers.
 *   sender:     blazemq group bench --role sender --members N [--count C | --duration S] [--size B] [--rate R]
 *               wait until the view holds N members, broadcast, send the end marker, collect the results
 *               of the receivers (default N - 1) and print a summary (JSON with --json).
 *
 * Throughput is measured at each receiver between its first and last delivery; the group's figure is the
 * slowest receiver's. Latency is send-to-delivery per message (payload carries the send time).
 */
import type { Channel } from '../../group/channel.js';
import { BlazeError } from '../../util/errors.js';
import {
  cpuMicros,
  HEADER_SIZE,
  KIND_DATA,
  KIND_END,
  KIND_WARMUP,
  nowMs,
  readHeader,
  Stream,
  type StreamResult,
  writeHeader,
} from './bench-stats.js';
import { installTrace, StageStats, senderTrace, stamped, TRACE } from './bench-trace.js';
import { type GroupFlags, parseInteger } from './options.js';
import { leaveAndExit, type OutputFlags, openSession, type Print, settledView } from './session.js';

export interface BenchFlags extends GroupFlags, OutputFlags {
  role?: string;
  members?: string;
  receivers?: string;
  senders?: string;
  count?: string;
  duration?: string;
  size?: string;
  rate?: string;
  warmup?: string;
  timeout?: string;
}

/**
 * Broadcasts `count` messages of `kind` (or for `durationMs`), at `rate` msgs/s or as fast as flow control
 * allows. Batches of 256 per event-loop turn: enough to fill datagrams, few enough to let the transport
 * flush and the stability digests (credit) come in between.
 */
async function sendAll(
  channel: Channel,
  buf: Buffer,
  kind: number,
  count: number,
  durationMs: number,
  rate: number,
): Promise<{ seq: number; ms: number }> {
  const t0 = performance.now();
  let seq = 0;
  for (;;) {
    const now = performance.now();
    if (seq >= count || (durationMs > 0 && now - t0 >= durationMs)) break;
    let end = Math.min(count, seq + 256);
    if (rate > 0) {
      const allowed = Math.floor(((now - t0) * rate) / 1000) + 1;
      if (allowed <= seq) {
        await new Promise((r) => setTimeout(r, Math.max(1, ((seq + 1) * 1000) / rate - (now - t0))));
        continue;
      }
      end = Math.min(end, allowed);
    }
    let last: Promise<void> = Promise.resolve();
    for (; seq < end; seq++) {
      // The channel encodes (copies) the body at once, so one buffer serves every message.
      const at = nowMs();
      writeHeader(buf, kind, seq, at);
      if (TRACE) stamped(at);
      last = channel.broadcast(buf);
    }
    await last;
    await new Promise((r) => setImmediate(r));
  }
  return { seq, ms: performance.now() - t0 };
}

export type ReceiverResult = StreamResult & { receiver: string };

export interface BenchSummary {
  event: 'bench';
  sender: string;
  size: number;
  sent: number;
  sendMs: number;
  sendMsgsPerSec: number;
  rate: number;
  /** Slowest receiver's throughput, worst receiver's latency. */
  msgsPerSec: number;
  mbPerSec: number;
  latencyMs: { p50: number; p99: number };
  /** CPU time per message while sending (sender) and receiving (busiest receiver), microseconds. */
  cpuUsPerMsg: { sender: number; receiver: number };
  complete: boolean;
  receivers: ReceiverResult[];
}

export async function runBench(flags: BenchFlags, print: Print): Promise<void> {
  const role = flags.role ?? 'receiver';
  if (role !== 'sender' && role !== 'receiver') {
    throw new BlazeError('CONFIG', `--role must be sender or receiver, got "${role}"`);
  }
  const timeout = parseInteger('timeout', flags.timeout ?? '300', 1, 86_400) * 1000;
  if (TRACE) installTrace();
  const { channel, stopped } = await openSession(flags);
  const watchdog = setTimeout(() => {
    print(JSON.stringify({ event: 'timeout', role }));
    void leaveAndExit(channel, 1);
  }, timeout);
  watchdog.unref();
  void stopped.then(() => leaveAndExit(channel, 1));
  if (role === 'receiver') await receiver(channel, flags, print);
  else await sender(channel, flags, print);
  clearTimeout(watchdog);
  await leaveAndExit(channel);
}

async function receiver(channel: Channel, flags: BenchFlags, print: Print): Promise<void> {
  const senders = parseInteger('senders', flags.senders ?? '1', 1, 1000);
  print(JSON.stringify({ event: 'joined', role: 'receiver', address: channel.localAddress }));
  const streams = new Map<string, Stream>();
  const stages = TRACE ? new StageStats() : undefined;
  let ends = 0;
  for await (const m of channel.messages) {
    if (m.kind !== 'broadcast' || m.from === channel.localAddress) continue;
    const h = readHeader(m.data);
    if (!h) continue;
    let s = streams.get(m.from);
    if (!s) {
      s = new Stream(m.from);
      streams.set(m.from, s);
    }
    if (h.kind === KIND_DATA) {
      s.add(h, m.data.length, nowMs());
      stages?.add(h.time);
    } else if (h.kind === KIND_END) {
      const result = s.result(h.seq);
      streams.delete(m.from);
      print(
        JSON.stringify({
          event: 'result',
          receiver: channel.localAddress,
          ...result,
          stats: channel.stats.protocol,
          ...(stages ? { trace: stages.result() } : {}),
        }),
      );
      await channel.send(m.from, JSON.stringify(result)).catch(() => {});
      if (++ends >= senders) return;
    }
  }
}

async function sender(channel: Channel, flags: BenchFlags, print: Print): Promise<void> {
  const members = parseInteger('members', flags.members ?? '2', 1, 10_000);
  const expectedResults = parseInteger('receivers', flags.receivers ?? String(members - 1), 0, 10_000);
  const size = parseInteger('size', flags.size ?? '64', 16, 16 * 1024 * 1024);
  const rate = parseInteger('rate', flags.rate ?? '0', 0, 100_000_000);
  const durationMs =
    flags.duration !== undefined ? parseInteger('duration', flags.duration, 1, 86_400) * 1000 : 0;
  const count =
    durationMs > 0
      ? Number.POSITIVE_INFINITY
      : parseInteger('count', flags.count ?? '100000', 1, 2 ** 32 - 1);

  // Results come back as direct messages; everything else is drained so that a full receiver never pauses
  // the group (a paused member withholds credit from every sender).
  const results: ReceiverResult[] = [];
  let gotAll: () => void = () => {};
  const allResults = new Promise<void>((resolve) => {
    gotAll = resolve;
  });
  if (expectedResults === 0) gotAll();
  void (async () => {
    for await (const m of channel.messages) {
      if (m.kind !== 'direct') continue;
      try {
        results.push({ ...(JSON.parse(m.text()) as StreamResult), receiver: m.from });
      } catch {
        continue;
      }
      if (results.length >= expectedResults) gotAll();
    }
  })();

  const view = await settledView(channel, 300, 60_000, members);
  if (view.members.length < members) {
    throw new BlazeError('CONFLICT', `only ${view.members.length} of ${members} members joined`);
  }
  if (flags.json) print(JSON.stringify({ event: 'start', members: view.members }));

  const buf = Buffer.alloc(size);
  const warmup = parseInteger('warmup', flags.warmup ?? '5000', 0, 10_000_000);
  if (warmup > 0) await sendAll(channel, buf, KIND_WARMUP, warmup, 0, rate);
  const cpu0 = cpuMicros();
  const { seq, ms: sendMs } = await sendAll(channel, buf, KIND_DATA, count, durationMs, rate);
  const senderCpuUsPerMsg = seq > 0 ? Math.round(((cpuMicros() - cpu0) / seq) * 100) / 100 : 0;

  writeHeader(buf, KIND_END, seq, nowMs());
  await channel.broadcast(buf.subarray(0, HEADER_SIZE));
  const waitMs = Math.max(10_000, sendMs * 2);
  await Promise.race([allResults, new Promise((r) => setTimeout(r, waitMs).unref())]);

  const worst = (f: (r: StreamResult) => number, pick: (a: number, b: number) => number) =>
    results.length === 0 ? 0 : results.map(f).reduce((a, b) => pick(a, b));
  const summary: BenchSummary = {
    event: 'bench',
    sender: channel.localAddress,
    size,
    sent: seq,
    sendMs: Math.round(sendMs),
    sendMsgsPerSec: Math.round((seq * 1000) / sendMs),
    rate,
    msgsPerSec: worst((r) => r.msgsPerSec, Math.min),
    mbPerSec: worst((r) => r.mbPerSec, Math.min),
    latencyMs: { p50: worst((r) => r.latencyMs.p50, Math.max), p99: worst((r) => r.latencyMs.p99, Math.max) },
    cpuUsPerMsg: { sender: senderCpuUsPerMsg, receiver: worst((r) => r.cpuUsPerMsg ?? 0, Math.max) },
    complete:
      results.length >= expectedResults && results.every((r) => r.received === seq && r.disorder === 0),
    receivers: results,
  };
  if (flags.json)
    print(
      JSON.stringify({
        ...summary,
        stats: channel.stats.protocol,
        ...(TRACE ? { trace: senderTrace() } : {}),
      }),
    );
  else {
    print(
      `sent ${seq} x ${size} B in ${summary.sendMs} ms (${summary.sendMsgsPerSec} msgs/s)${rate ? ` at --rate ${rate}` : ''}, ` +
        `CPU ${summary.cpuUsPerMsg.sender} us/msg`,
    );
    for (const r of results) {
      print(
        `  ${r.receiver}: ${r.received}/${r.expected} ${r.msgsPerSec} msgs/s ${r.mbPerSec} MB/s ` +
          `latency p50 ${r.latencyMs.p50} p90 ${r.latencyMs.p90} p99 ${r.latencyMs.p99} max ${r.latencyMs.max} ms, ` +
          `CPU ${r.cpuUsPerMsg} us/msg`,
      );
    }
    print(
      `group: ${summary.msgsPerSec} msgs/s ${summary.mbPerSec} MB/s, latency p50 ${summary.latencyMs.p50} ms ` +
        `p99 ${summary.latencyMs.p99} ms, ${summary.complete ? 'complete' : 'INCOMPLETE'} (${results.length}/${expectedResults} receivers)`,
    );
  }
  if (!summary.complete) process.exitCode = 1;
}
