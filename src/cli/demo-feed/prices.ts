/**
 * Made-up market data for the demo: a set of symbols whose prices follow a seeded random walk
 * (geometric, so prices stay positive and moves are proportional). Pure and deterministic per seed.
 */
import { seededRandom } from '../../util/random.js';

const NAMES = [
  'ACME',
  'BLZE',
  'CYBD',
  'DYNA',
  'ECHO',
  'FLUX',
  'GLBX',
  'HOOL',
  'INIT',
  'JETS',
  'KRNL',
  'LUMN',
  'MRKT',
  'NOVA',
  'OMNI',
  'PIXL',
  'QBIT',
  'RAPT',
  'STRK',
  'TYRL',
  'UMBR',
  'VOLT',
  'WAYN',
  'XENO',
  'YOTA',
  'ZETA',
];

/** `n` distinct symbols: the names above, then `SYM27`, `SYM28`... */
export function symbols(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(i < NAMES.length ? NAMES[i]! : `SYM${i + 1}`);
  return out;
}

export interface Quote {
  symbol: string;
  price: number;
  /** Change from the previous quote of the symbol. */
  change: number;
}

export class PriceWalk {
  private readonly prices = new Map<string, number>();
  private readonly random: () => number;

  constructor(
    readonly names: readonly string[],
    seed = 1,
    /** Standard deviation of one step's log return. */
    private readonly volatility = 0.004,
  ) {
    if (names.length === 0) throw new RangeError('at least one symbol');
    this.random = seededRandom(seed);
    for (const s of names) this.prices.set(s, cents(10 + this.random() * 490));
  }

  /** The next quote of a random symbol. */
  next(): Quote {
    const symbol = this.names[Math.floor(this.random() * this.names.length)]!;
    const old = this.prices.get(symbol)!;
    const price = Math.max(0.01, cents(old * Math.exp(this.volatility * this.gaussian())));
    this.prices.set(symbol, price);
    return { symbol, price, change: cents(price - old) };
  }

  price(symbol: string): number | undefined {
    return this.prices.get(symbol);
  }

  /** Box-Muller. */
  private gaussian(): number {
    const u = 1 - this.random();
    const v = this.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

const cents = (p: number) => Math.round(p * 100) / 100;
