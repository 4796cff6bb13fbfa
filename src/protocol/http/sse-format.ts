/**
 * A message as a Server-Sent Event (docs/HTTP.md "Server-Sent Events"). `text`: data = the body, or its
 * base64 in a `binary` event when it is not UTF-8. `json`: data = id, address, timestamp, properties,
 * contentType and the body (`bodyBase64` when not UTF-8). Pure.
 */
import { isUtf8 } from 'node:buffer';
import type { Message } from '../../core/message.js';
import { encodeEvent, type SseEvent } from './sse-codec.js';

export type SseFormat = 'text' | 'json';

export function messageEvent(m: Message, format: SseFormat, id: string): SseEvent {
  const body = Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength);
  const text = isUtf8(body);
  if (format === 'json') {
    return {
      id,
      data: JSON.stringify({
        id: m.id,
        address: m.address,
        timestamp: m.timestamp,
        properties: m.properties,
        ...(m.contentType !== undefined ? { contentType: m.contentType } : {}),
        ...(text ? { body: body.toString('utf8') } : { bodyBase64: body.toString('base64') }),
      }),
    };
  }
  return text ? { id, data: body.toString('utf8') } : { id, event: 'binary', data: body.toString('base64') };
}

/**
 * Encoded events of messages, per format, for topic streams without history (sse-stream.ts): the core hands
 * the same Message object to every subscription of a topic, so N live streams encode it once, not N times.
 * Weak: an entry goes with its message.
 */
const encoded = new WeakMap<Message, Partial<Record<SseFormat, Buffer>>>();

/** `messageEvent(m, format, m.id)` encoded as UTF-8, shared by every caller for the same message object. */
export function sharedMessageEvent(m: Message, format: SseFormat): Buffer {
  let forms = encoded.get(m);
  if (forms === undefined) {
    forms = {};
    encoded.set(m, forms);
  }
  let event = forms[format];
  if (event === undefined) {
    event = Buffer.from(encodeEvent(messageEvent(m, format, m.id)), 'utf8');
    forms[format] = event;
  }
  return event;
}
