/**
 * The ticker board's state: the last price per symbol and its change since the previous tick and since
 * the first tick seen (the "open"). Ticks come from messages on `topic://prices.<SYMBOL>` whose body is
 * JSON (`{"symbol":"IBM","price":123.45}`, as `blazemq demo-feed` sends) or a bare number. Pure.
 */

export interface Tick {
  symbol: string;
  price: number;
}

export interface Row {
  symbol: string;
  price: number;
  /** Price before this tick (equal to price on the first tick). */
  previous: number;
  /** First price seen for the symbol since the page opened. */
  open: number;
  /** -1 down, 0 unchanged, 1 up: from the previous tick. */
  direction: -1 | 0 | 1;
  ticks: number;
  updatedAt: number;
}

const PREFIX = 'topic://prices.';
const MAX_SYMBOL = 32;

/** The message's symbol and price, or undefined when it is not a price (it is then ignored). */
export function parseTick(address: string, body: string): Tick | undefined {
  let symbol = address.startsWith(PREFIX) ? address.slice(PREFIX.length) : '';
  let price: unknown;
  const text = body.trim();
  if (text.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (typeof json !== 'object' || json === null) return undefined;
    const o = json as Record<string, unknown>;
    if (typeof o.symbol === 'string' && o.symbol !== '') symbol = o.symbol;
    price = o.price ?? o.last;
    if (typeof price === 'string' && price.trim() !== '') price = Number(price);
  } else if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    price = Number(text);
  }
  if (typeof price !== 'number' || !Number.isFinite(price) || price < 0) return undefined;
  if (symbol === '' || symbol.length > MAX_SYMBOL) return undefined;
  return { symbol, price };
}

export class Board {
  private readonly rows = new Map<string, Row>();

  /** Symbols shown at most; more would make the page a memory leak for a feed with churning names. */
  constructor(readonly maxSymbols = 500) {}

  /** Applies a tick; returns the updated row, or undefined when the board is full and the symbol new. */
  apply(tick: Tick, now: number): Row | undefined {
    const old = this.rows.get(tick.symbol);
    if (!old && this.rows.size >= this.maxSymbols) return undefined;
    const previous = old ? old.price : tick.price;
    const row: Row = {
      symbol: tick.symbol,
      price: tick.price,
      previous,
      open: old ? old.open : tick.price,
      direction: tick.price > previous ? 1 : tick.price < previous ? -1 : 0,
      ticks: (old?.ticks ?? 0) + 1,
      updatedAt: now,
    };
    this.rows.set(tick.symbol, row);
    return row;
  }

  get(symbol: string): Row | undefined {
    return this.rows.get(symbol);
  }

  /** Rows in symbol order (a stable table: rows do not jump around as prices move). */
  sorted(): Row[] {
    return [...this.rows.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  }

  get size(): number {
    return this.rows.size;
  }
}

/** Change since the open, absolute and in percent (0 when the open is 0). */
export function changeOf(row: Row): { change: number; percent: number } {
  const change = row.price - row.open;
  return { change, percent: row.open === 0 ? 0 : (change / row.open) * 100 };
}

/** Prices shown with 2 decimals (4 below 1, for pennies). */
export function formatPrice(p: number): string {
  return p < 1 ? p.toFixed(4) : p.toFixed(2);
}

export function formatChange(c: number, percent: number): string {
  const sign = c > 0 ? '+' : c < 0 ? '-' : '';
  return `${sign}${Math.abs(c).toFixed(2)} (${sign}${Math.abs(percent).toFixed(2)}%)`;
}
