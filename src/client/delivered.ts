/**
 * A message delivered on a subscription: a received message that can be acknowledged. One object per
 * delivery, with ack()/nack() on the prototype (not two closures and a defineProperty per message,
 * measured: docs/CLIENT.md "Performance"). What ties it to its delivery (subscription, tag, connection
 * epoch) is in private fields, so spreading, logging or JSON.stringify of a message shows only its data.
 */
import { ClientCodes, ClientError } from './codec/errors.js';
import type { WireMessage } from './codec/frames.js';
import { InboundMessage, type ReceivedMessage } from './message.js';

/** What a delivered message needs from the subscription it came from (subscription.ts). */
export interface DeliveryOwner {
  ack(message: ReceivedMessage): Promise<void>;
  nack(message: ReceivedMessage): Promise<void>;
}

export class DeliveredMessage extends InboundMessage {
  readonly #owner: DeliveryOwner;
  readonly #tag: number;
  readonly #epoch: number;

  constructor(
    wire: WireMessage,
    redelivered: boolean,
    deliveryCount: number,
    owner: DeliveryOwner,
    tag: number,
    epoch: number,
  ) {
    super(wire, redelivered, deliveryCount);
    this.#owner = owner;
    this.#tag = tag;
    this.#epoch = epoch;
  }

  /** Resolves once the broker has the ack (durably for persistent messages). No-op for ackMode auto. */
  ack(): Promise<void> {
    return this.#owner.ack(this);
  }

  /** Gives the message back for redelivery (or the dead-letter queue past the redelivery limit). */
  nack(): Promise<void> {
    return this.#owner.nack(this);
  }

  /** The delivery behind `m`; ILLEGAL_STATE for a message this client did not receive on a subscription. */
  static of(m: ReceivedMessage): DeliveredMessage {
    if (!(m instanceof DeliveredMessage)) {
      throw new ClientError(ClientCodes.ILLEGAL_STATE, 'not a message received by this client');
    }
    return m;
  }

  static owner(m: DeliveredMessage): DeliveryOwner {
    return m.#owner;
  }

  /** The broker's delivery tag: the ack id, valid on its connection only. */
  static tag(m: DeliveredMessage): number {
    return m.#tag;
  }

  /** The client's connection epoch when it arrived (a tag dies with its connection). */
  static epoch(m: DeliveredMessage): number {
    return m.#epoch;
  }
}
