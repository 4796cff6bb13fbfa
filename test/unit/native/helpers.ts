/**
 * Test side of the native protocol: client frames encoded and broker frames decoded with protobufjs (the
 * reference implementation, so every test also cross-checks the hand-written codec), a fake transport,
 * and a session over a real in-memory core.
 */
import type { Authenticator, Principal } from '../../../src/core/api.js';
import { type BlazeCore, createBrokerCore } from '../../../src/core/index.js';
import {
  type NativeLimits,
  type NativeProtocol,
  nativeProtocol,
} from '../../../src/protocol/native/index.js';
import type { NativeSession } from '../../../src/protocol/native/session.js';
import { MemoryStore } from '../../../src/store/memory/index.js';
import { loadProto } from '../../../src/util/proto.js';
import { FakeTransport as BaseFakeTransport } from '../../helpers/fake-transport.js';
import { ManualTimers } from '../../helpers/manual-timers.js';

export const Frame = loadProto('blaze/v1/native.proto').lookupType('blaze.v1.Frame');

/** A client frame, length prefix included, e.g. `frame('send', { request_id: 1, message: {...} })`. */
export function frame(kind: string, value: object): Buffer {
  const body = Frame.encode(Frame.fromObject({ [kind]: value })).finish();
  const out = Buffer.alloc(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}

// biome-ignore lint/suspicious/noExplicitAny: decoded frames are checked field by field in tests
export type Decoded = { kind: string } & Record<string, any>;

/** Every whole frame in `bytes`, decoded by protobufjs; `kind` is the oneof member's name. */
export function parseFrames(bytes: Uint8Array): Decoded[] {
  const out: Decoded[] = [];
  let p = 0;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (p + 4 <= buf.length) {
    const n = buf.readUInt32BE(p);
    if (p + 4 + n > buf.length) break;
    const msg = Frame.decode(buf.subarray(p + 4, p + 4 + n));
    const kind = (msg as unknown as { kind: string }).kind;
    const obj = Frame.toObject(msg, { longs: Number, defaults: false }) as Decoded;
    out.push({ ...obj, kind });
    p += 4 + n;
  }
  return out;
}

export class FakeTransport extends BaseFakeTransport {
  private consumed = 0;

  constructor() {
    super('192.0.2.7:40000');
  }

  override write(chunk: Uint8Array): boolean {
    // A closed transport takes nothing (what the session wrote after closing must not appear in take()).
    if (this.closed) return false;
    return super.write(chunk);
  }

  /** Frames written since the last call. */
  take(): Decoded[] {
    const frames = parseFrames(Buffer.concat(this.chunks.slice(this.consumed)));
    this.consumed = this.chunks.length;
    return frames;
  }
}

export const anonymous: Authenticator = {
  required: false,
  authenticate: async () => ({ user: 'anonymous', anonymous: true }),
};

export const onlyAlice: Authenticator = {
  required: true,
  authenticate: async (login, pass): Promise<Principal | null> =>
    login === 'alice' && pass === 'secret' ? { user: 'alice', anonymous: false } : null,
};

export interface Harness {
  core: BlazeCore;
  store: MemoryStore;
  timers: ManualTimers;
  protocol: NativeProtocol;
  open(): Client;
}

export interface Client {
  transport: FakeTransport;
  session: NativeSession;
  send(kind: string, value: object): void;
  /** Lets promise callbacks (store completions, authentication) run. */
  settle(): Promise<void>;
  take(): Decoded[];
  /** Connect and wait for Connected. */
  connect(extra?: object): Promise<Decoded>;
}

export async function harness(
  options: { limits?: Partial<NativeLimits>; authenticator?: Authenticator; store?: MemoryStore } = {},
): Promise<Harness> {
  const store = options.store ?? new MemoryStore();
  const core = await createBrokerCore({ store });
  const timers = new ManualTimers();
  const protocol = nativeProtocol({
    core,
    authenticator: options.authenticator ?? anonymous,
    timers,
    limits: options.limits,
    serverName: 'blazemq/test',
    producers: core.kv('native-producers'),
  });
  return {
    core,
    store,
    timers,
    protocol,
    open() {
      const transport = new FakeTransport();
      const session = protocol(transport) as NativeSession;
      const client: Client = {
        transport,
        session,
        send: (kind, value) => session.onData(frame(kind, value)),
        settle: () => new Promise((r) => setTimeout(r, 5)),
        take: () => transport.take(),
        async connect(extra = {}) {
          client.send('connect', { request_id: 1, versions: [1], ...extra });
          await client.settle();
          const frames = client.take();
          if (frames[0]?.kind !== 'connected') throw new Error(`not connected: ${JSON.stringify(frames)}`);
          return frames[0]!;
        },
      };
      return client;
    },
  };
}

/** A client of `h`, connected with protocol version 2 (message ids, DeleteTemporary). */
export async function openV2(h: Harness): Promise<Client> {
  const c = h.open();
  await c.connect({ versions: [1, 2] });
  return c;
}
