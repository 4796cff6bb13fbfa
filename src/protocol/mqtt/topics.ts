/**
 * MQTT topic names and filters <-> the core's topic addresses (docs/PROTOCOLS.md, "MQTT").
 *
 * MQTT `a/b/c` is `topic://a.b.c`; in filters `+` is `*` and `#` is `>`. A character that means something
 * in the core must not leak into it from an MQTT name, so per level:
 *  - `.` and `/` swap (as ActiveMQ does): MQTT `v1.2/x` is `topic://v1/2.x`, and a STOMP `/topic/a/b`
 *    (one level named `a/b`) is MQTT `a.b`; the mapping is its own inverse;
 *  - `%`, `*`, `>` and `,` are percent-encoded (`%25 %2A %3E %2C`), since the core reads `*` and `>` as
 *    wildcards and `,` as a composite address.
 * Names without any of `.%*>,` (nearly all) take the fast path: only `/` -> `.`.
 */
import { MqttError, RC } from './reason-codes.js';

const TOPIC_PREFIX = 'topic://';
const SPECIAL_IN = /[.%*>,]/;
const SPECIAL_OUT = /[/%]/;
const MAX_CACHED = 10_000;

const toCoreCache = new Map<string, string>();
const toMqttCache = new Map<string, string>();

function remember(cache: Map<string, string>, key: string, value: string): string {
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(key, value);
  return value;
}

function encodeChar(c: string): string {
  switch (c) {
    case '.':
      return '/';
    case '/':
      return '.';
    case '%':
      return '%25';
    case '*':
      return '%2A';
    case '>':
      return '%3E';
    case ',':
      return '%2C';
    default:
      return c;
  }
}

const DECODED: Readonly<Record<string, string>> = { '%25': '%', '%2A': '*', '%3E': '>', '%2C': ',' };

/** Core topic name of an MQTT topic name (no wildcards). */
export function topicToName(topic: string): string {
  if (!SPECIAL_IN.test(topic)) return topic.replaceAll('/', '.');
  return topic.replace(/[./%*>,]/g, encodeChar);
}

/** MQTT topic name of a core topic name. */
export function nameToTopic(name: string): string {
  if (!SPECIAL_OUT.test(name)) return name.replaceAll('.', '/');
  return name.replace(/%(25|2A|3E|2C)|[./]/g, (m) => DECODED[m] ?? (m === '.' ? '/' : '.'));
}

/** `topic://...` address of an MQTT topic name; cached, since devices publish to a few names often. */
export function topicAddress(topic: string): string {
  const cached = toCoreCache.get(topic);
  if (cached !== undefined) return cached;
  return remember(toCoreCache, topic, TOPIC_PREFIX + topicToName(topic));
}

/** MQTT topic of a canonical address, or undefined when it is not a topic (a queue reply-to...). */
export function addressTopic(address: string): string | undefined {
  const cached = toMqttCache.get(address);
  if (cached !== undefined) return cached;
  if (!address.startsWith(TOPIC_PREFIX)) return undefined;
  return remember(toMqttCache, address, nameToTopic(address.slice(TOPIC_PREFIX.length)));
}

/** Core pattern of a (validated) MQTT topic filter. */
export function filterToPattern(filter: string): string {
  return filter
    .split('/')
    .map((level) => (level === '+' ? '*' : level === '#' ? '>' : topicToName(level)))
    .join('.');
}

/** [MQTT-4.7.3-1] at least one character; [MQTT-4.7.3-2] no U+0000; [MQTT-3.3.2-2] no wildcards. */
export function checkTopicName(topic: string): void {
  if (topic.length === 0) throw new MqttError(RC.TOPIC_NAME_INVALID, 'empty topic name');
  if (topic.includes('+') || topic.includes('#'))
    throw new MqttError(RC.TOPIC_NAME_INVALID, `wildcard in topic name '${printable(topic)}'`);
  if (topic.includes('\u0000')) throw new MqttError(RC.TOPIC_NAME_INVALID, 'U+0000 in topic name');
}

/**
 * [MQTT-4.7.1-2] `#` alone or last after `/`; [MQTT-4.7.1-3] `+` occupies a whole level;
 * [MQTT-4.7.3-1] non-empty; [MQTT-4.7.3-2] no U+0000.
 */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false;
  if (!filter.includes('+') && !filter.includes('#')) return true;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    if (l === '+') continue;
    if (l === '#') {
      if (i !== levels.length - 1) return false;
      continue;
    }
    if (l.includes('+') || l.includes('#')) return false;
  }
  return true;
}

export interface ParsedFilter {
  /** The filter without the `$share/<group>/` prefix. */
  readonly filter: string;
  readonly shareGroup?: string;
}

/**
 * Splits `$share/<ShareName>/<filter>` (MQTT 5 4.8.2): the ShareName is at least one character without
 * `/`, `+` or `#` [MQTT-4.8.2-1, 4.8.2-2], and the filter follows. Returns undefined when invalid.
 */
export function parseFilter(text: string): ParsedFilter | undefined {
  if (!text.startsWith('$share/')) return isValidFilter(text) ? { filter: text } : undefined;
  const slash = text.indexOf('/', 7);
  if (slash < 0) return undefined;
  const group = text.slice(7, slash);
  const filter = text.slice(slash + 1);
  if (group.length === 0 || group.includes('+') || group.includes('#')) return undefined;
  if (!isValidFilter(filter)) return undefined;
  return { filter, shareGroup: group };
}

/**
 * [MQTT-4.7.2-1] A filter starting with a wildcard must not match topic names starting with `$`
 * (`$SYS/...`): the core's wildcards know nothing of this, so subscriptions check it on delivery.
 */
export function startsWithWildcard(filter: string): boolean {
  return filter.startsWith('+') || filter.startsWith('#');
}

function printable(s: string): string {
  return s.slice(0, 64).replace(/[^\x20-\x7e]/g, '?');
}
