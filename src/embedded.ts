/**
 * The embedded broker (docs/EMBEDDING.md): `await Broker.start()` runs the same broker as `blazemq start`
 * (startBroker underneath, same core, store, security and native protocol factory) inside the
 * application, reachable through `vm://<name>` with no socket. Meant for application tests and for
 * programs that want a broker of their own.
 *
 * Defaults differ from the command line on purpose: no network listener (a test must not collide on
 * 61613 or open ports it does not use) and the memory store unless a `dataDir` is given (nothing to clean
 * up). Both can be turned on explicitly.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InProcessListener, type RunningBroker, startBroker } from './broker.js';
import { type BlazeClient, type ConnectOptions, connect } from './client/client.js';
import { lookupVmBroker, registerVmBroker, type VmBroker, type VmConnection } from './client/vm-registry.js';
import { type BlazeConfig, type PortSetting, parseConfig } from './config/index.js';
import type { BlazeCore } from './core/index.js';
import type { ProtocolSession, Transport } from './net/transport.js';
import type { NativeProtocol } from './protocol/native/index.js';
import { BlazeError } from './util/errors.js';
import { type Logger, silentLogger } from './util/logger.js';

/** As in a file: every key optional, in nested sections and in list items (which have defaults too). */
type DeepPartial<T> = T extends readonly (infer U)[]
  ? DeepPartial<U>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** A configuration document, as in a config file (validated the same way); every key optional. */
export type BrokerConfigInput = DeepPartial<BlazeConfig>;

export type ListenerName = 'stomp' | 'mqtt' | 'http' | 'native' | 'nativeTls' | 'stompTls' | 'mqttTls';

export interface BrokerOptions {
  /** The vm:// name; default `embedded-<n>`, the first one not registered in this process. */
  name?: string;
  /** Journal store in this directory (survives stop/start). Without it: memory store. */
  dataDir?: string;
  /** Network listeners to open, e.g. `{ native: 0, stomp: 0 }` (0 = any free port). Default: all off. */
  listeners?: Partial<Record<ListenerName, PortSetting>>;
  /** Everything else, as in a config file; `dataDir` and `listeners` above win over it. */
  config?: BrokerConfigInput;
  logger?: Logger;
}

const ALL_OFF: Record<ListenerName, PortSetting> = {
  stomp: 'off',
  mqtt: 'off',
  http: 'off',
  native: 'off',
  nativeTls: 'off',
  stompTls: 'off',
  mqttTls: 'off',
};

