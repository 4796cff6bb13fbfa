/**
 * Flags common to every `blazemq group` command, turned into ChannelOptions. Pure (no I/O), so the
 * rules are unit-tested: exactly one of multicast (the default) and `--peers`; numeric flags checked
 * here, with the flag named in the error, rather than surfacing later as a socket error.
 */
import type { ChannelOptions } from '../../group/channel.js';
import type { MembershipOptions } from '../../group/membership/options.js';
import type { UdpTransportOptions } from '../../group/transport/udp.js';
import { BlazeError } from '../../util/errors.js';

/** As commander hands them over: every value a string, absent flags undefined. */
export interface GroupFlags {
  group?: string;
  multicast?: string;
  interface?: string;
  bind?: string;
  port?: string;
  peers?: string;
  ttl?: string;
  /** commander's --no-loop: false stops the kernel looping own multicasts back to this host. */
  loop?: boolean;
  maxDatagram?: string;
  heartbeat?: string;
  failureTimeout?: string;
  verifyTimeout?: string;
  discoveryTimeout?: string;
  window?: string;
  windowBytes?: string;
}

export const DEFAULT_GROUP = 'blazemq';
/** RFC 2365 organization-local scope; port in the IANA dynamic range. */
export const DEFAULT_MULTICAST = '239.77.7.7:45566';

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

function fail(message: string): never {
  throw new BlazeError('CONFIG', message);
}

export function parseInteger(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) fail(`--${flag} must be an integer, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max) fail(`--${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function parseIp(flag: string, text: string): string {
  if (!IPV4.test(text) && !(text.includes(':') && /^[0-9a-fA-F:.]+$/.test(text))) {
    fail(`--${flag} must be a numeric IP address, got "${text}"`);
  }
  return text;
}

/** `ADDR:PORT` with a multicast IPv4 address (224.0.0.0/4). */
export function parseMulticast(text: string): { group: string; port: number } {
  const colon = text.lastIndexOf(':');
  const group = colon > 0 ? text.slice(0, colon) : '';
  if (!IPV4.test(group) || Number(group.split('.')[0]) < 224 || Number(group.split('.')[0]) > 239) {
    fail(`--multicast must be ADDR:PORT with an IPv4 multicast address (224.0.0.0/4), got "${text}"`);
  }
  return { group, port: parseInteger('multicast port', text.slice(colon + 1), 1, 65535) };
}

/** `a:p,b:p` -> ['a:p', 'b:p'], each a numeric address with a port. */
export function parsePeers(text: string): string[] {
  const peers = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (peers.length === 0) fail('--peers needs at least one ip:port');
  for (const p of peers) {
    const colon = p.lastIndexOf(':');
    const host = p.startsWith('[') ? p.slice(1, p.lastIndexOf(']')) : p.slice(0, colon);
    if (colon <= 0) fail(`--peers entries must be ip:port, got "${p}"`);
    parseIp('peers', host);
    parseInteger('peers port', p.slice(colon + 1), 1, 65535);
  }
  return peers;
}

export function channelOptions(flags: GroupFlags): ChannelOptions {
  const udp: UdpTransportOptions = {};
  if (flags.bind !== undefined) udp.bindAddress = parseIp('bind', flags.bind);
  if (flags.port !== undefined) udp.port = parseInteger('port', flags.port, 0, 65535);
  if (flags.maxDatagram !== undefined)
    udp.maxDatagram = parseInteger('max-datagram', flags.maxDatagram, 576, 65507);
  if (flags.peers !== undefined) {
    if (flags.multicast !== undefined) fail('give either --multicast or --peers, not both');
    if (flags.ttl !== undefined) fail('--ttl applies to multicast only');
    if (flags.loop === false) fail('--no-loop applies to multicast only');
    udp.peers = parsePeers(flags.peers);
    // A peer list names this member too, by the address others reach it at.
    if (flags.interface !== undefined) udp.advertiseAddress = parseIp('interface', flags.interface);
    else if (udp.bindAddress && udp.bindAddress !== '0.0.0.0') udp.advertiseAddress = udp.bindAddress;
  } else {
    const m = parseMulticast(flags.multicast ?? DEFAULT_MULTICAST);
    udp.multicast = {
      ...m,
      ...(flags.interface !== undefined ? { interface: parseIp('interface', flags.interface) } : {}),
      ...(flags.ttl !== undefined ? { ttl: parseInteger('ttl', flags.ttl, 0, 255) } : {}),
      ...(flags.loop === false ? { loopback: false } : {}),
    };
  }
  const membership: Partial<MembershipOptions> = {};
  if (flags.heartbeat !== undefined)
    membership.heartbeatInterval = parseInteger('heartbeat', flags.heartbeat, 10, 60_000);
  if (flags.failureTimeout !== undefined) {
    membership.failureTimeout = parseInteger('failure-timeout', flags.failureTimeout, 50, 600_000);
  }
  if (flags.verifyTimeout !== undefined) {
    membership.verifyTimeout = parseInteger('verify-timeout', flags.verifyTimeout, 10, 600_000);
  }
  if (flags.discoveryTimeout !== undefined) {
    membership.discoveryTimeout = parseInteger('discovery-timeout', flags.discoveryTimeout, 10, 600_000);
  }
  const hb = membership.heartbeatInterval;
  const ft = membership.failureTimeout;
  if (hb !== undefined && ft !== undefined && ft <= 2 * hb) {
    fail('--failure-timeout must exceed twice --heartbeat, or one lost heartbeat excludes a member');
  }
  const group = flags.group ?? DEFAULT_GROUP;
  if (group.length === 0 || group.length > 200) fail('--group must be 1 to 200 characters');
  return {
    name: group,
    udp,
    membership,
    nack: {
      ...(flags.window !== undefined ? { window: parseInteger('window', flags.window, 16, 1 << 20) } : {}),
      ...(flags.windowBytes !== undefined
        ? { windowBytes: parseInteger('window-bytes', flags.windowBytes, 1024, 2 ** 31) }
        : {}),
    },
  };
}
