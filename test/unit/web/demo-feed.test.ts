/**
 * `blazemq demo-feed`: its STOMP frames (golden bytes, and a fuzzed round trip through arbitrary chunking),
 * the price walk, the pacing loop, flag parsing, and the publisher against a fake STOMP server.
 */
import { createServer, type Server, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { due, runFeed, type Sink } from '../../../src/cli/demo-feed/feed.js';
import {
  bodyText,
  encodeFrame,
  escapeHeader,
  type Frame,
  FrameDecoder,
  unescapeHeader,
} from '../../../src/cli/demo-feed/frames.js';
import { PriceWalk, symbols } from '../../../src/cli/demo-feed/prices.js';
import { StompPublisher } from '../../../src/cli/demo-feed/publisher.js';
import { parseDemoFeedFlags } from '../../../src/cli/demo-feed.js';

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

describe('frames', () => {
  it('encodes SEND with escaped headers and a content-length (golden)', () => {
    expect(text(encodeFrame('SEND', { destination: '/topic/a', 'k:x': 'v\n\\' }, 'hi'))).toBe(
      'SEND\ndestination:/topic/a\nk\\cx:v\\n\\\\\ncontent-length:2\n\nhi\0',
    );
    // CONNECT is never escaped (STOMP 1.2 "Value Encoding").
    expect(text(encodeFrame('CONNECT', { passcode: 'a:b' }))).toBe('CONNECT\npasscode:a:b\n\n\0');
  });

  it('decodes server frames with CRLF, heart-beats and bodies without content-length', () => {
    const d = new FrameDecoder();
    const frames = d.push(
      Buffer.from(
        '\n\r\nCONNECTED\r\nversion:1.2\r\nserver:a\\cb\r\n\r\n\0\nRECEIPT\nreceipt-id:r\\c1\n\n\0',
      ),
    );
    expect(frames.map((f) => [f.command, f.headers])).toEqual([
      ['CONNECTED', { version: '1.2', server: 'a\\cb' }],
      ['RECEIPT', { 'receipt-id': 'r:1' }],
    ]);
    const err = d.push(Buffer.from('ERROR\nmessage:bad\nmessage:second\n\nno such thing\0'));
    expect(err[0]!.headers.message).toBe('bad');
    expect(bodyText(err[0]!)).toBe('no such thing');
  });

  it('rejects malformed frames and oversized ones before buffering them', () => {
    expect(() => new FrameDecoder().push(Buffer.from('lower\n\n\0'))).toThrow(/command/);
    expect(() => new FrameDecoder().push(Buffer.from('ERROR\nnocolon\n\n\0'))).toThrow(/header/);
    expect(() => new FrameDecoder().push(Buffer.from('ERROR\nk:\\t\n\n\0'))).toThrow(/escape/);
    expect(() => new FrameDecoder().push(Buffer.from('ERROR\ncontent-length:1\n\nab\0'))).toThrow(/NUL/);
    expect(() => new FrameDecoder(100).push(Buffer.from('ERROR\ncontent-length:1000\n\n'))).toThrow(/larger/);
    expect(() => new FrameDecoder(16).push(Buffer.alloc(40, 0x41))).toThrow(/larger/);
  });

  it('header escaping round-trips', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(unescapeHeader(escapeHeader(s))).toBe(s);
      }),
    );
  });

  it('any frame survives encoding and any chunking', () => {
    const name = fc.string({ minLength: 1, maxLength: 8 }).filter((n) => n !== 'content-length');
    const frame = fc.record({
      command: fc.constantFrom('SEND', 'MESSAGE', 'ERROR', 'RECEIPT'),
      headers: fc.dictionary(name, fc.string({ maxLength: 12 }), { maxKeys: 4 }),
      body: fc.uint8Array({ maxLength: 64 }),
    });
    fc.assert(
      fc.property(
        fc.array(frame, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (frames, cuts) => {
          const wire = Buffer.concat(frames.map((f) => encodeFrame(f.command, f.headers, f.body)));
          const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
          const d = new FrameDecoder();
          const out: Frame[] = [];
          let at = 0;
          for (const p of [...points, wire.length]) {
            out.push(...d.push(wire.subarray(at, p)));
            at = p;
          }
          expect(out.length).toBe(frames.length);
          out.forEach((f, i) => {
            const want = frames[i]!;
            expect(f.command).toBe(want.command);
            expect(Buffer.from(f.body)).toEqual(Buffer.from(want.body));
            for (const [k, v] of Object.entries(want.headers)) expect(f.headers[k]).toBe(v);
          });
        },
      ),
    );
  });
});

describe('prices', () => {
  it('names distinct symbols and walks deterministically per seed, staying positive', () => {
    const names = symbols(30);
    expect(new Set(names).size).toBe(30);
    expect(names.slice(0, 2)).toEqual(['ACME', 'BLZE']);
    expect(names[29]).toBe('SYM30');
    const a = new PriceWalk(names, 7);
    const b = new PriceWalk(names, 7);
    for (let i = 0; i < 2000; i++) {
      const q = a.next();
      expect(b.next()).toEqual(q);
      expect(q.price).toBeGreaterThanOrEqual(0.01);
      expect(Math.round(q.price * 100)).toBeCloseTo(q.price * 100, 6);
    }
    expect(new PriceWalk(names, 8).next()).not.toEqual(new PriceWalk(names, 7).next());
  });
});

