import { describe, expect, it } from 'vitest';
import { BlazeError } from '../../../src/util/errors.js';
import { clientFrame, deferred, flush, Peer } from './fakes.js';

describe('CONNECT negotiation', () => {
  it('answers CONNECTED with version, heart-beat, session and server (1.2)', async () => {
    const p = new Peer({ serverName: 'BlazeMQ/test' });
    const f = await p.connect({ 'accept-version': '1.0,1.1,1.2', host: 'h', 'heart-beat': '0,0' });
    expect(f.headers['version']).toBe('1.2');
    expect(f.headers['heart-beat']).toBe('0,0');
    expect(f.headers['session']).toBe('conn-1');
    expect(f.headers['server']).toBe('BlazeMQ/test');
    expect(p.conn.options).toMatchObject({ protocol: 'stomp', remoteAddress: '192.0.2.1:61613' });
  });

  it('picks the highest common version', async () => {
    const p = new Peer();
    expect((await p.connect({ 'accept-version': '1.1,1.0' })).headers['version']).toBe('1.1');
  });

  it('treats a missing accept-version as 1.0: CONNECTED without version or heart-beat', async () => {
    const p = new Peer();
    const f = await p.connect({ login: 'u', passcode: 'p', 'heart-beat': '1000,1000' });
    expect(f.headers['version']).toBeUndefined();
    expect(f.headers['heart-beat']).toBeUndefined();
    expect(f.headers['session']).toBe('conn-1');
  });

  it('accepts the STOMP command like CONNECT', async () => {
    const p = new Peer();
    p.frame('STOMP', { 'accept-version': '1.2', host: 'h' });
    await flush();
    expect(p.one().command).toBe('CONNECTED');
  });

  it('refuses when no version is common: ERROR with a version header, then close', async () => {
    const p = new Peer();
    p.frame('CONNECT', { 'accept-version': '2.0' });
    await flush();
    const f = p.one();
    expect(f.command).toBe('ERROR');
    expect(f.headers['version']).toBe('1.0,1.1,1.2');
    expect(f.headers['message']).toMatch(/versions/);
    expect(p.transport.ended).toBe(true);
    expect(p.core.connections).toHaveLength(0);
  });

  it('passes login/passcode to the authenticator and client-id to the core', async () => {
    const seen: Array<[string | undefined, string | undefined]> = [];
    const p = new Peer({
      authenticator: {
        required: true,
        authenticate: async (login, passcode) => {
          seen.push([login, passcode]);
          return { user: login!, anonymous: false };
        },
      },
    });
    await p.connect({ 'accept-version': '1.2', login: 'alice', passcode: 'a:b\\c', 'client-id': 'app-1' });
    // CONNECT is never unescaped: the passcode arrives byte for byte.
    expect(seen).toEqual([['alice', 'a:b\\c']]);
    expect(p.conn.options.clientId).toBe('app-1');
    expect(p.conn.principal).toEqual({ user: 'alice', anonymous: false });
  });

  it('refused credentials: ERROR "Authentication failed", then close, and no core connection', async () => {
    const p = new Peer();
    p.frame('CONNECT', { 'accept-version': '1.2', login: 'x', passcode: 'bad', receipt: 'c1' });
    await flush();
    const f = p.one();
    expect(f.command).toBe('ERROR');
    expect(f.headers['message']).toBe('Authentication failed');
    expect(f.headers['receipt-id']).toBe('c1');
    expect(p.transport.ended).toBe(true);
    expect(p.core.connections).toHaveLength(0);
  });

  it('an authenticator that throws is an ERROR, not a crash', async () => {
    const p = new Peer({
      authenticator: {
        required: true,
        authenticate: () => {
          throw new Error('boom');
        },
      },
    });
    p.frame('CONNECT', { 'accept-version': '1.2' });
    await flush();
    expect(p.one().headers['message']).toBe('Internal error');
    expect(p.transport.ended).toBe(true);
  });

  it('a core refusal (duplicate client-id) is an ERROR', async () => {
    const p = new Peer();
    p.core.connectError = new BlazeError('CONFLICT', "client-id 'x' is already connected");
    p.frame('CONNECT', { 'accept-version': '1.2', 'client-id': 'x' });
    await flush();
    const f = p.one();
    expect(f.command).toBe('ERROR');
    expect(f.headers['message']).toMatch(/already connected/);
    expect(p.transport.ended).toBe(true);
  });

  it('pauses reading while authenticating and processes pipelined frames afterwards', async () => {
    const gate = deferred();
    const p = new Peer({
      authenticator: {
        required: true,
        authenticate: async () => {
          await gate.promise;
          return { user: 'u', anonymous: false };
        },
      },
    });
    p.send(
      Buffer.concat([
        clientFrame('CONNECT', { 'accept-version': '1.2' }),
        Buffer.from('SEND\ndestination:/queue/a\nk:x\\cy\n\nhi\0'),
      ]),
    );
    expect(p.transport.readingPaused).toBe(true);
    expect(p.read()).toHaveLength(0);
    gate.resolve();
    await flush();
    expect(p.read()[0]!.command).toBe('CONNECTED');
    expect(p.transport.readingPaused).toBe(false);
    // The SEND was decoded with 1.2 escaping, agreed in CONNECT.
    expect(p.conn.sends[0]!.message.properties).toEqual({ k: 'x:y' });
  });

  it('a close during authentication never opens a core connection', async () => {
    const gate = deferred();
    const p = new Peer({
      authenticator: {
        required: true,
        authenticate: async () => {
          await gate.promise;
          return { user: 'u', anonymous: false };
        },
      },
    });
    p.frame('CONNECT', { 'accept-version': '1.2' });
    p.session.onClose();
    gate.resolve();
    await flush();
    expect(p.core.connections).toHaveLength(0);
    expect(p.read()).toHaveLength(0);
  });

  it('refuses a malformed heart-beat header', async () => {
    const p = new Peer();
    p.frame('CONNECT', { 'accept-version': '1.2', 'heart-beat': 'soon' });
    await flush();
    expect(p.one().headers['message']).toMatch(/heart-beat/);
    expect(p.transport.ended).toBe(true);
  });
});

