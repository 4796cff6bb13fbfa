/** Pure parts of `blazemq group`: flag parsing into ChannelOptions, and the bench statistics. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HEADER_SIZE,
  KIND_DATA,
  quantile,
  readHeader,
  Stream,
  writeHeader,
} from '../../../src/cli/group/bench-stats.js';
import {
  channelOptions,
  DEFAULT_MULTICAST,
  parseMulticast,
  parsePeers,
} from '../../../src/cli/group/options.js';
import { isBlazeError } from '../../../src/util/errors.js';

function configError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isBlazeError(e) && e.code === 'CONFIG') return e.message;
    throw e;
  }
  throw new Error('no error');
}

describe('group CLI flags', () => {
  it('defaults to multicast on the default group', () => {
    const o = channelOptions({});
    expect(o.name).toBe('blazemq');
    expect(o.udp?.multicast).toEqual(parseMulticast(DEFAULT_MULTICAST));
    expect(o.udp?.peers).toBeUndefined();
  });

  it('maps every flag', () => {
    const o = channelOptions({
      group: 'chat',
      multicast: '239.1.2.3:5000',
      interface: '10.0.0.5',
      bind: '10.0.0.5',
      port: '7000',
      ttl: '4',
      loop: false,
      maxDatagram: '8832',
      heartbeat: '100',
      failureTimeout: '1000',
      verifyTimeout: '300',
      discoveryTimeout: '500',
      window: '4096',
      windowBytes: '65536',
    });
    expect(o).toEqual({
      name: 'chat',
      udp: {
        bindAddress: '10.0.0.5',
        port: 7000,
        maxDatagram: 8832,
        multicast: { group: '239.1.2.3', port: 5000, interface: '10.0.0.5', ttl: 4, loopback: false },
      },
      membership: { heartbeatInterval: 100, failureTimeout: 1000, verifyTimeout: 300, discoveryTimeout: 500 },
      nack: { window: 4096, windowBytes: 65536 },
    });
  });

  it('unicast-only mode advertises the bind address', () => {
    const o = channelOptions({ peers: '127.0.0.1:1000, 127.0.0.1:1001', bind: '127.0.0.1', port: '1000' });
    expect(o.udp).toEqual({
      bindAddress: '127.0.0.1',
      port: 1000,
      peers: ['127.0.0.1:1000', '127.0.0.1:1001'],
      advertiseAddress: '127.0.0.1',
    });
  });

  it('refuses contradictions and bad values, naming the flag', () => {
    expect(configError(() => channelOptions({ peers: '127.0.0.1:1', multicast: '239.1.1.1:1' }))).toMatch(
      /either --multicast or --peers/,
    );
    expect(configError(() => channelOptions({ multicast: '10.1.1.1:5000' }))).toMatch(/--multicast/);
    expect(configError(() => channelOptions({ port: '70000' }))).toMatch(/--port/);
    expect(configError(() => channelOptions({ heartbeat: 'fast' }))).toMatch(/--heartbeat/);
    expect(configError(() => channelOptions({ heartbeat: '500', failureTimeout: '800' }))).toMatch(
      /twice --heartbeat/,
    );
    expect(configError(() => channelOptions({ peers: '127.0.0.1:1', ttl: '2' }))).toMatch(/--ttl/);
    expect(configError(() => parsePeers('localhost:80'))).toMatch(/numeric IP/);
    expect(configError(() => parsePeers(','))).toMatch(/at least one/);
  });

  it('never throws anything but a CONFIG error on arbitrary flag text', () => {
    const text = fc.option(fc.string({ maxLength: 30 }), { nil: undefined });
    fc.assert(
      fc.property(text, text, text, text, (multicast, peers, port, heartbeat) => {
        try {
          channelOptions({ multicast, peers, port, heartbeat });
        } catch (e) {
          expect(isBlazeError(e) && e.code === 'CONFIG').toBe(true);
        }
      }),
    );
  });
});

describe('bench statistics', () => {
  it('quantile is nearest-rank', () => {
    const xs = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(xs, 0.5)).toBe(50);
    expect(quantile(xs, 0.99)).toBe(99);
    expect(quantile(xs, 1)).toBe(100);
    expect(quantile([7], 0.5)).toBe(7);
    expect(Number.isNaN(quantile([], 0.5))).toBe(true);
  });

  it('header round-trips and a stream counts order, rate and latency', () => {
    const b = Buffer.alloc(64);
    writeHeader(b, KIND_DATA, 41, 1234.5);
    expect(readHeader(b)).toEqual({ kind: KIND_DATA, seq: 41, time: 1234.5 });
    expect(readHeader(b.subarray(0, HEADER_SIZE - 1))).toBeUndefined();

    const s = new Stream('a');
    for (let i = 0; i < 1000; i++) s.add({ kind: KIND_DATA, seq: i, time: i }, 64, i + 2); // 1 msg/ms, 2 ms late
    s.add({ kind: KIND_DATA, seq: 2000, time: 1000 }, 64, 1010);
    const r = s.result(1001);
    expect(r).toMatchObject({ received: 1001, expected: 1001, disorder: 1 });
    expect(r.latencyMs.p50).toBe(2);
    expect(r.latencyMs.max).toBe(10);
    expect(r.msgsPerSec).toBe(Math.round(1001 / 1.008));
  });
});
