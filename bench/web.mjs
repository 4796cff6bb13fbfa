// The web workloads of `npm run bench` (issue 5), run by bench/run.mjs:
//   sse-fanout  1 STOMP publisher at a fixed rate -> 1 topic -> N Server-Sent Events streams held by one
//               client process (bench/web-worker.mjs); deliveries/s and one-way latency (send time in body)
//   rest-post   N keep-alive connections POSTing back to back to /api/message (or /v1) while a STOMP
//               consumer drains the queue; POSTs/s and the POST round-trip latency
// Each returns { rate, latency, rss } like run.mjs's own runner.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { percentiles } from './lib/clock.mjs';

const ROOT = new URL('../', import.meta.url).pathname;

function worker(script, cfg) {
  const child = fork(join(ROOT, 'bench', script), [JSON.stringify(cfg)]);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const next = (type, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${cfg.role}: no ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMsg = (m) => {
        if (m.type !== type) return;
        cleanup();
        resolve(m);
      };
      const onExit = (code) => {
        cleanup();
        reject(new Error(`${cfg.role} exited ${code} waiting for ${type}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.off('message', onMsg);
        child.off('exit', onExit);
      };
      child.on('message', onMsg);
      child.once('exit', onExit);
    });
  const stop = () => {
    if (!exited) child.send({ type: 'stop' });
  };
  return { child, next, stop };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function runSseFanout(target, wl, round, { peakRss }) {
  const name = `bench.sse.${round}.${Date.now()}`;
  const clients = worker('web-worker.mjs', {
    role: 'sse-clients',
    port: target.httpPort,
    path: `/v1/stream/${name}?type=topic`,
    connections: wl.clients,
    expect: wl.messages,
  });
  let publisher;
  try {
    await clients.next('ready');
    publisher = worker('web-worker.mjs', {
      role: 'sse-publisher',
      port: target.port,
      destination: `/topic/${name}`,
      messages: wl.messages,
      size: wl.size,
      rate: wl.rate,
    });
    // The STOMP connection is up once the worker is idle; a little slack for its CONNECT.
    await sleep(300);
    const done = clients.next('done', 120_000);
    const sent = publisher.next('sent');
    publisher.child.send({ type: 'go' });
    const rss = target.pid ? peakRss(target.pid, done) : Promise.resolve(0);
    const { first, last: lastSent } = await sent;
    // Streams that fell behind (slow-consumer policy) never complete: take what arrived after a grace.
    const grace = setTimeout(() => clients.child.send({ type: 'report' }), 5000);
    const d = await done;
    clearTimeout(grace);
    const expected = wl.messages * wl.clients;
    if (d.received < expected) {
      process.stderr.write(
        `sse-fanout: ${d.received} of ${expected} deliveries (${d.others} gap/other events), ` +
          `publisher took ${Math.round(lastSent - first)} ms\n`,
      );
    }
    const last = d.last > 0 ? d.last : d.lastEvent;
    return { rate: d.received / ((last - first) / 1000), latency: percentiles(d.latencies), rss: await rss };
  } finally {
    clients.stop();
    publisher?.stop();
  }
}

export async function runRestPost(target, wl, round, { peakRss }) {
  const name = `bench.rest.${round}.${Date.now()}`;
  const consumer = worker('stomp-worker.mjs', {
    role: 'consumer',
    port: target.port,
    destination: `/queue/${name}`,
    connections: 1,
    ack: 'auto',
    prefetch: 1000,
    expect: wl.messages,
    sampleEvery: 1000,
  });
  const path =
    wl.api === 'v1'
      ? `/v1/queues/${name}/messages?persistent=${wl.persistent === true}`
      : `/api/message/${name}?type=queue&persistent=${wl.persistent === true}`;
  const load = worker('web-worker.mjs', {
    role: 'rest-load',
    port: target.httpPort,
    path,
    connections: wl.connections,
    messages: wl.messages,
    size: wl.size,
    contentType: 'text/plain',
  });
  try {
    await Promise.all([consumer.next('ready'), load.next('ready')]);
    const drained = consumer.next('done', 120_000);
    const sent = load.next('sent', 120_000);
    load.child.send({ type: 'go' });
    const rss = target.pid ? peakRss(target.pid, drained) : Promise.resolve(0);
    const s = await sent;
    await drained;
    if (s.failed > 0) process.stderr.write(`rest-post: ${s.failed} of ${s.done} POSTs failed\n`);
    return { rate: s.done / ((s.last - s.first) / 1000), latency: percentiles(s.latencies), rss: await rss };
  } finally {
    consumer.stop();
    load.stop();
  }
}
