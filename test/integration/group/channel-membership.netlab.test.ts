/**
 * Issue 7 membership in the namespace lab, separate member processes on real sockets:
 * - a member killed with kill -9 (by its PID), or silenced by taking its link down, is excluded and all
 *   the others install the same new view within 3 x the failure timeout;
 * - a member joining during traffic delivers everything sent after its join;
 * - a partition heals into one merged view.
 * Skips without root and `ip`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labSupport, NetLab } from '../../netlab/lab.js';
import { type ChannelMember, digestsWhen, lastView, startChannel, waitForView } from './channel-lab.js';

const FAILURE_TIMEOUT = 1000;
const membership = {
  heartbeatInterval: 200,
  failureTimeout: FAILURE_TIMEOUT,
  verifyTimeout: 400,
  discoveryTimeout: 600,
  joinRetry: 150,
  flushRetry: 100,
  flushTimeout: 1000,
  mergeDelay: 500,
};

describe.skipIf(!labSupport().ok)('group membership (namespace lab)', () => {
  let lab: NetLab;
  let members: ChannelMember[];
  let port = 45620;

  async function group(n: number): Promise<ChannelMember[]> {
    port++;
    const out: ChannelMember[] = [];
    for (let i = 1; i <= n; i++) out.push(await startChannel(lab, i, { membership, port }));
    const all = out.map((m) => m.address);
    await Promise.all(out.map((m) => waitForView(m, all)));
    return out;
  }

  /** Every survivor installs the same view of exactly the survivors; returns when the last one did. */
  async function sameViewOf(survivors: ChannelMember[], timeoutMs: number): Promise<number> {
    const want = survivors.map((m) => m.address);
    const views = await Promise.all(survivors.map((m) => waitForView(m, want, timeoutMs)));
    expect(new Set(views.map((v) => `${v.coordinator}#${v.counter}`)).size).toBe(1);
    return Math.max(...views.map((v) => v.t));
  }

  beforeEach(async () => {
    lab = await NetLab.up(4);
  }, 60_000);

  afterEach(async () => {
    await lab?.down();
  });

  it('excludes a member killed with kill -9 within 3 x the failure timeout', async () => {
    members = await group(4);
    const victim = members[3]!;
    const killedAt = Date.now();
    process.kill(victim.proc.child.pid!, 'SIGKILL');
    const installedAt = await sameViewOf(members.slice(0, 3), 3 * FAILURE_TIMEOUT + 2000);
    expect(installedAt - killedAt).toBeLessThanOrEqual(3 * FAILURE_TIMEOUT);
  }, 60_000);

  it('a member killed and restarted on the same address is excluded and admitted again at once', async () => {
    port++;
    const memberPort = 47800;
    members = [];
    for (let i = 1; i <= 4; i++) members.push(await startChannel(lab, i, { membership, port, memberPort }));
    const all = members.map((m) => m.address);
    await Promise.all(members.map((m) => waitForView(m, all)));
    const victim = members[3]!;
    const survivors = members.slice(0, 3);
    // The survivors' current view lists the victim's address, which the reborn member reuses: only views
    // reported after the kill count.
    const sinceKill = survivors.map((m) => m.proc.events.length);
    process.kill(victim.proc.child.pid!, 'SIGKILL');
    const restartedAt = Date.now();
    const reborn = await startChannel(lab, 4, { membership, port, memberPort });
    expect(reborn.address).toBe(victim.address);
    // Recognised as a new incarnation: the old one is excluded without waiting for the failure timeout
    // (one view without it), then the new one joins.
    // The reborn member reports its view from its own process, possibly after the survivors: wait for all.
    await Promise.all([
      ...survivors.map((m, i) => waitForView(m, all, 3 * FAILURE_TIMEOUT, sinceKill[i])),
      waitForView(reborn, all, 3 * FAILURE_TIMEOUT),
    ]);
    const views = [...survivors, reborn].map((m) => lastView(m)!);
    expect(new Set(views.map((v) => `${v.coordinator}#${v.counter}`)).size).toBe(1);
    for (const m of survivors) {
      const seen = m.proc.events.filter((e) => e.event === 'view' && Number(e.t) >= restartedAt);
      expect(seen.some((e) => !(e.members as string[]).includes(victim.address))).toBe(true);
    }
    expect(Math.max(...views.map((v) => v.t)) - restartedAt).toBeLessThan(FAILURE_TIMEOUT + 1500);
    members.push(reborn);
  }, 60_000);

  it('excludes a member whose link is taken down, coordinator included', async () => {
    members = await group(4);
    const coordinator = members.find((m) => m.address === lastView(members[0]!)!.members[0])!;
    const downAt = Date.now();
    await lab.isolate(coordinator.i);
    const installedAt = await sameViewOf(
      members.filter((m) => m !== coordinator),
      3 * FAILURE_TIMEOUT + 2000,
    );
    expect(installedAt - downAt).toBeLessThanOrEqual(3 * FAILURE_TIMEOUT);
  }, 60_000);

  it('a member joining during traffic delivers everything sent after its join', async () => {
    members = await group(3);
    const [sender] = members;
    const COUNT = 20_000;
    const sending = sender!.proc.request(
      { cmd: 'send', count: COUNT, size: 200, rate: 8000 },
      'sent',
      60_000,
    );
    await new Promise((r) => setTimeout(r, 800));
    const joiner = await startChannel(lab, 4, { membership, port });
    const all = [...members, joiner].map((m) => m.address);
    const joinView = await waitForView(sender!, all);
    await sending;
    const got = (await digestsWhen(joiner, (d) => d[sender!.address]?.last === COUNT - 1, 20_000))[
      sender!.address
    ];
    // Joined mid-stream: from some message on, every later one, once each and in order.
    expect(got).toMatchObject({ last: COUNT - 1, ordered: true });
    expect(got!.count).toBe(COUNT - got!.first);
    // Every broadcast the sender issued after it installed the joiner's view reached the joiner.
    expect(got!.first).toBeLessThanOrEqual(Number(joinView.issued));
    expect(got!.first).toBeGreaterThan(0);
  }, 60_000);

  it('a partition heals into one merged view', async () => {
    members = await group(4);
    const [a, b, c, d] = members as [ChannelMember, ChannelMember, ChannelMember, ChannelMember];
    await lab.partition([a.i, b.i], [c.i, d.i]);
    await Promise.all([
      waitForView(a, [a.address, b.address]),
      waitForView(b, [a.address, b.address]),
      waitForView(c, [c.address, d.address]),
      waitForView(d, [c.address, d.address]),
    ]);
    await lab.heal();
    await sameViewOf(members, 20_000);
  }, 60_000);
});
