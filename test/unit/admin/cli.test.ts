import { describe, expect, it } from 'vitest';
import { sendRequest } from '../../../src/cli/admin/commands.js';
import { age, bytes, preview, table } from '../../../src/cli/admin/format.js';
import {
  DEFAULT_URL,
  parseCount,
  parseDestination,
  parseProperties,
  parseQueue,
  resolveConnection,
  UsageError,
} from '../../../src/cli/admin/options.js';

describe('resolveConnection', () => {
  it('prefers flags, then the environment, then the default URL', () => {
    expect(resolveConnection({}, {})).toEqual({ url: DEFAULT_URL });
    const env = { BLAZEMQ_URL: 'http://h:1/', BLAZEMQ_USER: 'u', BLAZEMQ_PASSWORD: 'p' };
    expect(resolveConnection({}, env)).toEqual({ url: 'http://h:1', user: 'u', password: 'p' });
    expect(resolveConnection({ url: 'https://x:2', user: 'v', password: 'q' }, env)).toEqual({
      url: 'https://x:2',
      user: 'v',
      password: 'q',
    });
  });

  it('refuses a bad URL and a password without a user', () => {
    expect(() => resolveConnection({ url: 'not a url' }, {})).toThrow(UsageError);
    expect(() => resolveConnection({ url: 'ftp://x' }, {})).toThrow(UsageError);
    expect(() => resolveConnection({ password: 'p' }, {})).toThrow(UsageError);
  });
});

describe('destinations and values', () => {
  it('parses canonical, STOMP-style and bare names', () => {
    expect(parseDestination('queue://a.b')).toEqual({ kind: 'queue', name: 'a.b' });
    expect(parseDestination('topic://t')).toEqual({ kind: 'topic', name: 't' });
    expect(parseDestination('/topic/t')).toEqual({ kind: 'topic', name: 't' });
    expect(parseDestination('orders')).toEqual({ kind: 'queue', name: 'orders' });
    expect(() => parseDestination('temp-queue://x')).toThrow(UsageError);
    expect(() => parseDestination('')).toThrow(UsageError);
    expect(parseQueue('queue://q')).toBe('q');
    expect(() => parseQueue('topic://q')).toThrow(UsageError);
  });

  it('parses properties and counts', () => {
    expect(parseProperties(['a=1', 'b=x=y', 'c='])).toEqual({ a: '1', b: 'x=y', c: '' });
    expect(() => parseProperties(['=1'])).toThrow(UsageError);
    expect(() => parseProperties(['novalue'])).toThrow(UsageError);
    expect(parseCount('--n', undefined, 7)).toBe(7);
    expect(parseCount('--n', '12', 7)).toBe(12);
    expect(() => parseCount('--n', '0', 7, 1)).toThrow(UsageError);
    expect(() => parseCount('--n', '-1', 7)).toThrow(UsageError);
    expect(() => parseCount('--n', '1.5', 7)).toThrow(UsageError);
  });

  it('builds the send request, base64 for bodies that are not UTF-8', () => {
    expect(
      sendRequest(Buffer.from('hi'), { persistent: true, priority: '9', ttl: '100', property: ['k=v'] }),
    ).toEqual({
      body: 'hi',
      persistent: true,
      priority: 9,
      timeToLive: 100,
      properties: { k: 'v' },
    });
    expect(sendRequest(new Uint8Array([0xff]), {})).toEqual({ body: '/w==', bodyEncoding: 'base64' });
    expect(() => sendRequest(Buffer.from('x'), { priority: '10' })).toThrow(UsageError);
  });
});

describe('format', () => {
  it('aligns columns, numbers to the right', () => {
    expect(
      table(
        ['NAME', 'N'],
        [
          ['a', 1],
          ['long', 100],
        ],
      ),
    ).toBe(['NAME    N', 'a       1', 'long  100'].join('\n'));
    expect(table(['A', 'B'], [])).toBe('A  B');
  });

  it('formats ages, sizes and previews', () => {
    expect(age(null)).toBe('-');
    expect(age(250)).toBe('250ms');
    expect(age(1500)).toBe('1.5s');
    expect(age(61_000)).toBe('1m01s');
    expect(age(3_660_000)).toBe('1h01m');
    expect(bytes(10)).toBe('10B');
    expect(bytes(1536)).toBe('1.5KiB');
    expect(preview('a\nb', 10)).toBe('a.b');
    expect(preview('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});
