/**
 * STOMP destination names <-> canonical core addresses, ActiveMQ style:
 *
 *   /queue/x                 queue://x
 *   /topic/x                 topic://x              (wildcards `*` and `>` pass through)
 *   /temp-queue/x            temp-queue://<id>      created on first use by this connection; the same name
 *   /temp-topic/x            temp-topic://<id>      always maps to the same temporary destination
 *   /remote-temp-queue/<id>  temp-queue://<id>      how another connection's temporary is named to us
 *   /remote-temp-topic/<id>  temp-topic://<id>
 *   /queue/a,/topic/b        queue://a,topic://b    composite
 *
 * Rendering goes back the same way: our own temporaries keep the name the client gave them, everyone
 * else's become /remote-temp-*, so a `reply-to` received in a MESSAGE can be sent to as is.
 */
import { BlazeError } from '../../util/errors.js';

const INPUT_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ['/queue/', 'queue://'],
  ['/topic/', 'topic://'],
  ['/remote-temp-queue/', 'temp-queue://'],
  ['/remote-temp-topic/', 'temp-topic://'],
];
const CANONICAL_SCHEMES = ['queue://', 'topic://', 'temp-queue://', 'temp-topic://'];
const RENDER_CACHE_MAX = 4096;

export class DestinationMapper {
  /** `/temp-queue/x` -> canonical address of the temporary created for it. */
  private readonly temps = new Map<string, string>();
  /** Reverse of `temps`, for rendering. */
  private readonly tempNames = new Map<string, string>();
  private readonly rendered = new Map<string, string>();
  /**
   * Destination -> address for the plain (non-temporary) forms, which depend on nothing but the text:
   * every SEND maps its destination, and a cached address is one shared string rather than a new one.
   */
  private readonly addresses = new Map<string, string>();

  constructor(
    private readonly createTemporary: (kind: 'queue' | 'topic') => string,
    private readonly maxTemporaries: number,
  ) {}

  /** Throws INVALID_ADDRESS for an empty, unprefixed or nameless destination. */
  toAddress(destination: string): string {
    if (destination.indexOf(',') === -1) return this.one(destination);
    return destination
      .split(',')
      .map((d) => this.one(d.trim()))
      .join(',');
  }

  /** Canonical address -> STOMP destination (not escaped). */
  render(address: string): string {
    let out = this.rendered.get(address);
    if (out !== undefined) return out;
    out =
      address.indexOf(',') === -1
        ? this.renderOne(address)
        : address
            .split(',')
            .map((a) => this.renderOne(a))
            .join(',');
    if (this.rendered.size >= RENDER_CACHE_MAX) this.rendered.clear();
    this.rendered.set(address, out);
    return out;
  }

  private one(d: string): string {
    const cached = this.addresses.get(d);
    if (cached !== undefined) return cached;
    if (d === '') throw new BlazeError('INVALID_ADDRESS', 'Empty destination');
    for (const [prefix, scheme] of INPUT_PREFIXES) {
      if (d.startsWith(prefix)) {
        const address = scheme + nameAfter(d, prefix);
        if (this.addresses.size >= RENDER_CACHE_MAX) this.addresses.clear();
        this.addresses.set(d, address);
        return address;
      }
    }
    if (d.startsWith('/temp-queue/')) return this.temporary('queue', d, '/temp-queue/');
    if (d.startsWith('/temp-topic/')) return this.temporary('topic', d, '/temp-topic/');
    // Canonical addresses are accepted too: handy for headers produced by other protocols.
    for (const scheme of CANONICAL_SCHEMES) if (d.startsWith(scheme)) return scheme + nameAfter(d, scheme);
    throw new BlazeError(
      'INVALID_ADDRESS',
      `Invalid destination '${d.slice(0, 200)}': expected /queue/<name>, /topic/<name>, /temp-queue/<name> or /temp-topic/<name>`,
    );
  }

  private temporary(kind: 'queue' | 'topic', d: string, prefix: string): string {
    nameAfter(d, prefix);
    let address = this.temps.get(d);
    if (address === undefined) {
      if (this.temps.size >= this.maxTemporaries) {
        throw new BlazeError(
          'LIMIT_EXCEEDED',
          `At most ${this.maxTemporaries} temporary destinations per connection`,
        );
      }
      address = this.createTemporary(kind);
      this.temps.set(d, address);
      this.tempNames.set(address, d);
      this.rendered.delete(address);
    }
    return address;
  }

  private renderOne(address: string): string {
    const own = this.tempNames.get(address);
    if (own !== undefined) return own;
    const sep = address.indexOf('://');
    if (sep === -1) return address;
    const scheme = address.slice(0, sep);
    const name = address.slice(sep + 3);
    switch (scheme) {
      case 'queue':
        return '/queue/' + name;
      case 'topic':
        return '/topic/' + name;
      case 'temp-queue':
        return '/remote-temp-queue/' + name;
      case 'temp-topic':
        return '/remote-temp-topic/' + name;
      default:
        return address;
    }
  }
}

function nameAfter(d: string, prefix: string): string {
  const name = d.slice(prefix.length);
  if (name === '') throw new BlazeError('INVALID_ADDRESS', `Destination '${d}' has no name`);
  return name;
}
