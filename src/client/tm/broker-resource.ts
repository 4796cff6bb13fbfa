/**
 * The broker as a ResourceManager, over one BlazeClient's `client.xa` (native.proto XaStart..XaRecover;
 * semantics in docs/TRANSACTIONS.md). Between start and end, `publish` and `ack` on this object join the
 * branch: they carry the branch's transaction id, exactly as a local Transaction's do.
 *
 * A branch that is not prepared dies with its connection (the broker rolls it back), so after an
 * `interrupted` event the active branch is marked lost: its work fails with TRANSACTION_ROLLED_BACK
 * instead of going to a new connection that knows nothing of it, and prepare fails, which makes the
 * transaction manager roll the whole transaction back. Prepared branches belong to the broker and are
 * finished from any connection.
 */
import type { BlazeClient } from '../client.js';
import { ClientCodes, ClientError, isClientError } from '../codec/errors.js';
import { type Body, type PublishOptions, type ReceivedMessage, toWireMessage } from '../message.js';
import { ackInTransaction, markAcked } from '../subscription.js';
import { XA_FLAGS, type Xid } from '../xa.js';
import type { ResourceManager } from './resource.js';
import { sameXid } from './xid.js';

export interface BrokerResourceOptions {
  /** Default 'broker'. Stable across restarts (see ResourceManager.name). */
  name?: string;
}

interface Branch {
  readonly xid: Xid;
  readonly txId: string;
  /** Acked in the branch: they count as acked on the client (no redelivery to the app) once committed. */
  readonly acked: ReceivedMessage[];
  associated: boolean;
  lost: boolean;
}

let seq = 0;

export class BrokerResource implements ResourceManager {
  readonly name: string;
  /** Branches started here and not yet committed or rolled back, by their position in time. */
  private readonly branches: Branch[] = [];

  constructor(
    readonly client: BlazeClient,
    options: BrokerResourceOptions = {},
  ) {
    this.name = options.name ?? 'broker';
    client.on('interrupted', () => {
      for (const b of this.branches) b.lost = true;
    });
  }

  /** Sends a message in the active branch: it is routed only if the transaction commits. */
  async publish(address: string, body: Body, options: PublishOptions = {}): Promise<void> {
    const b = this.active();
    const message = toWireMessage(address, body, options);
    await this.client.rawRequest((request_id) => ({ send: { request_id, message, tx_id: b.txId } }));
  }

  /**
   * Acks messages in the active branch: they leave their queue only if the transaction commits, and come
   * back (redelivered) if it rolls back. The messages must come from this resource's client.
   */
  async ack(...messages: ReceivedMessage[]): Promise<void> {
    const b = this.active();
    await ackInTransaction(messages, b.txId);
    b.acked.push(...messages);
  }

  async start(xid: Xid): Promise<void> {
    if (this.branches.some((b) => b.associated)) {
      throw new ClientError(ClientCodes.ILLEGAL_STATE, `${this.name} is already working in a branch`);
    }
    const b: Branch = {
      xid,
      txId: `xa-${this.client.producerId}-${++seq}`,
      acked: [],
      associated: true,
      lost: false,
    };
    this.branches.push(b);
    try {
      await this.client.xa.start(xid, b.txId);
    } catch (e) {
      this.drop(b);
      throw e;
    }
  }

  async end(xid: Xid, success: boolean): Promise<void> {
    const b = this.find(xid);
    if (b !== undefined) b.associated = false;
    if (b?.lost) throw lost(this.name);
    await this.client.xa.end(xid, success ? XA_FLAGS.TMSUCCESS : XA_FLAGS.TMFAIL);
  }

  async prepare(xid: Xid): Promise<'prepared' | 'readonly'> {
    const b = this.find(xid);
    if (b?.lost) throw lost(this.name);
    const vote = await this.client.xa.prepare(xid);
    if (b !== undefined) {
      if (vote === 'readonly') this.drop(b);
      // Prepared: the broker keeps it across connections now; losing this one no longer matters.
      else b.lost = false;
    }
    return vote;
  }

  async commit(xid: Xid, onePhase: boolean): Promise<void> {
    const b = this.find(xid);
    if (onePhase && b?.lost) throw lost(this.name);
    await this.client.xa.commit(xid, onePhase);
    if (b !== undefined) {
      this.drop(b);
      markAcked(b.acked);
    }
  }

  async rollback(xid: Xid): Promise<void> {
    const b = this.find(xid);
    if (b !== undefined) this.drop(b);
    try {
      await this.client.xa.rollback(xid);
    } catch (e) {
      // XAER_NOTA: already gone (rolled back with its connection, or never created).
      if (!(isClientError(e) && e.code === 'XA_NOTA')) throw e;
    }
  }

  recover(): Promise<Xid[]> {
    return this.client.xa.recover();
  }

  private active(): Branch {
    const b = this.branches.find((x) => x.associated);
    if (b === undefined)
      throw new ClientError(ClientCodes.ILLEGAL_STATE, `${this.name} has no active branch`);
    if (b.lost) throw lost(this.name);
    return b;
  }

  private find(xid: Xid): Branch | undefined {
    return this.branches.find((b) => sameXid(b.xid, xid));
  }

  private drop(b: Branch): void {
    const i = this.branches.indexOf(b);
    if (i >= 0) this.branches.splice(i, 1);
  }
}

function lost(name: string): ClientError {
  return new ClientError(
    ClientCodes.TRANSACTION_ROLLED_BACK,
    `${name}: the connection was lost, and the broker rolled the branch back with it`,
  );
}
