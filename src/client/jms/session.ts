/**
 * JMS Session over the bespoke client. Acknowledge modes, all built on INDIVIDUAL acks at the broker:
 *  - AUTO_ACKNOWLEDGE: acked when receive() returns it, or when the listener returns (nacked if it throws);
 *  - DUPS_OK_ACKNOWLEDGE: the same, without waiting for the ack (it goes out batched, lazily);
 *  - CLIENT_ACKNOWLEDGE: message.acknowledge() acks every message the session has consumed; recover()
 *    gives them back for redelivery;
 *  - INDIVIDUAL_ACKNOWLEDGE (ActiveMQ): message.acknowledge() acks that message only;
 *  - SESSION_TRANSACTED: sends and acks go into a local transaction begun lazily; commit()/rollback();
 *    a rollback gives the consumed messages back for redelivery (JMS).
 * Listeners of one session run one at a time (a JMS session is single-threaded).
 */
import { ClientCodes, ClientError } from '../codec/errors.js';
import type { Body, PublishOptions } from '../message.js';
import type { Message } from '../subscription.js';
import type { Transaction } from '../transaction.js';
import type { Connection } from './connection.js';
import { type AcknowledgeMode, Session as Modes } from './constants.js';
import { MessageConsumer, QueueBrowser } from './consumer.js';
import { type Destination, Queue, TemporaryQueue, TemporaryTopic, Topic } from './destination.js';
import { BytesMessage, JmsMessage, TextMessage } from './message.js';
import { MessageProducer } from './producer.js';

