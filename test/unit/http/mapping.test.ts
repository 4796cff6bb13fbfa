import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../../src/core/api.js';
import type { Message } from '../../../src/core/message.js';
import { HttpError } from '../../../src/protocol/http/errors.js';
import { messageHeaders, toMessageInit } from '../../../src/protocol/http/mapping.js';

const body = new Uint8Array([1]);
const init = (query: string, headers: Record<string, string> = {}) =>
  toMessageInit('queue://q', body, new URLSearchParams(query), headers, 1_000);

describe('toMessageInit', () => {
  it('makes parameters properties, except control parameters and JMS fields', () => {
    const m = init(
      'type=queue&color=red&n=1&readTimeout=5&JMSCorrelationID=c&JMSXGroupID=g&JMSReplyTo=queue://r',
    );
    expect(m.properties).toEqual({ color: 'red', n: '1' });
    expect(m.correlationId).toBe('c');
    expect(m.groupId).toBe('g');
    expect(m.replyTo).toBe('queue://r');
  });

  it('reads JMS fields from headers too, and ignores other headers', () => {
    const m = init('', { jmspriority: '8', jmscorrelationid: 'h', 'user-agent': 'curl' });
    expect(m.priority).toBe(8);
    expect(m.correlationId).toBe('h');
    expect(m.properties).toEqual({});
  });

  it('is persistent by default (JMS); JMSDeliveryMode or persistent=false make it non-persistent', () => {
    expect(init('').persistent).toBe(true);
    expect(init('JMSDeliveryMode=non-persistent').persistent).toBe(false);
    expect(init('JMSDeliveryMode=NON_PERSISTENT').persistent).toBe(false);
    expect(init('persistent=false').persistent).toBe(false);
  });

  it('sets expiration from JMSTimeToLive (relative) or JMSExpiration (absolute)', () => {
    expect(init('JMSTimeToLive=500').expiration).toBe(1_500);
    expect(init('timeToLive=0').expiration).toBe(0);
    expect(init('JMSExpiration=99').expiration).toBe(99);
  });

  it('refuses malformed values with 400', () => {
    for (const q of [
      'JMSPriority=10',
      'priority=x',
      'JMSDeliveryMode=sometimes',
      'persistent=yes',
      'JMSTimeToLive=-1',
    ]) {
      expect(() => init(q), q).toThrow(HttpError);
    }
  });
});

describe('messageHeaders', () => {
  const message: Message = {
    id: 'ID:1',
    address: 'queue://q',
    body,
    properties: {
      color: 'red',
      n: 3,
      ok: true,
      'bad name': 'x',
      'content-length': '9',
      nl: 'a\nb',
      nul: null,
    },
    persistent: true,
    priority: 6,
    expiration: 0,
    timestamp: 42,
    correlationId: 'c',
    contentType: 'text/plain',
  };
  const delivery: Delivery = { tag: 1, message, redelivered: true, deliveryCount: 2 };

  it('carries id, destination, JMS fields and header-safe properties', () => {
    const h = messageHeaders(delivery);
    expect(h).toMatchObject({
      id: 'ID:1',
      destination: 'queue://q',
      redelivered: 'true',
      'delivery-count': '2',
      'content-type': 'text/plain',
      JMSPriority: '6',
      JMSDeliveryMode: 'persistent',
      JMSCorrelationID: 'c',
      color: 'red',
      n: '3',
      ok: 'true',
      nul: '',
    });
  });

  it('never lets a property set a framing header or inject a line', () => {
    const h = messageHeaders(delivery);
    expect(h['content-length']).toBeUndefined();
    expect(h['bad name']).toBeUndefined();
    expect(h.nl).toBeUndefined();
  });
});
