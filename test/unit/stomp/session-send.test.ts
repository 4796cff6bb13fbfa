import { describe, expect, it } from 'vitest';
import { BlazeError } from '../../../src/util/errors.js';
import { clientFrame, type Deferred, deferred, flush, Peer } from './fakes.js';

async function connected(options: ConstructorParameters<typeof Peer>[0] = {}): Promise<Peer> {
  const p = new Peer(options);
  await p.connect();
  return p;
}

describe('SEND -> core message', () => {
  it('maps headers onto the message and passes other headers through as properties', async () => {
    const p = await connected();
    p.frame(
      'SEND',
      {
        destination: '/queue/orders',
        persistent: 'true',
        priority: '7',
        expires: '1700000000000',
        'correlation-id': 'c-1',
        'reply-to': '/topic/replies',
        JMSXGroupID: 'g',
        'content-type': 'application/json',
        'x-app': 'demo',
        'with:colon': 'a\nb',
      },
      '{"a":1}',
    );
    const [{ message, txId }] = p.conn.sends as [(typeof p.conn.sends)[0]];
    expect(txId).toBeUndefined();
    expect(message).toMatchObject({
      address: 'queue://orders',
      persistent: true,
      priority: 7,
      expiration: 1_700_000_000_000,
      correlationId: 'c-1',
      replyTo: 'topic://replies',
      groupId: 'g',
      contentType: 'application/json',
    });
    expect({ ...message.properties }).toEqual({ 'x-app': 'demo', 'with:colon': 'a\nb' });
    expect(Buffer.from(message.body).toString()).toBe('{"a":1}');
  });

  it('leaves defaults to the core: no persistent/priority/expires unless given; no properties object', async () => {
    const p = await connected();
    p.frame('SEND', { destination: '/topic/t' }, 'x');
    const m = p.conn.sends[0]!.message;
    expect(m.address).toBe('topic://t');
    expect(m.persistent).toBeUndefined();
    expect(m.priority).toBeUndefined();
    expect(m.properties).toBeUndefined();
  });

  it('persistent:false is non-persistent', async () => {
    const p = await connected();
    p.frame('SEND', { destination: '/queue/a', persistent: 'false' });
    expect(p.conn.sends[0]!.message.persistent).toBe(false);
  });

  it('keeps a body with NUL bytes (content-length) byte for byte, as a zero-copy slice', async () => {
    const p = await connected();
    const body = new Uint8Array([0, 1, 0, 255, 0]);
    const bytes = clientFrame('SEND', { destination: '/queue/a' }, body);
    p.send(bytes);
    const got = p.conn.sends[0]!.message.body;
    expect([...got]).toEqual([...body]);
    expect(got.buffer).toBe(bytes.buffer);
  });

  it('maps composite destinations', async () => {
    const p = await connected();
    p.frame('SEND', { destination: '/queue/a,/topic/b' });
    expect(p.conn.sends[0]!.message.address).toBe('queue://a,topic://b');
  });

  it('creates a temporary queue on first use and reuses it for the same name', async () => {
    const p = await connected();
    p.frame('SEND', { destination: '/queue/svc', 'reply-to': '/temp-queue/replies' });
    p.frame('SUBSCRIBE', { id: 's', destination: '/temp-queue/replies' });
    p.frame('SEND', { destination: '/temp-queue/other' });
    expect(p.conn.temporaries).toEqual(['temp-queue://conn-1:1', 'temp-queue://conn-1:2']);
    expect(p.conn.sends[0]!.message.replyTo).toBe('temp-queue://conn-1:1');
    expect(p.conn.subscriptions[0]!.options.address).toBe('temp-queue://conn-1:1');
  });

  it("accepts another connection's temporary as /remote-temp-queue/<id>", async () => {
    const p = await connected();
    p.frame('SEND', { destination: '/remote-temp-queue/conn-9:3' });
    expect(p.conn.sends[0]!.message.address).toBe('temp-queue://conn-9:3');
  });

  for (const [what, headers, pattern] of [
    ['no destination', {}, /destination/],
    ['an empty destination', { destination: '' }, /destination/],
    ['an unprefixed destination', { destination: 'orders' }, /Invalid destination/],
    ['a nameless destination', { destination: '/queue/' }, /no name/],
    ['a bad priority', { destination: '/queue/a', priority: 'high' }, /priority/],
    ['a bad expires', { destination: '/queue/a', expires: 'tomorrow' }, /expires/],
    [
      'an unknown transaction',
      { destination: '/queue/a', transaction: 'nope' },
      /Unknown transaction 'nope'/,
    ],
  ] as const) {
    it(`${what}: ERROR (with receipt-id) and close`, async () => {
      const p = await connected();
      p.frame('SEND', { ...headers, receipt: 'r9' }, 'x');
      const f = p.one();
      expect(f.command).toBe('ERROR');
      expect(f.headers['message']).toMatch(pattern);
      expect(f.headers['receipt-id']).toBe('r9');
      expect(p.transport.ended).toBe(true);
      expect(p.conn.sends).toHaveLength(0);
      expect(p.conn.closed).toBe(true);
    });
  }

  it('a core refusal (FORBIDDEN) becomes an ERROR naming the address, then close', async () => {
    const p = await connected();
    p.conn.sendResult = (m) =>
      Promise.reject(new BlazeError('FORBIDDEN', `not allowed to write ${m.address}`));
    p.frame('SEND', { destination: '/queue/secret.orders', receipt: 'deny' }, 'x');
    await flush();
    const f = p.one();
    expect(f.headers['message']).toBe('not allowed to write queue://secret.orders');
    expect(f.headers['receipt-id']).toBe('deny');
    expect(f.body.toString()).toMatch(/FORBIDDEN/);
    expect(p.transport.ended).toBe(true);
  });

  it('a synchronous throw from core.send is handled the same way', async () => {
    const p = await connected();
    p.conn.sendResult = () => {
      throw new BlazeError('LIMIT_EXCEEDED', 'memory limit');
    };
    p.frame('SEND', { destination: '/queue/a' });
    await flush();
    expect(p.one().headers['message']).toBe('memory limit');
  });
});

