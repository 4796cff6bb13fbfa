import { describe, expect, it } from 'vitest';
import { LoopbackHub } from '../../../../src/group/transport/loopback.js';
import { isBlazeError } from '../../../../src/util/errors.js';

const turn = () => new Promise((r) => setImmediate(r));

describe('LoopbackHub', () => {
  it('multicasts to every other member and unicasts to one, asynchronously and in order', async () => {
    const hub = new LoopbackHub();
    const [a, b, c] = [hub.createTransport(), hub.createTransport(), hub.createTransport()];
    const got: Record<string, string[]> = { a: [], b: [], c: [] };
    a.onMessage((from, p) => got.a!.push(`${from}:${p[0]}`));
    b.onMessage((from, p) => got.b!.push(`${from}:${p[0]}`));
    c.onMessage((from, p) => got.c!.push(`${from}:${p[0]}`));
    const buf = Uint8Array.of(1);
    a.multicast(buf);
    buf[0] = 9; // the hub copied on send
    a.unicast(c.localAddress, Uint8Array.of(2));
    b.multicast(Uint8Array.of(3));
    expect(got.b).toEqual([]); // nothing inside the sender's call
    await turn();
    expect(got.a).toEqual([`${b.localAddress}:3`]);
    expect(got.b).toEqual([`${a.localAddress}:1`]);
    expect(got.c).toEqual([`${a.localAddress}:1`, `${a.localAddress}:2`, `${b.localAddress}:3`]);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('enforces maxPayload, unique addresses, and closed endpoints', async () => {
    const hub = new LoopbackHub({ maxPayload: 10 });
    const a = hub.createTransport('10.0.0.1:1');
    expect(() => hub.createTransport('10.0.0.1:1')).toThrow();
    const codeOf = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return isBlazeError(e) ? e.code : 'other';
      }
      return 'none';
    };
    expect(codeOf(() => a.multicast(new Uint8Array(11)))).toBe('LIMIT_EXCEEDED');
    expect(codeOf(() => a.multicast(new Uint8Array(10)))).toBe('none');
    await a.close();
    expect(codeOf(() => a.unicast('10.0.0.2:1', new Uint8Array(1)))).toBe('CLOSED');
    expect(hub.addresses).toEqual([]);
  });

  it('drops messages to unknown or closed members silently', async () => {
    const hub = new LoopbackHub();
    const a = hub.createTransport();
    const b = hub.createTransport();
    const got: number[] = [];
    b.onMessage((_f, p) => got.push(p[0]!));
    a.unicast('1.1.1.1:1', Uint8Array.of(1));
    a.unicast(b.localAddress, Uint8Array.of(2));
    await b.close();
    await turn();
    expect(got).toEqual([]);
    await a.close();
  });
});
