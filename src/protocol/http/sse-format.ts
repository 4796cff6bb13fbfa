/**
 * A message as a Server-Sent Event (docs/HTTP.md "Server-Sent Events"). `text`: data = the body, or its
 * base64 in a `binary` event when it is not UTF-8. `json`: data = id, address, timestamp, properties,
 * contentType and the body (`bodyBase64` when not UTF-8). Pure.
 */
import { isUtf8 } from 'node:buffer';
import type { Message } from '../../core/message.js';
import type { SseEvent } from './sse-codec.js';

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
