/** The ticker page's model: reading price messages and keeping the board. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quoteFrame } from '../../../src/cli/demo-feed/feed.js';
import { Board, changeOf, formatChange, formatPrice, parseTick } from '../../../web/ticker/model.js';

describe('parseTick', () => {
  it('reads JSON bodies, bare numbers, and the symbol from the address', () => {
    expect(parseTick('topic://prices.IBM', '{"symbol":"IBM","price":123.45}')).toEqual({
      symbol: 'IBM',
      price: 123.45,
    });
    expect(parseTick('topic://prices.IBM', '{"price":"99.5"}')).toEqual({ symbol: 'IBM', price: 99.5 });
    expect(parseTick('topic://prices.NASDAQ.AAPL', ' 187.2 ')).toEqual({
      symbol: 'NASDAQ.AAPL',
      price: 187.2,
    });
    expect(parseTick('topic://other', '{"symbol":"X","last":2}')).toEqual({ symbol: 'X', price: 2 });
  });

  it('ignores what is not a price', () => {
    expect(parseTick('topic://prices.IBM', 'hello')).toBeUndefined();
    expect(parseTick('topic://prices.IBM', '{"price":-1}')).toBeUndefined();
    expect(parseTick('topic://prices.IBM', '{"price":"abc"}')).toBeUndefined();
    expect(parseTick('topic://prices.IBM', '{broken')).toBeUndefined();
    expect(parseTick('topic://other', '12')).toBeUndefined();
    expect(parseTick('topic://prices.IBM', '[1]')).toBeUndefined();
  });

  it('never throws, and what it accepts is a finite non-negative price', () => {
    fc.assert(
      fc.property(fc.string(), fc.oneof(fc.string(), fc.json()), (addr, body) => {
        const t = parseTick(`topic://prices.${addr}`, body);
        if (t) expect(Number.isFinite(t.price) && t.price >= 0 && t.symbol.length > 0).toBe(true);
      }),
    );
  });

  it('reads what demo-feed publishes', () => {
    const f = quoteFrame({ symbol: 'ACME', price: 12.34, change: -0.5 }, 1);
    const address = `topic://${f.destination.slice('/topic/'.length)}`;
    expect(parseTick(address, f.body)).toEqual({ symbol: 'ACME', price: 12.34 });
  });
});

describe('Board', () => {
  it('tracks direction, change since open and tick counts', () => {
    const b = new Board();
    expect(b.apply({ symbol: 'B', price: 10 }, 1)).toMatchObject({ direction: 0, open: 10, ticks: 1 });
    expect(b.apply({ symbol: 'B', price: 11 }, 2)).toMatchObject({ direction: 1, previous: 10, ticks: 2 });
    const r = b.apply({ symbol: 'B', price: 9 }, 3)!;
    expect(r.direction).toBe(-1);
    expect(changeOf(r)).toEqual({ change: -1, percent: -10 });
    b.apply({ symbol: 'A', price: 1 }, 4);
    expect(b.sorted().map((x) => x.symbol)).toEqual(['A', 'B']);
  });

  it('refuses new symbols beyond its size but keeps updating known ones', () => {
    const b = new Board(2);
    b.apply({ symbol: 'A', price: 1 }, 0);
    b.apply({ symbol: 'B', price: 1 }, 0);
    expect(b.apply({ symbol: 'C', price: 1 }, 0)).toBeUndefined();
    expect(b.apply({ symbol: 'A', price: 2 }, 0)?.price).toBe(2);
    expect(b.size).toBe(2);
  });

  it('formats prices and changes', () => {
    expect(formatPrice(123.456)).toBe('123.46');
    expect(formatPrice(0.12345)).toBe('0.1235');
    expect(formatChange(1.5, 2.25)).toBe('+1.50 (+2.25%)');
    expect(formatChange(-0.5, -1)).toBe('-0.50 (-1.00%)');
    expect(formatChange(0, 0)).toBe('0.00 (0.00%)');
  });
});
