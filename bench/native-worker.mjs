// One benchmark process for bench/native.mjs: a native producer or a group of native consumers.
// Consumers grant credit as they consume and ack (individual) once per received chunk.
import { nowMs } from './lib/clock.mjs';
import { ackCreditFrames, NativeRaw, sendBuilder } from './lib/native-raw.mjs';

const cfg = JSON.parse(process.argv[2]);
const send = (m) => process.send(m);
/** CPU is reported from the point the worker is ready (consumers) or told to go (producer): not its start-up. */
let cpuAtStart = process.cpuUsage();
/** A clean goodbye, but never a hang: the broker may already be stopped when `stop` comes. */
const settleWithin = (p, ms = 1000) => Promise.race([p, new Promise((r) => setTimeout(r, ms))]);

/** Consumers through the client library (blazemq/client, built dist/), as an application would read. */
async function libraryConsumers() {
  const { connect } = await import('../dist/client/index.js');
  const { port, address, connections, expect, credit, sampleEvery = 50 } = cfg;
  let done = 0;
  let last = 0;
  const latencies = [];
  const clients = [];
  const loops = [];
  for (let c = 0; c < connections; c++) {
    const client = await connect(`tcp://127.0.0.1:${port}`);
    const sub = client.subscribe(address, { prefetch: credit, ackMode: cfg.ack ? 'individual' : 'auto' });
    await sub.ready;
    clients.push(client);
    loops.push(async () => {
      let count = 0;
      for await (const m of sub) {
        count++;
        if (count % sampleEvery === 0) {
          const b = m.body;
          latencies.push(nowMs() - Buffer.from(b.buffer, b.byteOffset, b.byteLength).readDoubleLE(8));
        }
        if (cfg.ack) m.ack().catch(() => {});
        if (count === expect) break;
      }
      last = Math.max(last, nowMs());
      if (++done === connections) send({ type: 'done', last, latencies, cpu: process.cpuUsage(cpuAtStart) });
    });
  }
  cpuAtStart = process.cpuUsage();
  send({ type: 'ready' });
  for (const run of loops) void run();
  process.on('message', async (m) => {
    if (m.type === 'stop') {
      await settleWithin(Promise.all(clients.map((c) => c.close())));
      process.exit(0);
    }
  });
}

async function consumers() {
  const { port, address, connections, ack, credit, expect, sampleEvery = 50 } = cfg;
  let done = 0;
  let last = 0;
  const latencies = [];
  const clients = [];
  for (let c = 0; c < connections; c++) {
    const client = new NativeRaw({ port });
    await client.connect();
    let count = 0;
    let consumed = 0;
    const tags = new Array(credit);
    let tagCount = 0;
    client.onDelivery = (buf, bs, _be, tag) => {
      count++;
      consumed++;
      if (count % sampleEvery === 0) latencies.push(nowMs() - buf.readDoubleLE(bs + 8));
      if (ack) tags[tagCount++] = tag;
      if (count === expect) {
        last = Math.max(last, nowMs());
        if (++done === connections)
          send({ type: 'done', last, latencies, cpu: process.cpuUsage(cpuAtStart) });
      }
    };
    client.afterData = () => {
      // Acks and the credit they free in one write per read.
      if (tagCount > 0 || consumed > 0) {
        client.write(ackCreditFrames(1, tags, tagCount, consumed));
        tagCount = 0;
        consumed = 0;
      }
    };
    const r = await client.request('subscribe', {
      subscription_id: 1,
      address,
      ack_mode: ack ? 2 : 0,
      credit,
    });
    if (r.kind !== 'subscribed') throw new Error(JSON.stringify(r));
    clients.push(client);
  }
  cpuAtStart = process.cpuUsage();
  send({ type: 'ready' });
  process.on('message', async (m) => {
    if (m.type === 'stop') {
      await settleWithin(Promise.all(clients.map((c) => c.disconnect())));
      process.exit(0);
    }
  });
}

async function producer() {
  const { port, address, messages, size, persistent, window } = cfg;
  const client = new NativeRaw({ port });
  await client.connect();
  const build = sendBuilder(address, size, persistent, nowMs);
  let outstanding = 0;
  let wake = null;
  client.onOk = () => {
    outstanding--;
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  };
  await new Promise((resolve) => process.once('message', resolve));
  cpuAtStart = process.cpuUsage();
  const first = nowMs();
  let requestId = 1000;
  // One socket write per 64 frames, like the STOMP producer's flush every 256 (one write per frame would
  // measure the producer's syscalls, not the broker).
  const pending = [];
  const flush = () => {
    if (pending.length === 0) return true;
    const ok = client.write(pending.length === 1 ? pending[0] : Buffer.concat(pending));
    pending.length = 0;
    return ok;
  };
  if (!window) {
    // Fire-and-forget: 64 frames built in place per write.
    for (let seq = 0; seq < messages; seq += 64) {
      const n = Math.min(64, messages - seq);
      const ok = client.write(cfg.sendBatch ? build.sendBatch(seq, n) : build.batch(seq, n));
      if (!ok || seq % 256 === 192) {
        if (client.sock.writableLength > 1024 * 1024) await new Promise((r) => client.sock.once('drain', r));
        else await new Promise((r) => setImmediate(r));
      }
    }
  }
  for (let seq = window ? 0 : messages; seq < messages; seq++) {
    if (window && outstanding >= window) {
      flush();
      await new Promise((r) => (wake = r));
    }
    if (window) outstanding++;
    pending.push(build(seq, window ? requestId++ : 0));
    if (pending.length < 64 && seq < messages - 1) continue;
    const ok = flush();
    if (!ok || seq % 256 === 255) {
      if (client.sock.writableLength > 1024 * 1024) await new Promise((r) => client.sock.once('drain', r));
      else await new Promise((r) => setImmediate(r));
    }
  }
  flush();
  send({ type: 'sent', first, elapsed: nowMs() - first, cpu: process.cpuUsage(cpuAtStart) });
  process.on('message', async (m) => {
    if (m.type === 'stop') {
      await settleWithin(client.disconnect());
      process.exit(0);
    }
  });
}

if (cfg.role === 'producer') await producer();
else if (cfg.lib) await libraryConsumers();
else await consumers();
