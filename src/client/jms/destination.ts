/**
 * JMS destinations over the broker's address space: a Queue named `orders` is `queue://orders`, a Topic
 * `prices.eur` is `topic://prices.eur` (docs/ARCHITECTURE.md). A name that already carries a scheme is
 * taken as the address.
 */
import { ClientCodes, ClientError, isClientError } from '../codec/errors.js';

export type DestinationKind = 'queue' | 'topic';

/** What deletes a temporary destination: the client of the connection that created it. */
export interface TemporaryOwner {
  deleteTemporary(address: string): Promise<void>;
}

export abstract class Destination {
  abstract readonly kind: DestinationKind;
  protected constructor(readonly address: string) {}
  toString(): string {
    return this.address;
  }
  /** The destination a received address names (JMSDestination, JMSReplyTo). */
  static fromAddress(address: string): Destination {
    if (address.startsWith('temp-queue://')) return new TemporaryQueue(address);
    if (address.startsWith('temp-topic://')) return new TemporaryTopic(address);
    if (address.startsWith('topic://')) return new Topic(address);
    return new Queue(address);
  }
}

const withScheme = (scheme: string, name: string) => (name.includes('://') ? name : `${scheme}://${name}`);
const nameOf = (address: string) => address.replace(/^[a-z-]+:\/\//, '');

export class Queue extends Destination {
  readonly kind = 'queue' as const;
  constructor(name: string) {
    super(withScheme('queue', name));
  }
  getQueueName(): string {
    return nameOf(this.address);
  }
}

export class Topic extends Destination {
  readonly kind = 'topic' as const;
  constructor(name: string) {
    super(withScheme('topic', name));
  }
  getTopicName(): string {
    return nameOf(this.address);
  }
}

/** Lives as long as the connection that created it, or until delete(). */
export class TemporaryQueue extends Queue {
  /** `owner`: set by Session.createTemporaryQueue; absent for one read from a message (JMSReplyTo). */
  constructor(
    address: string,
    private readonly owner?: TemporaryOwner,
  ) {
    super(address);
  }
  /** JMS TemporaryQueue.delete: IllegalStateException (ILLEGAL_STATE) while it has consumers. */
  delete(): Promise<void> {
    return deleteTemporary(this.address, this.owner);
  }
}

export class TemporaryTopic extends Topic {
  constructor(
    address: string,
    private readonly owner?: TemporaryOwner,
  ) {
    super(address);
  }
  /** JMS TemporaryTopic.delete: IllegalStateException (ILLEGAL_STATE) while it has subscribers. */
  delete(): Promise<void> {
    return deleteTemporary(this.address, this.owner);
  }
}

/**
 * Asks the broker (native DeleteTemporary) and reports its refusals as the JMS exceptions: in use ->
 * IllegalStateException (JMS 1.1 section 4.4.3, 2.0 TemporaryQueue.delete), gone ->
 * InvalidDestinationException. Other codes (FORBIDDEN, CONNECTION_LOST...) come as the broker sent them.
 */
async function deleteTemporary(address: string, owner: TemporaryOwner | undefined): Promise<void> {
  if (owner === undefined) {
    throw new ClientError(
      ClientCodes.ILLEGAL_STATE,
      `${address} was not created by this session's connection: only its creator may delete it`,
    );
  }
  try {
    await owner.deleteTemporary(address);
  } catch (e) {
    if (isClientError(e) && e.code === 'TEMPORARY_IN_USE') {
      throw new ClientError(ClientCodes.ILLEGAL_STATE, e.message, { cause: e });
    }
    if (isClientError(e) && e.code === 'NOT_FOUND') {
      throw new ClientError('INVALID_DESTINATION', e.message, { cause: e });
    }
    throw e;
  }
}
