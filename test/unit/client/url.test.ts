import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exhausted, reconnectDelay } from '../../../src/client/backoff.js';
import { parseEndpoint, parseUrl } from '../../../src/client/url.js';

describe('broker URLs', () => {
  it('parses each scheme, with default ports and the /native path', () => {
    expect(parseEndpoint('tcp://localhost:1234')).toMatchObject({
      scheme: 'tcp',
      host: 'localhost',
      port: 1234,
    });
    expect(parseEndpoint('tcp://broker')).toMatchObject({ port: 61616 });
    expect(parseEndpoint('tls://broker')).toMatchObject({ scheme: 'tls', port: 61617 });
    expect(parseEndpoint('ws://h:8161')).toMatchObject({ scheme: 'ws', path: '/native', port: 8161 });
    expect(parseEndpoint('wss://h/other')).toMatchObject({ scheme: 'wss', path: '/other' });
    expect(parseEndpoint('tcp://[::1]:5')).toMatchObject({ host: '::1', port: 5 });
    expect(parseEndpoint('vm://embedded')).toMatchObject({ scheme: 'vm', host: 'embedded' });
  });

  it('rejects what it cannot connect to, with BAD_URL', () => {
    for (const bad of ['http://x', 'localhost:1', 'tcp://', 'vm://', 'failover:()', 'failover:(tcp://a']) {
      expect(() => parseUrl(bad), bad).toThrow(expect.objectContaining({ code: 'BAD_URL' }));
    }
    expect(() => parseUrl('failover:(tcp://a)?nope=1')).toThrow(/unknown failover option nope/);
  });

  it("parses ActiveMQ's failover syntax and its back-off options", () => {
    const p = parseUrl(
      'failover:(tcp://a:1,ws://b:2/native)?initialReconnectDelay=10&maxReconnectDelay=500&backOffMultiplier=3&maxReconnectAttempts=4&randomize=false',
    );
    expect(p.failover).toBe(true);
    expect(p.endpoints.map((e) => `${e.scheme}:${e.host}:${e.port}`)).toEqual(['tcp:a:1', 'ws:b:2']);
    expect(p.reconnect).toEqual({
      initialDelay: 10,
      maxDelay: 500,
      multiplier: 3,
      maxReconnectAttempts: 4,
      randomize: false,
    });
    expect(parseUrl('failover:tcp://a,tcp://b').endpoints).toHaveLength(2);
    expect(parseUrl('failover:(tcp://a)?useExponentialBackOff=false').reconnect.multiplier).toBe(1);
    expect(parseUrl('tcp://a').failover).toBe(false);
  });

  it('never throws anything but BAD_URL on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        try {
          parseUrl(s);
        } catch (e) {
          expect((e as { code?: string }).code).toBe('BAD_URL');
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('reconnect back-off', () => {
  const o = { initialDelay: 100, maxDelay: 1000, multiplier: 2, maxReconnectAttempts: 3, randomize: false };

  it('grows exponentially from the initial delay up to the cap', () => {
    expect([1, 2, 3, 4, 5, 60].map((a) => reconnectDelay(a, o))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(reconnectDelay(5000, o)).toBe(1000); // overflow to Infinity still capped
  });

  it('gives up after maxReconnectAttempts failures, never when -1', () => {
    expect(exhausted(3, o)).toBe(false);
    expect(exhausted(4, o)).toBe(true);
    expect(exhausted(1e9, { ...o, maxReconnectAttempts: -1 })).toBe(false);
  });
});
