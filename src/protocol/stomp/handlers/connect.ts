/**
 * CONNECT / STOMP (1.2 "CONNECT or STOMP Frame", "Protocol Negotiation", "Heart-beating").
 */
import type { Principal } from '../../../core/api.js';
import { BlazeError } from '../../../util/errors.js';
import type { StompFrame } from '../codec/frame.js';
import { StompRequestError } from '../errors.js';
import { negotiateHeartbeat, negotiateVersion, SUPPORTED_VERSIONS_HEADER } from '../negotiate.js';
import type { StompSession } from '../session.js';

const NO_HEARTBEAT = { sendEvery: 0, expectEvery: 0, header: '0,0' };

export function handleConnect(session: StompSession, frame: StompFrame): void {
  const h = frame.headers;
  const version = negotiateVersion(h['accept-version']);
  if (version === null) {
    // 1.2: "the server MUST respond with an ERROR frame ... and include a version header".
    throw new StompRequestError(
      'BAD_REQUEST',
      `Supported protocol versions are ${SUPPORTED_VERSIONS_HEADER}, client accepts ${h['accept-version']}`,
      { version: SUPPORTED_VERSIONS_HEADER },
    );
  }
  // 1.0 has no heart-beating.
  const heartbeat =
    version === '1.0' ? NO_HEARTBEAT : negotiateHeartbeat(h['heart-beat'], session.settings.heartbeat);
  // ActiveMQ's `client-id` names the JMS client id (durable subscriptions, one live connection per id).
  const clientId = h['client-id'] === undefined || h['client-id'] === '' ? undefined : h['client-id'];
  let auth: Promise<Principal | null>;
  try {
    auth = session.settings.authenticator.authenticate(h['login'], h['passcode']);
  } catch (e) {
    auth = Promise.reject(e);
  }
  session.beginConnecting(frame, { version, heartbeat, clientId }, auth);
}

export function handleReconnect(_session: StompSession, frame: StompFrame): void {
  throw new BlazeError('BAD_REQUEST', `Already connected: unexpected ${frame.command} frame`);
}
