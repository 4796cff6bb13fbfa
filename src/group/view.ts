/**
 * Views: the agreed list of members of a group at one point of its history. Identified by the member
 * that installed it and a counter; members are ordered by age, so members[0] is the coordinator.
 */
import type { ViewMsg } from './wire.js';

export interface ViewId {
  readonly coordinator: string;
  readonly counter: number;
}

export interface View {
  readonly id: ViewId;
  readonly members: readonly string[];
}

export function viewIdString(id: ViewId): string {
  return `${id.coordinator}#${id.counter}`;
}

export function sameViewId(a: ViewId, b: ViewId): boolean {
  return a.counter === b.counter && a.coordinator === b.coordinator;
}

export function toViewMsg(v: View): ViewMsg {
  return { id: { coordinator: v.id.coordinator, counter: v.id.counter }, members: [...v.members] };
}

export function fromViewMsg(m: ViewMsg | null): View | undefined {
  if (!m?.id || m.members.length === 0) return undefined;
  return { id: { coordinator: m.id.coordinator, counter: m.id.counter }, members: [...m.members] };
}
