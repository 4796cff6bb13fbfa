/**
 * Views: the agreed list of members of a group at one point of its history. Identified by the member
 * that installed it and a counter; members are ordered by age, so members[0] is the coordinator.
 * Each member is an address plus an incarnation (src/group/incarnation.ts); a view holds at most one
 * incarnation per address, so within a view the address alone names the member.
 */
import type { ViewMsg } from './wire.js';

export interface ViewId {
  readonly coordinator: string;
  readonly counter: number;
}

export interface View {
  readonly id: ViewId;
  readonly members: readonly string[];
  /** incarnations[i] is that of members[i]; absent when not known (then frames are not filtered). */
  readonly incarnations?: readonly number[];
}

export function viewIdString(id: ViewId): string {
  return `${id.coordinator}#${id.counter}`;
}

export function sameViewId(a: ViewId, b: ViewId): boolean {
  return a.counter === b.counter && a.coordinator === b.coordinator;
}

/** The incarnation `view` holds for `member`, or undefined (not a member, or not known). */
export function incarnationIn(view: View | undefined, member: string): number | undefined {
  const inc = view?.incarnations;
  if (!inc) return undefined;
  const i = view.members.indexOf(member);
  return i < 0 ? undefined : inc[i];
}

export function toViewMsg(v: View): ViewMsg {
  return {
    id: { coordinator: v.id.coordinator, counter: v.id.counter },
    members: [...v.members],
    incarnations: v.incarnations ? [...v.incarnations] : [],
  };
}

export function fromViewMsg(m: ViewMsg | null): View | undefined {
  if (!m?.id || m.members.length === 0) return undefined;
  const id = { coordinator: m.id.coordinator, counter: m.id.counter };
  // One incarnation per member or none: anything else is malformed and dropped with the view.
  if (m.incarnations && m.incarnations.length > 0) {
    if (m.incarnations.length !== m.members.length) return undefined;
    return { id, members: [...m.members], incarnations: [...m.incarnations] };
  }
  return { id, members: [...m.members] };
}
