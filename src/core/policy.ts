/**
 * Limits and policies, with ActiveMQ's defaults where ActiveMQ has one. Per-address overrides are
 * matched by pattern (same wildcards as subscriptions, on the whole canonical address:
 * `queue://orders.>`); every matching override applies, later ones win.
 */
import { BlazeError } from '../util/errors.js';
import { levels, parseAddress, parseAddressPattern } from './address.js';
import { matchLevels } from './wildcard.js';

export type ExpiredMessagePolicy = 'drop' | 'dlq';
/**
 * What a topic subscription does when its pending buffer is full (paused or out of credit; full = its
 * message count, its memory limit, or the global memory limit reached; see core/memory.ts):
 * - 'drop-oldest': evict the oldest buffered message (ActiveMQ's oldest-message eviction);
 * - 'drop-newest': discard the new message;
 * - 'block': keep it and make the producer wait until this subscriber drains (one slow subscriber then
 *   slows every producer of the topic: what choosing 'block' asks for);
 * - 'conflate': the buffer keeps only the latest message per key (`conflationKey`), in the place of the
 *   first one buffered; a new key arriving at a full buffer evicts the oldest entry.
 */
export type SlowConsumerPolicy = 'drop-oldest' | 'drop-newest' | 'block' | 'conflate';

export const SLOW_CONSUMER_POLICIES: readonly SlowConsumerPolicy[] = [
  'drop-oldest',
  'drop-newest',
  'block',
  'conflate',
];

export interface DestinationPolicy {
  /** Redeliveries before a message is dead-lettered (ActiveMQ default 6: 7 deliveries). -1 = no limit. */
  maxRedeliveries: number;
  /**
   * Dead-letter address template; `{name}` is the original destination's name, `{kind}` its kind.
   * Default `queue://DLQ.{name}` (ActiveMQ's individual DLQ strategy). Messages failing again while
   * on a dead-letter queue are dropped, never dead-lettered twice.
   */
  deadLetterAddress: string;
  /** ActiveMQ drops non-persistent messages instead of dead-lettering them by default; we keep them. */
  deadLetterNonPersistent: boolean;
  /** Expired messages found on dispatch or by the sweep. ActiveMQ default: to the DLQ. */
  expiredMessages: ExpiredMessagePolicy;
  /** Max messages waiting in one topic subscription's buffer. */
  topicSubscriberBuffer: number;
  slowConsumerPolicy: SlowConsumerPolicy;
  /**
   * For 'conflate': the message property naming the key (e.g. `sym`); '' = the message group id
   * (JMSXGroupID). Messages without the key are never conflated.
   */
  conflationKey: string;
  /**
   * Bytes (body + MESSAGE_OVERHEAD each) one destination may hold: a queue's pending and in-flight
   * messages, or one topic subscription's buffer. Beyond it queue producers wait and topic buffers
   * count as full. 0 = no limit.
   */
  memoryLimit: number;
  /** Max messages held by a queue (pending + in flight); a send beyond it fails LIMIT_EXCEEDED. 0 = none. */
  maxQueueDepth: number;
}

export interface PolicyOverride {
  /** Address pattern, e.g. `queue://orders.>` or `topic://prices.*`. */
  match: string;
  policy: Partial<DestinationPolicy>;
}

export interface CorePolicy extends DestinationPolicy {
  /** How often queues are swept for expired messages (ActiveMQ expireMessagesPeriod 30 s). 0 = never. */
  expirySweepIntervalMs: number;
  /** Bytes all destinations together may hold before producers wait (core/memory.ts). 0 = no limit. */
  globalMemoryLimit: number;
  overrides: readonly PolicyOverride[];
}

export const DEFAULT_POLICY: Readonly<CorePolicy> = Object.freeze({
  maxRedeliveries: 6,
  deadLetterAddress: 'queue://DLQ.{name}',
  deadLetterNonPersistent: true,
  expiredMessages: 'dlq',
  topicSubscriberBuffer: 10_000,
  // Like ActiveMQ's producer flow control: no message is dropped unless an address opts into dropping or
  // conflation (market data). A subscriber that never drains is disconnected by its protocol's timeout.
  slowConsumerPolicy: 'block',
  conflationKey: '',
  memoryLimit: 64 * 1024 * 1024,
  maxQueueDepth: 0,
  expirySweepIntervalMs: 30_000,
  globalMemoryLimit: 512 * 1024 * 1024,
  overrides: [],
});

