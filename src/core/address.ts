/**
 * The address space (ActiveMQ style): `queue://name`, `topic://name`, `temp-queue://name`,
 * `temp-topic://name`. Topic names are `.`-separated levels; subscriptions (never sends) may use the
 * ActiveMQ wildcards `*` (exactly one level) and `>` (the remaining levels, zero or more, so `a.>`
 * matches `a`, `a.b` and `a.b.c`, as ActiveMQ 5's PrefixDestinationFilter and MQTT's `#` do).
 * A wildcard is only a wildcard as a whole level; `*` or `>` anywhere else is rejected so that a name
 * never means two things. Empty levels are allowed because MQTT allows them (`a//b` -> `a..b`).
 */
import { BlazeError } from '../util/errors.js';

export type AddressKind = 'queue' | 'topic' | 'temp-queue' | 'temp-topic';

export interface Address {
  readonly kind: AddressKind;
  /** The part after `://`. */
  readonly name: string;
  /** `${kind}://${name}`. */
  readonly canonical: string;
  /** True when the name has a `*` or `>` level (topic subscriptions only). */
  readonly wildcard: boolean;
}

export const ANY_LEVEL = '*';
export const ANY_DESCENDANTS = '>';
export const LEVEL_SEPARATOR = '.';
const COMPOSITE_SEPARATOR = ',';

const KINDS: ReadonlySet<string> = new Set(['queue', 'topic', 'temp-queue', 'temp-topic']);

export function isTopicKind(kind: AddressKind): boolean {
  return kind === 'topic' || kind === 'temp-topic';
}

export function isTemporaryKind(kind: AddressKind): boolean {
  return kind === 'temp-queue' || kind === 'temp-topic';
}

export function formatAddress(kind: AddressKind, name: string): string {
  return `${kind}://${name}`;
}

function invalid(text: string, why: string): BlazeError {
  return new BlazeError('INVALID_ADDRESS', `invalid address '${text}': ${why}`);
}

/** True when `name` contains a wildcard level. Throws when a wildcard character is misplaced. */
function checkWildcards(text: string, name: string): boolean {
  if (name.indexOf(ANY_LEVEL) < 0 && name.indexOf(ANY_DESCENDANTS) < 0) return false;
  const levels = name.split(LEVEL_SEPARATOR);
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level === ANY_LEVEL) continue;
    if (level === ANY_DESCENDANTS) {
      if (i !== levels.length - 1) throw invalid(text, "'>' must be the last level");
      continue;
    }
    if (level.includes(ANY_LEVEL) || level.includes(ANY_DESCENDANTS)) {
      throw invalid(text, "'*' and '>' are only allowed as a whole level");
    }
  }
  return true;
}

export interface ParseOptions {
  /** Accept `*` / `>` levels (topic subscriptions). Queue and temporary names never accept them. */
  allowWildcards?: boolean;
}

/**
 * Parses an address pattern as used by policies (and ACLs): wildcards are accepted for every kind,
 * since `queue://orders.>` names a family of queues there, not a subscription.
 */
export function parseAddressPattern(text: string): Address {
  const sep = text.indexOf('://');
  if (sep <= 0) throw invalid(text, 'expected <kind>://<pattern>');
  const kind = text.slice(0, sep);
  if (!KINDS.has(kind)) throw invalid(text, `unknown kind '${kind}'`);
  const name = text.slice(sep + 3);
  if (name.length === 0) throw invalid(text, 'empty name');
  const wildcard = checkWildcards(text, name);
  return { kind: kind as AddressKind, name, canonical: text, wildcard };
}

/** Parses one canonical address. Throws BlazeError INVALID_ADDRESS. */
export function parseAddress(text: string, options?: ParseOptions): Address {
  const sep = text.indexOf('://');
  if (sep <= 0) throw invalid(text, 'expected <kind>://<name>');
  const kind = text.slice(0, sep);
  if (!KINDS.has(kind)) throw invalid(text, `unknown kind '${kind}'`);
  const name = text.slice(sep + 3);
  return makeAddress(text, kind as AddressKind, name, options?.allowWildcards === true);
}

function makeAddress(text: string, kind: AddressKind, name: string, allowWildcards: boolean): Address {
  if (name.length === 0) throw invalid(text, 'empty name');
  if (name.includes(COMPOSITE_SEPARATOR)) throw invalid(text, "',' separates composite addresses");
  const wildcard = checkWildcards(text, name);
  if (wildcard) {
    if (kind !== 'topic') throw invalid(text, `wildcards are not allowed in ${kind} names`);
    if (!allowWildcards) throw invalid(text, 'wildcards are only allowed when subscribing');
  }
  return { kind, name, canonical: formatAddress(kind, name), wildcard };
}

/**
 * Parses a send address, possibly composite (`queue://a,topic://b`; like ActiveMQ, a part without a
 * kind inherits the previous part's: `queue://a,b` is two queues). Wildcards are refused. Duplicates are
 * removed so a message is not routed twice to one destination.
 */
export function parseSendAddress(text: string): Address[] {
  if (!text.includes(COMPOSITE_SEPARATOR)) return [parseAddress(text)];
  const out: Address[] = [];
  const seen = new Set<string>();
  let previous: AddressKind | undefined;
  for (const part of text.split(COMPOSITE_SEPARATOR)) {
    let address: Address;
    if (part.includes('://')) address = parseAddress(part);
    else if (previous !== undefined) address = makeAddress(text, previous, part, false);
    else throw invalid(text, 'the first part of a composite address needs a kind');
    previous = address.kind;
    if (!seen.has(address.canonical)) {
      seen.add(address.canonical);
      out.push(address);
    }
  }
  return out;
}

/** Splits a topic name or pattern into levels. */
export function levels(name: string): string[] {
  return name.split(LEVEL_SEPARATOR);
}
