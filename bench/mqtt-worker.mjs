// One benchmark process: an MQTT publisher or a group of subscribers, driven by bench/run.mjs over IPC
// (same protocol as stomp-worker.mjs: ready / go / sent / done / stop).
// Payload layout: [0..3] uint32 sequence, [8..15] float64 send time (nowMs), rest filler.
import { nowMs } from './lib/clock.mjs';
import { MqttRaw } from './lib/mqtt-raw.mjs';

const cfg = JSON.parse(process.argv[2]);
const send = (m) => process.send(m);
const tag = `${process.pid}-${Date.now().toString(36)}`;

async function subscribers() {
  const { port, destination, connections, qos, clean, expect, sampleEvery = 1 } = cfg;
  const latencies = [];
  const clients = [];
  let done = 0;
  let last = 0;
  for (let c = 0; c < connections; c++) {
    const client = new MqttRaw({ port, clientId: `bench-sub-${tag}-${c}`, clean });
    await client.connect();
    let count = 0;
    client.onPublish = (buf, p, _end, id, q) => {
      count++;
      if (count % sampleEvery === 0) latencies.push(nowMs() - buf.readDoubleLE(p + 8));
      if (q > 0) client.puback(id);
      if (count === expect) {
        last = Math.max(last, nowMs());
        client.flush();
        if (++done === connections) send({ type: 'done', last, latencies });
      }
    };
    client.afterData = () => client.flush();
    await client.subscribe(destination, qos);
    clients.push(client);
  }
  send({ type: 'ready' });
  process.on('message', async (m) => {
    if (m.type !== 'stop') return;
    await Promise.all(clients.map((c) => c.disconnect()));
    process.exit(0);
  });
}

async function publisher() {
  const { port, destination, messages, size, qos, rate, window } = cfg;
  const client = new MqttRaw({ port, clientId: `bench-pub-${tag}` });
  await client.connect();
  const { frame, idAt, payloadAt } = client.template(destination, qos, size);
  let outstanding = 0;
  let wake = null;
  client.onPuback = () => {
    outstanding--;
    if (wake && outstanding < window) {
      const w = wake;
      wake = null;
      w();
    }
  };
  const next = (seq) => {
    const f = Buffer.from(frame);
    if (qos > 0) f.writeUInt16BE((seq % 65535) + 1, idAt);
    f.writeUInt32LE(seq, payloadAt);
    f.writeDoubleLE(nowMs(), payloadAt + 8);
    return f;
  };
  await new Promise((resolve) => process.once('message', resolve));
  const first = nowMs();
  for (let seq = 0; seq < messages; seq++) {
    if (rate > 0) {
      const wait = first + (seq * 1000) / rate - nowMs();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      client.write(next(seq));
      client.flush();
      continue;
    }
    if (qos > 0 && outstanding >= window) {
      client.flush();
      await new Promise((r) => (wake = r));
    }
    outstanding++;
    client.write(next(seq));
    if (seq % 256 === 255) {
      const ok = client.flush();
      if (!ok || client.sock.writableLength > 1024 * 1024) {
        await new Promise((r) => client.sock.once('drain', r));
      } else await new Promise((r) => setImmediate(r));
    }
  }
  client.flush();
  send({ type: 'sent', first });
  process.on('message', async (m) => {
    if (m.type !== 'stop') return;
    await client.disconnect();
    process.exit(0);
  });
}

if (cfg.role === 'producer') await publisher();
else await subscribers();
