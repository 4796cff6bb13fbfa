/**
 * HTTP Basic authentication (RFC 7617) against the broker's Authenticator. Without users every request
 * is anonymous (the Authenticator says so); with users a request without valid credentials gets 401 and
 * a `WWW-Authenticate` challenge.
 */
import type { Authenticator, Principal } from '../../core/api.js';
import { HttpError } from './errors.js';

export const REALM = 'blazemq';

/** `Basic base64(user:password)` -> the pair; undefined when absent; 400 when malformed. */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (header === undefined) return undefined;
  const m = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  if (!m) throw new HttpError(400, 'malformed Authorization header: expected Basic credentials');
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  // RFC 7617 §2: the user-id cannot contain a colon; the password may.
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new HttpError(400, 'malformed Basic credentials: no ":" between user and password');
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export async function authenticate(
  authenticator: Authenticator,
  authorization: string | undefined,
): Promise<Principal> {
  const credentials = parseBasic(authorization);
  const principal = await authenticator.authenticate(credentials?.user, credentials?.password);
  if (principal === null) {
    throw new HttpError(401, credentials ? 'bad credentials' : 'authentication required', {
      'www-authenticate': `Basic realm="${REALM}", charset="UTF-8"`,
    });
  }
  return principal;
}
