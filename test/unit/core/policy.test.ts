import { describe, expect, it } from 'vitest';
import { deadLetterAddressFor, isDeadLetterAddress, PolicyResolver } from '../../../src/core/policy.js';

describe('policies', () => {
  it('applies matching overrides in order, later wins', () => {
    const r = new PolicyResolver({
      maxRedeliveries: 3,
      overrides: [
        { match: 'queue://orders.>', policy: { maxRedeliveries: 1, maxQueueDepth: 10 } },
        { match: 'queue://orders.eu.*', policy: { maxRedeliveries: 0 } },
        { match: 'topic://orders.>', policy: { maxRedeliveries: 9 } },
      ],
    });
    expect(r.resolve('queue', 'billing').maxRedeliveries).toBe(3);
    expect(r.resolve('queue', 'orders.us')).toMatchObject({ maxRedeliveries: 1, maxQueueDepth: 10 });
    expect(r.resolve('queue', 'orders.eu.de')).toMatchObject({ maxRedeliveries: 0, maxQueueDepth: 10 });
    expect(r.resolve('topic', 'orders.eu.de').maxRedeliveries).toBe(9);
  });

  it.each([
    [{ maxRedeliveries: -2 }],
    [{ topicSubscriberBuffer: 0 }],
    [{ deadLetterAddress: 'queue://DLQ' }],
    [{ deadLetterAddress: 'topic://DLQ.{name}' }],
    // biome-ignore lint/suspicious/noExplicitAny: invalid on purpose
    [{ expiredMessages: 'keep' as any }],
    [{ overrides: [{ match: 'nope', policy: {} }] }],
    [{ overrides: [{ match: 'queue://x', policy: { maxQueueDepth: -1 } }] }],
  ])('refuses %j with CONFIG', (bad) => {
    expect(() => new PolicyResolver(bad)).toThrowError(expect.objectContaining({ code: 'CONFIG' }));
  });

  it('names dead-letter queues and recognizes them', () => {
    expect(deadLetterAddressFor('queue://DLQ.{name}', 'queue', 'orders')).toBe('queue://DLQ.orders');
    expect(isDeadLetterAddress('queue://DLQ.{name}', 'queue://DLQ.orders')).toBe(true);
    expect(isDeadLetterAddress('queue://DLQ.{name}', 'queue://orders')).toBe(false);
    expect(isDeadLetterAddress('queue://DLQ.{name}', 'queue://DLQ.')).toBe(false);
    expect(isDeadLetterAddress('queue://{name}.dead', 'queue://a.dead')).toBe(true);
    expect(isDeadLetterAddress('queue://dlq.{kind}.{name}', 'queue://dlq.topic.x')).toBe(true);
    expect(isDeadLetterAddress('queue://dlq.{kind}.{name}', 'queue://dlq.x')).toBe(false);
  });
});
