import { describe, expect, it } from 'vitest';
import { createBrokerCore } from '../../../src/core/index.js';
import { ProducerRegistry } from '../../../src/protocol/native/producers.js';
import { MemoryStore } from '../../../src/store/memory/index.js';
import { enterInput, leaveInput } from '../../../src/util/input-turn.js';
import { ManualTimers } from '../../helpers/manual-timers.js';

describe('ProducerRegistry (duplicate detection)', () => {
  it('remembers the highest sequence per producer', () => {
    const r = new ProducerRegistry(undefined, new ManualTimers(), 10, 60_000);
    r.accept('p', 5, false);
    expect(r.isDuplicate('p', 5)).toBe(true);
    expect(r.isDuplicate('p', 4)).toBe(true);
    expect(r.isDuplicate('p', 6)).toBe(false);
    expect(r.isDuplicate('q', 1)).toBe(false);
  });

  it('forgets the least recently used producer past the maximum, and idle ones', () => {
    const timers = new ManualTimers();
    const r = new ProducerRegistry(undefined, timers, 2, 1000);
    r.accept('a', 1, false);
    r.accept('b', 1, false);
    r.accept('a', 2, false);
    r.accept('c', 1, false);
    expect(r.isDuplicate('b', 1)).toBe(false);
    expect(r.isDuplicate('a', 2)).toBe(true);
    timers.advance(2000);
    r.accept('d', 1, false);
    expect(r.size).toBe(1);
  });

  it('stores one record per producer per input turn, recovered by the next registry', async () => {
    const store = new MemoryStore();
    const core = await createBrokerCore({ store });
    const timers = new ManualTimers();
    const r = new ProducerRegistry(core.kv('native-producers'), timers, 10, 60_000);
    enterInput();
    for (let s = 1; s <= 50; s++) r.accept('p', s, true);
    leaveInput();
    await core.kv('native-producers').flushed();
    expect(store.kvRecords('native-producers').size).toBe(1);
    await core.shutdown();
    const again = await createBrokerCore({ store });
    const recovered = new ProducerRegistry(again.kv('native-producers'), timers, 10, 60_000);
    expect(recovered.isDuplicate('p', 50)).toBe(true);
    expect(recovered.isDuplicate('p', 51)).toBe(false);
    await again.shutdown();
  });
});
