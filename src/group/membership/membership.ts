/**
 * Group membership: discovery, join, graceful leave, failure detection with suspicion and verification,
 * view changes by flush, and merging of partitions. One instance per member, driven by frames and timers.
 *
 * Roles. The first member of a view is its coordinator. A member's *acting* coordinator is the first
 * member of its view that it neither suspects nor has verified dead: when the coordinator fails, the next
 * member in line verifies it and takes over.
 *
 * View change (coordinator), with the reliability protocol's flush (see ../reliable/types.ts):
 *   1. prepare: every member of the old view that is not being excluded blocks its sends, freezes delivery
 *      from departing members and answers with its digest. Silent members are added to the exclusions
 *      and the prepare starts over.
 *   2. install: the cut (per sender, the maximum delivered by anyone) goes with the new view to the new
 *      members; each delivers every message up to the cut, then installs the view and acks. Graceful
 *      leavers get the install last, so they stay to retransmit their messages until the others flushed.
 *
 * Guarantee (virtual synchrony for multicasts, as far as failures during a flush allow): the members that
 * install view V+1 from view V deliver the same set of V's multicasts before V+1; no multicast sent in V+1
 * is delivered in V; a member that joins in V+1 delivers every multicast sent in V+1 or later (while both
 * stay members). Point-to-point messages are FIFO and reliable between members but not flushed. If the
 * coordinator itself fails during a flush, members unblock after a timeout and the next coordinator
 * flushes again: the agreement then holds for the view it installs.
 *
 * Incarnations (src/group/incarnation.ts): a view names each member's incarnation, and frames from another
 * incarnation of a member's address are not that member's (`admit`). A newer one means the process was
 * restarted: the old incarnation is certainly gone (its address is taken), so it is treated as verified
 * dead at once and excluded by the next view change; the new process is admitted by the view change
 * after that, as a new member with fresh state everywhere. Never both in one view change: a view holds
 * at most one incarnation per address, so the layers below can key their state by address.
 *
 * Merge: coordinators multicast heartbeats flagged as such. A coordinator that hears one from outside its
 * view notes it; the lowest-addressed coordinator among those heard, after `mergeDelay`, asks the others
 * to flush their partitions and send their digests, flushes its own, and installs one view with all
 * members (its own first) and a counter above every merged view's.
 */

