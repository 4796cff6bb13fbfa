import { describe, expect, it } from 'vitest';
import { decodeAckId, encodeAckId } from '../../../src/protocol/stomp/ack-id.js';
import { DestinationMapper } from '../../../src/protocol/stomp/index.js';

function mapper(max = 10) {
  let n = 0;
  return new DestinationMapper((kind) => `temp-${kind}://c1:${++n}`, max);
}

describe('DestinationMapper', () => {
  it('maps STOMP destinations to canonical addresses', () => {
    const m = mapper();
    expect(m.toAddress('/queue/orders')).toBe('queue://orders');
    expect(m.toAddress('/topic/prices.NASDAQ.>')).toBe('topic://prices.NASDAQ.>');
    expect(m.toAddress('/queue/a, /topic/b')).toBe('queue://a,topic://b');
    expect(m.toAddress('/remote-temp-topic/x:1')).toBe('temp-topic://x:1');
    expect(m.toAddress('queue://already')).toBe('queue://already');
  });

  it('creates one temporary per name, and renders it back under that name', () => {
    const m = mapper();
    const a = m.toAddress('/temp-queue/r');
    expect(m.toAddress('/temp-queue/r')).toBe(a);
    expect(m.toAddress('/temp-topic/r')).toBe('temp-topic://c1:2');
    expect(m.render(a)).toBe('/temp-queue/r');
    expect(m.render('temp-queue://other:7')).toBe('/remote-temp-queue/other:7');
    expect(m.render('temp-topic://other:7')).toBe('/remote-temp-topic/other:7');
  });

  it('renders canonical addresses, composites and unknown schemes', () => {
    const m = mapper();
    expect(m.render('queue://a')).toBe('/queue/a');
    expect(m.render('topic://a.b')).toBe('/topic/a.b');
    expect(m.render('queue://a,topic://b')).toBe('/queue/a,/topic/b');
    expect(m.render('odd')).toBe('odd');
  });

  it('refuses invalid destinations and too many temporaries', () => {
    const m = mapper(1);
    for (const d of ['', 'orders', '/queue/', '/queue/a,', '/elsewhere/x'])
      expect(() => m.toAddress(d)).toThrow();
    m.toAddress('/temp-queue/a');
    expect(() => m.toAddress('/temp-queue/b')).toThrow(/At most 1/);
  });
});

describe('ack ids', () => {
  it('round-trip and refuse garbage', () => {
    expect(decodeAckId(encodeAckId(3, 123456789))).toEqual({ subscriptionIndex: 3, tag: 123456789 });
    expect(decodeAckId('')).toBeNull();
    expect(decodeAckId('1-')).toBeNull();
    expect(decodeAckId('a-b-c')).toBeNull();
  });
});
