import { describe, expect, it } from 'vitest';
import type { Transport } from '../../../src/net/transport.js';
import { systemTimers } from '../../../src/protocol/mqtt/index.js';
import { SessionOutput } from '../../../src/protocol/mqtt/output.js';
import { enterInput, leaveInput } from '../../../src/util/input-turn.js';

function fakeTransport(accept = true) {
  const writes: Buffer[] = [];
  let drain: (() => void) | undefined;
  const t: Transport = {
    write: (c) => {
      writes.push(Buffer.from(c));
      return accept;
    },
    onDrain: (l) => {
      drain = l;
    },
    pauseReading: () => {},
    resumeReading: () => {},
    end: () => {},
    destroy: () => {},
    remoteAddress: 'test',
    closed: false,
  };
  return { t, writes, drain: () => drain?.() };
}

const owner = () => {
  const events: string[] = [];
  return {
    events,
    outputBlockedChanged: () => events.push('blocked'),
    slowConsumer: () => events.push('slow'),
  };
};

describe('SessionOutput', () => {
  it('writes at once outside input, and one merged write per run of adjacent bytes inside it', () => {
    const { t, writes } = fakeTransport();
    const out = new SessionOutput(t, systemTimers, 1000, owner());
    const slab = Buffer.from('abcdefgh');
    out.write(slab.subarray(0, 1));
    expect(writes.map(String)).toEqual(['a']);
    enterInput();
    out.write(slab.subarray(1, 3));
    out.write(slab.subarray(3, 4));
    out.write(Buffer.from('X')); // not adjacent: the run so far goes first
    out.write(slab.subarray(4, 6));
    enterInput(); // nested input: still collected
    out.write(slab.subarray(6, 8));
    leaveInput();
    expect(writes.map(String)).toEqual(['a', 'bcd', 'X']);
    leaveInput();
    expect(writes.map(String)).toEqual(['a', 'bcd', 'X', 'efgh']);
  });

  it('keeps order for bytes written twice (one region shared by two subscriptions)', () => {
    const { t, writes } = fakeTransport();
    const out = new SessionOutput(t, systemTimers, 1000, owner());
    const slab = Buffer.from('abcd');
    enterInput();
    out.write(slab.subarray(0, 2));
    out.write(slab.subarray(0, 2));
    out.write(slab.subarray(2, 4));
    leaveInput();
    expect(Buffer.concat(writes).toString()).toBe('ababcd');
  });

  it('holds output until release, and close writes what was collected', () => {
    const { t, writes } = fakeTransport();
    const out = new SessionOutput(t, systemTimers, 1000, owner());
    enterInput();
    out.hold();
    out.write(Buffer.from('m1'));
    out.release(Buffer.from('SUBACK'));
    out.close();
    out.write(Buffer.from('late'));
    leaveInput();
    expect(Buffer.concat(writes).toString()).toBe('SUBACKm1');
  });

  it('reports blocked output until the transport drains', () => {
    const { t, drain } = fakeTransport(false);
    const o = owner();
    const out = new SessionOutput(t, systemTimers, 60_000, o);
    out.write(Buffer.from('x'));
    expect(out.blocked).toBe(true);
    expect(o.events).toEqual(['blocked']);
    drain();
    expect(out.blocked).toBe(false);
    expect(o.events).toEqual(['blocked', 'blocked']);
    out.close();
  });
});
