/**
 * CONNECT negotiation (1.2 "Protocol Negotiation", "Heart-beating"). Pure functions.
 */
import { BlazeError } from '../../util/errors.js';
import type { StompVersion } from './codec/frame.js';
import type { StompHeartbeatSettings } from './context.js';

const SUPPORTED: readonly StompVersion[] = ['1.2', '1.1', '1.0'];

/** Highest version both sides speak; an absent `accept-version` means 1.0. Null when none is common. */
export function negotiateVersion(acceptVersion: string | undefined): StompVersion | null {
  if (acceptVersion === undefined) return '1.0';
  const offered = new Set(acceptVersion.split(',').map((v) => v.trim()));
  for (const v of SUPPORTED) if (offered.has(v)) return v;
  return null;
}

export const SUPPORTED_VERSIONS_HEADER = '1.0,1.1,1.2';

export interface HeartbeatAgreement {
  /** We send an EOL when we have written nothing for this long; 0 = never. */
  sendEvery: number;
  /** The client promised to send something at least this often; 0 = no promise. */
  expectEvery: number;
  /** CONNECTED `heart-beat` value. */
  header: string;
}

/**
 * Client `heart-beat: cx,cy`, our `sx,sy`:
 *   we -> client every max(sx, cy) unless either is 0;  client -> us every max(cx, sy) unless either is 0.
 * CONNECTED carries the agreed values, from which the client's own computation gives the same result.
 * Throws BAD_REQUEST for a malformed header.
 */
export function negotiateHeartbeat(
  value: string | undefined,
  ours: StompHeartbeatSettings,
): HeartbeatAgreement {
  let cx = 0;
  let cy = 0;
  if (value !== undefined && value.trim() !== '') {
    const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(value);
    if (!m) throw new BlazeError('BAD_REQUEST', `Invalid heart-beat header '${value.slice(0, 64)}'`);
    cx = Number(m[1]);
    cy = Number(m[2]);
  }
  const sendEvery = ours.sendMs === 0 || cy === 0 ? 0 : Math.max(ours.sendMs, cy);
  const expectEvery = ours.receiveMs === 0 || cx === 0 ? 0 : Math.max(ours.receiveMs, cx);
  return { sendEvery, expectEvery, header: `${sendEvery},${expectEvery}` };
}