describe('receipts', () => {
  it('sends the RECEIPT of a SEND only once the core has accepted it', async () => {
    const p = await connected();
    const d = deferred();
    p.conn.sendResult = () => d.promise;
    p.frame('SEND', { destination: '/queue/a', persistent: 'true', receipt: 'r1' }, 'x');
    await flush();
    expect(p.read()).toHaveLength(0);
    d.resolve();
    await flush();
    expect(p.one().headers['receipt-id']).toBe('r1');
  });

  it('keeps receipts in frame order when operations complete out of order', async () => {
    const p = await connected();
    const pending: Deferred[] = [];
    p.conn.sendResult = (m) => {
      if (m.persistent) {
        const d = deferred();
        pending.push(d);
        return d.promise;
      }
      return Promise.resolve();
    };
    p.frame('SEND', { destination: '/queue/a', persistent: 'true', receipt: 'p1' });
    p.frame('SEND', { destination: '/queue/a', receipt: 'n2' });
    p.frame('SUBSCRIBE', { id: 's', destination: '/queue/b', receipt: 'sub3' });
    p.frame('SEND', { destination: '/queue/a', persistent: 'true', receipt: 'p4' });
    p.frame('BEGIN', { transaction: 't', receipt: 'b5' });
    await flush();
    expect(p.read()).toHaveLength(0);
    pending[1]!.resolve();
    await flush();
    expect(p.read()).toHaveLength(0);
    pending[0]!.resolve();
    await flush();
    expect(p.read().map((f) => f.headers['receipt-id'])).toEqual(['p1', 'n2', 'sub3', 'p4', 'b5']);
  });

  it('reports an asynchronous failure after the receipts of earlier frames', async () => {
    const p = await connected();
    const first = deferred();
    const second = deferred();
    const queue = [first, second];
    p.conn.sendResult = () => queue.shift()!.promise;
    p.frame('SEND', { destination: '/queue/a', receipt: 'ok1' });
    p.frame('SEND', { destination: '/queue/a', receipt: 'bad2' });
    second.reject(new BlazeError('STORE', 'disk full'));
    await flush();
    expect(p.read()).toHaveLength(0);
    first.resolve();
    await flush();
    const frames = p.read();
    expect(frames.map((f) => f.command)).toEqual(['RECEIPT', 'ERROR']);
    expect(frames[1]!.headers['receipt-id']).toBe('bad2');
    expect(p.transport.ended).toBe(true);
  });
});

