/**
 * The floor under `blazemq group bench` latency: the same traffic with no group stack at all. Plain
 * node:dgram multicast, the bench's pacing (bench.ts sendAll: batches per timer tick, setTimeout of >= 1
 * ms) and its bundling (the messages of one tick share 1472-byte datagrams), the same payload header
 * (send time inside). Receivers take send-to-arrival per message and report back by unicast; the sender
 * prints the same `bench` JSON line as the real member, so bench/group/gc-latency.ts runs it as one more
 * tree (`raw:@raw`), interleaved with the real ones: what it measures is the machine's (kernel, scheduler,
 * Node's event loop), and what a real member adds above it is ours.
 */
import dgram from 'node:dgram';
import {
  cpuMicros,
  HEADER_SIZE,
  KIND_DATA,
  KIND_END,
  nowMs,
  readHeader,
  Stream,
  writeHeader,
} from '../../src/cli/group/bench-stats.js';

const flags = new Map<string, string>();
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a.startsWith('--') && a !== '--no-loop' && a !== '--json') flags.set(a.slice(2), argv[++i] ?? '');
}
const [group, portText] = (flags.get('multicast') ?? '239.77.0.51:47000').split(':');
const port = Number(portText);
const iface = flags.get('interface');
const bind = flags.get('bind') ?? '0.0.0.0';
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function receiver(): Promise<void> {
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true, recvBufferSize: 4 << 20 });
  await new Promise<void>((r) => sock.bind(port, group, r));
  sock.addMembership(group!, iface);
  const reply = dgram.createSocket('udp4');
  await new Promise<void>((r) => reply.bind(0, bind, r));
  const stream = new Stream('raw');
  out({ event: 'joined', role: 'receiver' });
  sock.on('message', (msg) => {
    const at = nowMs();
    for (let pos = 2; pos + HEADER_SIZE <= msg.length; ) {
      const len = msg.readUInt16BE(pos - 2);
      const h = readHeader(msg.subarray(pos, pos + len));
      pos += len + 2;
      if (!h) continue;
      if (h.kind === KIND_DATA) stream.add(h, len, at);
      else if (h.kind === KIND_END) {
        const result = { ...stream.result(h.seq), receiver: bind };
        out({ event: 'result', ...result });
        // The sender listens on the group port + 1 at its own address (the lab's member 1 by default).
        reply.send(JSON.stringify(result), port + 1, flags.get('sender-ip') ?? '10.77.0.1', () => {
          process.exit(0);
        });
      }
    }
  });
}

async function sender(): Promise<void> {
  const size = Number(flags.get('size') ?? 64);
  const rate = Number(flags.get('rate') ?? 10_000);
  const count = Number(flags.get('count') ?? 60_000);
  const receivers = Number(flags.get('members') ?? 3) - 1;
  const sock = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
  await new Promise<void>((r) => sock.bind(port + 1, bind, r));
  if (iface) sock.setMulticastInterface(iface);
  sock.setMulticastTTL(1);
  sock.setMulticastLoopback(false);
  const results: unknown[] = [];
  const done = new Promise<void>((resolve) =>
    sock.on('message', (m) => {
      results.push(JSON.parse(m.toString()));
      if (results.length >= receivers) resolve();
    }),
  );
  const msg = Buffer.alloc(size);
  const perDatagram = Math.max(1, Math.floor(1400 / (size + 2)));
  let batch: Buffer[] = [];
  const flush = () => {
    if (batch.length > 0) sock.send(Buffer.concat(batch), port, group);
    batch = [];
  };
  const add = (kind: number, seq: number) => {
    writeHeader(msg, kind, seq, nowMs());
    const framed = Buffer.allocUnsafe(size + 2);
    framed.writeUInt16BE(size, 0);
    msg.copy(framed, 2);
    batch.push(framed);
    if (batch.length >= perDatagram) flush();
  };
  const run = async (kind: number, total: number) => {
    const t0 = performance.now();
    let seq = 0;
    while (seq < total) {
      const now = performance.now();
      const allowed = Math.floor(((now - t0) * rate) / 1000) + 1;
      if (allowed <= seq) {
        await new Promise((r) => setTimeout(r, Math.max(1, ((seq + 1) * 1000) / rate - (now - t0))));
        continue;
      }
      const end = Math.min(total, seq + 256, allowed);
      for (; seq < end; seq++) add(kind, seq);
      // The transport flushes its bundles on setImmediate: the same here.
      await new Promise((r) => setImmediate(r));
      flush();
    }
    return seq;
  };
  await new Promise((r) => setTimeout(r, 500));
  await run(3, Number(flags.get('warmup') ?? 5000));
  const cpu0 = cpuMicros();
  const sent = await run(KIND_DATA, count);
  const cpu = (cpuMicros() - cpu0) / sent;
  for (let i = 0; i < 5; i++) {
    add(KIND_END, sent);
    flush();
    await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
  const rs = results as {
    latencyMs: { p50: number; p99: number };
    msgsPerSec: number;
    cpuUsPerMsg: number;
  }[];
  out({
    event: 'bench',
    msgsPerSec: Math.min(...rs.map((r) => r.msgsPerSec)),
    latencyMs: {
      p50: Math.max(...rs.map((r) => r.latencyMs.p50)),
      p99: Math.max(...rs.map((r) => r.latencyMs.p99)),
    },
    cpuUsPerMsg: { sender: Math.round(cpu * 100) / 100, receiver: Math.max(...rs.map((r) => r.cpuUsPerMsg)) },
    complete: rs.length === receivers,
    receivers: rs,
  });
  process.exit(0);
}

(flags.get('role') === 'sender' ? sender() : receiver()).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
