/**
 * Address patterns for access rules, with ActiveMQ wildcards over canonical addresses.
 *
 *   queue://orders.>     `orders` and every queue under it (zero or more further segments)
 *   topic://prices.*     exactly one segment after `prices.`
 *   *  or  >             every address of every kind
 *
 * Segments are separated by `.`; a wildcard is always a whole segment and `>` only comes last. The
 * semantics are those of subscriptions (core/address.ts, core/wildcard.ts), so that the same pattern
 * means the same addresses in an access rule and in a subscription. The address being checked may itself contain wildcards (a wildcard topic
 * subscription): a rule allows it only when it COVERS it, i.e. every address the subscription could
 * match is matched by the rule, so `topic://a.*` does not grant a subscription to `topic://a.>`.
 */

export const ADDRESS_KINDS = ['queue', 'topic', 'temp-queue', 'temp-topic'] as const;

export interface AddressPattern {
  readonly source: string;
  /** undefined = any kind (the bare `*` / `>` patterns). */
  readonly kind: string | undefined;
  /** undefined = any address of `kind`. */
  readonly segments: readonly string[] | undefined;
}

/** Returns the parsed pattern or a one-phrase reason why it is not one. */
export function parseAddressPattern(source: string): AddressPattern | string {
  if (source === '*' || source === '>') return { source, kind: undefined, segments: undefined };
  const sep = source.indexOf('://');
  if (sep < 0) return 'expected "<kind>://<name>" (kind: queue, topic, temp-queue, temp-topic) or "*" or ">"';
  const kind = source.slice(0, sep);
  if (!(ADDRESS_KINDS as readonly string[]).includes(kind)) {
    return `unknown address kind "${kind}" (expected ${ADDRESS_KINDS.join(', ')})`;
  }
  const name = source.slice(sep + 3);
  if (name === '>') return { source, kind, segments: undefined };
  if (name === '') return 'empty name';
  const segments = name.split('.');
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === '>' && i !== segments.length - 1) return '">" may only be the last segment';
    if (s !== '*' && s !== '>' && (s.includes('*') || s.includes('>'))) {
      return 'wildcards "*" and ">" must be whole segments';
    }
  }
  return { source, kind, segments };
}

/** Splits a canonical address into kind and dot segments; undefined when it has no `kind://`. */
function splitAddress(address: string): { kind: string; segments: string[] } | undefined {
  const sep = address.indexOf('://');
  if (sep < 0) return undefined;
  return { kind: address.slice(0, sep), segments: address.slice(sep + 3).split('.') };
}

/** True when `pattern` matches `address`, or covers every address of `address` if it is a wildcard. */
export function patternCovers(pattern: AddressPattern, address: string): boolean {
  if (pattern.kind === undefined) return true;
  const a = splitAddress(address);
  if (!a || a.kind !== pattern.kind) return false;
  const r = pattern.segments;
  if (r === undefined) return true;
  const s = a.segments;
  for (let i = 0; i < r.length; i++) {
    const rs = r[i]!;
    // `>` matches the remaining segments, zero or more, whatever they are (wildcards included).
    if (rs === '>') return true;
    if (i >= s.length) return false;
    const as = s[i]!;
    // The subscription's `>` stands for any tail; only a rule `>` covers that, except at the very
    // start where the tail has at least one segment (names are never empty), which `*.>` covers too.
    if (as === '>') return i === 0 && rs === '*' && r[1] === '>';
    if (rs !== '*' && rs !== as) return false;
  }
  return s.length === r.length;
}
