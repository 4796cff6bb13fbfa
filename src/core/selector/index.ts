/**
 * JMS SQL-92 message selectors. PLACEHOLDER until the selector module lands: the signature is the contract.
 */
import { BlazeError } from '../../util/errors.js';
import type { Message } from '../message.js';

/** A compiled selector: true when the message matches. Never throws on evaluation (unknown = false). */
export type SelectorPredicate = (message: Message) => boolean;

/** Parses and compiles; throws BlazeError('INVALID_SELECTOR', ...) naming the position of the problem. */
export function compileSelector(text: string): SelectorPredicate {
  throw new BlazeError('INVALID_SELECTOR', `selectors not implemented yet: ${text}`);
}
