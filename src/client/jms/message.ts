/**
 * JMS messages: Message (headers and typed properties, no body), TextMessage and BytesMessage, with the
 * JMS accessor names. The body type travels as the content type (text/* = TextMessage) so that a STOMP or
 * MQTT consumer reads the same bytes.
 */
import { ClientCodes, ClientError } from '../codec/errors.js';
import {
  type PropertyValue,
  type PublishOptions,
  type ReceivedMessage,
  TEXT_CONTENT_TYPE,
} from '../message.js';
import { DeliveryMode, type DeliveryModeValue } from './constants.js';
import { Destination } from './destination.js';

const BYTES_CONTENT_TYPE = 'application/octet-stream';
const JMS_TYPE = 'JMSType';

const formatError = (name: string, v: unknown, type: string) =>
  new ClientError('MESSAGE_FORMAT', `property ${name} (${JSON.stringify(v)}) is not ${type}`);

export class JmsMessage {
  protected properties: Record<string, PropertyValue> = {};
  private messageId: string | null = null;
  private correlationId: string | null = null;
  private replyTo: Destination | null = null;
  private destination: Destination | null = null;
  private deliveryMode: DeliveryModeValue = DeliveryMode.PERSISTENT;
  private priority = 4;
  private expiration = 0;
  private timestamp = 0;
  private redelivered = false;
  /** @internal How the session acknowledges this message (set on receipt). */
  acknowledger: (() => Promise<void>) | undefined;
  /** @internal The client message it came from, for acks. */
  received: ReceivedMessage | undefined;

  // ------------------------------------------------------------------ headers (JMS names)
  getJMSMessageID(): string | null {
    return this.messageId;
  }
  setJMSMessageID(id: string | null): void {
    this.messageId = id;
  }
  getJMSCorrelationID(): string | null {
    return this.correlationId;
  }
  setJMSCorrelationID(id: string | null): void {
    this.correlationId = id;
  }
  getJMSReplyTo(): Destination | null {
    return this.replyTo;
  }
  setJMSReplyTo(d: Destination | null): void {
    this.replyTo = d;
  }
  getJMSDestination(): Destination | null {
    return this.destination;
  }
  setJMSDestination(d: Destination | null): void {
    this.destination = d;
  }
  getJMSDeliveryMode(): DeliveryModeValue {
    return this.deliveryMode;
  }
  setJMSDeliveryMode(m: DeliveryModeValue): void {
    this.deliveryMode = m;
  }
  getJMSPriority(): number {
    return this.priority;
  }
  setJMSPriority(p: number): void {
    this.priority = p;
  }
  getJMSExpiration(): number {
    return this.expiration;
  }
  setJMSExpiration(e: number): void {
    this.expiration = e;
  }
  getJMSTimestamp(): number {
    return this.timestamp;
  }
  setJMSTimestamp(t: number): void {
    this.timestamp = t;
  }
  getJMSRedelivered(): boolean {
    return this.redelivered;
  }
  setJMSRedelivered(r: boolean): void {
    this.redelivered = r;
  }
  getJMSType(): string | null {
    const t = this.properties[JMS_TYPE];
    return typeof t === 'string' ? t : null;
  }
  setJMSType(t: string | null): void {
    if (t === null) delete this.properties[JMS_TYPE];
    else this.properties[JMS_TYPE] = t;
  }

  // ------------------------------------------------------------------ properties
  propertyExists(name: string): boolean {
    return Object.hasOwn(this.properties, name);
  }
  getPropertyNames(): string[] {
    return Object.keys(this.properties).filter((k) => k !== JMS_TYPE);
  }
  clearProperties(): void {
    this.properties = {};
  }
  getObjectProperty(name: string): PropertyValue | undefined {
    return this.properties[name];
  }
  setObjectProperty(name: string, value: PropertyValue): void {
    if (!name) throw new ClientError('ILLEGAL_ARGUMENT', 'property names are not empty');
    this.properties[name] = value;
  }
  getStringProperty(name: string): string | null {
    const v = this.properties[name];
    return v === undefined || v === null ? null : String(v);
  }
  setStringProperty(name: string, value: string): void {
    this.setObjectProperty(name, value);
  }
  getBooleanProperty(name: string): boolean {
    const v = this.properties[name];
    if (v === undefined || v === null) return false;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string') return v.toLowerCase() === 'true';
    throw formatError(name, v, 'a boolean');
  }
  setBooleanProperty(name: string, value: boolean): void {
    this.setObjectProperty(name, value);
  }
  getIntProperty(name: string): number {
    const v = this.getNumber(name);
    if (!Number.isInteger(v)) throw formatError(name, v, 'an integer');
    return v;
  }
  setIntProperty(name: string, value: number): void {
    if (!Number.isSafeInteger(value)) throw formatError(name, value, 'an integer');
    this.setObjectProperty(name, value);
  }
  getLongProperty(name: string): number {
    return this.getIntProperty(name);
  }
  setLongProperty(name: string, value: number): void {
    this.setIntProperty(name, value);
  }
  getDoubleProperty(name: string): number {
    return this.getNumber(name);
  }
  setDoubleProperty(name: string, value: number): void {
    this.setObjectProperty(name, value);
  }

