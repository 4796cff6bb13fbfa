#!/usr/bin/env node
// `npm run bench`: starts BlazeMQ (the built dist/) on free ports and runs the STOMP and MQTT workloads of the
// issues, producer and consumers in separate processes. Prints one table, with the broker's peak RSS per
// workload. For the side-by-side comparison with ActiveMQ, RabbitMQ, Mosquitto and NATS see bench/compare.sh
// and docs/PERFORMANCE.md.
//   node bench/run.mjs [--only queue,queue128,persistent,fanout,latency,mqtt-w1,mqtt-w2,mqtt-w3,mqtt-w5,sse-fanout,rest-post]
//                      [--runs N] [--warmup N (default 1)] [--messages N] [--target stomp://127.0.0.1:PORT --mqtt-port PORT --http-port PORT]
//                      (--target: a broker already running)
// The web workloads (sse-fanout, sse-fanout-400, rest-post, rest-post-v1) are in bench/web.mjs.
import { readFileSync } from 'node:fs';
import { worker as libWorker, startBroker as startLibBroker } from './lib/broker.mjs';
import { percentiles } from './lib/clock.mjs';
import { runRestPost, runSseFanout } from './web.mjs';

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i].startsWith('--')) args[process.argv[i].slice(2)] = process.argv[i + 1];
}
const runs = Number(args.runs ?? 3);
// Unrecorded runs of each workload before the measured ones (the first run of a fresh broker also measures
// V8's JIT warming up), as bench/compare.sh does for every broker.
const warmup = Number(args.warmup ?? 1);
const only = (
  args.only ?? 'queue,queue128,persistent,fanout,latency,mqtt-w1,mqtt-w2,mqtt-w3,mqtt-w5,sse-fanout,rest-post'
).split(',');

const WORKLOADS = {
  queue: {
    title: 'STOMP queue 1->1, 1 KiB, non-persistent, client-individual acks, prefetch 1000 (W4n)',
    destination: '/queue/bench.w4n',
    messages: 100_000,
    size: 1024,
    consumers: [{ connections: 1, ack: 'client-individual' }],
  },
  queue128: {
    title: 'STOMP queue 1->1, 128 B, non-persistent, client-individual acks, prefetch 1000',
    destination: '/queue/bench.q128',
    messages: 200_000,
    size: 128,
    consumers: [{ connections: 1, ack: 'client-individual' }],
  },
  persistent: {
    title:
      'STOMP queue 1->1, 1 KiB, persistent (journal), a receipt for every SEND, <= 1,000 outstanding, client-individual acks (W4p)',
    destination: '/queue/bench.w4p',
    messages: 20_000,
    size: 1024,
    persistent: true,
    receipts: 1000,
    consumers: [{ connections: 1, ack: 'client-individual' }],
  },
  fanout: {
    title: 'STOMP topic fan-out 1->10, 1 KiB, non-persistent (deliveries/s)',
    destination: '/topic/bench.fanout',
    messages: 20_000,
    size: 1024,
    consumers: [
      { connections: 5, ack: 'auto' },
      { connections: 5, ack: 'auto' },
    ],
  },
  latency: {
    title: 'STOMP queue 1->1 at a fixed 5,000 msg/s for 5 s, 256 B, one-way latency (ms)',
    destination: '/queue/bench.latency',
    messages: 25_000,
    size: 256,
    rate: 5000,
    consumers: [{ connections: 1, ack: 'client-individual' }],
  },
  // The MQTT workloads have the shapes of the shared harness's W1, W2, W3 and W5 (../shared/bench/brokers).
  'mqtt-w1': {
    title: 'MQTT QoS 0 topic 1->1, 256 B (W1)',
    protocol: 'mqtt',
    destination: 'bench/w1',
    messages: 200_000,
    size: 256,
    qos: 0,
    consumers: [{ connections: 1 }],
  },
  'mqtt-w2': {
    title: 'MQTT QoS 0 topic fan-out 1->10, 256 B (W2, deliveries/s)',
    protocol: 'mqtt',
    destination: 'bench/w2',
    messages: 50_000,
    size: 256,
    qos: 0,
    consumers: [{ connections: 10 }],
  },
  'mqtt-w3': {
    title: 'MQTT QoS 1 1->1, 1 KiB, persistent session (clean=false), <= 1,000 unacked PUBLISH (W3)',
    protocol: 'mqtt',
    destination: 'bench/w3',
    messages: 50_000,
    size: 1024,
    qos: 1,
    window: 1000,
    consumers: [{ connections: 1, clean: false }],
  },
  'mqtt-w5': {
    title: 'MQTT QoS 0 1->1 at a fixed 5,000 msg/s for 5 s, 256 B, one-way latency (W5)',
    protocol: 'mqtt',
    destination: 'bench/w5',
    messages: 25_000,
    size: 256,
    qos: 0,
    rate: 5000,
    consumers: [{ connections: 1 }],
  },
  // Web (issue 5), bench/web.mjs.
  'sse-fanout': {
    title:
      'SSE fan-out: STOMP publisher at 200 msg/s for 5 s -> 1 topic -> 500 /v1/stream clients, 128 B (deliveries/s)',
    run: runSseFanout,
    clients: 500,
    rate: 200,
    messages: 1000,
    size: 128,
  },
  'sse-fanout-400': {
    title: 'SSE fan-out as sse-fanout, publisher at 400 msg/s for 5 s (200,000 deliveries/s offered)',
    run: runSseFanout,
    clients: 500,
    rate: 400,
    messages: 2000,
    size: 128,
  },
  'rest-post': {
    title:
      'REST POST /api/message (queue, non-persistent), 64 keep-alive connections, 256 B; p50/p99 = POST round trip',
    run: runRestPost,
    connections: 64,
    messages: 25_000,
    size: 256,
  },
  'rest-post-v1': {
    title:
      'REST POST /v1/queues/{name}/messages (non-persistent), 64 keep-alive connections, 256 B; POST round trip',
    run: runRestPost,
    api: 'v1',
    connections: 64,
    messages: 25_000,
    size: 256,
  },
};

