/** The console's pure parts: formatting, hash routes, the send form, chart geometry and history. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatDuration, formatRate } from '../../../web/console/format.js';
import { LiveHistory } from '../../../web/console/live.js';
import { displayBody, parseProperties, toSendRequest } from '../../../web/console/message-form.js';
import { parseRoute, type Route, routeHash } from '../../../web/console/router.js';
import { linePath, niceCeiling, Series } from '../../../web/console/series.js';
import type { Overview, QueueInfo } from '../../../web/console/types.js';

describe('format', () => {
  it('bytes, durations, counts, rates', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(50 * 1024 * 1024)).toBe('50 MiB');
    expect(formatBytes(-1)).toBe('-');
    expect(formatDuration(null)).toBe('-');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_000)).toBe('12 s');
    expect(formatDuration(184_000)).toBe('3 m 4 s');
    expect(formatDuration(7_500_000)).toBe('2 h 5 m');
    expect(formatDuration(3 * 86_400_000 + 3_600_000)).toBe('3 d 1 h');
    expect(formatDuration(3_600_000)).toBe('1 h');
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(-1000)).toBe('-1,000');
    expect(formatCount(12.345)).toBe('12.34');
    expect(formatRate(3.25)).toBe('3.3');
    expect(formatRate(12345.6)).toBe('12,346');
  });

  it('formatCount keeps the digits of any integer', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (n) => {
        expect(Number(formatCount(n).replaceAll(',', ''))).toBe(n);
      }),
    );
  });
});

describe('routes', () => {
  it('parses the known hashes and falls back to the overview', () => {
    expect(parseRoute('')).toEqual({ view: 'overview' });
    expect(parseRoute('#/queues')).toEqual({ view: 'queues' });
    expect(parseRoute('#/queues/orders%2Feu')).toEqual({ view: 'queue', name: 'orders/eu' });
    expect(parseRoute('#/queues/%E0%A4%A')).toEqual({ view: 'overview' });
    expect(parseRoute('#/send/topics/prices.IBM')).toEqual({
      view: 'send',
      kind: 'topics',
      name: 'prices.IBM',
    });
    expect(parseRoute('#/send')).toEqual({ view: 'send', kind: 'queues', name: '' });
    expect(parseRoute('#/nope/x/y')).toEqual({ view: 'overview' });
  });

  it('routeHash and parseRoute round-trip for any name', () => {
    const route = fc.oneof(
      fc.constantFrom<Route>(
        { view: 'overview' },
        { view: 'queues' },
        { view: 'topics' },
        { view: 'subscriptions' },
        { view: 'connections' },
      ),
      fc.string({ minLength: 1 }).map((name): Route => ({ view: 'queue', name })),
      fc
        .record({ kind: fc.constantFrom('queues' as const, 'topics' as const), name: fc.string() })
        .map((r): Route => ({ view: 'send', ...r })),
    );
    fc.assert(
      fc.property(route, (r) => {
        expect(parseRoute(routeHash(r))).toEqual(r);
      }),
    );
  });
});

describe('send form', () => {
  const form = { body: 'hi', properties: '', persistent: true, priority: '', correlationId: '', replyTo: '' };

  it('parses name=value lines, skipping blanks and comments', () => {
    expect(parseProperties('a=1\n\n# c\n region = EU \r\nx.y=a=b')).toEqual({
      ok: true,
      value: { a: '1', region: 'EU', 'x.y': 'a=b' },
    });
    expect(parseProperties('novalue')).toMatchObject({ ok: false, error: expect.stringContaining('line 1') });
    expect(parseProperties('1x=2')).toMatchObject({ ok: false });
    expect(parseProperties('a=1\na=2')).toMatchObject({ ok: false, error: expect.stringContaining('twice') });
  });

  it('property lines round-trip', () => {
    const name = fc.stringMatching(/^[A-Za-z_][\w.]{0,10}$/);
    const value = fc.stringMatching(/^[^\r\n]*$/).map((v) => v.trim());
    fc.assert(
      fc.property(fc.dictionary(name, value), (props) => {
        const text = Object.entries(props)
          .map(([k, v]) => `${k}=${v}`)
          .join('\n');
        const parsed = parseProperties(text);
        expect(parsed).toEqual({ ok: true, value: props });
      }),
    );
  });

  it('builds the send request and checks the priority', () => {
    expect(toSendRequest(form)).toEqual({ ok: true, value: { body: 'hi', persistent: true } });
    expect(
      toSendRequest({
        ...form,
        properties: 'k=v',
        priority: '7',
        correlationId: ' c1 ',
        replyTo: 'queue://r',
      }),
    ).toEqual({
      ok: true,
      value: {
        body: 'hi',
        persistent: true,
        properties: { k: 'v' },
        priority: 7,
        correlationId: 'c1',
        replyTo: 'queue://r',
      },
    });
    expect(toSendRequest({ ...form, priority: '10' })).toMatchObject({ ok: false });
    expect(toSendRequest({ ...form, priority: 'x' })).toMatchObject({ ok: false });
  });

  it('shows binary bodies as hex', () => {
    expect(displayBody({ body: 'plain' })).toBe('plain');
    expect(displayBody({ body: Buffer.from([0, 255, 16]).toString('base64'), bodyEncoding: 'base64' })).toBe(
      '(binary, 3 bytes) 00 ff 10',
    );
    expect(displayBody({ body: Buffer.alloc(10).toString('base64'), bodyEncoding: 'base64' }, 2)).toBe(
      '(binary, 10 bytes) 00 00 ... (10 bytes)',
    );
  });
});

describe('chart series', () => {
  it('keeps only the window and at most max samples', () => {
    const s = new Series(1000, 5);
    for (let t = 0; t <= 3000; t += 100) s.push(t, t);
    expect(s.values().length).toBe(5);
    expect(s.values()[0]!.t).toBe(2600);
    const w = new Series(1000);
    for (let t = 0; t <= 3000; t += 500) w.push(t, 1);
    expect(w.values().map((p) => p.t)).toEqual([2000, 2500, 3000]);
  });

  it('starts over when the clock steps back, and ignores NaN', () => {
    const s = new Series(10_000);
    s.push(1000, 1);
    s.push(2000, 2);
    s.push(500, 3);
    s.push(600, Number.NaN);
    expect(s.values()).toEqual([{ t: 500, v: 3 }]);
  });

  it('niceCeiling is 1, 2 or 5 times a power of ten and covers the max', () => {
    expect(niceCeiling(0)).toBe(1);
    expect(niceCeiling(3)).toBe(5);
    expect(niceCeiling(10)).toBe(10);
    expect(niceCeiling(101)).toBe(200);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e12, noNaN: true }), (m) => {
        const c = niceCeiling(m);
        expect(c).toBeGreaterThanOrEqual(m);
        const mant = c / 10 ** Math.floor(Math.log10(c) + 1e-9);
        expect([1, 2, 5].some((x) => Math.abs(mant - x) < 1e-6)).toBe(true);
      }),
    );
  });

  it('draws every point inside the box', () => {
    const plot = { width: 600, height: 160, end: 10_000, windowMs: 10_000, yMax: 100 };
    expect(linePath([], plot)).toBe('');
    expect(
      linePath(
        [
          { t: 0, v: 0 },
          { t: 5000, v: 50 },
          { t: 10_000, v: 200 },
        ],
        plot,
      ),
    ).toBe('M0 160 L300 80 L600 0');
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            t: fc.integer({ min: -5000, max: 10_000 }),
            v: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
          }),
        ),
        (samples) => {
          const d = linePath(samples, plot);
          for (const m of d.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)) {
            const x = Number(m[1]);
            const y = Number(m[2]);
            expect(x >= 0 && x <= 600 && y >= 0 && y <= 160).toBe(true);
          }
        },
      ),
    );
  });
});

describe('live history', () => {
  const overview = (inRate: number, outRate: number) =>
    ({ rates: { enqueuedPerSecond: inRate, dequeuedPerSecond: outRate } }) as Overview;
  const queue = (name: string, depth: number) => ({ name, depth }) as QueueInfo;

  it('records rates, total depth and the deepest queues; forgets deleted queues', () => {
    const h = new LiveHistory(60_000);
    h.record(1000, overview(5, 2), [queue('a', 3), queue('b', 10), queue('c', 0)]);
    h.record(2000, overview(6, 1), [queue('a', 4), queue('b', 10)]);
    expect(h.enqueued.values().map((s) => s.v)).toEqual([5, 6]);
    expect(h.dequeued.latest()).toBe(1);
    expect(h.totalDepth.values().map((s) => s.v)).toEqual([13, 14]);
    expect(h.topQueues().map((q) => q.name)).toEqual(['b', 'a']);
    h.record(3000, undefined, [queue('a', 1)]);
    expect(h.topQueues().map((q) => q.name)).toEqual(['a']);
    expect(h.enqueued.values().length).toBe(2);
  });
});