describe('feed loop', () => {
  it('due() keeps the average rate', () => {
    expect(due(0, 10, 0)).toBe(1);
    expect(due(1000, 10, 1)).toBe(10);
    expect(due(1000, 10, 11)).toBe(0);
    expect(due(50, 1000, 0)).toBe(51);
  });

  it('sends count quotes paced by the clock and waits for drain when the sink is full', async () => {
    let clock = 0;
    const sent: Array<{ destination: string; body: string }> = [];
    let drains = 0;
    const sink: Sink = {
      send(destination, body, headers) {
        expect(headers['content-type']).toBe('application/json');
        sent.push({ destination, body });
        return sent.length % 7 !== 0;
      },
      drained: async () => {
        drains++;
      },
    };
    const n = await runFeed({
      walk: new PriceWalk(symbols(3), 1),
      sink,
      rate: 100,
      count: 25,
      now: () => {
        clock += 5;
        return clock;
      },
      tickMs: 1,
    });
    expect(n).toBe(25);
    expect(sent.length).toBe(25);
    expect(drains).toBe(3);
    const first = JSON.parse(sent[0]!.body) as { symbol: string; price: number };
    expect(sent[0]!.destination).toBe(`/topic/prices.${first.symbol}`);
    expect(typeof first.price).toBe('number');
  });

  it('stops when aborted', async () => {
    const stop = new AbortController();
    const sent: string[] = [];
    const run = runFeed({
      walk: new PriceWalk(symbols(1), 1),
      sink: {
        send: (destination) => {
          sent.push(destination);
          return true;
        },
        drained: async () => undefined,
      },
      rate: 1,
      signal: stop.signal,
    });
    setTimeout(() => stop.abort(), 30);
    expect(await run).toBe(1);
    expect(sent).toEqual(['/topic/prices.ACME']);
  });
});

describe('flags', () => {
  it('defaults and parses', () => {
    expect(parseDemoFeedFlags({ seed: '5' })).toEqual({
      host: '127.0.0.1',
      port: 61613,
      symbols: 12,
      rate: 20,
      count: undefined,
      login: undefined,
      passcode: undefined,
      seed: 5,
    });
    expect(
      parseDemoFeedFlags({ url: 'stomp://bob:s%40cret@broker:1234', symbols: '3', rate: '100', count: '9' }),
    ).toMatchObject({
      host: 'broker',
      port: 1234,
      login: 'bob',
      passcode: 's@cret',
      symbols: 3,
      rate: 100,
      count: 9,
    });
    expect(
      parseDemoFeedFlags({ url: 'localhost:7000', user: 'u' }, { BLAZEMQ_PASSWORD: 'pw' }),
    ).toMatchObject({
      host: 'localhost',
      port: 7000,
      login: 'u',
      passcode: 'pw',
    });
  });

  it('refuses bad values with BAD_REQUEST', () => {
    for (const f of [
      { url: 'http://x:8161' },
      { url: 'stomp://[bad' },
      { rate: '0' },
      { symbols: 'ten' },
      { count: '-1' },
    ]) {
      expect(() => parseDemoFeedFlags(f), JSON.stringify(f)).toThrow(
        expect.objectContaining({ code: 'BAD_REQUEST' }),
      );
    }
  });
});

describe('StompPublisher against a fake server', () => {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** A STOMP server that records client frames; `behave` decides the answers. */
  async function fake(
    behave: (f: Frame, socket: Socket) => void,
  ): Promise<{ port: number; frames: Frame[] }> {
    const frames: Frame[] = [];
    server = createServer((socket) => {
      sockets.add(socket);
      const d = new FrameDecoder();
      socket.on('data', (c) => {
        for (const f of d.push(c)) {
          frames.push(f);
          behave(f, socket);
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as { port: number }).port, frames };
  }

  it('connects, sends, and closes once the DISCONNECT receipt arrives', async () => {
    const { port, frames } = await fake((f, s) => {
      if (f.command === 'CONNECT') s.write('CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0');
      if (f.command === 'DISCONNECT') s.write(`RECEIPT\nreceipt-id:${f.headers.receipt}\n\n\0`);
    });
    const p = await StompPublisher.connect({ host: '127.0.0.1', port, login: 'u', passcode: 'p' });
    expect(p.send('/topic/prices.ACME', '{"price":1}', { 'content-type': 'application/json' })).toBe(true);
    await p.drained();
    await p.close();
    expect(frames.map((f) => f.command)).toEqual(['CONNECT', 'SEND', 'DISCONNECT']);
    expect(frames[0]!.headers).toMatchObject({
      'accept-version': '1.2',
      login: 'u',
      passcode: 'p',
      host: '127.0.0.1',
    });
    expect(frames[1]!.headers.destination).toBe('/topic/prices.ACME');
    expect(bodyText(frames[1]!)).toBe('{"price":1}');
  });

  it('fails on an ERROR frame, with the server message', async () => {
    const { port } = await fake((f, s) => {
      if (f.command === 'CONNECT') s.end('ERROR\nmessage:login refused\n\n\0');
    });
    await expect(StompPublisher.connect({ host: '127.0.0.1', port })).rejects.toThrow(/login refused/);
  });

  it('times out when the server never answers', async () => {
    const { port } = await fake(() => undefined);
    await expect(StompPublisher.connect({ host: '127.0.0.1', port, timeoutMs: 100 })).rejects.toThrow(
      /no CONNECTED/,
    );
  });

  it('reports a refused connection', async () => {
    await expect(StompPublisher.connect({ host: '127.0.0.1', port: 1 })).rejects.toMatchObject({
      code: 'CLOSED',
    });
  });
});
