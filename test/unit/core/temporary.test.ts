import { describe, expect, it } from 'vitest';
import { bytes, expectCode, harness, sendAll } from './helpers.js';

describe('temporary destinations', () => {
  it('are unique, usable by others for sending, and consumable only by their owner', async () => {
    const h = await harness();
    const owner = h.connect();
    const other = h.connect();
    const q1 = owner.createTemporary('queue');
    const q2 = owner.createTemporary('queue');
    const t = owner.createTemporary('topic');
    expect(q1).toMatch(/^temp-queue:\/\//);
    expect(t).toMatch(/^temp-topic:\/\//);
    expect(q1).not.toBe(q2);
    const q = h.sub(owner, { address: q1 });
    const tt = h.sub(owner, { address: t });
    await other.send({ address: q1, body: bytes('reply') });
    await other.send({ address: t, body: bytes('event') });
    expect(q.rec.texts()).toEqual(['reply']);
    expect(tt.rec.texts()).toEqual(['event']);
    await expectCode(() => h.sub(other, { address: q1 }), 'FORBIDDEN');
    await expectCode(() => h.sub(other, { address: t }), 'FORBIDDEN');
  });

  it('die with their connection, messages included', async () => {
    const h = await harness();
    const owner = h.connect();
    const other = h.connect();
    const q = owner.createTemporary('queue');
    await sendAll(other, q, ['1', '2']);
    expect(h.core.stats().queues.find((s) => s.address === q)?.depth).toBe(2);
    owner.close();
    expect(h.core.stats().queues.find((s) => s.address === q)).toBeUndefined();
    await expectCode(other.send({ address: q, body: bytes('late') }), 'NOT_FOUND');
    await expectCode(() => h.sub(other, { address: q }), 'NOT_FOUND');
  });

  it('are not matched by topic wildcards and are never stored', async () => {
    const h = await harness();
    const c = h.connect();
    const all = h.sub(c, { address: 'topic://>' });
    const t = c.createTemporary('topic');
    await c.send({ address: t, body: bytes('x'), persistent: true });
    expect(all.rec.texts()).toEqual([]);
  });
});
