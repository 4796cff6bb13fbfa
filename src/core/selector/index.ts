/**
 * JMS message selectors: the SQL-92 conditional-expression subset of JMS 2.0 §3.8.1, compiled once into a
 * predicate that is then run against each message.
 *
 * Syntax is JMS's, with ActiveMQ's lexical extensions (hex `0x1F` and octal `017` literals, `L` suffixes,
 * `%` modulo, SQL comments) and one of BlazeMQ's: double-quoted identifiers for property names that are not
 * Java identifiers (`"content-type" = 'text/plain'`). See lexer.ts and parser.ts for the grammar; header
 * identifiers (JMSPriority, JMSType…) are mapped in identifiers.ts.
 *
 * Semantics are SQL three-valued logic: a missing property is NULL, comparison or arithmetic with NULL is
 * UNKNOWN, NOT UNKNOWN is UNKNOWN, and a message matches only when the selector is TRUE.
 *
 * Where BlazeMQ deliberately departs from JMS (§3.8.1.1 says property conversions do not apply in
 * selectors, so a string '12' never equals 12):
 * - A string that looks like a decimal number (`12`, `-3.5`, `1e3`; no blanks, no hex) is converted to that
 *   number when compared with a number, when used in arithmetic, and in `<`, `<=`, `>`, `>=` and BETWEEN,
 *   which are numeric-only. Likewise 'true'/'false' (any case) convert to booleans where compared with a
 *   boolean or used as a condition. STOMP headers, MQTT user properties and HTTP headers carry every value
 *   as a string, and `price > 10` must match a STOMP message with `price:12` (ActiveMQ offers the same under
 *   its `convert_string_expressions:` selector prefix). Two strings compare as strings with = and <>.
 * - Arithmetic is IEEE double (a Message property is a JS number), so `7 / 2` is 3.5 and integers beyond
 *   2^53 lose precision. Division or modulo by zero is UNKNOWN.
 * The remaining type rules follow JMS and ActiveMQ: unlike types are unequal (so `<>` is TRUE for them) and
 * never ordered (FALSE); booleans compare only with = and <>; a non-string value never matches LIKE;
 * combinations that can never be meaningful (`'a' > 1`, `x = NULL`, `1 + TRUE`, `price LIKE 5`) are
 * rejected at compile time.
 *
 * An empty or all-blank selector means "no selector" (§3.8.1: treated as null) and matches everything.
 * Selectors longer than MAX_SELECTOR_LENGTH or nested deeper than MAX_SELECTOR_DEPTH are rejected, so that
 * compiling and evaluating are bounded; LIKE never backtracks (like.ts).
 */
import type { Message } from '../message.js';
import { compileCondition } from './compile.js';
import { parseSelector } from './parser.js';

export { SelectorError } from './errors.js';
export { MAX_SELECTOR_DEPTH, MAX_SELECTOR_LENGTH } from './parser.js';

/** A compiled selector: true when the message matches. Never throws on evaluation (unknown = false). */
export type SelectorPredicate = (message: Message) => boolean;

const MATCH_ALL: SelectorPredicate = () => true;

/**
 * Parses and compiles; throws BlazeError('INVALID_SELECTOR', ...) naming the position of the problem
 * (a SelectorError, whose `offset` is the 0-based index of the offending token).
 */
export function compileSelector(text: string): SelectorPredicate {
  if (text.trim() === '') return MATCH_ALL;
  const condition = compileCondition(parseSelector(text));
  return (message) => {
    try {
      return condition(message) === true;
    } catch {
      // Only a hostile Message (throwing getters, proxies) gets here; it matches nothing rather than
      // breaking dispatch for every other subscription.
      return false;
    }
  };
}