describe('producer flow control', () => {
  it('stops reading at maxInflight pending operations and resumes at half', async () => {
    const p = await connected({ limits: { maxInflight: 4 } });
    const pending: Deferred[] = [];
    p.conn.sendResult = () => {
      const d = deferred();
      pending.push(d);
      return d.promise;
    };
    const frames = Array.from({ length: 10 }, (_, i) =>
      clientFrame('SEND', { destination: '/queue/a', persistent: 'true', n: String(i) }),
    );
    p.send(Buffer.concat(frames));
    expect(p.conn.sends).toHaveLength(4);
    expect(p.transport.readingPaused).toBe(true);
    pending[0]!.resolve();
    await flush();
    expect(p.conn.sends).toHaveLength(4);
    pending[1]!.resolve();
    await flush();
    // Two done -> 2 pending = half: the already-buffered frames are processed up to the limit again.
    expect(p.conn.sends).toHaveLength(6);
    expect(p.transport.readingPaused).toBe(true);
    for (const d of pending) d.resolve();
    await flush();
    for (const d of pending) d.resolve();
    await flush();
    for (const d of pending) d.resolve();
    await flush();
    expect(p.conn.sends.map((s) => s.message.properties!['n'])).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
    ]);
    expect(p.transport.readingPaused).toBe(false);
  });
});

describe('transactions', () => {
  it('BEGIN, SEND and ACK in a transaction, COMMIT receipt after the commit is durable', async () => {
    const p = await connected();
    const commit = deferred();
    p.conn.commitResult = () => commit.promise;
    p.frame('BEGIN', { transaction: 'tx1' });
    p.frame('SEND', { destination: '/queue/a', transaction: 'tx1' }, 'x');
    p.frame('COMMIT', { transaction: 'tx1', receipt: 'c' });
    expect(p.conn.begun).toEqual(['tx1']);
    expect(p.conn.sends[0]!.txId).toBe('tx1');
    expect(p.conn.committed).toEqual(['tx1']);
    await flush();
    expect(p.read()).toHaveLength(0);
    commit.resolve();
    await flush();
    expect(p.one().headers['receipt-id']).toBe('c');
  });

  it('ABORT rolls back; the name can be reused', async () => {
    const p = await connected();
    p.frame('BEGIN', { transaction: 't' });
    p.frame('ABORT', { transaction: 't', receipt: 'a' });
    p.frame('BEGIN', { transaction: 't' });
    expect(p.conn.rolledBack).toEqual(['t']);
    expect(p.conn.begun).toEqual(['t', 't']);
    expect(p.one().headers['receipt-id']).toBe('a');
  });

  it('COMMIT of an unknown transaction: ERROR and close', async () => {
    const p = await connected();
    p.frame('COMMIT', { transaction: 'no-such-tx' });
    const f = p.one();
    expect(f.headers['message']).toMatch(/Unknown transaction 'no-such-tx'/);
    expect(p.transport.ended).toBe(true);
  });

  it('ABORT of an unknown transaction, BEGIN twice, BEGIN without a name: ERROR', async () => {
    for (const frames of [
      [['ABORT', { transaction: 'x' }]],
      [
        ['BEGIN', { transaction: 'x' }],
        ['BEGIN', { transaction: 'x' }],
      ],
      [['BEGIN', {}]],
    ] as const) {
      const p = await connected();
      for (const [c, h] of frames) p.frame(c, h);
      expect(p.one().command).toBe('ERROR');
      expect(p.transport.ended).toBe(true);
    }
  });

  it('a failed commit is an ERROR', async () => {
    const p = await connected();
    p.conn.commitResult = () => Promise.reject(new BlazeError('STORE', 'fsync failed'));
    p.frame('BEGIN', { transaction: 't' });
    p.frame('COMMIT', { transaction: 't', receipt: 'c' });
    await flush();
    const f = p.one();
    expect(f.headers['message']).toBe('fsync failed');
    expect(f.headers['receipt-id']).toBe('c');
  });

  it('closing mid-transaction closes the core connection, which rolls it back', async () => {
    const p = await connected();
    p.frame('BEGIN', { transaction: 't' });
    p.session.onClose();
    expect(p.conn.closed).toBe(true);
  });
});
