// One benchmark process: a STOMP producer or a group of consumers, driven by bench/run.mjs over IPC.
// Payload layout: [0..3] uint32 sequence, [8..15] float64 send time (nowMs), rest filler.
import { nowMs } from './lib/clock.mjs';
import { StompRaw } from './lib/stomp-raw.mjs';

const cfg = JSON.parse(process.argv[2]);
const send = (m) => process.send(m);

async function consumers() {
  const { port, destination, connections, ack, prefetch, expect, sampleEvery = 1 } = cfg;
  let done = 0;
  const latencies = [];
  let last = 0;
  const clients = [];
  for (let c = 0; c < connections; c++) {
    const client = new StompRaw({ port });
    await client.connect();
    let count = 0;
    const acks = [];
    client.onMessage = (buf, bs, _be, as, ae) => {
      count++;
      if (count % sampleEvery === 0) latencies.push(nowMs() - buf.readDoubleLE(bs + 8));
      if (ack !== 'auto') acks.push(buf.latin1Slice(as, ae));
      if (count === expect) {
        last = Math.max(last, nowMs());
        if (++done === connections) {
          flushAcks();
          send({ type: 'done', last, latencies });
        }
      }
    };
    const flushAcks = () => {
      if (acks.length === 0) return;
      let s = '';
      for (const id of acks) s += `ACK\nid:${id}\n\n\0`;
      acks.length = 0;
      client.write(Buffer.from(s, 'latin1'));
    };
    client.afterData = flushAcks;
    await new Promise((resolve) => {
      client.onReceipt = resolve;
      client.write(
        client.frame('SUBSCRIBE', {
          id: '1',
          destination,
          ack,
          'activemq.prefetchSize': prefetch,
          receipt: 'sub',
        }),
      );
    });
    client.onReceipt = null;
    clients.push(client);
  }
  send({ type: 'ready' });
  process.on('message', async (m) => {
    if (m.type === 'stop') {
      await Promise.all(clients.map((c) => c.disconnect()));
      process.exit(0);
    }
  });
}

async function producer() {
  const { port, destination, messages, size, persistent, rate, receipts } = cfg;
  const client = new StompRaw({ port });
  await client.connect();
  const body = Buffer.alloc(size, 0x61);
  const head = Buffer.from(
    `SEND\ndestination:${destination}\npersistent:${persistent}\ncontent-length:${size}\n`,
    'latin1',
  );
  let outstanding = 0;
  let wake = null;
  client.onReceipt = () => {
    outstanding--;
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  };
  const frame = (seq) => {
    body.writeUInt32LE(seq, 0);
    body.writeDoubleLE(nowMs(), 8);
    const extra = receipts ? `receipt:${seq}\n` : '';
    return Buffer.concat([head, Buffer.from(`${extra}\n`, 'latin1'), body, Buffer.from([0])]);
  };
  // Without receipts every frame is the same but for the body's sequence and time: frames are copied from
  // a template straight into one buffer per write (as the native producer does; the producer's own CPU
  // shares the machine with the broker it measures).
  const template = Buffer.concat([head, Buffer.from('\n', 'latin1'), body, Buffer.from([0])]);
  const bodyAt = template.length - 1 - size;
  const frames = (seq, n) => {
    const out = Buffer.allocUnsafe(n * template.length);
    for (let i = 0; i < n; i++) {
      const at = i * template.length;
      template.copy(out, at);
      out.writeUInt32LE(seq + i, at + bodyAt);
      out.writeDoubleLE(nowMs(), at + bodyAt + 8);
    }
    return out;
  };
  /** After a refused write and every 256 frames: flush, then wait for drain or at least one turn. */
  const pace = async (ok, seq) => {
    if (ok && seq % 256 !== 255) return;
    client.flush();
    if (client.sock.writableLength > 1024 * 1024) await new Promise((r) => client.sock.once('drain', r));
    else await new Promise((r) => setImmediate(r));
  };
  await new Promise((resolve) => process.once('message', resolve));
  const first = nowMs();
  const start = first;
  for (let seq = 0; seq < messages; seq++) {
    if (rate > 0) {
      const due = start + (seq * 1000) / rate;
      const wait = due - nowMs();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      client.write(frame(seq));
      client.flush();
      continue;
    }
    if (!receipts) {
      // 64 frames per write, a pause every 256 (as the native producer).
      const n = Math.min(64, messages - seq);
      const ok = client.sock.write(frames(seq, n));
      seq += n - 1;
      await pace(ok, seq);
      continue;
    }
    if (outstanding >= receipts) await new Promise((r) => (wake = r));
    outstanding++;
    await pace(client.write(frame(seq)), seq);
  }
  client.flush();
  send({ type: 'sent', first });
  process.on('message', async (m) => {
    if (m.type === 'stop') {
      await client.disconnect();
      process.exit(0);
    }
  });
}

if (cfg.role === 'producer') await producer();
else await consumers();
