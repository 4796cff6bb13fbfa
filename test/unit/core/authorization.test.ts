import { describe, expect, it } from 'vitest';
import type { Authorizer, Permission, Principal } from '../../../src/core/index.js';
import { bytes, expectCode, harness } from './helpers.js';

const alice: Principal = { user: 'alice', anonymous: false };

function acl(rules: Record<string, Permission[]>): Authorizer & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    allowed(_p, permission, address) {
      asked.push(`${permission} ${address}`);
      return Object.entries(rules).some(
        ([prefix, perms]) => address.startsWith(prefix) && perms.includes(permission),
      );
    },
  };
}

describe('authorization', () => {
  it('asks write to send (every composite part), read to subscribe, admin for temporaries', async () => {
    const authorizer = acl({ 'queue://ok': ['read', 'write'], 'temp-': ['admin', 'read'] });
    const h = await harness({ authorizer });
    const c = h.connect(undefined, alice);
    await c.send({ address: 'queue://ok', body: bytes('x') });
    h.sub(c, { address: 'queue://ok' });
    await expectCode(c.send({ address: 'queue://ok,queue://secret', body: bytes('x') }), 'FORBIDDEN');
    await expectCode(() => h.sub(c, { address: 'queue://secret' }), 'FORBIDDEN');
    const t = c.createTemporary('queue');
    expect(authorizer.asked).toContain(`admin ${t}`);
    // A denied composite send routes nothing.
    expect(h.core.stats().queues.find((q) => q.address === 'queue://ok')?.enqueued).toBe(1);
    expect(h.core.stats().queues.find((q) => q.address === 'queue://secret')).toBeUndefined();
  });

  it('denied temporary creation is FORBIDDEN', async () => {
    const h = await harness({ authorizer: acl({}) });
    const c = h.connect(undefined, alice);
    expect(() => c.createTemporary('topic')).toThrowError(expect.objectContaining({ code: 'FORBIDDEN' }));
  });

  it('checks transactional sends when they are sent', async () => {
    const h = await harness({ authorizer: acl({}) });
    const c = h.connect(undefined, alice);
    c.begin('tx');
    await expectCode(c.send({ address: 'queue://x', body: bytes('x') }, 'tx'), 'FORBIDDEN');
  });
});

describe('lifecycle', () => {
  it('operations on a closed connection or a shut-down core are CLOSED', async () => {
    const h = await harness();
    const c = h.connect();
    c.close();
    await expectCode(c.send({ address: 'queue://q', body: bytes('x') }), 'CLOSED');
    const d = h.connect();
    await h.core.shutdown();
    await expectCode(d.send({ address: 'queue://q', body: bytes('x') }), 'CLOSED');
    expect(() => h.connect()).toThrowError(expect.objectContaining({ code: 'CLOSED' }));
  });
});