export class JmsSession {
  private tx: Promise<Transaction> | undefined;
  /** Consumed in the current transaction (SESSION_TRANSACTED) or not yet acknowledged (CLIENT). */
  private consumed: Message[] = [];
  private readonly consumers = new Set<MessageConsumer>();
  private dispatching: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    readonly connection: Connection,
    private readonly mode: AcknowledgeMode,
  ) {}

  getTransacted(): boolean {
    return this.mode === Modes.SESSION_TRANSACTED;
  }
  getAcknowledgeMode(): AcknowledgeMode {
    return this.mode;
  }

  // ------------------------------------------------------------------ factories
  createQueue(name: string): Queue {
    return new Queue(name);
  }
  createTopic(name: string): Topic {
    return new Topic(name);
  }
  async createTemporaryQueue(): Promise<TemporaryQueue> {
    const client = this.connection.client;
    return new TemporaryQueue(await client.createTemporary('queue'), client);
  }
  async createTemporaryTopic(): Promise<TemporaryTopic> {
    const client = this.connection.client;
    return new TemporaryTopic(await client.createTemporary('topic'), client);
  }
  createMessage(): JmsMessage {
    return new JmsMessage();
  }
  createTextMessage(text?: string): TextMessage {
    return new TextMessage(text ?? null);
  }
  createBytesMessage(): BytesMessage {
    return new BytesMessage();
  }
  createProducer(destination: Destination | null = null): MessageProducer {
    this.assertOpen();
    return new MessageProducer(this, destination);
  }

  /** The consumer is subscribed when `await consumer.ready` resolves (topics: before publishing). */
  createConsumer(destination: Destination, messageSelector?: string, noLocal = false): MessageConsumer {
    this.assertOpen();
    return this.track(new MessageConsumer(this, destination, { selector: messageSelector, noLocal }));
  }

  /** A durable topic subscriber (JMS 1.1); the connection needs a client id. */
  createDurableSubscriber(
    topic: Topic,
    name: string,
    messageSelector?: string,
    noLocal = false,
  ): MessageConsumer {
    this.assertOpen();
    if (!this.connection.getClientID()) {
      throw new ClientError(
        ClientCodes.ILLEGAL_STATE,
        'durable subscribers need a client id (ConnectionFactory clientID)',
      );
    }
    return this.track(
      new MessageConsumer(this, topic, { selector: messageSelector, noLocal, durableName: name }),
    );
  }

  /** JMS 2.0 name of createDurableSubscriber. */
  createDurableConsumer(
    topic: Topic,
    name: string,
    messageSelector?: string,
    noLocal = false,
  ): MessageConsumer {
    return this.createDurableSubscriber(topic, name, messageSelector, noLocal);
  }

  /** Deletes a durable subscription (it must have no active consumer). */
  async unsubscribe(name: string): Promise<void> {
    this.assertOpen();
    await this.connection.client.unsubscribeDurable(name);
  }

  createBrowser(queue: Queue, messageSelector?: string): QueueBrowser {
    this.assertOpen();
    return new QueueBrowser(this.connection.client, queue, messageSelector);
  }

  // ------------------------------------------------------------------ transactions and acks
  async commit(): Promise<void> {
    this.assertTransacted();
    const tx = this.tx;
    this.tx = undefined;
    this.consumed = [];
    if (tx) await (await tx).commit();
  }

  async rollback(): Promise<void> {
    this.assertTransacted();
    const tx = this.tx;
    const consumed = this.consumed;
    this.tx = undefined;
    this.consumed = [];
    if (tx) await (await tx).rollback().catch(() => undefined);
    // Rolled-back consumption is delivered again (JMS): give the messages back.
    await Promise.all(consumed.map((m) => m.nack().catch(() => undefined)));
  }

  /** CLIENT_ACKNOWLEDGE: redelivers every unacknowledged consumed message. */
  async recover(): Promise<void> {
    this.assertOpen();
    if (this.getTransacted())
      throw new ClientError(ClientCodes.ILLEGAL_STATE, 'recover() in a transacted session');
    const consumed = this.consumed;
    this.consumed = [];
    await Promise.all(consumed.map((m) => m.nack().catch(() => undefined)));
  }

  /** @internal A message is being handed to the application: set up its acknowledgement. */
  async onConsume(jms: JmsMessage, m: Message): Promise<void> {
    switch (this.mode) {
      case Modes.SESSION_TRANSACTED:
        this.consumed.push(m);
        await (await this.transaction()).ack(m);
        return;
      case Modes.CLIENT_ACKNOWLEDGE:
        this.consumed.push(m);
        jms.acknowledger = () => this.acknowledgeAll();
        return;
      case Modes.INDIVIDUAL_ACKNOWLEDGE:
        jms.acknowledger = () => m.ack();
        return;
    }
  }

  /** @internal After receive() returned it / the listener ran: AUTO and DUPS_OK ack here. */
  async delivered(m: Message, ok: boolean): Promise<void> {
    if (this.mode !== Modes.AUTO_ACKNOWLEDGE && this.mode !== Modes.DUPS_OK_ACKNOWLEDGE) return;
    const settle = ok ? m.ack() : m.nack();
    if (this.mode === Modes.AUTO_ACKNOWLEDGE) await settle;
    else settle.catch(() => undefined);
  }

  /** @internal Runs listener calls of this session one at a time. */
  dispatch(run: () => Promise<void>): Promise<void> {
    const next = this.dispatching.then(run, run);
    this.dispatching = next.catch(() => undefined);
    return next;
  }

  /** @internal Resolves when no listener call is running. */
  idle(): Promise<void> {
    return this.dispatching;
  }

  /** @internal */
  async publish(address: string, body: Body, options: PublishOptions): Promise<void> {
    this.assertOpen();
    if (this.getTransacted()) await (await this.transaction()).publish(address, body, options);
    else await this.connection.client.publish(address, body, options);
  }

  /** @internal `publish` resolving with the broker's message id (known before commit when transacted). */
  async publishForId(address: string, body: Body, options: PublishOptions): Promise<string | undefined> {
    this.assertOpen();
    if (this.getTransacted()) return (await this.transaction()).publishForId(address, body, options);
    return this.connection.client.publishForId(address, body, options);
  }

  /** @internal */
  forgetConsumer(c: MessageConsumer): void {
    this.consumers.delete(c);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.consumers].map((c) => c.close()));
    // JMS: closing a transacted session rolls back its open transaction.
    if (this.getTransacted() && this.tx) await this.rollback().catch(() => undefined);
    this.closed = true;
    this.connection.forgetSession(this);
  }

  private async acknowledgeAll(): Promise<void> {
    const consumed = this.consumed;
    this.consumed = [];
    await Promise.all(consumed.map((m) => m.ack()));
  }

  private transaction(): Promise<Transaction> {
    if (!this.tx) {
      const tx = this.connection.client.transaction();
      this.tx = tx;
      tx.catch(() => {
        if (this.tx === tx) this.tx = undefined;
      });
    }
    return this.tx;
  }

  private track(c: MessageConsumer): MessageConsumer {
    this.consumers.add(c);
    return c;
  }

  private assertTransacted(): void {
    this.assertOpen();
    if (!this.getTransacted())
      throw new ClientError(ClientCodes.ILLEGAL_STATE, 'the session is not transacted');
  }

  private assertOpen(): void {
    if (this.closed) throw new ClientError(ClientCodes.CLOSED, 'session closed');
  }
}
