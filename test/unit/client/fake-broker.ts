/**
 * A scripted native-protocol peer for client unit tests: plugs in as the client's transportFactory, so
 * no socket is involved. Each connection decodes what the client sends (with the client's own codec) and,
 * unless told otherwise, answers like a broker: Connected, Ok, Subscribed, TemporaryCreated... Tests
 * then push deliveries, hold answers back, or drop the connection.
 */
import { decodeFrame, encodeFrame, FrameDecoder } from '../../../src/client/codec/codec.js';
import type { DecodedFrame, Delivery, Frame, WireMessage } from '../../../src/client/codec/frames.js';
import type {
  ClientTransport,
  TransportFactory,
  TransportHandlers,
} from '../../../src/client/transport/types.js';

type Kind = DecodedFrame['kind'];

export class FakeConnection {
  readonly received: DecodedFrame[] = [];
  /** When true, Send/SendBatch get no automatic answer (answer() them by hand). */
  holdSends = false;
  /** When true, Ack frames get no automatic answer. */
  holdAcks = false;
  closed = false;
  private readonly decoder = new FrameDecoder();
  private waiters: Array<{ kind: Kind; resolve(f: DecodedFrame): void }> = [];
  private tag = 0;

  constructor(
    private readonly handlers: TransportHandlers,
    private readonly broker: FakeBroker,
  ) {}

  /** Client -> broker bytes. */
  input(bytes: Uint8Array): void {
    for (const body of this.decoder.push(bytes)) {
      const f = decodeFrame(body);
      this.received.push(f);
      for (const w of this.waiters.filter((w) => w.kind === f.kind)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(f);
      }
      this.autoAnswer(f);
    }
  }

  /** Broker -> client, asynchronously like a socket. */
  send(frame: Frame): void {
    const bytes = encodeFrame(frame);
    queueMicrotask(() => {
      if (!this.closed) this.handlers.onData(bytes);
    });
  }

  /** Delivers messages to a subscription, with increasing tags. */
  deliver(subscriptionId: number, ...messages: WireMessage[]): Delivery[] {
    const deliveries = messages.map((message) => ({
      subscription_id: subscriptionId,
      tag: ++this.tag,
      message,
    }));
    this.send({ deliver: { deliveries } });
    return deliveries;
  }

  answer(f: DecodedFrame, reply?: Frame): void {
    const id = (f as unknown as Record<string, { request_id?: number }>)[f.kind]!.request_id!;
    this.send(reply ?? { ok: { request_id: id } });
  }

  drop(): void {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => this.handlers.onClose(new Error('dropped by the test')));
  }

  of(kind: Kind): DecodedFrame[] {
    return this.received.filter((f) => f.kind === kind);
  }

  /** The next frame of `kind` (or one already received and not yet consumed by a wait). */
  next(kind: Kind): Promise<DecodedFrame> {
    return new Promise((resolve) => this.waiters.push({ kind, resolve }));
  }

  private autoAnswer(f: DecodedFrame): void {
    const body = (f as unknown as Record<string, Record<string, unknown>>)[f.kind]!;
    const request_id = body.request_id as number | undefined;
    switch (f.kind) {
      case 'connect':
        if (this.broker.refuseCode) {
          this.send({ error: { request_id, code: this.broker.refuseCode, message: 'refused', fatal: true } });
          return;
        }
        this.send({
          connected: {
            request_id,
            version: this.broker.version,
            server: 'fake/1',
            connection_id: `c${this.broker.connections.length}`,
            heartbeat_ms: this.broker.heartbeatMs,
            store_id: this.broker.storeId,
          },
        });
        return;
      case 'send':
      case 'send_batch': {
        if (this.holdSends || !request_id) return;
        // want_ids (version 2): one id per message, as the broker answers.
        const count = f.kind === 'send' ? 1 : ((body.messages as unknown[] | undefined)?.length ?? 0);
        const message_ids = body.want_ids
          ? Array.from({ length: count }, () => `ID:fake:${++this.broker.messageIds}`)
          : undefined;
        this.send({ ok: { request_id, message_ids } });
        return;
      }
      case 'delete_temporary':
        if (this.broker.refuseDelete) {
          this.send({ error: { request_id, code: this.broker.refuseDelete, message: 'refused (fake)' } });
        } else this.send({ ok: { request_id } });
        return;
      case 'subscribe':
        if (this.broker.refuseSubscribe) {
          this.send({ error: { request_id, code: this.broker.refuseSubscribe, message: 'not allowed' } });
          return;
        }
        this.send({ subscribed: { request_id, subscription_id: body.subscription_id as number } });
        return;
      case 'create_temporary':
        this.send({
          temporary_created: { request_id, address: `temp-queue://t${++this.broker.temporaries}` },
        });
        return;
      case 'browse':
        this.send({ browse_result: { request_id, messages: this.broker.browsable } });
        return;
      case 'disconnect':
        this.send({ ok: { request_id } });
        return;
      case 'credit':
      case 'heartbeat':
        return;
      case 'ack':
        if (!this.holdAcks && request_id) this.send({ ok: { request_id } });
        return;
      default:
        if (request_id) this.send({ ok: { request_id } });
    }
  }
}

export class FakeBroker {
  readonly connections: FakeConnection[] = [];
  /** Connection attempts to fail (as if nothing listened) before accepting again. */
  refuseAttempts = 0;
  /** Answer Connect with a fatal Error of this code. */
  refuseCode: string | undefined;
  /** Answer Subscribe with an Error of this code. */
  refuseSubscribe: string | undefined;
  /** Answer DeleteTemporary with an Error of this code. */
  refuseDelete: string | undefined;
  /** Protocol version answered in Connected. */
  version = 2;
  /** Message ids handed out (want_ids). */
  messageIds = 0;
  attempts = 0;
  heartbeatMs = 0;
  storeId = 'store-1';
  temporaries = 0;
  /** What Browse answers. */
  browsable: WireMessage[] = [];

  get last(): FakeConnection {
    return this.connections[this.connections.length - 1]!;
  }

  readonly factory: TransportFactory = async (_endpoint, handlers): Promise<ClientTransport> => {
    this.attempts++;
    if (this.refuseAttempts > 0) {
      this.refuseAttempts--;
      const { ClientError } = await import('../../../src/client/codec/errors.js');
      throw new ClientError('CONNECTION_LOST', 'connection refused (fake)');
    }
    const conn = new FakeConnection(handlers, this);
    this.connections.push(conn);
    return {
      write: (frame) => {
        if (!conn.closed) conn.input(frame);
        return true;
      },
      close: () => conn.drop(),
    };
  };
}

// biome-ignore lint/suspicious/noExplicitAny: tests read decoded frames field by field and assert on them
type Loose = any;

/** The body of a decoded frame (its oneof member), loosely typed for assertions. */
export function fields(f: DecodedFrame | undefined): Loose {
  if (!f) throw new Error('no such frame');
  return (f as unknown as Record<string, Loose>)[f.kind];
}

/** Lets queued microtasks and promise chains run. */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
