/**
 * SSE encoding (round-trip through a parser written from the HTML standard's algorithm) and SseStream's
 * back-pressure against a real Writable that stops being read.
 */
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  CoreConnection,
  Delivery,
  DeliverySink,
  SubscribeOptions,
  Subscription,
} from '../../../src/core/api.js';
import type { Message } from '../../../src/core/message.js';
import { HttpError } from '../../../src/protocol/http/errors.js';
import { encodeComment, encodeEvent } from '../../../src/protocol/http/sse-codec.js';
import { parseStreamRequest } from '../../../src/protocol/http/sse-endpoint.js';
import { SseStream } from '../../../src/protocol/http/sse-stream.js';

/** HTML §9.2.6 "Interpreting an event stream", enough of it for data, id, event and comments. */
function parseStream(text: string): Array<{ id?: string; event: string; data: string }> {
  const events: Array<{ id?: string; event: string; data: string }> = [];
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (data.length > 0)
        events.push({
          ...(id !== undefined ? { id } : {}),
          event: event || 'message',
          data: data.join('\n'),
        });
      data = [];
      event = '';
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id') id = value;
  }
  return events;
}

describe('SSE codec', () => {
  it('round-trips any data (line breaks normalised to LF, as browsers do) and ids', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (data, id) => {
        const [e] = parseStream(encodeEvent({ id, data }));
        expect(e!.data).toBe(data.replace(/\r\n|\r/g, '\n'));
        if (!/[\r\n\0]/.test(id)) expect(e!.id).toBe(id);
      }),
    );
  });

  it('comments are invisible to the parser', () => {
    expect(parseStream(encodeComment('hb\nx') + encodeEvent({ event: 'binary', data: 'AA==' }))).toEqual([
      { event: 'binary', data: 'AA==' },
    ]);
  });
});

describe('parseStreamRequest', () => {
  it('takes a name with type, or a whole encoded address', () => {
    expect(parseStreamRequest('GET', '/v1/stream/prices.>')).toMatchObject({ address: 'topic://prices.>' });
    expect(parseStreamRequest('GET', '/v1/stream/jobs?type=queue')).toMatchObject({
      address: 'queue://jobs',
    });
    expect(
      parseStreamRequest('GET', `/v1/stream/${encodeURIComponent('topic://a.*')}?format=json`),
    ).toMatchObject({
      address: 'topic://a.*',
      format: 'json',
    });
    expect(parseStreamRequest('GET', '/v1/other')).toBeUndefined();
  });
  it('refuses bad formats, types and methods', () => {
    expect(() => parseStreamRequest('GET', '/v1/stream/x?format=xml')).toThrow(HttpError);
    expect(() => parseStreamRequest('GET', '/v1/stream/x?type=nope')).toThrow(HttpError);
    expect(() => parseStreamRequest('POST', '/v1/stream/x')).toThrow(HttpError);
  });
});

function fakeConnection() {
  let sink: DeliverySink | undefined;
  const state = {
    paused: 0,
    resumed: 0,
    subClosed: false,
    connClosed: false,
    options: undefined as SubscribeOptions | undefined,
  };
  const sub = {
    id: 's',
    pause: () => {
      state.paused++;
    },
    resume: () => {
      state.resumed++;
    },
    close: () => {
      state.subClosed = true;
    },
    ack: () => undefined,
    nack: () => undefined,
  } as unknown as Subscription;
  const connection = {
    subscribe: (o: SubscribeOptions, s: DeliverySink) => {
      state.options = o;
      sink = s;
      return sub;
    },
    close: () => {
      state.connClosed = true;
    },
  } as unknown as CoreConnection;
  const deliver = (tag: number, body: Uint8Array) =>
    sink!.deliver(sub, {
      tag,
      redelivered: false,
      deliveryCount: 1,
      message: {
        id: `m${tag}`,
        address: 'topic://t',
        body,
        properties: { k: 'v' },
        timestamp: 5,
      } as unknown as Message,
    } satisfies Delivery);
  return { connection, state, deliver };
}

const options = {
  address: 'topic://t',
  heartbeatMs: 40,
  slowConsumerTimeoutMs: 150,
  format: 'text' as const,
  prefetch: 10,
};
const read = (out: PassThrough) => {
  let text = '';
  for (let c = out.read(); c !== null; c = out.read()) text += String(c);
  return text;
};

describe('SseStream', () => {
  it('subscribes with auto acks and writes each delivery as an event; binary bodies as base64', () => {
    const out = new PassThrough();
    const f = fakeConnection();
    const s = new SseStream(out, f.connection, options);
    expect(f.state.options).toMatchObject({ address: 'topic://t', ackMode: 'auto', prefetch: 10 });
    f.deliver(1, Buffer.from('line1\nline2'));
    f.deliver(2, new Uint8Array([0xff, 0]));
    expect(parseStream(read(out))).toEqual([
      { id: 'm1', event: 'message', data: 'line1\nline2' },
      { id: 'm2', event: 'binary', data: '/wA=' },
    ]);
    s.close('shutdown');
    expect(f.state).toMatchObject({ subClosed: true, connClosed: true });
  });

  it('json format carries address, properties and body', () => {
    const out = new PassThrough();
    const f = fakeConnection();
    const s = new SseStream(out, f.connection, { ...options, format: 'json' });
    f.deliver(1, Buffer.from('hi'));
    const [e] = parseStream(read(out));
    expect(JSON.parse(e!.data)).toEqual({
      id: 'm1',
      address: 'topic://t',
      timestamp: 5,
      properties: { k: 'v' },
      body: 'hi',
    });
    s.close('shutdown');
  });

  it('writes heart-beat comments while idle', async () => {
    const out = new PassThrough();
    const f = fakeConnection();
    const s = new SseStream(out, f.connection, options);
    await new Promise((r) => setTimeout(r, 130));
    expect(read(out)).toMatch(/^: hb\n\n/);
    s.close('shutdown');
  });

  it('pauses the subscription when the output is full and resumes on drain', async () => {
    const out = new PassThrough({ highWaterMark: 64 });
    const f = fakeConnection();
    const s = new SseStream(out, f.connection, { ...options, slowConsumerTimeoutMs: 5000 });
    f.deliver(1, Buffer.alloc(100, 0x61));
    expect(f.state.paused).toBe(1);
    f.deliver(2, Buffer.alloc(100, 0x61));
    expect(f.state.paused).toBe(1);
    read(out);
    await new Promise((r) => setImmediate(r));
    expect(f.state.resumed).toBe(1);
    s.close('shutdown');
  });

  it('drops a client that does not drain within the timeout, discarding its backlog', async () => {
    const out = new PassThrough({ highWaterMark: 64 });
    const f = fakeConnection();
    let reason: string | undefined;
    const s = new SseStream(out, f.connection, options, (r) => {
      reason = r;
    });
    f.deliver(1, Buffer.alloc(100, 0x61));
    await new Promise((r) => setTimeout(r, 250));
    expect(reason).toBe('slow');
    expect(s.closedBy).toBe('slow');
    expect(out.destroyed).toBe(true);
    expect(f.state).toMatchObject({ subClosed: true, connClosed: true });
  });
});
