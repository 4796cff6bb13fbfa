/**
 * Server-Sent Events (`GET /v1/stream/...`) of the real broker process, read with a raw HTTP client:
 * messages from STOMP, MQTT and REST producers arrive as events, idle streams get heart-beat comments, and
 * a browser that stops reading is cut off instead of holding the producer or growing memory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, startBroker } from './helpers/broker.js';
import { connectStomp, sendWithReceipt } from './helpers/stomp.js';

interface Stream {
  status: number;
  text(): string;
  /** Resolves once the raw stream contains `needle`. */
  waitFor(needle: string | RegExp, ms?: number): Promise<void>;
  close(): void;
}

function openStream(port: number, path: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { accept: 'text/event-stream' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('error', () => undefined);
        resolve({
          status: res.statusCode ?? 0,
          text: () => text,
          async waitFor(needle, ms = 5000) {
            const t0 = Date.now();
            const has = () => (typeof needle === 'string' ? text.includes(needle) : needle.test(text));
            while (!has()) {
              if (Date.now() - t0 > ms)
                throw new Error(`no ${needle} in ${JSON.stringify(text.slice(-300))}`);
              await new Promise((r) => setTimeout(r, 10));
            }
          },
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

let broker: BrokerProcess;
let dir: string;
let seq = 0;
const unique = (base: string) => `${base}${process.pid}x${++seq}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'blazemq-sse-'));
  const config = join(dir, 'blazemq.yaml');
  writeFileSync(config, 'limits:\n  http:\n    sseHeartbeatMs: 100\n    sseSlowConsumerTimeoutMs: 300\n');
  broker = await startBroker({ args: ['--config', config] });
});
afterAll(async () => {
  expect(await broker.stop()).toBe(0);
  rmSync(dir, { recursive: true, force: true });
});

describe('Server-Sent Events', () => {
  it('streams a topic with a wildcard: STOMP, MQTT and REST publishers all arrive as events', async () => {
    const t = unique('prices');
    const s = await openStream(broker.http, `/v1/stream/${t}.>`);
    expect(s.status).toBe(200);
    await s.waitFor(': connected');
    const stomp = await connectStomp(broker.stomp);
    await sendWithReceipt(stomp, `/topic/${t}.IBM`, 'ibm 101.5');
    const m = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.mqtt}`, { reconnectPeriod: 0 });
    await m.publishAsync(`${t}/AAPL`, 'aapl 200', { qos: 1 });
    await fetch(`http://127.0.0.1:${broker.http}/api/message/${t}.MSFT?type=topic`, {
      method: 'POST',
      body: 'msft 300',
    });
    await s.waitFor('data: msft 300');
    const data = s
      .text()
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6));
    expect(data).toEqual(['ibm 101.5', 'aapl 200', 'msft 300']);
    expect(s.text()).toMatch(/^id: \S+$/m);
    s.close();
    await stomp.deactivate();
    await m.endAsync(true);
  });

  it('streams a queue, and json format carries properties', async () => {
    const q = unique('jobs');
    const s = await openStream(broker.http, `/v1/stream/${q}?type=queue&format=json`);
    await s.waitFor(': connected');
    await fetch(`http://127.0.0.1:${broker.http}/api/message/${q}?type=queue&kind=urgent`, {
      method: 'POST',
      body: 'job1',
    });
    await s.waitFor('job1');
    const line = s
      .text()
      .split('\n')
      .find((l) => l.startsWith('data: '))!;
    expect(JSON.parse(line.slice(6))).toMatchObject({
      address: `queue://${q}`,
      body: 'job1',
      properties: { kind: 'urgent' },
    });
    s.close();
  });

  it('writes heart-beat comments on an idle stream', async () => {
    const s = await openStream(broker.http, `/v1/stream/${unique('quiet')}`);
    await s.waitFor(/: hb\n\n[\s\S]*: hb\n\n/, 3000);
    s.close();
  });

  it('refuses bad requests with 4xx JSON', async () => {
    const r = await fetch(`http://127.0.0.1:${broker.http}/v1/stream/x?format=xml`);
    expect(r.status).toBe(400);
    expect((await r.json()).error).toMatch(/format/);
    expect((await fetch(`http://127.0.0.1:${broker.http}/v1/stream/x`, { method: 'POST' })).status).toBe(405);
  });

  it('cuts off a client that stops reading, and the producer goes on', async () => {
    const t = unique('flood');
    // A raw socket that sends the request and then never reads: the kernel buffers fill up.
    const sock = tcpConnect(broker.http, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`GET /v1/stream/${t} HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\n\r\n`);
    sock.once('data', () => sock.pause());
    sock.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 100));
    const stomp = await connectStomp(broker.stomp);
    const body = 'x'.repeat(60_000);
    const dropped = () => broker.output().includes('slow SSE client dropped');
    for (let i = 0; i < 800 && !dropped(); i++) {
      stomp.publish({ destination: `/topic/${t}`, body });
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 10));
    }
    for (let i = 0; i < 500 && !dropped(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(dropped()).toBe(true);
    // The producer is not held by the dropped browser.
    await sendWithReceipt(stomp, `/topic/${t}`, 'after');
    await stomp.deactivate();
    sock.destroy();
  });
});
