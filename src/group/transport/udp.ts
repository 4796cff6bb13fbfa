/**
 * GroupTransport over UDP: unicast between member sockets, and IP multicast (or, in unicast-only mode, a
 * copy to each configured peer) for group traffic.
 *
 * Sockets: one "member" socket bound to bindAddress:port sends everything (unicast and multicast) and
 * receives unicast; its address is the member's identity. In multicast mode a second socket, bound to
 * the group's port with SO_REUSEADDR so several members can share a host, joins the group and only
 * receives. Every datagram names its sender (blaze.v1.Bundle.sender), so `from` never depends on the
 * source address the kernel picked.
 *
 * Bundling: Node pays per send call (~230 k datagrams/s at most here, whatever the size), so payloads
 * queued for the same destination in one event-loop turn share a datagram, flushed on setImmediate or
 * as soon as the next payload would not fit. Payloads are copied at enqueue time.
 *
 * Datagram size: 1472 bytes by default for IPv4 (Ethernet MTU 1500 - 20 IPv4 - 8 UDP), 1452 for IPv6,
 * i.e. never IP-fragmented on a standard LAN: one lost IP fragment loses the whole datagram, so a 64 KB
 * datagram (44 fragments) at 2 % packet loss is lost 59 % of the time, and the reliability layer above
 * retransmits per datagram-sized message. Lower it for tunnels and VPNs with a smaller path MTU.
 * Raising it trades loss amplification for throughput where the per-send cost dominates: in the
 * namespace lab, 1 KiB multicasts went from ~30 k/s at 1472 to ~100 k/s at 8832 (6 IP fragments,
 * so 2 % packet loss becomes 11 % datagram loss); bench/group/transport.ts measures it. Only payloads
 * too big to pack well into MTU-sized datagrams get the big ones (`smallDatagram`, BundleWriter).
 *
 * Own multicasts looped back by the kernel are dropped: `multicast` reaches every member but the sender,
 * in both modes; a protocol that wants self-delivery does it locally, as JGroups' NAKACK2 does.
 */