  private getNumber(name: string): number {
    const v = this.properties[name];
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
    throw formatError(name, v, 'a number');
  }

  // ------------------------------------------------------------------ acknowledgement and body
  /** CLIENT_ACKNOWLEDGE: acks every message the session consumed; INDIVIDUAL: this one; else no-op. */
  async acknowledge(): Promise<void> {
    await this.acknowledger?.();
  }

  clearBody(): void {}

  /** @internal */
  bodyBytes(): Uint8Array {
    return new Uint8Array(0);
  }

  /** @internal */
  contentType(): string | undefined {
    return undefined;
  }

  /** @internal The publish options for this message's headers and properties. */
  toPublishOptions(): PublishOptions {
    const o: PublishOptions = {
      persistent: this.deliveryMode === DeliveryMode.PERSISTENT,
      priority: this.priority,
      properties: { ...this.properties },
    };
    if (this.correlationId) o.correlationId = this.correlationId;
    if (this.replyTo) o.replyTo = this.replyTo.address;
    const ct = this.contentType();
    if (ct) o.contentType = ct;
    return o;
  }

  /** @internal Fills the headers from a received message. */
  fill(m: ReceivedMessage): this {
    this.received = m;
    this.messageId = m.id || null;
    this.correlationId = m.correlationId ?? null;
    this.replyTo = m.replyTo ? Destination.fromAddress(m.replyTo) : null;
    this.destination = m.address ? Destination.fromAddress(m.address) : null;
    this.deliveryMode = m.persistent ? DeliveryMode.PERSISTENT : DeliveryMode.NON_PERSISTENT;
    this.priority = m.priority;
    this.expiration = m.expiration;
    this.timestamp = m.timestamp;
    this.redelivered = m.redelivered;
    this.properties = { ...m.properties };
    return this;
  }
}

export class TextMessage extends JmsMessage {
  constructor(private text: string | null = null) {
    super();
  }
  getText(): string | null {
    return this.text;
  }
  setText(text: string | null): void {
    this.text = text;
  }
  override clearBody(): void {
    this.text = null;
  }
  override bodyBytes(): Uint8Array {
    return new TextEncoder().encode(this.text ?? '');
  }
  override contentType(): string {
    return TEXT_CONTENT_TYPE;
  }
}

export class BytesMessage extends JmsMessage {
  private chunks: Uint8Array[] = [];
  private body: Uint8Array | undefined;
  private readOffset = 0;

  constructor(bytes?: Uint8Array) {
    super();
    if (bytes) this.chunks.push(bytes);
  }
  writeBytes(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.body = undefined;
  }
  getBodyLength(): number {
    return this.bodyBytes().length;
  }
  /** Reads up to `into.length` bytes; returns the count, or -1 at the end (JMS). */
  readBytes(into: Uint8Array): number {
    const body = this.bodyBytes();
    if (this.readOffset >= body.length) return -1;
    const n = Math.min(into.length, body.length - this.readOffset);
    into.set(body.subarray(this.readOffset, this.readOffset + n));
    this.readOffset += n;
    return n;
  }
  reset(): void {
    this.readOffset = 0;
  }
  override clearBody(): void {
    this.chunks = [];
    this.body = undefined;
    this.readOffset = 0;
  }
  override bodyBytes(): Uint8Array {
    if (!this.body) {
      const total = this.chunks.reduce((n, c) => n + c.length, 0);
      this.body = new Uint8Array(total);
      let at = 0;
      for (const c of this.chunks) {
        this.body.set(c, at);
        at += c.length;
      }
      this.chunks = [this.body];
    }
    return this.body;
  }
  override contentType(): string {
    return BYTES_CONTENT_TYPE;
  }
}

/** The JMS message type for a received message (the content type says text or bytes). */
export function fromReceived(m: ReceivedMessage): JmsMessage {
  const ct = m.contentType;
  if (ct?.startsWith('text/')) return new TextMessage(m.text()).fill(m);
  if (!ct && m.body.length === 0) return new JmsMessage().fill(m);
  return new BytesMessage(m.body).fill(m);
}

export function assertJms(m: unknown): asserts m is JmsMessage {
  if (!(m instanceof JmsMessage)) throw new ClientError(ClientCodes.ILLEGAL_STATE, 'not a JMS message');
}
