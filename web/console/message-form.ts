/**
 * The send form's text fields to a send request, and a browsed body to something showable. Pure.
 */
import type { BrowsedMessage, SendRequest } from './types.js';

export interface SendForm {
  body: string;
  /** One `name=value` per line; blank lines and lines starting with `#` are ignored. */
  properties: string;
  persistent: boolean;
  priority: string;
  correlationId: string;
  replyTo: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const PROPERTY_NAME = /^[A-Za-z_$][\w$.-]*$/;

export function parseProperties(text: string): Parsed<Record<string, string>> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return { ok: false, error: `line ${i + 1}: expected name=value` };
    const name = line.slice(0, eq).trim();
    // Property names follow the selector grammar's identifiers, so that a selector can name them.
    if (!PROPERTY_NAME.test(name)) return { ok: false, error: `line ${i + 1}: bad property name "${name}"` };
    if (Object.hasOwn(out, name)) return { ok: false, error: `line ${i + 1}: "${name}" given twice` };
    out[name] = line.slice(eq + 1).trim();
  }
  return { ok: true, value: out };
}

export function toSendRequest(form: SendForm): Parsed<SendRequest> {
  const props = parseProperties(form.properties);
  if (!props.ok) return props;
  const req: SendRequest = { body: form.body, persistent: form.persistent };
  if (Object.keys(props.value).length > 0) req.properties = props.value;
  const p = form.priority.trim();
  if (p !== '') {
    // JMS priorities: 0..9 (4 is the default).
    if (!/^\d$/.test(p)) return { ok: false, error: 'priority must be a whole number from 0 to 9' };
    req.priority = Number(p);
  }
  if (form.correlationId.trim()) req.correlationId = form.correlationId.trim();
  if (form.replyTo.trim()) req.replyTo = form.replyTo.trim();
  return { ok: true, value: req };
}

/** The body as text: decoded UTF-8, or a hex preview for binary bodies (which the API sends as base64). */
export function displayBody(m: Pick<BrowsedMessage, 'body' | 'bodyEncoding'>, maxBytes = 4096): string {
  if (m.bodyEncoding !== 'base64') return m.body;
  let bin: string;
  try {
    bin = atob(m.body);
  } catch {
    return `(undecodable base64) ${m.body}`;
  }
  const shown = Math.min(bin.length, maxBytes);
  const hex: string[] = [];
  for (let i = 0; i < shown; i++) hex.push(bin.charCodeAt(i).toString(16).padStart(2, '0'));
  const more = bin.length > shown ? ` ... (${bin.length} bytes)` : '';
  return `(binary, ${bin.length} bytes) ${hex.join(' ')}${more}`;
}
