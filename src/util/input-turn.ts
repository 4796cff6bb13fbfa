/**
 * The input turn, shared by every protocol session in the process. While any session handles bytes from its
 * peer (`enterInput` ... `leaveInput` around `onData`), the output that input causes - for that session or any
 * other, of any protocol (a STOMP SEND delivers to MQTT subscribers and back) - is collected by each session
 * and written when the outermost input returns: one encoding pass and one transport write per session per
 * turn, instead of one per frame. Output made anywhere else (timers, drain, store completions) is written at
 * once by its session.
 */

export interface TurnOutput {
  /** Write what was collected during the turn. Called once per `flushAfterTurn`. */
  flushTurn(): void;
}

let depth = 0;
const queued: TurnOutput[] = [];

export function enterInput(): void {
  depth++;
}

/** The outermost `leaveInput` flushes every session that asked for it, in the order they asked. */
export function leaveInput(): void {
  if (--depth !== 0) return;
  // Indexed loop: a flush may (rarely) queue another session, which then runs in this same pass.
  for (let i = 0; i < queued.length; i++) queued[i]!.flushTurn();
  queued.length = 0;
}

/** True while some session is handling input: collect output instead of writing it. */
export function inInputTurn(): boolean {
  return depth > 0;
}

/** Have `output.flushTurn()` called at the end of this turn. The caller keeps its own once-per-turn flag. */
export function flushAfterTurn(output: TurnOutput): void {
  queued.push(output);
}
