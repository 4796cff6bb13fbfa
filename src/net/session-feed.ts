/**
 * The glue between a carrier's events (TCP or TLS socket, WebSocket) and the protocol session it feeds,
 * the same for every carrier: `onClose` reaches the session exactly once, with the carrier's last error;
 * a session that throws (against its contract) is logged and its connection dropped, never the process.
 */
import type { Logger } from '../util/logger.js';
import type { BufferedTransport } from './buffered-transport.js';
import type { ProtocolFactory, ProtocolSession } from './transport.js';

export class SessionFeed {
  private session: ProtocolSession | undefined;
  private lastError: Error | undefined;
  private closeReported = false;

  constructor(
    private readonly transport: BufferedTransport,
    /** The connection's logger (its id and remote address already bound). */
    private readonly log: Logger,
  ) {}

  /** Creates the session; false (logged) when the factory threw, and the caller drops the carrier. */
  open(factory: ProtocolFactory): boolean {
    try {
      this.session = factory(this.transport);
      return true;
    } catch (err) {
      this.log.error({ err }, 'protocol session could not be created');
      return false;
    }
  }

  /** Bytes read from the carrier. */
  data(chunk: Buffer): void {
    const session = this.session;
    if (session === undefined) return;
    this.transport.countInput(chunk.length);
    try {
      session.onData(chunk);
    } catch (err) {
      this.log.error({ err }, 'protocol session threw in onData');
      this.transport.destroy();
    }
  }

  /** The carrier's error; the session hears of it with the close that follows. */
  error(err: Error): void {
    this.lastError = err;
  }

  closed(): void {
    if (this.closeReported || this.session === undefined) return;
    this.closeReported = true;
    try {
      this.session.onClose(this.lastError);
    } catch (err) {
      this.log.error({ err }, 'protocol session threw in onClose');
    }
  }
}