interface CompiledOverride {
  kind: string;
  levels: string[];
  policy: Partial<DestinationPolicy>;
}

/** Resolves the effective policy of each destination; cheap to call once per destination creation. */
export class PolicyResolver {
  readonly base: Readonly<CorePolicy>;
  private readonly overrides: CompiledOverride[];

  constructor(options?: Partial<CorePolicy>) {
    this.base = { ...DEFAULT_POLICY, ...options, overrides: options?.overrides ?? [] };
    validate(this.base, 'policy');
    this.overrides = this.base.overrides.map((o) => {
      let address: ReturnType<typeof parseAddressPattern>;
      try {
        address = parseAddressPattern(o.match);
      } catch (e) {
        throw new BlazeError('CONFIG', `policy override: ${(e as Error).message}`, { cause: e });
      }
      validate({ ...this.base, ...o.policy }, `policy override '${o.match}'`);
      return { kind: address.kind, levels: levels(address.name), policy: o.policy };
    });
  }

  resolve(kind: string, name: string): Readonly<DestinationPolicy> {
    if (this.overrides.length === 0) return this.base;
    let out: DestinationPolicy | undefined;
    const ls = levels(name);
    for (const o of this.overrides) {
      if (o.kind !== kind || !matchLevels(o.levels, ls)) continue;
      out = { ...(out ?? this.base), ...o.policy };
    }
    return out ?? this.base;
  }
}

function validate(p: DestinationPolicy & Partial<CorePolicy>, where: string): void {
  const bad = (why: string) => new BlazeError('CONFIG', `${where}: ${why}`);
  if (!Number.isInteger(p.maxRedeliveries) || p.maxRedeliveries < -1) {
    throw bad('maxRedeliveries must be an integer >= -1');
  }
  if (!Number.isInteger(p.topicSubscriberBuffer) || p.topicSubscriberBuffer < 1) {
    throw bad('topicSubscriberBuffer must be an integer >= 1');
  }
  if (!Number.isInteger(p.maxQueueDepth) || p.maxQueueDepth < 0) {
    throw bad('maxQueueDepth must be an integer >= 0');
  }
  if (p.expiredMessages !== 'drop' && p.expiredMessages !== 'dlq')
    throw bad("expiredMessages: 'drop' | 'dlq'");
  if (!SLOW_CONSUMER_POLICIES.includes(p.slowConsumerPolicy)) {
    throw bad(`slowConsumerPolicy: ${SLOW_CONSUMER_POLICIES.map((x) => `'${x}'`).join(' | ')}`);
  }
  if (typeof p.conflationKey !== 'string') throw bad('conflationKey must be a string');
  if (!Number.isSafeInteger(p.memoryLimit) || p.memoryLimit < 0) throw bad('memoryLimit must be bytes >= 0');
  if (
    p.globalMemoryLimit !== undefined &&
    (!Number.isSafeInteger(p.globalMemoryLimit) || p.globalMemoryLimit < 0)
  ) {
    throw bad('globalMemoryLimit must be bytes >= 0');
  }
  if (!p.deadLetterAddress.includes('{name}')) throw bad('deadLetterAddress must contain {name}');
  const sample = parseAddress(p.deadLetterAddress.replaceAll('{name}', 'x').replaceAll('{kind}', 'queue'));
  if (sample.kind !== 'queue') throw bad('deadLetterAddress must be a queue:// address');
  if (p.expirySweepIntervalMs !== undefined && !(p.expirySweepIntervalMs >= 0)) {
    throw bad('expirySweepIntervalMs must be >= 0');
  }
}

/** Dead-letter address for a destination, and the test that an address is itself a DLQ. */
export function deadLetterAddressFor(template: string, kind: string, name: string): string {
  return template.replaceAll('{kind}', kind).replaceAll('{name}', name);
}

export function isDeadLetterAddress(template: string, canonical: string): boolean {
  const i = template.indexOf('{name}');
  const prefix = template.slice(0, i);
  const suffix = template.slice(i + '{name}'.length);
  if (prefix.includes('{kind}') || suffix.includes('{kind}')) {
    const re = new RegExp(
      `^${escapeRegExp(prefix).replaceAll('\\{kind\\}', '[a-z-]+')}.+${escapeRegExp(suffix).replaceAll('\\{kind\\}', '[a-z-]+')}$`,
    );
    return re.test(canonical);
  }
  return canonical.length > template.length - 6 && canonical.startsWith(prefix) && canonical.endsWith(suffix);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
