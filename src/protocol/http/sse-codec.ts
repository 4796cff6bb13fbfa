/**
 * Server-Sent Events encoding (HTML Living Standard §9.2 "Server-sent events", event stream format).
 * An event is `field: value` lines ended by a blank line; a comment line starts with `:`. A line break in
 * the data (CRLF, CR or LF, all of which the parser accepts, §9.2.6) starts another `data:` line, which the
 * browser joins back with LF. Pure.
 */

export interface SseEvent {
  /** `id:`; becomes `lastEventId` (and `Last-Event-ID` on reconnect). No CR, LF or NUL (§9.2.6). */
  id?: string;
  /** `event:`; absent = `message`. */
  event?: string;
  data: string;
}

const LINE_BREAK = /\r\n|\r|\n/;
const FIELD_SAFE = /^[^\r\n\0]*$/;

export function encodeEvent(e: SseEvent): string {
  let out = '';
  if (e.id !== undefined && FIELD_SAFE.test(e.id)) out += `id: ${e.id}\n`;
  if (e.event !== undefined && FIELD_SAFE.test(e.event)) out += `event: ${e.event}\n`;
  for (const line of e.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** A comment line: ignored by clients, keeps proxies and the connection alive. */
export function encodeComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

/** `retry:` tells the browser how long to wait before reconnecting (ms). */
export function encodeRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}
