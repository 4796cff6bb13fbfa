import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../src/protocol/http/errors.js';
import {
  cookieValue,
  DEFAULT_HTTP_LIMITS,
  type MessageRequest,
  parseMessageRequest,
} from '../../../src/protocol/http/request.js';

const limits = { ...DEFAULT_HTTP_LIMITS, defaultReadTimeoutMs: 2000, maxReadTimeoutMs: 10_000 };
const parse = (method: string, url: string, cookie?: string): MessageRequest | undefined =>
  parseMessageRequest(method, url, cookie, limits);

function status(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof HttpError ? e.status : -1;
  }
}

describe('parseMessageRequest', () => {
  it('is not ours outside /api/message', () => {
    expect(parse('GET', '/health')).toBeUndefined();
    expect(parse('GET', '/api/messages/x')).toBeUndefined();
  });

  it('maps name and type to a canonical address; type defaults to topic as in ActiveMQ', () => {
    expect(parse('POST', '/api/message/orders?type=queue')).toMatchObject({
      op: 'send',
      address: 'queue://orders',
    });
    expect(parse('POST', '/api/message/prices?type=TOPIC')).toMatchObject({ address: 'topic://prices' });
    expect(parse('POST', '/api/message/prices')).toMatchObject({ address: 'topic://prices' });
    expect(parse('POST', '/api/message/a/b/c?type=queue')).toMatchObject({ address: 'queue://a.b.c' });
    expect(parse('POST', '/api/message/caf%C3%A9?type=queue')).toMatchObject({ address: 'queue://café' });
    expect(parse('POST', '/api/message?destination=queue://d')).toMatchObject({ address: 'queue://d' });
    expect(parse('POST', '/api/message?destination=n&type=queue')).toMatchObject({ address: 'queue://n' });
  });

  it('refuses unknown types, empty names, bad escapes and control characters with 400', () => {
    expect(status(() => parse('POST', '/api/message/x?type=exchange'))).toBe(400);
    expect(status(() => parse('POST', '/api/message/?type=queue'))).toBe(400);
    expect(status(() => parse('POST', '/api/message/%E0%A4%A?type=queue'))).toBe(400);
    expect(status(() => parse('POST', '/api/message/a%0Ab?type=queue'))).toBe(400);
  });

  it('refuses other methods with 405', () => {
    expect(status(() => parse('PATCH', '/api/message/x'))).toBe(405);
  });

  it('reads readTimeout with the default and the clamp; refuses non-numbers', () => {
    const r = (url: string) => parse('GET', url) as Extract<MessageRequest, { op: 'receive' }>;
    expect(r('/api/message/x?type=queue').readTimeoutMs).toBe(2000);
    expect(r('/api/message/x?type=queue&readTimeout=500').readTimeoutMs).toBe(500);
    expect(r('/api/message/x?type=queue&readTimeout=999999').readTimeoutMs).toBe(10_000);
    expect(r('/api/message/x?type=queue&readTimeout=-1').readTimeoutMs).toBe(10_000);
    expect(status(() => parse('GET', '/api/message/x?readTimeout=soon'))).toBe(400);
  });

  it('keeps a consumer for a clientId, else for the session cookie unless oneShot', () => {
    const r = (url: string, cookie?: string) =>
      parse('GET', url, cookie) as Extract<MessageRequest, { op: 'receive' }>;
    expect(r('/api/message/x?clientId=c1').consumerId).toBe('client:c1');
    expect(r('/api/message/x', 'blazemq-session=abc').consumerId).toBe('session:abc');
    expect(r('/api/message/x?oneShot=true', 'blazemq-session=abc').consumerId).toBeUndefined();
    expect(r('/api/message/x?oneShot=true').oneShot).toBe(true);
    expect(r('/api/message/x').consumerId).toBeUndefined();
    expect(r('/api/message/x').oneShot).toBe(false);
    expect(status(() => parse('GET', '/api/message/x?clientId=a%20b'))).toBe(400);
  });

  it('DELETE needs a consumer to close', () => {
    expect(parse('DELETE', '/api/message/x?type=queue&clientId=c')).toMatchObject({
      op: 'release',
      consumerId: 'client:c',
    });
    expect(status(() => parse('DELETE', '/api/message/x?type=queue'))).toBe(400);
  });

  it('never throws anything but HttpError, and any address it returns is canonical (fuzz)', () => {
    const part = fc.string({ unit: fc.constantFrom('a', '/', '%', '?', '&', '=', 'é', '\n', 'E', '0', ' ') });
    fc.assert(
      fc.property(fc.constantFrom('GET', 'POST', 'DELETE', 'HEAD'), part, part, (method, path, query) => {
        try {
          const r = parse(method, `/api/message/${path}?${query}`);
          if (r) expect(r.address).toMatch(/^(queue|topic):\/\/[^\n]+$/);
        } catch (e) {
          expect(e).toBeInstanceOf(HttpError);
        }
      }),
    );
  });
});

describe('cookieValue', () => {
  it('finds one cookie among several', () => {
    expect(cookieValue('a=1; blazemq-session=xyz; b=2', 'blazemq-session')).toBe('xyz');
    expect(cookieValue('a=1', 'blazemq-session')).toBeUndefined();
    expect(cookieValue(undefined, 'a')).toBeUndefined();
  });
});
