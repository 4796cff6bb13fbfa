import type { Message, PropertyValue } from '../../../src/core/message.js';
import { compileCondition } from '../../../src/core/selector/compile.js';
import { parseSelector } from '../../../src/core/selector/parser.js';

export function message(
  properties: Record<string, PropertyValue | undefined> = {},
  headers: Partial<Omit<Message, 'properties'>> = {},
): Message {
  return {
    id: 'ID:broker-1',
    address: 'queue://orders',
    body: new Uint8Array(),
    properties: properties as Record<string, PropertyValue>,
    persistent: true,
    priority: 4,
    expiration: 0,
    timestamp: 1_700_000_000_000,
    ...headers,
  };
}

export type TruthName = 'TRUE' | 'FALSE' | 'UNKNOWN';

/** The three-valued result of a selector, which `compileSelector` collapses to TRUE / not TRUE. */
export function truth(selector: string, m: Message): TruthName {
  const v = compileCondition(parseSelector(selector))(m);
  return v === null ? 'UNKNOWN' : v ? 'TRUE' : 'FALSE';
}
