/**
 * Transaction identifiers of the transaction manager (X/Open XA, C193 §4.2 "Transaction Branch
 * Identifier"): one global transaction id (gtrid) per `run()`, one branch qualifier (bqual) per resource.
 *
 *   formatId = TM_FORMAT_ID ('BMQ1'): xids of other transaction managers on a shared resource are never
 *              touched by recovery;
 *   gtrid    = UTF-8 of `<tmId>:<22 chars of base64url randomness>`: the tmId prefix lets one TM recover its
 *              own branches only, when several TMs share a broker or a database;
 *   bqual    = UTF-8 of the resource's name: the decision log names the resources that took part, and a
 *              resource recovers only the branches carrying its own name (two resources may be two
 *              connections to one broker, which would otherwise list each other's branches).
 *
 * XA limits both parts to 64 bytes (MAXGTRIDSIZE, MAXBQUALSIZE); tmId and names are checked against that.
 */
import type { Xid } from '../xa.js';

export const TM_FORMAT_ID = 0x424d5131;
export const MAX_TM_ID_BYTES = 40;
export const MAX_NAME_BYTES = 64;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function textBytes(s: string): Uint8Array {
  return utf8.encode(s);
}

/** undefined when the bytes are not valid UTF-8 (an xid this TM did not make). */
export function bytesText(b: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(b);
  } catch {
    return undefined;
  }
}

export function checkName(kind: string, s: string, max: number): void {
  const n = utf8.encode(s).length;
  if (n === 0 || n > max || s.includes(':')) {
    throw new RangeError(`${kind} must be 1..${max} UTF-8 bytes without ':' (got ${JSON.stringify(s)})`);
  }
}

/** A fresh gtrid for `tmId`; 128 random bits, so two runs never collide. */
export function newGtrid(tmId: string): string {
  const r = new Uint8Array(16);
  globalThis.crypto.getRandomValues(r);
  return `${tmId}:${base64url(r)}`;
}

export function branchXid(gtrid: string, resourceName: string): Xid {
  return { formatId: TM_FORMAT_ID, globalId: textBytes(gtrid), branchId: textBytes(resourceName) };
}

/** gtrid and resource name of an xid this TM made, or undefined for anyone else's. */
export function parseXid(xid: Xid, tmId: string): { gtrid: string; resource: string } | undefined {
  if (xid.formatId !== TM_FORMAT_ID) return undefined;
  const gtrid = bytesText(xid.globalId);
  const resource = bytesText(xid.branchId);
  if (gtrid === undefined || resource === undefined || !gtrid.startsWith(`${tmId}:`)) return undefined;
  return { gtrid, resource };
}

export function sameXid(a: Xid, b: Xid): boolean {
  return a.formatId === b.formatId && sameBytes(a.globalId, b.globalId) && sameBytes(a.branchId, b.branchId);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ------------------------------------------------------------------------------------------ base64url

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const INDEX = new Map([...ALPHABET].map((c, i) => [c, i]));

/** RFC 4648 §5 without padding. Written here because the client has no Buffer in browsers. */
export function base64url(b: Uint8Array): string {
  let out = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i]! << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    const chars = b.length - i >= 3 ? 4 : b.length - i + 1;
    for (let k = 0; k < chars; k++) out += ALPHABET[(n >> (18 - 6 * k)) & 63];
  }
  return out;
}

/** Inverse of base64url(); undefined for anything it would not produce (canonical form only). */
export function fromBase64url(s: string): Uint8Array | undefined {
  if (s.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const chunk = s.slice(i, i + 4);
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const v = k < chunk.length ? INDEX.get(chunk[k]!) : 0;
      if (v === undefined) return undefined;
      n = (n << 6) | v;
    }
    const bytes = chunk.length - 1;
    for (let k = 0; k < bytes; k++) out[o++] = (n >> (16 - 8 * k)) & 255;
  }
  // Non-canonical trailing bits (e.g. "AB" vs "AA" for one byte) would make two strings decode alike.
  return base64url(out) === s ? out : undefined;
}
