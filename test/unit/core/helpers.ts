import type {
  BlazeCore,
  BrokerCoreOptions,
  CoreConnection,
  Delivery,
  DeliverySink,
  Message,
  Principal,
  SelectorPredicate,
  SubscribeOptions,
  Subscription,
} from '../../../src/core/index.js';
import { createBrokerCore, ManualScheduler } from '../../../src/core/index.js';
import { BlazeError } from '../../../src/util/errors.js';

export const anonymous: Principal = { user: 'anonymous', anonymous: true };

export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function text(m: Message): string {
  return new TextDecoder().decode(m.body);
}

/**
 * Test selector compiler: `a = 'x'`, `a = 3`, `a > 3`, `a < 3`, joined by `AND`. Enough to exercise the
 * selector plumbing without depending on the real compiler.
 */
export function simpleSelector(source: string): SelectorPredicate {
  const tests = source.split(/\s+AND\s+/i).map((clause) => {
    const m = /^\s*(\w+)\s*(=|>|<)\s*(?:'([^']*)'|(-?\d+))\s*$/.exec(clause);
    if (m === null) throw new BlazeError('INVALID_SELECTOR', `cannot parse '${clause}'`);
    const [, key, op, str, num] = m;
    const value: string | number = str ?? Number(num);
    return (msg: Message) => {
      const v = msg.properties[key!] ?? (key === 'JMSPriority' ? msg.priority : undefined);
      if (v === undefined || v === null) return false;
      if (op === '=') return v === value;
      if (typeof v !== 'number' || typeof value !== 'number') return false;
      return op === '>' ? v > value : v < value;
    };
  });
  return (msg) => tests.every((t) => t(msg));
}

export class Recorder implements DeliverySink {
  readonly deliveries: Delivery[] = [];
  closedReason: string | undefined;
  /** Optional hook run inside deliver (re-entrancy tests). */
  onDeliver: ((sub: Subscription, d: Delivery) => void) | undefined;

  deliver(sub: Subscription, d: Delivery): void {
    this.deliveries.push(d);
    this.onDeliver?.(sub, d);
  }

  closed(_sub: Subscription, reason: string): void {
    this.closedReason = reason;
  }

  texts(): string[] {
    return this.deliveries.map((d) => text(d.message));
  }

  /** Returns and forgets what was received so far. */
  take(): Delivery[] {
    return this.deliveries.splice(0);
  }

  get last(): Delivery {
    const d = this.deliveries[this.deliveries.length - 1];
    if (d === undefined) throw new Error('nothing delivered');
    return d;
  }
}

export interface Harness {
  core: BlazeCore;
  time: ManualScheduler;
  connect(clientId?: string, principal?: Principal): CoreConnection;
  /** Subscribes with a fresh recorder. */
  sub(
    conn: CoreConnection,
    options: Partial<SubscribeOptions> & { address: string },
  ): { sub: Subscription; rec: Recorder };
}

export async function harness(options: BrokerCoreOptions = {}): Promise<Harness> {
  const time = new ManualScheduler();
  const core = await createBrokerCore({
    clock: time,
    scheduler: time,
    compileSelector: simpleSelector,
    ...options,
  });
  return {
    core,
    time,
    connect: (clientId, principal = anonymous) => core.connect({ principal, clientId, protocol: 'test' }),
    sub(conn, opts) {
      const rec = new Recorder();
      const sub = conn.subscribe({ ackMode: 'individual', prefetch: 1000, ...opts }, rec);
      return { sub, rec };
    },
  };
}

/** Sends several bodies to one address. */
export async function sendAll(
  conn: CoreConnection,
  address: string,
  bodies: string[],
  extra: Omit<Parameters<CoreConnection['send']>[0], 'address' | 'body'> = {},
): Promise<void> {
  for (const b of bodies) await conn.send({ address, body: bytes(b), ...extra });
}

export async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if ((e as BlazeError).code !== code)
      throw new Error(`expected ${code}, got ${(e as BlazeError).code}: ${e}`);
    return;
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}
