/**
 * An Xid as a PostgreSQL prepared-transaction gid, reversibly, so that `pg_prepared_xacts` gives the
 * xids back after a crash: `xa.<formatId>.<base64url gtrid>.<base64url bqual>`.
 *
 * PostgreSQL's gid is a string literal shorter than 200 bytes (GIDSIZE, include/access/twophase.h);
 * with XA's 64-byte parts the longest gid is 3 + 10 + 1 + 86 + 1 + 86 = 187 characters. The alphabet
 * (digits, letters, '-', '_', '.') needs no quoting in a literal. Anything that is not exactly this
 * form (another application's prepared transaction) decodes as undefined and is left alone.
 */
import type { Xid } from '../xa.js';
import { base64url, fromBase64url } from './xid.js';

const GID = /^xa\.(0|[1-9][0-9]{0,9})\.([A-Za-z0-9_-]{2,86})\.([A-Za-z0-9_-]{0,86})$/;

export function xidToGid(xid: Xid): string {
  if (!Number.isInteger(xid.formatId) || xid.formatId < 0 || xid.formatId > 0x7fffffff) {
    throw new RangeError(`formatId ${xid.formatId} is not a non-negative int32`);
  }
  if (xid.globalId.length < 1 || xid.globalId.length > 64 || xid.branchId.length > 64) {
    throw new RangeError('gtrid must be 1..64 bytes and bqual 0..64 bytes (XA MAXGTRIDSIZE/MAXBQUALSIZE)');
  }
  return `xa.${xid.formatId}.${base64url(xid.globalId)}.${base64url(xid.branchId)}`;
}

export function gidToXid(gid: string): Xid | undefined {
  const m = GID.exec(gid);
  if (m === null) return undefined;
  const formatId = Number(m[1]);
  const globalId = fromBase64url(m[2]!);
  const branchId = fromBase64url(m[3]!);
  if (formatId > 0x7fffffff || globalId === undefined || branchId === undefined) return undefined;
  if (globalId.length < 1 || globalId.length > 64 || branchId.length > 64) return undefined;
  return { formatId, globalId, branchId };
}
