import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchPattern } from '../../../src/core/index.js';
import { filterToPattern, nameToTopic, topicToName } from '../../../src/protocol/mqtt/index.js';
import { isValidFilter, parseFilter } from '../../../src/protocol/mqtt/topics.js';

describe('MQTT topics <-> core addresses', () => {
  it('maps levels and wildcards; escapes what the core reserves', () => {
    expect(topicToName('a/b/c')).toBe('a.b.c');
    expect(topicToName('v1.2/x')).toBe('v1/2.x');
    expect(topicToName('a*/b>,c%')).toBe('a%2A.b%3E%2Cc%25');
    expect(nameToTopic('a/b.c')).toBe('a.b/c');
    expect(filterToPattern('a/+/#')).toBe('a.*.>');
    expect(filterToPattern('+/x.y/#')).toBe('*.x/y.>');
  });

  it('topic names round-trip, and a filter matches a name exactly as MQTT says', () => {
    const level = fc.stringMatching(/^[a-z.*>,%$ ]{0,4}$/);
    const topic = fc.array(level, { minLength: 1, maxLength: 5 }).map((ls) => ls.join('/'));
    fc.assert(
      fc.property(topic, (t) => {
        expect(nameToTopic(topicToName(t))).toBe(t);
      }),
    );
    fc.assert(
      fc.property(topic, fc.array(fc.nat(2), { maxLength: 5 }), (t, mask) => {
        // A filter made from the name with some levels replaced by + (and maybe a trailing #).
        const ls = t.split('/');
        const f = ls.map((l, i) => (mask[i] === 1 ? '+' : l));
        if (mask[ls.length - 1] === 2) f[f.length - 1] = '#';
        expect(matchPattern(filterToPattern(f.join('/')), topicToName(t))).toBe(true);
      }),
    );
  });

  it('filter validity [MQTT-4.7.1-2/3] and $share parsing [MQTT-4.8.2-1/2]', () => {
    for (const ok of ['#', 'a/#', '+', '+/+', 'a/+/b', '/', 'a//b']) expect(isValidFilter(ok)).toBe(true);
    for (const bad of ['', 'a#', 'a/#/b', 'a+/b', '#/a', 'a\u0000b']) expect(isValidFilter(bad)).toBe(false);
    expect(parseFilter('$share/g/a/+')).toEqual({ filter: 'a/+', shareGroup: 'g' });
    expect(parseFilter('$share//a')).toBeUndefined();
    expect(parseFilter('$share/g+/a')).toBeUndefined();
    expect(parseFilter('$share/g')).toBeUndefined();
  });
});