import dgram from 'node:dgram';
import { networkInterfaces, platform } from 'node:os';
import { BlazeError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { silentLogger } from '../../util/logger.js';
import { newIncarnation } from '../incarnation.js';
import { type Endpoint, formatAddress, parseAddress } from './address.js';
import {
  BundleWriter,
  decodeBundle,
  encodeIncarnationTrailer,
  encodeSenderHeader,
  maxPayloadFor,
} from './bundle.js';
import type { GroupTransport } from './types.js';

export interface UdpMulticastOptions {
  /** Group address, e.g. '239.77.0.1' (RFC 2365 organization-local scope is a good choice). */
  group: string;
  /** Group port; 0 picks a free one, read back from `multicastPort`, for tests. */
  port: number;
  /** Local IP of the interface to join on and send from; default: the kernel's multicast route. */
  interface?: string;
  /** IP_MULTICAST_TTL; default 1 keeps group traffic on the local segment. */
  ttl?: number;
  /** IP_MULTICAST_LOOP; default true, needed when several members share one host. */
  loopback?: boolean;
}

export interface UdpTransportOptions {
  /** Local IP for the member socket; default '0.0.0.0' (then see `advertiseAddress`). */
  bindAddress?: string;
  /** Port of the member socket; default 0 (any free port). */
  port?: number;
  /**
   * IP other members reach this one at, when bindAddress is a wildcard. Default: multicast.interface,
   * else the first non-internal IPv4 address of the host, else 127.0.0.1.
   */
  advertiseAddress?: string;
  /** IP multicast for group traffic. Exactly one of `multicast` and `peers` must be given. */
  multicast?: UdpMulticastOptions;
  /** Unicast-only mode: `multicast()` sends one copy to each of these `ip:port` addresses. */
  peers?: string[];
  /** SO_SNDBUF / SO_RCVBUF in bytes; default 4 MiB each (the kernel caps them at wmem_max/rmem_max). */
  sendBufferSize?: number;
  recvBufferSize?: number;
  /** Largest UDP payload sent; default 1472 (IPv4) or 1452 (IPv6). */
  maxDatagram?: number;
  /**
   * Largest datagram that carries small payloads (a quarter of this or less); default 1472 (IPv4) or
   * 1452 (IPv6), capped at maxDatagram. Raising maxDatagram alone thus lets only large messages travel in
   * IP-fragmented datagrams (see BundleWriter and docs/GROUP.md, "IP fragmentation hazard").
   */
  smallDatagram?: number;
  /** false sends every payload in a datagram of its own (for measurements); default true. */
  bundling?: boolean;
  /** This process's incarnation (src/group/incarnation.ts); default: a new one from the clock. */
  incarnation?: number;
  logger?: Logger;
}

/** Monotonic counters for metrics and tests. */
export interface UdpTransportStats {
  datagramsSent: number;
  payloadsSent: number;
  bytesSent: number;
  sendErrors: number;
  datagramsReceived: number;
  payloadsReceived: number;
  bytesReceived: number;
  /** Datagrams that were not well-formed bundles (foreign traffic, corruption, attacks). */
  decodeErrors: number;
  /** Own multicasts looped back by the kernel. */
  selfDropped: number;
  /** Payloads that arrived before any handler was registered. */
  unhandled: number;
  /** Exceptions thrown by the message handler (caught so one bad payload cannot stop the socket). */
  handlerErrors: number;
}

const DEFAULT_BUFFER = 4 * 1024 * 1024;
const MULTICAST_KEY = '\0multicast';
const EMPTY = new Uint8Array(0);
/** close() waits this long at most for queued datagrams to reach the kernel. */
const CLOSE_DRAIN_MS = 1000;

interface Pending {
  writer: BundleWriter;
  port: number;
  host: string;
}

export async function openUdpTransport(options: UdpTransportOptions): Promise<UdpTransport> {
  if (!options.multicast === !options.peers) {
    throw new BlazeError('CONFIG', 'group transport: give exactly one of `multicast` and `peers`');
  }
  const bindAddress = options.bindAddress ?? '0.0.0.0';
  const family = bindAddress.includes(':') ? 6 : 4;
  const type = family === 6 ? 'udp6' : 'udp4';
  const recvBufferSize = options.recvBufferSize ?? DEFAULT_BUFFER;
  const sendBufferSize = options.sendBufferSize ?? DEFAULT_BUFFER;
  const log = options.logger ?? silentLogger;

  const member = dgram.createSocket({ type, recvBufferSize, sendBufferSize });
  const sockets = [member];
  try {
    await bind(member, options.port ?? 0, bindAddress);
    let mcast: dgram.Socket | undefined;
    const m = options.multicast;
    if (m) {
      if (m.ttl !== undefined) member.setMulticastTTL(m.ttl);
      else member.setMulticastTTL(1);
      member.setMulticastLoopback(m.loopback ?? true);
      if (m.interface) member.setMulticastInterface(m.interface);
      mcast = dgram.createSocket({ type, reuseAddr: true, recvBufferSize });
      sockets.push(mcast);
      // Binding to the group address (Linux) keeps datagrams for other groups on the same port out;
      // other systems only accept the wildcard there.
      await bind(mcast, m.port, platform() === 'linux' ? m.group : family === 6 ? '::' : '0.0.0.0');
      mcast.addMembership(m.group, m.interface);
    }
    const advertised =
      options.advertiseAddress ?? (isWildcard(bindAddress) ? defaultAdvertise(m?.interface) : bindAddress);
    const localAddress = formatAddress(advertised, member.address().port);
    // Linux reports twice the granted size (bookkeeping overhead) and silently caps the request at
    // net.core.rmem_max / wmem_max; a small cap loses packets at full rate, so say so (as JGroups does).
    for (const s of sockets) {
      if (s.getRecvBufferSize() < recvBufferSize) {
        log.warn(
          { requested: recvBufferSize, granted: s.getRecvBufferSize() },
          'group transport: kernel capped the UDP receive buffer; raise net.core.rmem_max',
        );
      }
    }
    return new UdpTransport(member, mcast, localAddress, options, log);
  } catch (err) {
    for (const s of sockets) s.close();
    throw new BlazeError('CONFIG', `group transport: cannot open UDP sockets: ${String(err)}`, {
      cause: err,
    });
  }
}

export class UdpTransport implements GroupTransport {
  readonly maxPayload: number;
  /** The group port actually bound (useful when configured as 0); undefined in unicast-only mode. */
  readonly multicastPort: number | undefined;
  readonly stats: UdpTransportStats = {
    datagramsSent: 0,
    payloadsSent: 0,
    bytesSent: 0,
    sendErrors: 0,
    datagramsReceived: 0,
    payloadsReceived: 0,
    bytesReceived: 0,
    decodeErrors: 0,
    selfDropped: 0,
    unhandled: 0,
    handlerErrors: 0,
  };

  readonly incarnation: number;
  private readonly header: Uint8Array;
  private readonly trailer: Uint8Array;
  private readonly maxDatagram: number;
  private readonly smallDatagram: number;
  private readonly bundling: boolean;
  private readonly pending = new Map<string, Pending>();
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly group: Endpoint | undefined;
  private peers: string[] = [];
  private handler: ((from: string, payload: Uint8Array, incarnation: number) => void) | undefined;
  private flushScheduled = false;
  private inflight = 0;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly member: dgram.Socket,
    private readonly mcast: dgram.Socket | undefined,
    readonly localAddress: string,
    options: UdpTransportOptions,
    private readonly log: Logger,
  ) {
    const family = member.address().family === 'IPv6' ? 6 : 4;
    const mtuPayload = family === 6 ? 1452 : 1472;
    this.maxDatagram = options.maxDatagram ?? mtuPayload;
    this.smallDatagram = Math.min(this.maxDatagram, options.smallDatagram ?? mtuPayload);
    this.header = encodeSenderHeader(localAddress);
    this.incarnation = options.incarnation ?? newIncarnation();
    this.trailer = encodeIncarnationTrailer(this.incarnation);
    this.maxPayload = maxPayloadFor(this.header, this.maxDatagram, this.trailer);
    if (this.maxPayload < 64) {
      throw new BlazeError('CONFIG', `group transport: maxDatagram ${this.maxDatagram} is too small`);
    }
    this.bundling = options.bundling ?? true;
    if (options.multicast && mcast) {
      this.multicastPort = mcast.address().port;
      this.group = { host: options.multicast.group, port: this.multicastPort, family };
    }
    if (options.peers) this.setPeers(options.peers);

    const onMessage = (msg: Buffer) => this.receive(msg);
    const onError = (err: Error) => log.error({ err }, 'group transport socket error');
    member.on('message', onMessage).on('error', onError);
    mcast?.on('message', onMessage).on('error', onError);
  }

  /** Unicast-only mode: replaces the peer list (e.g. from the current view). Own address is skipped. */
  setPeers(peers: readonly string[]): void {
    if (this.group) throw new BlazeError('CONFIG', 'group transport: peers are for unicast-only mode');
    for (const p of peers) parseAddress(p);
    this.peers = peers.filter((p) => p !== this.localAddress);
  }

  /** Socket buffer sizes the kernel granted (Linux reports double the usable size). */
  socketBuffers(): { recv: number; send: number } {
    return { recv: this.member.getRecvBufferSize(), send: this.member.getSendBufferSize() };
  }

  /** Bytes handed to the socket but not yet written to the kernel: a sender paces itself on this. */
  get queuedBytes(): number {
    return this.member.getSendQueueSize();
  }

  onMessage(handler: (from: string, payload: Uint8Array, incarnation: number) => void): void {
    this.handler = handler;
  }

  multicast(payload: Uint8Array): void {
    this.check(payload);
    if (this.group) {
      this.enqueue(MULTICAST_KEY, this.group, payload);
    } else {
      for (const peer of this.peers) this.enqueue(peer, this.endpoint(peer), payload);
    }
  }

  multicastParts(head: Uint8Array, body: Uint8Array, tail: Uint8Array): void {
    const len = head.length + body.length + tail.length;
    this.checkLength(len);
    if (this.group) {
      this.enqueueParts(MULTICAST_KEY, this.group, head, body, tail, len);
    } else {
      for (const peer of this.peers) this.enqueueParts(peer, this.endpoint(peer), head, body, tail, len);
    }
  }

  unicast(to: string, payload: Uint8Array): void {
    this.check(payload);
    this.enqueue(to, this.endpoint(to), payload);
  }

  /** Sends every queued bundle now instead of at the end of the event-loop turn. */
  flush(): void {
    this.flushScheduled = false;
    for (const p of this.pending.values()) {
      if (p.writer.count > 0) this.send(p);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.flush();
    this.closed = true;
    const deadline = Date.now() + CLOSE_DRAIN_MS;
    while (this.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await Promise.all(
      [this.member, this.mcast].map((s) => s && new Promise<void>((r) => s.close(() => r()))),
    );
  }

  private check(payload: Uint8Array): void {
    this.checkLength(payload.length);
  }

  private checkLength(length: number): void {
    if (this.closed) throw new BlazeError('CLOSED', 'group transport is closed');
    if (length > this.maxPayload) {
      throw new BlazeError(
        'LIMIT_EXCEEDED',
        `payload of ${length} bytes exceeds the transport's maxPayload ${this.maxPayload}; fragment it`,
      );
    }
  }

  private endpoint(address: string): Endpoint {
    let ep = this.endpoints.get(address);
    if (!ep) {
      ep = parseAddress(address);
      if (this.endpoints.size > 10_000) this.endpoints.clear(); // bounded: addresses come from the network
      this.endpoints.set(address, ep);
    }
    return ep;
  }

  private enqueue(key: string, ep: Endpoint, payload: Uint8Array): void {
    this.enqueueParts(key, ep, payload, EMPTY, EMPTY, payload.length);
  }

  private enqueueParts(
    key: string,
    ep: Endpoint,
    head: Uint8Array,
    body: Uint8Array,
    tail: Uint8Array,
    len: number,
  ): void {
    let p = this.pending.get(key);
    if (!p) {
      p = {
        writer: new BundleWriter(this.header, this.maxDatagram, this.smallDatagram, this.trailer),
        port: ep.port,
        host: ep.host,
      };
      this.pending.set(key, p);
    }
    if (!p.writer.fits(len)) this.send(p);
    p.writer.addParts(head, body, tail);
    if (!this.bundling) this.send(p);
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.scheduledFlush);
    }
  }

  private readonly scheduledFlush = (): void => {
    if (this.flushScheduled) this.flush();
    // Destinations idle for a whole turn are forgotten, so the map does not grow with every address
    // ever contacted; a writer costs nothing to recreate.
    if (this.pending.size > 64) {
      for (const [k, p] of this.pending) if (p.writer.count === 0) this.pending.delete(k);
    }
  };

  private send(p: Pending): void {
    const count = p.writer.count;
    const buf = p.writer.take()!;
    const s = this.stats;
    s.datagramsSent++;
    s.payloadsSent += count;
    s.bytesSent += buf.length;
    this.inflight++;
    this.member.send(buf, p.port, p.host, this.onSent);
  }

  private readonly onSent = (err: Error | null): void => {
    this.inflight--;
    if (err) {
      // UDP gives no delivery guarantee anyway; the reliability layer above recovers.
      this.stats.sendErrors++;
      this.log.debug({ err }, 'group transport send failed');
    }
  };

  private receive(msg: Buffer): void {
    const s = this.stats;
    s.datagramsReceived++;
    s.bytesReceived += msg.length;
    const bundle = decodeBundle(msg);
    if (!bundle) {
      s.decodeErrors++;
      return;
    }
    if (bundle.sender === this.localAddress) {
      s.selfDropped++;
      return;
    }
    const handler = this.handler;
    for (const payload of bundle.payloads) {
      s.payloadsReceived++;
      if (!handler) {
        s.unhandled++;
        continue;
      }
      try {
        handler(bundle.sender, payload, bundle.incarnation);
      } catch (err) {
        s.handlerErrors++;
        this.log.error({ err, from: bundle.sender }, 'group transport message handler threw');
      }
    }
  }
}

function bind(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

function defaultAdvertise(multicastInterface: string | undefined): string {
  if (multicastInterface && !isWildcard(multicastInterface)) return multicastInterface;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