export class Broker {
  /** `vm://<name>`: what `connect()` of `blazemq/client` takes. */
  readonly url: string;
  private readonly clients = new Set<BlazeClient>();
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly name: string,
    readonly config: BlazeConfig,
    private readonly running: RunningBroker,
    private readonly tempDir: string | undefined,
  ) {
    this.url = `vm://${encodeURIComponent(name)}`;
  }

  /**
   * Starts a broker in this process and registers it as `vm://<name>`. Rejects with a CONFIG error for
   * an invalid configuration or a name already in use, STORE for a damaged journal.
   */
  static async start(options: BrokerOptions = {}): Promise<Broker> {
    const logger = options.logger ?? silentLogger;
    const name = options.name ?? freeName();
    if (name === '') throw new BlazeError('CONFIG', 'the vm:// name of an embedded broker is empty');
    if (lookupVmBroker(name) !== undefined) {
      throw new BlazeError('CONFIG', `vm://${name} is already registered in this process`);
    }
    const input = options.config ?? {};
    const dataDir = options.dataDir ?? input.dataDir;
    if (dataDir === undefined && input.store?.type === 'journal') {
      throw new BlazeError('CONFIG', 'store.type "journal" needs a dataDir');
    }
    // The broker reads its users file from the data directory; a memory broker gets an empty one of its
    // own, removed on stop, so that it never picks up (or leaves behind) anything on disk.
    const tempDir = dataDir === undefined ? await mkdtemp(join(tmpdir(), 'blazemq-embedded-')) : undefined;
    try {
      const config = parseConfig({
        ...input,
        dataDir: dataDir ?? tempDir,
        listeners: { ...ALL_OFF, ...input.listeners, ...options.listeners },
        ...(tempDir === undefined ? {} : { store: { ...input.store, type: 'memory' } }),
      });
      const vm = new VmListener(name, config.limits.maxConnections, logger.child({ protocol: 'vm' }));
      const running = await startBroker(config, { logger, inProcess: vm });
      vm.register();
      logger.info({ url: `vm://${name}`, ports: running.ports }, 'embedded broker started');
      return new Broker(name, config, running, tempDir);
    } catch (err) {
      if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Bound ports of the network listeners that are on (none by default). */
  get ports(): RunningBroker['ports'] {
    return this.running.ports;
  }

  /** The broker's core, for inspection (queue depths, admin) from the embedding application. */
  get core(): BlazeCore {
    return this.running.core;
  }

  /**
   * A client connected through vm://; closed by `stop()` if still open. Heart-beats are off unless asked
   * for: both ends live in one process, so a silent peer cannot be a dead one.
   */
  async connect(options: ConnectOptions = {}): Promise<BlazeClient> {
    if (this.stopping) throw new BlazeError('CLOSED', `${this.url} is stopped`);
    const client = await connect(this.url, { heartbeatMs: 0, ...options });
    this.clients.add(client);
    client.on('closed', () => this.clients.delete(client));
    return client;
  }

  /**
   * Closes the clients made by `connect()`, then stops like `blazemq stop`: in-flight persistent work
   * becomes durable, other vm:// and network connections are ended, the store is closed. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.allSettled([...this.clients].map((c) => c.close()));
      try {
        await this.running.stop();
      } finally {
        if (this.tempDir !== undefined) await rm(this.tempDir, { recursive: true, force: true });
      }
    })();
    return this.stopping;
  }
}

let counter = 0;
function freeName(): string {
  let name: string;
  do name = `embedded-${++counter}`;
  while (lookupVmBroker(name) !== undefined);
  return name;
}

/**
 * vm:// as a listener: each `connectInProcess()` is one accepted connection of the native protocol
 * factory, with the same back-pressure contract as a socket (src/net/transport.ts).
 */
class VmListener implements InProcessListener, VmBroker {
  private protocol: NativeProtocol | undefined;
  private accepting = true;
  private unregister: (() => void) | undefined;
  private readonly live = new Set<VmPipe>();
  private nextId = 0;

  constructor(
    private readonly name: string,
    private readonly maxConnections: number,
    private readonly logger: Logger,
  ) {}

  attach(native: NativeProtocol): void {
    this.protocol = native;
  }

  register(): void {
    this.unregister = registerVmBroker(this.name, this);
  }

  connectInProcess(): VmConnection {
    if (!this.accepting || this.protocol === undefined) {
      throw new BlazeError('CLOSED', `vm://${this.name} is not accepting connections`);
    }
    if (this.live.size >= this.maxConnections) {
      // As a TCP listener closes a connection over the limit at once, so that failover clients retry.
      throw new BlazeError(
        'LIMIT_EXCEEDED',
        `vm://${this.name}: connection limit reached (limits.maxConnections = ${this.maxConnections})`,
      );
    }
    const remote = `vm://${this.name}#${++this.nextId}`;
    const pipe = new VmPipe(remote, () => {
      this.live.delete(pipe);
      this.logger.debug({ remote }, 'connection closed');
    });
    this.live.add(pipe);
    pipe.attach(this.protocol(pipe));
    this.logger.debug({ remote }, 'connection opened');
    return pipe.clientSide;
  }

  stopAccepting(): void {
    this.accepting = false;
    this.unregister?.();
  }

  async close(): Promise<void> {
    this.stopAccepting();
    for (const pipe of [...this.live]) pipe.end();
  }
}

/**
 * One vm:// connection: the broker side is a Transport, the client side a VmConnection. Bytes pass by
 * reference with no copy, as a socket would hold them until written. Writes to the client never report
 * back-pressure: the client only receives what its subscriptions' credit allows, and hands bytes on in a
 * microtask. Reading honours `pauseReading()`: bytes the client writes meanwhile wait here (bounded by the
 * client's own limit of unconfirmed sends) until `resumeReading()`.
 */
class VmPipe implements Transport {
  private session: ProtocolSession | undefined;
  private toClient: ((bytes: Uint8Array) => void) | undefined;
  private readonly early: Uint8Array[] = [];
  private notifyClient: ((error?: Error) => void) | undefined;
  private readonly incoming: Buffer[] = [];
  private paused = false;
  private feeding = false;
  private isClosed = false;

  constructor(
    readonly remoteAddress: string,
    private readonly onGone: () => void,
  ) {}

  attach(session: ProtocolSession): void {
    this.session = session;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  // ---- Transport (broker side) ----

  write(chunk: Uint8Array): boolean {
    if (this.isClosed) return false;
    if (this.toClient) this.toClient(chunk);
    else this.early.push(chunk);
    return true;
  }

  onDrain(_listener: () => void): void {
    // write() never returns false while open, so there is no drain to wait for.
  }

  pauseReading(): void {
    this.paused = true;
  }

  resumeReading(): void {
    this.paused = false;
    this.feed();
  }

  /** Writes are delivered synchronously, so nothing is left to flush. */
  end(): void {
    this.shut(true);
  }

  destroy(): void {
    this.shut(true);
  }

  // ---- VmConnection (client side) ----

  readonly clientSide: VmConnection = {
    write: (bytes) => {
      if (this.isClosed) return;
      this.incoming.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      this.feed();
    },
    onData: (cb) => {
      this.toClient = cb;
      for (const chunk of this.early.splice(0)) cb(chunk);
    },
    close: () => this.shut(false),
    onClose: (cb) => {
      this.notifyClient = cb;
    },
  };

  /**
   * Hands queued bytes to the session while reading is on. Not re-entered: a `resumeReading()` from
   * inside `onData` only clears the flag, and this loop goes on.
   */
  private feed(): void {
    if (this.feeding) return;
    this.feeding = true;
    try {
      while (!this.paused && !this.isClosed && this.incoming.length > 0) {
        this.session?.onData(this.incoming.shift()!);
      }
    } finally {
      this.feeding = false;
    }
  }

  /** The session hears of the close exactly once (transport.ts); the client only when the broker closed. */
  private shut(byBroker: boolean): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.incoming.length = 0;
    this.early.length = 0;
    this.session?.onClose();
    if (byBroker) this.notifyClient?.();
    this.onGone();
  }
}
