import { describe, expect, it } from 'vitest';
import { toMessageInit } from '../../../src/protocol/native/handlers/send.js';
import { emptyMessage } from '../../../src/util/native-message.js';

function countingClock(t: number) {
  const clock = {
    calls: 0,
    now() {
      clock.calls++;
      return t;
    },
  };
  return clock;
}

describe('native toMessageInit', () => {
  it('turns a time to live into an expiration on the broker clock', () => {
    const clock = countingClock(1_000_000);
    const init = toMessageInit({ ...emptyMessage(), address: 'queue://q', time_to_live_ms: 5_000 }, clock);
    expect(init.expiration).toBe(1_005_000);
    expect(clock.calls).toBe(1);
  });

  it('takes an absolute expiration as given and does not read the clock without a time to live', () => {
    const clock = countingClock(1_000_000);
    const init = toMessageInit({ ...emptyMessage(), address: 'queue://q', expiration: 42 }, clock);
    expect(init.expiration).toBe(42);
    expect(toMessageInit({ ...emptyMessage(), address: 'queue://q' }, clock).expiration).toBeUndefined();
    expect(clock.calls).toBe(0);
  });

  it('prefers the time to live when both are set', () => {
    const clock = countingClock(10);
    const init = toMessageInit(
      { ...emptyMessage(), address: 'queue://q', time_to_live_ms: 5, expiration: 99 },
      clock,
    );
    expect(init.expiration).toBe(15);
  });
});
