// One web benchmark process, driven by bench/web.mjs over IPC:
//   sse-clients    N raw Server-Sent Events connections to /v1/stream; one-way latency from the body
//   sse-publisher  a STOMP producer of text bodies "<seq> <send time ms> <padding>" at a fixed rate
//   rest-load      N keep-alive connections POSTing back to back; round-trip latency of each POST
import { nowMs } from './lib/clock.mjs';
import { StompRaw } from './lib/stomp-raw.mjs';
import { KeepAliveConnection, SseReader } from './web-http.mjs';

const cfg = JSON.parse(process.argv[2]);
const send = (m) => process.send(m);
const nextMessage = (type) =>
  new Promise((resolve) => {
    const on = (m) => {
      if (m.type !== type) return;
      process.off('message', on);
      resolve(m);
    };
    process.on('message', on);
  });

async function sseClients() {
  const { port, path, connections, expect } = cfg;
  const readers = [];
  const latencies = new Float64Array(connections * expect);
  let samples = 0;
  let received = 0;
  let complete = 0;
  let last = 0;
  let lastEvent = 0;
  let reported = false;
  const report = () => {
    if (reported) return;
    reported = true;
    const others = readers.reduce((n, r) => n + r.others, 0);
    const sampled = Array.from(latencies.subarray(0, samples));
    send({ type: 'done', last, lastEvent, latencies: sampled, received, others });
  };
  // Opened a few at a time, as browsers arriving would, and so that the accept queue never overflows.
  for (let i = 0; i < connections; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(connections, i + 50); j++) {
      const r = new SseReader({ port, path });
      let count = 0;
      r.onData = (text) => {
        const now = nowMs();
        const sp = text.indexOf(' ');
        const t = Number(text.slice(sp + 1, text.indexOf(' ', sp + 1)));
        if (samples < latencies.length) latencies[samples++] = now - t;
        received++;
        lastEvent = now;
        if (++count === expect) {
          last = Math.max(last, now);
          if (++complete === connections) report();
        }
      };
      readers.push(r);
      batch.push(r.open());
    }
    await Promise.all(batch);
  }
  send({ type: 'ready' });
  process.on('message', (m) => {
    if (m.type === 'report') report();
    if (m.type === 'stop') {
      for (const r of readers) r.close();
      process.exit(0);
    }
  });
}

async function ssePublisher() {
  const { port, destination, messages, size, rate } = cfg;
  const client = new StompRaw({ port });
  await client.connect();
  const pad = 'x'.repeat(size);
  const frame = (seq) => {
    const body = Buffer.from(`${seq} ${nowMs().toFixed(3)} ${pad}`.slice(0, Math.max(size, 24)), 'latin1');
    return Buffer.concat([
      Buffer.from(
        `SEND\ndestination:${destination}\ncontent-type:text/plain\ncontent-length:${body.length}\n\n`,
        'latin1',
      ),
      body,
      Buffer.from([0]),
    ]);
  };
  await nextMessage('go');
  const first = nowMs();
  for (let seq = 0; seq < messages; seq++) {
    const wait = first + (seq * 1000) / rate - nowMs();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    client.write(frame(seq));
    client.flush();
  }
  send({ type: 'sent', first, last: nowMs() });
  await nextMessage('stop');
  await client.disconnect();
  process.exit(0);
}

async function restLoad() {
  const { port, path, connections, messages, size, contentType } = cfg;
  const body = Buffer.alloc(size, 0x61);
  const request = Buffer.concat([
    Buffer.from(
      `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: ${contentType}\r\n` +
        `content-length: ${size}\r\n\r\n`,
      'latin1',
    ),
    body,
  ]);
  const conns = [];
  for (let i = 0; i < connections; i++) {
    const c = new KeepAliveConnection({ port });
    await c.connect();
    conns.push(c);
  }
  send({ type: 'ready' });
  await nextMessage('go');
  const latencies = new Float64Array(messages);
  let issued = 0;
  let failed = 0;
  let done = 0;
  const first = nowMs();
  await Promise.all(
    conns.map(async (c) => {
      while (issued < messages) {
        issued++;
        const t = nowMs();
        const status = await c.request(request);
        latencies[done++] = nowMs() - t;
        if (status < 200 || status > 299) failed++;
      }
    }),
  );
  const last = nowMs();
  send({ type: 'sent', first, last, latencies: Array.from(latencies.subarray(0, done)), failed, done });
  await nextMessage('stop');
  for (const c of conns) c.close();
  process.exit(0);
}

const roles = { 'sse-clients': sseClients, 'sse-publisher': ssePublisher, 'rest-load': restLoad };
await roles[cfg.role]();
