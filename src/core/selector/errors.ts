import { BlazeError } from '../../util/errors.js';

/**
 * A selector rejected at compile time (JMS 2.0 §3.8.1: "JMS providers are required to verify the syntactic
 * correctness of a message selector at the time it is presented"). Protocol adapters only need `code`;
 * `offset` lets a console or a test point at the exact spot.
 */
export class SelectorError extends BlazeError {
  /** 0-based index into the selector text of the offending token; the message says `column offset+1`. */
  readonly offset: number;

  constructor(problem: string, offset: number) {
    super('INVALID_SELECTOR', `invalid selector: ${problem} at column ${offset + 1}`);
    this.name = 'SelectorError';
    this.offset = offset;
  }
}
