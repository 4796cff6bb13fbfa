/**
 * The input turn, shared by every protocol session in the process. While any session handles bytes from its
 * peer (`enterInput` ... `leaveInput` around `onData`), the output that input causes - for that session or any
 * other, of any protocol (a STOMP SEND delivers to MQTT subscribers and back) - is collected by each session
 * and written when the outermost input returns: one encoding pass and one transport write per session per
 * turn, instead of one per frame. Output made anywhere else (timers, drain, store completions) is written at
 * once by its session.
 *
 * The end of a turn has two passes: sessions first (`flushAfterTurn`: they encode what they collected and
 * hand it to their transports), then carriers (`sendAfterTurn`: each transport given bytes during the turn
 * hands them to its socket). The second pass is for latency: a reply to one small read goes out before the
 * event loop looks at other sockets, instead of after every other callback of the loop iteration.
 */

export interface TurnOutput {
  /** Write what was collected during the turn. Called once per `flushAfterTurn` / `sendAfterTurn`. */
  flushTurn(): void;
}

let depth = 0;
let ending = false;
const queued: TurnOutput[] = [];
const carriers: TurnOutput[] = [];

export function enterInput(): void {
  depth++;
}

/** The outermost `leaveInput` flushes every session that asked for it, then every carrier, in the order they asked. */
export function leaveInput(): void {
  if (--depth !== 0) return;
  ending = true;
  try {
    flushAll(queued);
  } finally {
    ending = false;
    // Even after a session threw: a carrier waiting here has its output held until it is called.
    flushAll(carriers);
  }
}

/**
 * Calls every entry, including those a flush adds (indexed loop), and empties the list. An entry that
 * throws (against its contract) does not strand the ones after it; the first error is rethrown.
 */
function flushAll(list: TurnOutput[]): void {
  let failed = false;
  let error: unknown;
  for (let i = 0; i < list.length; i++) {
    try {
      list[i]!.flushTurn();
    } catch (e) {
      if (!failed) error = e;
      failed = true;
    }
  }
  list.length = 0;
  if (failed) throw error;
}

/** True while some session is handling input: collect output instead of writing it. */
export function inInputTurn(): boolean {
  return depth > 0;
}

/** True while input is handled or its sessions' output is being flushed: a carrier may `sendAfterTurn`. */
export function inInputTurnOrItsFlush(): boolean {
  return depth > 0 || ending;
}

/** Have `output.flushTurn()` called at the end of this turn. The caller keeps its own once-per-turn flag. */
export function flushAfterTurn(output: TurnOutput): void {
  queued.push(output);
}

/** Have `carrier.flushTurn()` called after the sessions' flushes at the end of this turn (own flag, too). */
export function sendAfterTurn(carrier: TurnOutput): void {
  carriers.push(carrier);
}
