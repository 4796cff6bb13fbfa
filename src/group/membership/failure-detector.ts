/**
 * Heartbeat-based failure detection: any frame from a member proves it alive. A member silent for longer
 * than the timeout becomes suspected; suspicion is only a hint, exclusion needs verification (the
 * coordinator asks the suspect directly, see membership.ts).
 */
import type { Clock } from '../clock.js';

export class FailureDetector {
  private readonly lastHeard = new Map<string, number>();
  readonly suspected = new Set<string>();

  constructor(
    private readonly clock: Clock,
    private readonly timeout: number,
  ) {}

  /** Returns true if `member` was suspected and is not any more. */
  heard(member: string): boolean {
    this.lastHeard.set(member, this.clock.now());
    return this.suspected.delete(member);
  }

  lastHeardOf(member: string): number {
    return this.lastHeard.get(member) ?? Number.NEGATIVE_INFINITY;
  }

  /** Members newly in view get a full timeout of grace; departed ones are forgotten. */
  setMembers(members: readonly string[], self: string): void {
    const now = this.clock.now();
    const set = new Set(members);
    for (const m of members) if (m !== self && !this.lastHeard.has(m)) this.lastHeard.set(m, now);
    for (const m of this.lastHeard.keys()) if (!set.has(m)) this.lastHeard.delete(m);
    for (const m of this.suspected) if (!set.has(m)) this.suspected.delete(m);
  }

  /** Newly suspected members of `members` (silent for longer than the timeout). */
  check(members: readonly string[], self: string): string[] {
    const now = this.clock.now();
    const fresh: string[] = [];
    for (const m of members) {
      if (m === self || this.suspected.has(m)) continue;
      if (now - this.lastHeardOf(m) > this.timeout) {
        this.suspected.add(m);
        fresh.push(m);
      }
    }
    return fresh;
  }
}
