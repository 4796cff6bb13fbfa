/**
 * Server-Sent Events resume (`Last-Event-ID`) against the real broker process: the npm `eventsource`
 * client reconnects by itself after a network cut and gets what was published meanwhile; a client away
 * for longer than the topic history holds gets a `gap` event with the count it lost; an id the broker
 * never issued gets a gap of unknown size; a queue stream leaves what it did not deliver in the queue.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, startBroker } from './helpers/broker.js';

let broker: BrokerProcess;
let dir: string;
let seq = 0;
const unique = (base: string) => `${base}${process.pid}x${++seq}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'blazemq-sse-resume-'));
  const config = join(dir, 'blazemq.yaml');
  writeFileSync(config, 'limits:\n  http:\n    sseHistorySize: 5\n    sseHistoryRetentionMs: 30000\n');
  broker = await startBroker({ args: ['--config', config] });
});
afterAll(async () => {
  expect(await broker.stop()).toBe(0);
  rmSync(dir, { recursive: true, force: true });
});

const publish = async (topic: string, body: string) => {
  const r = await fetch(`http://127.0.0.1:${broker.http}/v1/topics/${topic}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ body }),
  });
  expect(r.status).toBe(201);
};

const until = async (cond: () => boolean, ms = 8000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

interface Event {
  id?: string;
  event: string;
  data: string;
}

/** One raw SSE request with an optional Last-Event-ID; collects events until closed. */
function rawStream(path: string, lastEventId?: string) {
  const events: Event[] = [];
  let buffer = '';
  const req = request({
    host: '127.0.0.1',
    port: broker.http,
    path,
    headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
  });
  const opened = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buffer += d;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const e: Event = { event: 'message', data: '' };
          let hasData = false;
          for (const line of block.split('\n')) {
            const [field, ...rest] = line.split(': ');
            const value = rest.join(': ');
            if (field === 'id') e.id = value;
            else if (field === 'event') e.event = value;
            else if (field === 'data') {
              e.data = hasData ? `${e.data}\n${value}` : value;
              hasData = true;
            }
          }
          if (hasData) events.push(e);
          end = buffer.indexOf('\n\n');
        }
      });
      res.on('error', () => undefined);
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
  req.end();
  return { events, opened, close: () => req.destroy() };
}

describe('SSE resume with Last-Event-ID', () => {
  it('the eventsource client reconnects after a cut and gets what it missed, once', async () => {
    const topic = unique('ticks');
    let cut: (() => void) | undefined;
    const es = new EventSource(`http://127.0.0.1:${broker.http}/v1/stream/${topic}`, {
      // Each connection's body is relayed so that the test can end it as a dropped network would.
      fetch: async (url, init) => {
        const upstream = new AbortController();
        init?.signal?.addEventListener('abort', () => upstream.abort());
        const res = await fetch(url, { ...init, signal: upstream.signal });
        const reader = res.body!.getReader();
        let ended = false;
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            cut = () => {
              ended = true;
              controller.close();
              upstream.abort();
            };
          },
          async pull(controller) {
            try {
              const { done, value } = await reader.read();
              if (ended) return;
              if (done) controller.close();
              else controller.enqueue(value);
            } catch {
              if (!ended) controller.close();
            }
          },
        });
        return new Response(body, { status: res.status, headers: res.headers });
      },
    });
    const seen: string[] = [];
    let opens = 0;
    es.onopen = () => opens++;
    es.onmessage = (e) => seen.push(e.data);
    await until(() => opens === 1);
    await publish(topic, 'p1');
    await publish(topic, 'p2');
    await until(() => seen.length === 2);
    cut!();
    await new Promise((r) => setTimeout(r, 100));
    await publish(topic, 'p3');
    await publish(topic, 'p4');
    // The broker tells clients to retry after 3 s.
    await until(() => opens === 2, 8000);
    await until(() => seen.length === 4);
    await publish(topic, 'p5');
    await until(() => seen.length === 5);
    expect(seen).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    es.close();
  }, 15_000);

  it('sends a gap event with the count lost when the history no longer reaches back', async () => {
    const topic = unique('busy');
    const first = rawStream(`/v1/stream/${topic}`);
    expect(await first.opened).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    await publish(topic, 'm1');
    await until(() => first.events.length === 1);
    const lastId = first.events[0]!.id!;
    expect(lastId).toMatch(/^[\w-]+-1$/);
    first.close();
    // History holds 5: of m2..m9, m2..m4 fall out.
    for (let i = 2; i <= 9; i++) await publish(topic, `m${i}`);
    const back = rawStream(`/v1/stream/${topic}`, lastId);
    await back.opened;
    await until(() => back.events.length === 6);
    expect(back.events[0]).toMatchObject({ event: 'gap', data: '{"missed":3}' });
    expect(back.events.slice(1).map((e) => e.data)).toEqual(['m5', 'm6', 'm7', 'm8', 'm9']);
    // An id this broker never issued: the loss is unknown, the stream goes on live.
    const stranger = rawStream(`/v1/stream/${topic}?lastEventId=nope-3`);
    await stranger.opened;
    await until(() => stranger.events.length === 1);
    expect(stranger.events[0]).toMatchObject({ event: 'gap', data: '{"missed":null}' });
    await publish(topic, 'm10');
    await until(() => stranger.events.length === 2 && back.events.length === 7);
    back.close();
    stranger.close();
  });

  it('a queue stream consumes only what it delivers; the rest stays for the next stream', async () => {
    const q = unique('jobs');
    const send = (body: string) =>
      fetch(`http://127.0.0.1:${broker.http}/v1/queues/${q}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ body }),
      });
    await send('j1');
    const s1 = rawStream(`/v1/stream/${q}?type=queue`);
    await s1.opened;
    await until(() => s1.events.length === 1);
    s1.close();
    await new Promise((r) => setTimeout(r, 100));
    await send('j2');
    await send('j3');
    const s2 = rawStream(`/v1/stream/${q}?type=queue`);
    await s2.opened;
    await until(() => s2.events.length === 2);
    expect([...s1.events, ...s2.events].map((e) => e.data)).toEqual(['j1', 'j2', 'j3']);
    s2.close();
  });
});
