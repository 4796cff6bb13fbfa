/**
 * Member addresses: `ip:port` for IPv4, `[ip]:port` for IPv6 (the URL authority form, so the last colon
 * always separates the port). Only numeric IPs: a member address must name one socket exactly.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { BlazeError } from '../../util/errors.js';

export interface Endpoint {
  host: string;
  port: number;
  family: 4 | 6;
}

export function formatAddress(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Returns undefined if `address` is not a numeric `ip:port` / `[ip]:port` with a port in 1..65535. */
export function tryParseAddress(address: string): Endpoint | undefined {
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const portText = address.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  let host = address.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    return isIPv6(host) ? { host, port, family: 6 } : undefined;
  }
  return isIPv4(host) ? { host, port, family: 4 } : undefined;
}

export function parseAddress(address: string): Endpoint {
  const ep = tryParseAddress(address);
  if (!ep) throw new BlazeError('BAD_REQUEST', `not a member address (ip:port or [ip]:port): ${address}`);
  return ep;
}