describe('frames out of place', () => {
  it('anything but CONNECT first: ERROR and close', async () => {
    const p = new Peer();
    p.frame('SEND', { destination: '/queue/a', receipt: 'r' }, 'x');
    const f = p.one();
    expect(f.command).toBe('ERROR');
    expect(f.headers['message']).toMatch(/CONNECT/);
    expect(f.headers['receipt-id']).toBe('r');
    expect(f.headers['content-type']).toBe('text/plain');
    expect(f.body.toString()).toMatch(/SEND/);
    expect(p.transport.ended).toBe(true);
  });

  it('a second CONNECT: ERROR and close', async () => {
    const p = new Peer();
    await p.connect();
    p.frame('CONNECT', { 'accept-version': '1.2' });
    expect(p.one().headers['message']).toMatch(/Already connected/);
    expect(p.transport.ended).toBe(true);
    expect(p.conn.closed).toBe(true);
  });

  it('an unknown command: ERROR and close', async () => {
    const p = new Peer();
    await p.connect();
    p.frame('PUBLISH', {});
    expect(p.one().headers['message']).toMatch(/Unknown command 'PUBLISH'/);
    expect(p.transport.ended).toBe(true);
  });

  it('NACK does not exist in 1.0', async () => {
    const p = new Peer();
    await p.connect({});
    p.frame('NACK', { 'message-id': 'm' }, undefined, '1.0');
    expect(p.one().headers['message']).toMatch(/Unknown command 'NACK'/);
  });

  it('ignores input after the ERROR', async () => {
    const p = new Peer();
    p.frame('BOGUS');
    p.read();
    p.frame('CONNECT', { 'accept-version': '1.2' });
    await flush();
    expect(p.read()).toHaveLength(0);
    expect(p.core.connections).toHaveLength(0);
  });

  it('an oversized frame: ERROR naming the limit, then close', async () => {
    const p = new Peer({ limits: { maxBodySize: 16 } });
    await p.connect();
    p.frame('SEND', { destination: '/queue/a' }, 'x'.repeat(17));
    const f = p.one();
    expect(f.command).toBe('ERROR');
    expect(f.headers['message']).toMatch(/maximum body size of 16/);
    expect(p.transport.ended).toBe(true);
    expect(p.conn.sends).toHaveLength(0);
  });

  it('too many headers: ERROR and close', async () => {
    const p = new Peer({ limits: { maxHeaders: 5 } });
    await p.connect();
    const headers = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`h${i}`, 'v']));
    p.frame('SEND', { destination: '/queue/a', ...headers });
    expect(p.one().headers['message']).toMatch(/more than 5 headers/);
    expect(p.transport.ended).toBe(true);
  });

  it('a header line over the limit: ERROR and close', async () => {
    const p = new Peer({ limits: { maxHeaderLineLength: 64 } });
    await p.connect();
    p.frame('SEND', { destination: '/queue/a', big: 'v'.repeat(100) });
    expect(p.one().headers['message']).toMatch(/exceeds 64 bytes/);
  });

  it('an invalid escape in 1.2: ERROR and close', async () => {
    const p = new Peer();
    await p.connect();
    p.send('SEND\ndestination:/queue/a\nk:\\t\n\n\0');
    expect(p.one().headers['message']).toMatch(/escape/);
    expect(p.transport.ended).toBe(true);
  });
});

describe('DISCONNECT', () => {
  it('sends the RECEIPT, then closes gracefully and releases the core connection', async () => {
    const p = new Peer();
    await p.connect();
    p.frame('DISCONNECT', { receipt: 'bye' });
    const f = p.one();
    expect(f.command).toBe('RECEIPT');
    expect(f.headers['receipt-id']).toBe('bye');
    expect(p.transport.ended).toBe(true);
    expect(p.transport.destroyed).toBe(false);
    expect(p.conn.closed).toBe(true);
  });

  it('waits for earlier operations before the RECEIPT', async () => {
    const p = new Peer();
    await p.connect();
    const d = deferred();
    p.conn.sendResult = () => d.promise;
    p.frame('SEND', { destination: '/queue/a', persistent: 'true', receipt: 's1' }, 'x');
    p.frame('DISCONNECT', { receipt: 'bye' });
    expect(p.read()).toHaveLength(0);
    expect(p.transport.ended).toBe(false);
    d.resolve();
    await flush();
    expect(p.read().map((f) => f.headers['receipt-id'])).toEqual(['s1', 'bye']);
    expect(p.transport.ended).toBe(true);
  });

  it('onClose releases the core connection once', async () => {
    const p = new Peer();
    await p.connect();
    p.session.onClose(new Error('reset'));
    p.session.onClose();
    expect(p.conn.closed).toBe(true);
  });
});
