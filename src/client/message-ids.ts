/**
 * Message ids in the broker's answer to a Send or SendBatch that set `want_ids` (native.proto version 2,
 * Ok.message_ids: one per message, in order, "" when the broker does not know it).
 */
import type { DecodedFrame } from './codec/frames.js';

/** Ok.message_ids of an answer; undefined for another frame, or a broker that sent none (version 1). */
export function messageIdsOf(answer: DecodedFrame): readonly string[] | undefined {
  if (answer.kind !== 'ok') return undefined;
  return (answer as { ok: { message_ids?: string[] } }).ok.message_ids;
}

/** The id at `i`; undefined when absent or "". */
export function idAt(ids: readonly string[] | undefined, i: number): string | undefined {
  const id = ids?.[i];
  return id === undefined || id === '' ? undefined : id;
}
