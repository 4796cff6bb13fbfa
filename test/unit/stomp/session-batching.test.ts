/**
 * MESSAGE batching (session.ts `inputDepth`): frames caused by one input chunk reach each transport in
 * one write, after the chunk is handled, without changing their order relative to other frames.
 * Runs against the real in-process core, since batching spans connections (a SEND delivers elsewhere).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type BlazeCore, createBrokerCore } from '../../../src/core/index.js';
import {
  createStompSession,
  encodeFrame,
  type HeaderInput,
  StompDecoder,
  type StompFrame,
} from '../../../src/protocol/stomp/index.js';
import { FakeTransport, flush, testAuthenticator } from './fakes.js';

const cores: BlazeCore[] = [];
afterEach(async () => {
  for (const c of cores.splice(0)) await c.shutdown();
});

async function client(core: BlazeCore) {
  const transport = new FakeTransport();
  const session = createStompSession(transport, { core, authenticator: testAuthenticator });
  const frame = (command: string, headers: HeaderInput, body?: string): Buffer =>
    encodeFrame({ command, headers, body }, '1.2');
  session.onData(frame('CONNECT', { 'accept-version': '1.2', host: 'h' }));
  await flush();
  const decode = (chunks: Buffer[]): StompFrame[] => {
    const d = new StompDecoder();
    const out: StompFrame[] = [];
    for (const c of chunks) d.push(c);
    for (let f = d.next(); f !== null; f = d.next()) out.push(f);
    return out;
  };
  expect(decode(transport.chunks)[0]!.command).toBe('CONNECTED');
  transport.chunks.length = 0;
  return { transport, session, frame, frames: () => decode(transport.chunks) };
}

async function setup() {
  const core = await createBrokerCore({});
  cores.push(core);
  return { core, producer: await client(core), consumer: await client(core) };
}

describe('MESSAGE batching', () => {
  it('writes the MESSAGEs caused by one input chunk in one transport write', async () => {
    const { producer, consumer } = await setup();
    consumer.session.onData(
      consumer.frame('SUBSCRIBE', { id: 's', destination: '/queue/q', ack: 'client-individual' }),
    );
    const sends = [1, 2, 3].map((i) => producer.frame('SEND', { destination: '/queue/q' }, `m${i}`));
    producer.session.onData(Buffer.concat(sends));
    expect(consumer.transport.chunks).toHaveLength(1);
    const got = consumer.frames();
    expect(got.map((f) => f.body.toString())).toEqual(['m1', 'm2', 'm3']);
    expect(new Set(got.map((f) => f.headers['ack'])).size).toBe(3);

    // ACKs in one chunk: each frees credit; the refills are batched the same way.
    consumer.transport.chunks.length = 0;
    producer.session.onData(
      Buffer.concat([4, 5].map((i) => producer.frame('SEND', { destination: '/queue/q' }, `m${i}`))),
    );
    expect(consumer.frames().map((f) => f.body.toString())).toEqual(['m4', 'm5']);
    consumer.session.onData(Buffer.concat(got.map((f) => consumer.frame('ACK', { id: f.headers['ack']! }))));
    expect(consumer.transport.chunks).toHaveLength(1);
  });

  it('keeps a MESSAGE ahead of a later RECEIPT on the same connection', async () => {
    const { producer } = await setup();
    producer.session.onData(producer.frame('SUBSCRIBE', { id: 's', destination: '/queue/self' }));
    producer.session.onData(
      Buffer.concat([
        producer.frame('SEND', { destination: '/queue/self' }, 'one'),
        producer.frame('SEND', { destination: '/queue/self', receipt: 'r1' }, 'two'),
        producer.frame('SEND', { destination: '/queue/self' }, 'three'),
      ]),
    );
    await flush();
    expect(producer.frames().map((f) => f.command + (f.body.length ? `:${f.body}` : ''))).toEqual([
      'MESSAGE:one',
      'MESSAGE:two',
      'RECEIPT',
      'MESSAGE:three',
    ]);
  });

  it('sends the MESSAGEs of the last turn before closing on DISCONNECT', async () => {
    const { producer } = await setup();
    producer.session.onData(producer.frame('SUBSCRIBE', { id: 's', destination: '/queue/bye' }));
    producer.session.onData(
      Buffer.concat([
        producer.frame('SEND', { destination: '/queue/bye' }, 'last'),
        producer.frame('DISCONNECT', {}),
      ]),
    );
    expect(producer.transport.ended).toBe(true);
    expect(producer.frames().map((f) => f.body.toString())).toEqual(['last']);
  });

  it('writes at once when a delivery does not come from input, and drops queued frames on close', async () => {
    const { producer, consumer } = await setup();
    producer.session.onData(producer.frame('SEND', { destination: '/queue/late' }, 'x'));
    // Subscribing is input too, but the delivery it causes is written before onData returns.
    consumer.session.onData(consumer.frame('SUBSCRIBE', { id: 's', destination: '/queue/late' }));
    expect(consumer.frames().map((f) => f.body.toString())).toEqual(['x']);
    consumer.session.onClose();
    producer.session.onData(producer.frame('SEND', { destination: '/queue/late' }, 'y'));
    expect(consumer.transport.chunks).toHaveLength(1);
  });

  it('splits a long run of MESSAGEs into bounded writes and pauses on back-pressure', async () => {
    const { producer, consumer } = await setup();
    consumer.session.onData(
      consumer.frame('SUBSCRIBE', { id: 's', destination: '/queue/big', ack: 'client-individual' }),
    );
    consumer.transport.writable = false;
    const body = 'b'.repeat(10_000);
    const sends = Array.from({ length: 30 }, () =>
      producer.frame('SEND', { destination: '/queue/big' }, body),
    );
    producer.session.onData(Buffer.concat(sends));
    // The first write (about 64 KiB) reports back-pressure: the subscription pauses and the rest stays
    // in the queue; only the delivery already handed over when that write happened follows it.
    expect(consumer.transport.chunks).toHaveLength(2);
    expect(consumer.frames().length).toBeGreaterThan(1);
    expect(consumer.frames().length).toBeLessThan(30);
    consumer.transport.drain();
    expect(consumer.frames()).toHaveLength(30);
  });
});
