/**
 * JMS ConnectionFactory and Connection over one BlazeClient. The client id is sent in Connect, so it is
 * given to the factory (or createConnection) rather than set afterwards. A stopped connection hands no
 * message to its consumers; since credit only flows back as messages are taken, the broker stops too.
 */
import { type BlazeClient, type ConnectOptions, connect } from '../client.js';
import { ClientCodes, ClientError } from '../codec/errors.js';
import { type AcknowledgeMode, Session as Modes } from './constants.js';
import { JmsSession } from './session.js';

export interface ConnectionFactoryOptions extends ConnectOptions {
  /** JMS client id (needed for durable subscribers). */
  clientID?: string;
}

export interface TransportListener {
  onInterrupted?(error: ClientError): void;
  onResumed?(): void;
}

export type ExceptionListener = (error: ClientError) => void;

export class ConnectionFactory {
  constructor(
    readonly url: string,
    private readonly options: ConnectionFactoryOptions = {},
  ) {}

  async createConnection(userName?: string, password?: string): Promise<Connection> {
    const o = this.options;
    const client = await connect(this.url, {
      ...o,
      clientId: o.clientID ?? o.clientId,
      login: userName ?? o.login,
      passcode: password ?? o.passcode,
    });
    return new Connection(client, o.clientID ?? o.clientId ?? null);
  }
}

export class Connection {
  private started = false;
  private startWaiters: Array<() => void> = [];
  private exceptionListener: ExceptionListener | null = null;
  private readonly sessions = new Set<JmsSession>();
  private closed = false;

  constructor(
    /** The bespoke client underneath (for what JMS has no word for). */
    readonly client: BlazeClient,
    private readonly clientID: string | null,
  ) {
    client.on('closed', (e) => {
      if (e && !this.closed) this.exceptionListener?.(e);
    });
    client.on('error', (e) => this.exceptionListener?.(e));
  }

  getClientID(): string | null {
    return this.clientID;
  }

  setClientID(_id: string): void {
    throw new ClientError(
      ClientCodes.ILLEGAL_STATE,
      'the client id is sent when connecting: give clientID to the ConnectionFactory',
    );
  }

  setExceptionListener(listener: ExceptionListener | null): void {
    this.exceptionListener = listener;
  }

  getExceptionListener(): ExceptionListener | null {
    return this.exceptionListener;
  }

  /** Failover notifications (ActiveMQ's TransportListener). Returns the function that removes them. */
  setTransportListener(listener: TransportListener): () => void {
    const off1 = this.client.on('interrupted', (e) => listener.onInterrupted?.(e));
    const off2 = this.client.on('resumed', () => listener.onResumed?.());
    return () => {
      off1();
      off2();
    };
  }

  start(): void {
    this.assertOpen();
    this.started = true;
    for (const w of this.startWaiters.splice(0)) w();
  }

  /** Pauses delivery; resolves when no message listener is running any more (JMS). */
  async stop(): Promise<void> {
    this.assertOpen();
    this.started = false;
    await Promise.all([...this.sessions].map((s) => s.idle()));
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** @internal Resolves when the connection is started (at once if it is). */
  whenStarted(): Promise<void> {
    if (this.started) return Promise.resolve();
    return new Promise((r) => this.startWaiters.push(r));
  }

  /**
   * JMS 1.1 `createSession(transacted, acknowledgeMode)` or JMS 2.0 `createSession(sessionMode)`.
   * A transacted session ignores the acknowledge mode.
   */
  createSession(
    transactedOrMode: boolean | AcknowledgeMode = Modes.AUTO_ACKNOWLEDGE,
    mode?: AcknowledgeMode,
  ): JmsSession {
    this.assertOpen();
    const m =
      typeof transactedOrMode === 'boolean'
        ? transactedOrMode
          ? Modes.SESSION_TRANSACTED
          : (mode ?? Modes.AUTO_ACKNOWLEDGE)
        : transactedOrMode;
    const session = new JmsSession(this, m);
    this.sessions.add(session);
    return session;
  }

  /** @internal */
  forgetSession(s: JmsSession): void {
    this.sessions.delete(s);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.started = false;
    await Promise.all([...this.sessions].map((s) => s.close()));
    await this.client.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ClientError(ClientCodes.CLOSED, 'connection closed');
  }
}
