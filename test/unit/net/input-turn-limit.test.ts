import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { InputTurnLimit } from '../../../src/net/input-turn-limit.js';

function io() {
  const log: string[] = [];
  let closed = false;
  return {
    log,
    close: () => {
      closed = true;
    },
    io: { pause: () => log.push('pause'), resume: () => log.push('resume'), closed: () => closed },
  };
}

describe('InputTurnLimit', () => {
  it('stops reading past the limit and reads again on the next turn', async () => {
    const t = io();
    const limit = new InputTurnLimit(100, t.io);
    limit.count(60);
    expect(t.log).toEqual([]);
    limit.count(60);
    limit.count(60);
    expect(t.log).toEqual(['pause']);
    await nextTurn();
    expect(t.log).toEqual(['pause', 'resume']);
    // A new turn starts from zero.
    limit.count(60);
    expect(t.log).toEqual(['pause', 'resume']);
  });

  it("never resumes what the session paused, and the session's resume waits for the turn", async () => {
    const t = io();
    const limit = new InputTurnLimit(100, t.io);
    limit.count(200);
    limit.pauseBySession();
    await nextTurn();
    expect(t.log).toEqual(['pause', 'pause']);
    limit.resumeBySession();
    expect(t.log).toEqual(['pause', 'pause', 'resume']);
    limit.count(200);
    limit.resumeBySession();
    expect(t.log).toEqual(['pause', 'pause', 'resume', 'pause']);
    await nextTurn();
    expect(t.log).toEqual(['pause', 'pause', 'resume', 'pause', 'resume']);
  });

  it('does not touch a closed connection', async () => {
    const t = io();
    const limit = new InputTurnLimit(10, t.io);
    limit.count(20);
    t.close();
    await nextTurn();
    limit.resumeBySession();
    expect(t.log).toEqual(['pause']);
  });
});