import { BlazeError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import type { Clock, Random, Timer } from '../clock.js';
import { compareIncarnation } from '../incarnation.js';
import type { Digest, FrameSender, ReliableProtocol } from '../reliable/types.js';
import { fromViewMsg, incarnationIn, sameViewId, toViewMsg, type View, type ViewId } from '../view.js';
import type { Frame, InstallView, MergeResponse, PrepareAck } from '../wire.js';
import { digestToEntries, entriesToDigest, maxDigest } from './digest.js';
import { FailureDetector } from './failure-detector.js';
import { type MembershipOptions, membershipOptions } from './options.js';
import { Round } from './round.js';

export interface MembershipDeps {
  self: string;
  /** This process's incarnation (GroupTransport.incarnation). */
  incarnation: number;
  wire: FrameSender;
  clock: Clock;
  random: Random;
  log: Logger;
  protocol: ReliableProtocol;
  options?: Partial<MembershipOptions>;
}

export interface MembershipListeners {
  view: (view: View, previous: View | undefined) => void;
  join: (member: string) => void;
  /** A member left the view, gracefully or excluded after a failure. */
  leave: (member: string) => void;
}

type State = 'idle' | 'discovering' | 'joining' | 'member' | 'leaving' | 'left';

interface Prepare {
  id: string;
  round: Round;
  acks: Map<string, Digest>;
  maxCounter: number;
}

interface MergeLead {
  mergeId: string;
  round: Round;
  responses: Map<string, MergeResponse>;
  own: { id: string; acks: Map<string, Digest>; maxCounter: number; missing: string[] } | undefined;
}

interface MergeFollow {
  mergeId: string;
  leader: string;
  response: MergeResponse | undefined;
  timer: Timer | undefined;
}

export class Membership {
  readonly options: MembershipOptions;
  readonly stats = {
    viewsInstalled: 0,
    suspicions: 0,
    verificationsFailed: 0,
    flushes: 0,
    merges: 0,
    /** Members seen restarted (a newer incarnation on their address). */
    restarts: 0,
    /** Frames dropped because they came from an older incarnation than the view's. */
    staleFrames: 0,
  };
  private readonly self: string;
  private state: State = 'idle';
  private current: View | undefined;
  /** The current view's incarnations by address (looked up for every frame received). */
  private incarnations = new Map<string, number>();
  private readonly fd: FailureDetector;
  private readonly listeners: { [K in keyof MembershipListeners]: Set<MembershipListeners[K]> } = {
    view: new Set(),
    join: new Set(),
    leave: new Set(),
  };

  // member side
  private blocked: { id: string; timer: Timer } | undefined;
  private installing: ViewId | undefined;
  private discoveryAnswers = new Map<string, View>();
  private timers: Timer[] = [];
  private joinTarget: string | undefined;
  private connectWaiter: { resolve: (v: View) => void; reject: (e: Error) => void } | undefined;
  private leaveWaiter: (() => void) | undefined;

  // coordinator side
  /** Joiner address -> its incarnation. */
  private readonly pendingJoins = new Map<string, number>();
  private readonly pendingLeaves = new Set<string>();
  /** Verified dead (or silent in a flush): excluded by the next view change. */
  private readonly dead = new Set<string>();
  private readonly verifying = new Map<string, { started: number; timers: Timer[] }>();
  private prep: Prepare | undefined;
  private inst: { viewId: ViewId; round: Round } | undefined;
  private lastInstall: InstallView | undefined;
  private mergeLead: MergeLead | undefined;
  private mergeFollow: MergeFollow | undefined;
  /** Coordinators of other partitions heard recently: address -> first and last time heard. */
  private readonly otherCoords = new Map<string, { first: number; last: number }>();
  private flushSeq = 0;

  constructor(private readonly deps: MembershipDeps) {
    this.self = deps.self;
    this.options = membershipOptions(deps.options);
    this.fd = new FailureDetector(deps.clock, this.options.failureTimeout);
  }

  get view(): View | undefined {
    return this.current;
  }

  get isCoordinator(): boolean {
    return this.current?.members[0] === this.self;
  }

  get status(): State {
    return this.state;
  }

  on<K extends keyof MembershipListeners>(event: K, fn: MembershipListeners[K]): () => void {
    this.listeners[event].add(fn);
    return () => this.listeners[event].delete(fn);
  }

  /** Finds the group and joins it, or founds it when nobody answers. Resolves with the first view. */
  connect(): Promise<View> {
    if (this.state !== 'idle') throw new BlazeError('CONFLICT', 'membership already started');
    return new Promise((resolve, reject) => {
      this.connectWaiter = { resolve, reject };
      this.discover();
    });
  }

  /** Graceful leave: the coordinator installs a view without this member. */
  leave(): Promise<void> {
    if (this.state === 'left') return Promise.resolve();
    if (this.state !== 'member' || !this.current || this.current.members.length === 1) {
      this.finishLeave();
      return Promise.resolve();
    }
    this.state = 'leaving';
    return new Promise((resolve) => {
      this.leaveWaiter = resolve;
      this.after(this.options.leaveTimeout, () => this.finishLeave());
      const ask = () => {
        if (this.state !== 'leaving') return;
        const c = this.actingCoordinator();
        if (c === this.self) {
          this.pendingLeaves.add(this.self);
          this.processPending();
        } else {
          this.deps.wire.unicast(c, 'leave', {});
        }
        this.after(this.options.joinRetry, ask);
      };
      ask();
    });
  }

  /** Stops everything at once (no leave): timers, rounds. */
  close(): void {
    if (this.state !== 'left') this.state = 'left';
    this.stopAll();
    this.connectWaiter?.reject(new BlazeError('CLOSED', 'closed before joining'));
    this.connectWaiter = undefined;
    this.leaveWaiter?.();
    this.leaveWaiter = undefined;
  }

  /** Any frame from `from` proves it alive. */
  heard(from: string): void {
    if (this.fd.heard(from)) this.deps.log.debug({ member: from }, 'suspicion cleared');
    const v = this.verifying.get(from);
    if (v) {
      for (const t of v.timers) t.cancel();
      this.verifying.delete(from);
    }
    if (this.dead.delete(from)) this.deps.log.info({ member: from }, 'member heard again');
  }

  /**
   * Whether a frame from (`from`, `incarnation`) may be taken as member `from`'s: true unless the current
   * view holds another incarnation of that address. A newer incarnation marks the view's one dead (it was
   * restarted); frames of either kind are dropped until the view no longer holds the old incarnation.
   */
  admit(from: string, incarnation: number): boolean {
    const known = this.incarnations.get(from);
    if (known === undefined || incarnation === 0) return true;
    switch (compareIncarnation(known, incarnation)) {
      case 'same':
        return true;
      case 'stale':
        this.stats.staleFrames++;
        return false;
      case 'restarted':
        if (from !== this.self && !this.dead.has(from)) {
          this.stats.restarts++;
          this.deps.log.info({ member: from }, 'member restarted: excluding its previous incarnation');
          this.dead.add(from);
          const v = this.verifying.get(from);
          if (v) for (const t of v.timers) t.cancel();
          this.verifying.delete(from);
          this.processPending();
        }
        return false;
    }
  }

  handle(from: string, frame: Frame, incarnation = 0): void {
    if (this.state === 'idle') return;
    switch (frame.kind) {
      case 'discovery':
        if (this.state === 'member' && this.isCoordinator) {
          this.deps.wire.unicast(from, 'discovery_response', { view: toViewMsg(this.current!) });
        }
        return;
      case 'discovery_response': {
        const v = fromViewMsg(frame.body.view);
        if (this.state === 'discovering' && v) this.discoveryAnswers.set(from, v);
        return;
      }
      case 'join':
        this.onJoin(from, incarnation);
        return;
      case 'leave':
        this.onLeaveRequest(from);
        return;
      case 'heartbeat':
        this.onHeartbeat(from, frame.body.view, frame.body.coordinator);
        return;
      case 'suspect':
        if (this.isMemberState() && this.actingCoordinator() === this.self) {
          const s = frame.body.member;
          if (s !== this.self && this.current!.members.includes(s)) this.verify(s);
        }
        return;
      case 'are_you_alive':
        if (this.isMemberState()) this.deps.wire.unicast(from, 'i_am_alive', {});
        return;
      case 'i_am_alive':
        return;
      case 'not_member':
        this.onNotMember(frame.body.view);
        return;
      case 'prepare':
        this.onPrepare(from, frame.body.flush_id, frame.body.survivors);
        return;
      case 'prepare_ack':
        this.onPrepareAck(from, frame.body);
        return;
      case 'abort':
        this.onAbort(frame.body.flush_id);
        return;
      case 'install':
        this.onInstall(from, frame.body);
        return;
      case 'install_ack':
        if (this.inst && frame.body.view && sameViewId(this.inst.viewId, frame.body.view)) {
          this.inst.round.answer(from);
        }
        return;
      case 'merge_request':
        this.onMergeRequest(from, frame.body.merge_id);
        return;
      case 'merge_response':
        if (this.mergeLead && frame.body.merge_id === this.mergeLead.mergeId) {
          this.mergeLead.responses.set(from, frame.body);
          this.mergeLead.round.answer(from);
        }
        return;
      default:
        return;
    }
  }

  // --- discovery and join --------------------------------------------------------------------------

  private discover(): void {
    this.state = 'discovering';
    this.discoveryAnswers.clear();
    const o = this.options;
    const probe = () => {
      if (this.state !== 'discovering') return;
      this.deps.wire.multicast('discovery', {});
      this.after(o.joinRetry, probe);
    };
    probe();
    // A little randomness keeps members started together from all founding groups at the same instant.
    this.after(o.discoveryTimeout + this.deps.random() * o.joinRetry, () => {
      if (this.state !== 'discovering') return;
      const best = [...this.discoveryAnswers].sort(
        ([a, va], [b, vb]) => vb.members.length - va.members.length || (a < b ? -1 : 1),
      )[0];
      if (best) this.startJoin(best[0]);
      else this.found();
    });
  }

  private startJoin(coordinator: string): void {
    this.state = 'joining';
    this.joinTarget = coordinator;
    const ask = () => {
      if (this.state !== 'joining' || this.joinTarget !== coordinator) return;
      this.deps.wire.unicast(coordinator, 'join', {});
      this.after(this.options.joinRetry, ask);
    };
    ask();
    this.after(this.options.joinTimeout, () => {
      if (this.state === 'joining' && this.joinTarget === coordinator && !this.installing) {
        this.deps.log.info({ coordinator }, 'join not answered, discovering again');
        this.discover();
      }
    });
  }

  /** Nobody answered: this member founds the group with a view of its own. */
  private found(): void {
    const v = this.ownView(1);
    this.applyInstall(v, new Map(), this.self);
  }

  /** A view of this member alone. */
  private ownView(counter: number): View {
    return {
      id: { coordinator: this.self, counter },
      members: [this.self],
      incarnations: [this.deps.incarnation],
    };
  }

  /** A view with each member's incarnation, or with none if any is unknown (an older view lacked them). */
  private makeView(id: ViewId, members: string[], incarnationOf: (m: string) => number | undefined): View {
    const incarnations: number[] = [];
    for (const m of members) {
      const inc = m === this.self ? this.deps.incarnation : incarnationOf(m);
      if (inc === undefined) return { id, members };
      incarnations.push(inc);
    }
    return { id, members, incarnations };
  }

  private onJoin(from: string, incarnation: number): void {
    if (!this.isMemberState() || this.actingCoordinator() !== this.self) return;
    if (this.current!.members.includes(from)) {
      // Its install was lost: send it again.
      if (this.lastInstall?.view?.members.includes(from))
        this.deps.wire.unicast(from, 'install', this.lastInstall);
      return;
    }
    this.pendingJoins.set(from, incarnation);
    this.processPending();
  }

  private onLeaveRequest(from: string): void {
    if (!this.isMemberState() || this.actingCoordinator() !== this.self) return;
    if (this.current!.members.includes(from)) {
      this.pendingLeaves.add(from);
      this.processPending();
    } else if (this.lastInstall && !this.lastInstall.view?.members.includes(from)) {
      this.deps.wire.unicast(from, 'install', this.lastInstall);
    }
  }

  // --- heartbeats, suspicion, verification ---------------------------------------------------------

  private startHeartbeats(): void {
    const tick = () => {
      if (!this.isMemberState()) return;
      const v = this.current!;
      this.deps.wire.multicast('heartbeat', { view: { ...v.id }, coordinator: this.isCoordinator });
      for (const s of this.fd.check(v.members, this.self)) {
        this.stats.suspicions++;
        this.deps.log.info({ member: s }, 'member suspected');
      }
      for (const s of this.fd.suspected) this.onLocalSuspicion(s);
      const now = this.deps.clock.now();
      for (const [c, t] of this.otherCoords) {
        if (now - t.last > this.options.failureTimeout || v.members.includes(c)) this.otherCoords.delete(c);
      }
      this.processPending();
      this.after(this.options.heartbeatInterval, tick);
    };
    this.after(this.options.heartbeatInterval * this.deps.random(), tick);
  }

  private onLocalSuspicion(s: string): void {
    const acting = this.actingCoordinator();
    if (acting === this.self) this.verify(s);
    else this.deps.wire.unicast(acting, 'suspect', { member: s });
  }

  /** Asks the suspect directly; silence until the verify timeout makes it dead (excluded next). */
  private verify(s: string): void {
    if (this.verifying.has(s) || this.dead.has(s)) return;
    const started = this.deps.clock.now();
    const entry = { started, timers: [] as Timer[] };
    this.verifying.set(s, entry);
    const ping = () => {
      if (this.verifying.get(s) !== entry) return;
      this.deps.wire.unicast(s, 'are_you_alive', {});
      entry.timers.push(this.deps.clock.setTimer(this.options.verifyTimeout / 4, ping));
    };
    ping();
    entry.timers.push(
      this.deps.clock.setTimer(this.options.verifyTimeout, () => {
        if (this.verifying.get(s) !== entry) return;
        for (const t of entry.timers) t.cancel();
        this.verifying.delete(s);
        if (this.fd.lastHeardOf(s) > started) return;
        this.stats.verificationsFailed++;
        this.deps.log.info({ member: s }, 'suspect did not answer: excluding');
        this.dead.add(s);
        this.processPending();
      }),
    );
  }

  private onHeartbeat(from: string, view: ViewId | null, coordinator: boolean): void {
    if (this.state !== 'member' || !this.current || !view || !this.isCoordinator) return;
    if (this.current.members.includes(from)) {
      // A member of this view that heads a view of its own has left it (it could not hear us and formed
      // its own group): exclude it here too, so that the merge can bring it back.
      if (view.coordinator === from && !sameViewId(view, this.current.id) && !this.dead.has(from)) {
        this.deps.log.info({ member: from }, 'member runs a view of its own: excluding before merge');
        this.dead.add(from);
        this.processPending();
      }
      return;
    }
    const now = this.deps.clock.now();
    if (coordinator) {
      // The coordinator of another partition (or of a view that excluded us): candidate for a merge.
      const t = this.otherCoords.get(from);
      this.otherCoords.set(from, { first: t?.first ?? now, last: now });
    } else if (this.current.members.includes(view.coordinator) && view.counter < this.current.id.counter) {
      // Still believes in an older view of ours that excluded it (it was wrongly suspected): tell it, so
      // that it forms its own view, which the next merge folds back in.
      this.deps.wire.unicast(from, 'not_member', { view: { ...this.current.id } });
    }
  }

  private onNotMember(view: ViewId | null): void {
    if (this.state !== 'member' || !this.current || !view || view.counter <= this.current.id.counter) return;
    if (this.busy() || this.installing || this.blocked) return;
    this.deps.log.info({ by: view.coordinator }, 'excluded from the group while alive: forming own view');
    const cut = this.deps.protocol.prepare([this.self]);
    this.applyInstall(this.ownView(this.current.id.counter + 1), cut, this.self);
  }

  // --- member side of a flush ----------------------------------------------------------------------

  private onPrepare(from: string, flushId: string, survivors: string[]): void {
    if (!this.isMemberState() || !this.current!.members.includes(from) || this.installing) return;
    const digest = this.deps.protocol.prepare(survivors);
    this.block(flushId);
    this.deps.wire.unicast(from, 'prepare_ack', {
      flush_id: flushId,
      digest: digestToEntries(digest),
      view: this.current!.id.counter,
    });
  }

  /** Blocked under a flush; if no install or abort comes (the coordinator died), unblock by itself. */
  private block(id: string): void {
    this.blocked?.timer.cancel();
    const timer = this.deps.clock.setTimer(this.options.flushTimeout * 4, () => {
      if (this.blocked?.id === id && !this.installing) {
        this.deps.log.info({ flush: id }, 'flush abandoned by its coordinator: unblocking');
        this.unblock();
        this.deps.protocol.abort();
      }
    });
    this.blocked = { id, timer };
  }

  private unblock(): void {
    this.blocked?.timer.cancel();
    this.blocked = undefined;
  }

  private onAbort(flushId: string): void {
    if (this.blocked?.id !== flushId || this.installing) return;
    this.unblock();
    this.deps.protocol.abort();
  }

  private onInstall(from: string, body: InstallView): void {
    const v = fromViewMsg(body.view);
    if (!v || this.state === 'idle' || this.state === 'left') return;
    if (this.installing) return;
    if (this.current && v.id.counter <= this.current.id.counter) {
      if (sameViewId(v.id, this.current.id))
        this.deps.wire.unicast(from, 'install_ack', { view: { ...v.id } });
      return;
    }
    // A view naming another incarnation of this address was meant for this process's predecessor.
    const mine = (incarnationIn(v, this.self) ?? this.deps.incarnation) === this.deps.incarnation;
    if (!mine) return;
    const joining = this.state === 'joining' && v.members.includes(this.self);
    const flushed = this.blocked !== undefined && body.flush_ids.includes(this.blocked.id);
    if (!joining && !flushed) return;
    this.applyInstall(v, entriesToDigest(body.cut), from);
  }

  private applyInstall(v: View, cut: Digest, from: string): void {
    this.installing = v.id;
    this.deps.protocol.install(v, cut, () => this.installed(v, from));
  }

  private installed(v: View, from: string): void {
    const prev = this.current;
    this.installing = undefined;
    this.unblock();
    this.current = v;
    this.incarnations = new Map(v.incarnations?.map((inc, i) => [v.members[i]!, inc]));
    this.stats.viewsInstalled++;
    if (from !== this.self) this.deps.wire.unicast(from, 'install_ack', { view: { ...v.id } });
    this.fd.setMembers(v.members, this.self);
    for (const m of [...this.dead]) if (!v.members.includes(m)) this.dead.delete(m);
    for (const m of v.members) this.pendingJoins.delete(m);
    for (const m of [...this.pendingLeaves]) if (!v.members.includes(m)) this.pendingLeaves.delete(m);
    for (const [m, e] of this.verifying) {
      if (!v.members.includes(m)) {
        for (const t of e.timers) t.cancel();
        this.verifying.delete(m);
      }
    }
    for (const c of v.members) this.otherCoords.delete(c);
    if (this.mergeFollow) {
      this.mergeFollow.timer?.cancel();
      this.mergeFollow = undefined;
    }
    this.deps.log.info({ view: `${v.id.coordinator}#${v.id.counter}`, members: v.members }, 'view installed');

    if (!v.members.includes(this.self)) {
      // This member left (gracefully, or it is the coordinator handing over).
      if (!this.inst) this.finishLeave();
      return;
    }
    const first = this.state === 'joining' || this.state === 'discovering';
    if (first) {
      this.state = 'member';
      this.startHeartbeats();
    }
    for (const fn of this.listeners.view) fn(v, prev);
    if (prev) {
      for (const m of v.members) if (!prev.members.includes(m)) for (const fn of this.listeners.join) fn(m);
      for (const m of prev.members) if (!v.members.includes(m)) for (const fn of this.listeners.leave) fn(m);
    }
    if (first) {
      this.connectWaiter?.resolve(v);
      this.connectWaiter = undefined;
    }
    this.processPending();
  }

  private finishLeave(): void {
    this.state = 'left';
    this.stopAll();
    this.leaveWaiter?.();
    this.leaveWaiter = undefined;
  }

  // --- coordinator: view changes -------------------------------------------------------------------

  private busy(): boolean {
    return !!(this.prep || this.inst || this.mergeLead || this.mergeFollow);
  }

  private isMemberState(): boolean {
    return (this.state === 'member' || this.state === 'leaving') && this.current !== undefined;
  }

  private actingCoordinator(): string {
    const v = this.current!;
    return v.members.find((m) => m === this.self || (!this.dead.has(m) && !this.fd.suspected.has(m)))!;
  }

  private processPending(): void {
    if (!this.isMemberState() || this.busy() || this.installing) return;
    if (this.actingCoordinator() !== this.self) return;
    const v = this.current!;
    const changes =
      [...this.dead].some((m) => v.members.includes(m)) ||
      [...this.pendingLeaves].some((m) => v.members.includes(m)) ||
      [...this.pendingJoins.keys()].some((m) => !v.members.includes(m));
    if (changes) this.startViewChange();
    else if (this.state === 'member' && this.isCoordinator) this.maybeMerge();
  }

  private startViewChange(): void {
    const old = this.current!;
    const excluded = old.members.filter((m) => m !== this.self && this.dead.has(m));
    const leaving = old.members.filter((m) => this.pendingLeaves.has(m));
    // A joiner on the address of a member being excluded (it restarted) waits for the next view change.
    const joining = [...this.pendingJoins.keys()].filter((m) => !old.members.includes(m));
    const gone = new Set([...excluded, ...leaving]);
    const survivors = old.members.filter((m) => !gone.has(m));
    const newMembers = [...survivors, ...joining];
    const targets = old.members.filter((m) => m !== this.self && !excluded.includes(m));
    this.stats.flushes++;
    this.runPrepare(survivors, targets, (id, acks, maxCounter, missing) => {
      if (missing.length > 0) {
        // Silent during the flush: exclude them too and start over (members stay blocked meanwhile).
        this.deps.log.info({ missing }, 'members silent during flush: excluding');
        for (const m of missing) this.dead.add(m);
        this.processPending();
        return;
      }
      if (newMembers.length === 0) {
        this.unblock();
        this.finishLeave();
        return;
      }
      const view = this.makeView(
        { coordinator: newMembers[0]!, counter: maxCounter + 1 },
        newMembers,
        (m) => incarnationIn(old, m) ?? this.pendingJoins.get(m),
      );
      this.install(
        view,
        [id],
        maxDigest(acks.values()),
        newMembers.filter((m) => m !== this.self),
        leaving.filter((m) => m !== this.self),
      );
    });
  }

  private runPrepare(
    survivors: string[],
    targets: string[],
    done: (id: string, acks: Map<string, Digest>, maxCounter: number, missing: string[]) => void,
  ): void {
    const id = `${this.self}/${++this.flushSeq}`;
    const own = this.deps.protocol.prepare(survivors);
    this.block(id);
    const acks = new Map<string, Digest>([[this.self, own]]);
    const prep: Prepare = {
      id,
      acks,
      maxCounter: this.current!.id.counter,
      round: new Round(
        this.deps.clock,
        targets,
        (to) => this.deps.wire.unicast(to, 'prepare', { flush_id: id, survivors }),
        this.options.flushRetry,
        this.options.flushTimeout,
        (missing) => {
          if (this.prep === prep) this.prep = undefined;
          done(id, acks, prep.maxCounter, missing);
        },
      ),
    };
    this.prep = prep;
  }

  private onPrepareAck(from: string, ack: PrepareAck): void {
    const p = this.prep ?? undefined;
    if (p && ack.flush_id === p.id) {
      p.acks.set(from, entriesToDigest(ack.digest));
      p.maxCounter = Math.max(p.maxCounter, ack.view);
      p.round.answer(from);
      return;
    }
    // A merge leader's own partition flush uses the same prepare state.
  }

  /**
   * Sends the new view to its members; graceful leavers get it only once the members acked (flushed),
   * so that they are still there to retransmit their own messages.
   */
  private install(view: View, flushIds: string[], cut: Digest, targets: string[], leavers: string[]): void {
    const body: InstallView = { view: toViewMsg(view), flush_ids: flushIds, cut: digestToEntries(cut) };
    this.lastInstall = body;
    const send = (to: string) => this.deps.wire.unicast(to, 'install', body);
    const { flushRetry, flushTimeout } = this.options;
    const afterAll = () => {
      this.inst = undefined;
      if (this.state === 'left' || !view.members.includes(this.self)) this.finishLeave();
      else this.processPending();
    };
    const inst: { viewId: ViewId; round: Round } = {
      viewId: view.id,
      round: new Round(this.deps.clock, targets, send, flushRetry, flushTimeout, () => {
        if (leavers.length === 0) return afterAll();
        inst.round = new Round(this.deps.clock, leavers, send, flushRetry, flushTimeout, afterAll);
      }),
    };
    this.inst = inst;
    this.applyInstall(view, cut, this.self);
  }

  private abortFlush(id: string, members: readonly string[]): void {
    for (const m of members) if (m !== this.self) this.deps.wire.unicast(m, 'abort', { flush_id: id });
    this.onAbort(id);
  }

  // --- merge ---------------------------------------------------------------------------------------

  private maybeMerge(): void {
    const now = this.deps.clock.now();
    const v = this.current!;
    const cands = [...this.otherCoords].filter(
      ([c, t]) => now - t.last <= this.options.failureTimeout && !v.members.includes(c),
    );
    if (cands.length === 0) return;
    // The lowest-addressed coordinator leads; the others answer its request.
    if (cands.some(([c]) => c < this.self)) return;
    if (now - Math.min(...cands.map(([, t]) => t.first)) < this.options.mergeDelay) return;
    this.startMerge(cands.map(([c]) => c));
  }

  private startMerge(others: string[]): void {
    const v = this.current!;
    const mergeId = `${this.self}/m${++this.flushSeq}`;
    this.stats.merges++;
    this.deps.log.info({ with: others }, 'merging partitions');
    const lead: MergeLead = {
      mergeId,
      responses: new Map(),
      own: undefined,
      round: new Round(
        this.deps.clock,
        others,
        (to) => this.deps.wire.unicast(to, 'merge_request', { merge_id: mergeId }),
        this.options.flushRetry,
        this.options.flushTimeout * 2,
        () => this.finishMerge(lead),
      ),
    };
    this.mergeLead = lead;
    this.runPrepare(
      [...v.members],
      v.members.filter((m) => m !== this.self),
      (id, acks, maxCounter, missing) => {
        lead.own = { id, acks, maxCounter, missing };
        this.finishMerge(lead);
      },
    );
  }

  private finishMerge(lead: MergeLead): void {
    if (this.mergeLead !== lead || !lead.round.done || !lead.own) return;
    this.mergeLead = undefined;
    const own = lead.own;
    const v = this.current!;
    const ok = [...lead.responses.values()].filter((r) => r.ok && fromViewMsg(r.view));
    if (own.missing.length > 0 || ok.length === 0) {
      this.abortFlush(own.id, v.members);
      for (const m of own.missing) this.dead.add(m);
      this.otherCoords.clear();
      this.processPending();
      return;
    }
    const views = ok
      .map((r) => fromViewMsg(r.view)!)
      .sort((a, b) => (a.id.coordinator < b.id.coordinator ? -1 : 1));
    const members = [...v.members];
    for (const ov of views) for (const m of ov.members) if (!members.includes(m)) members.push(m);
    const counter = Math.max(own.maxCounter, ...views.map((ov) => ov.id.counter)) + 1;
    const cut = maxDigest([...own.acks.values(), ...ok.map((r) => entriesToDigest(r.digest))]);
    const view = this.makeView({ coordinator: this.self, counter }, members, (m) => {
      for (const ov of [v, ...views]) {
        const inc = incarnationIn(ov, m);
        if (inc !== undefined) return inc;
      }
      return undefined;
    });
    this.install(
      view,
      [own.id, ...ok.map((r) => r.flush_id)],
      cut,
      members.filter((m) => m !== this.self),
      [],
    );
  }

  private onMergeRequest(from: string, mergeId: string): void {
    if (
      this.state !== 'member' ||
      !this.current ||
      !this.isCoordinator ||
      this.current.members.includes(from)
    )
      return;
    const f = this.mergeFollow;
    if (f && f.mergeId === mergeId) {
      if (f.response) this.deps.wire.unicast(from, 'merge_response', f.response);
      return;
    }
    if (this.busy() || this.installing) {
      this.deps.wire.unicast(from, 'merge_response', {
        merge_id: mergeId,
        ok: false,
        view: null,
        flush_id: '',
        digest: [],
      });
      return;
    }
    const v = this.current;
    const follow: MergeFollow = { mergeId, leader: from, response: undefined, timer: undefined };
    this.mergeFollow = follow;
    this.runPrepare(
      [...v.members],
      v.members.filter((m) => m !== this.self),
      (id, acks, _max, missing) => {
        if (this.mergeFollow !== follow) return;
        if (missing.length > 0) {
          this.deps.wire.unicast(from, 'merge_response', {
            merge_id: mergeId,
            ok: false,
            view: null,
            flush_id: '',
            digest: [],
          });
          this.mergeFollow = undefined;
          this.abortFlush(id, v.members);
          for (const m of missing) this.dead.add(m);
          this.processPending();
          return;
        }
        follow.response = {
          merge_id: mergeId,
          ok: true,
          view: toViewMsg(v),
          flush_id: id,
          digest: digestToEntries(maxDigest(acks.values())),
        };
        this.deps.wire.unicast(from, 'merge_response', follow.response);
        // The leader's install normally follows; if it does not, unblock this partition.
        follow.timer = this.deps.clock.setTimer(this.options.flushTimeout * 2, () => {
          if (this.mergeFollow !== follow) return;
          this.mergeFollow = undefined;
          if (!this.installing) this.abortFlush(id, v.members);
          this.processPending();
        });
      },
    );
  }

  // --- timers --------------------------------------------------------------------------------------

  private after(ms: number, fn: () => void): void {
    const t = this.deps.clock.setTimer(ms, () => {
      this.timers = this.timers.filter((x) => x !== t);
      fn();
    });
    this.timers.push(t);
  }

  private stopAll(): void {
    for (const t of this.timers) t.cancel();
    this.timers = [];
    this.blocked?.timer.cancel();
    this.prep?.round.cancel();
    this.inst?.round.cancel();
    this.mergeLead?.round.cancel();
    this.mergeFollow?.timer?.cancel();
    for (const v of this.verifying.values()) for (const t of v.timers) t.cancel();
    this.verifying.clear();
  }
}
