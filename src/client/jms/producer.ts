/**
 * JMS MessageProducer: delivery mode, priority and time to live as defaults for its sends, overridable
 * per send. send() resolves when the broker accepted the message (durably if persistent); in a transacted
 * session, when it is buffered in the transaction.
 *
 * JMSMessageID (JMS 1.1 section 3.4.3) is assigned by the broker: send() asks for it (native.proto
 * `want_ids`) and sets it on the message when the broker's answer arrives, so it is there when send()
 * resolves, in a transacted session too (before commit; the committed message keeps that id). With
 * setDisableMessageID(true) no id is asked for and JMSMessageID is null (the hint JMS 1.1 section 3.4.3
 * allows). It is null too when the broker cannot tell (protocol version 1).
 */
import { ClientCodes, ClientError } from '../codec/errors.js';
import { DeliveryMode, type DeliveryModeValue } from './constants.js';
import type { Destination } from './destination.js';
import { assertJms, type JmsMessage } from './message.js';
import type { JmsSession } from './session.js';

export class MessageProducer {
  private deliveryMode: DeliveryModeValue = DeliveryMode.PERSISTENT;
  private priority = 4;
  private timeToLive = 0;
  private disableMessageID = false;
  private closed = false;

  constructor(
    private readonly session: JmsSession,
    private readonly destination: Destination | null,
  ) {}

  getDestination(): Destination | null {
    return this.destination;
  }
  setDeliveryMode(mode: DeliveryModeValue): void {
    if (mode !== DeliveryMode.PERSISTENT && mode !== DeliveryMode.NON_PERSISTENT) {
      throw new ClientError(
        'ILLEGAL_ARGUMENT',
        `delivery mode ${mode} is neither PERSISTENT nor NON_PERSISTENT`,
      );
    }
    this.deliveryMode = mode;
  }
  getDeliveryMode(): DeliveryModeValue {
    return this.deliveryMode;
  }
  setPriority(priority: number): void {
    if (!Number.isInteger(priority) || priority < 0 || priority > 9) {
      throw new ClientError('ILLEGAL_ARGUMENT', `priority ${priority} is not 0..9`);
    }
    this.priority = priority;
  }
  getPriority(): number {
    return this.priority;
  }
  /** ms; 0 = never expires. */
  setTimeToLive(ms: number): void {
    if (!(ms >= 0)) throw new ClientError('ILLEGAL_ARGUMENT', `time to live ${ms} is negative`);
    this.timeToLive = ms;
  }
  getTimeToLive(): number {
    return this.timeToLive;
  }
  /** JMS 1.1 setDisableMessageID: true = send without asking the broker for the message's id. */
  setDisableMessageID(value: boolean): void {
    this.disableMessageID = value;
  }
  getDisableMessageID(): boolean {
    return this.disableMessageID;
  }

  /**
   * send(message), send(message, deliveryMode, priority, timeToLive), send(destination, message),
   * send(destination, message, deliveryMode, priority, timeToLive).
   */
  async send(
    a: Destination | JmsMessage,
    b?: JmsMessage | DeliveryModeValue,
    c?: number,
    d?: number,
    e?: number,
  ): Promise<void> {
    if (this.closed) throw new ClientError(ClientCodes.CLOSED, 'producer closed');
    let destination: Destination | null;
    let message: JmsMessage;
    let rest: Array<number | undefined>;
    if (typeof b === 'object') {
      if (this.destination) {
        throw new ClientError('UNSUPPORTED_OPERATION', 'this producer has a destination: use send(message)');
      }
      destination = a as Destination;
      message = b;
      rest = [c, d, e];
    } else {
      destination = this.destination;
      message = a as JmsMessage;
      rest = [b, c, d];
    }
    assertJms(message);
    if (!destination) throw new ClientError('INVALID_DESTINATION', 'no destination given');
    const deliveryMode = (rest[0] ?? this.deliveryMode) as DeliveryModeValue;
    const priority = rest[1] ?? this.priority;
    const ttl = rest[2] ?? this.timeToLive;
    const now = Date.now();
    message.setJMSDestination(destination);
    message.setJMSDeliveryMode(deliveryMode);
    message.setJMSPriority(priority);
    message.setJMSTimestamp(now);
    message.setJMSExpiration(ttl > 0 ? now + ttl : 0);
    message.setJMSMessageID(null);
    const options = { ...message.toPublishOptions(), timeToLive: ttl };
    const address = destination.address;
    if (this.disableMessageID) {
      await this.session.publish(address, message.bodyBytes(), options);
      return;
    }
    const id = await this.session.publishForId(address, message.bodyBytes(), options);
    message.setJMSMessageID(id ?? null);
  }

  close(): void {
    this.closed = true;
  }
}