async function startBroker() {
  const { ports, pid, stop } = await startLibBroker([
    '--stomp',
    '0',
    '--http',
    '0',
    '--mqtt',
    '0',
    '--native',
    'off',
  ]);
  return { port: ports.stomp, mqttPort: ports.mqtt, httpPort: ports.http, pid, stop };
}

const worker = (cfg, protocol) => libWorker(`${protocol}-worker.mjs`, cfg);

/** Peak resident set of a process, sampled from /proc every 100 ms while `until` is pending. */
async function peakRss(pid, until) {
  let peak = 0;
  let running = true;
  until.finally(() => {
    running = false;
  });
  while (running) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) * 1024);
    } catch {
      return 0;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return peak;
}

/** CPU time (user + system, ms) the process has used so far, from /proc (the low-noise A/B metric). */
function cpuMs(pid) {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

async function runOnce(target, wl, round) {
  const protocol = wl.protocol ?? 'stomp';
  const port = protocol === 'mqtt' ? target.mqttPort : target.port;
  const dest = `${wl.destination}${protocol === 'mqtt' ? '/' : '.'}${round}`;
  const consumers = wl.consumers.map((c) =>
    worker(
      {
        role: 'consumer',
        port,
        destination: dest,
        prefetch: 1000,
        qos: wl.qos,
        expect: wl.messages,
        sampleEvery: wl.rate ? 1 : 50,
        ...c,
      },
      protocol,
    ),
  );
  await Promise.all(consumers.map((c) => c.next('ready')));
  const producer = worker(
    {
      role: 'producer',
      port,
      destination: dest,
      messages: wl.messages,
      size: wl.size,
      persistent: wl.persistent === true,
      rate: wl.rate ?? 0,
      receipts: wl.receipts ?? 0,
      qos: wl.qos,
      window: wl.window ?? 0,
    },
    protocol,
  );
  await new Promise((r) => setTimeout(r, 100));
  const cpu0 = target.pid ? cpuMs(target.pid) : Number.NaN;
  const sent = producer.next('sent');
  producer.child.send({ type: 'go' });
  // unref: a finished run must not wait for the timer before the process can exit.
  const timeout = new Promise((_, rej) =>
    setTimeout(() => rej(new Error('workload timed out (lost messages?)')), 120_000).unref(),
  );
  const finished = Promise.race([Promise.all(consumers.map((c) => c.next('done'))), timeout]);
  const rss = target.pid ? peakRss(target.pid, finished) : Promise.resolve(0);
  const dones = await finished;
  const cpu = target.pid ? cpuMs(target.pid) - cpu0 : Number.NaN;
  const { first } = await sent;
  for (const w of [producer, ...consumers]) w.child.send({ type: 'stop' });
  const last = Math.max(...dones.map((d) => d.last));
  const deliveries = wl.messages * wl.consumers.reduce((n, c) => n + c.connections, 0);
  return {
    rate: deliveries / ((last - first) / 1000),
    latency: percentiles(dones.flatMap((d) => d.latencies)),
    rss: await rss,
    // Broker CPU per delivery (us): steadier than msgs/s on a machine shared with other work.
    cpuUs: (cpu * 1000) / deliveries,
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const target = args.target
  ? {
      port: Number(new URL(args.target).port),
      mqttPort: Number(args['mqtt-port'] ?? 1883),
      httpPort: Number(args['http-port'] ?? 8161),
      stop() {},
    }
  : await startBroker();
const rows = [];
try {
  for (const name of only) {
    // --messages N: longer runs for steadier A/B figures (the rate and CPU are per message).
    const wl = args.messages ? { ...WORKLOADS[name], messages: Number(args.messages) } : WORKLOADS[name];
    const results = [];
    for (let r = 0; r < warmup; r++)
      await (wl.run ? wl.run(target, wl, `w${r}`, { peakRss }) : runOnce(target, wl, `w${r}`));
    for (let r = 0; r < runs; r++) {
      results.push(await (wl.run ? wl.run(target, wl, r, { peakRss }) : runOnce(target, wl, r)));
    }
    const rates = results.map((x) => x.rate);
    const lat = results.map((x) => x.latency);
    rows.push({
      workload: wl.title,
      'msgs/s (median)': Math.round(median(rates)).toLocaleString('en'),
      'min-max': `${Math.round(Math.min(...rates)).toLocaleString('en')}-${Math.round(Math.max(...rates)).toLocaleString('en')}`,
      'p50/p99 ms': `${median(lat.map((l) => l.p50))} / ${median(lat.map((l) => l.p99))}`,
      'peak RSS MB': Math.round(Math.max(...results.map((x) => x.rss)) / 2 ** 20),
      'broker CPU us/msg': results.some((x) => Number.isFinite(x.cpuUs))
        ? results.map((x) => x.cpuUs.toFixed(2)).join(' ')
        : '',
    });
  }
} finally {
  target.stop();
}
console.table(rows);
