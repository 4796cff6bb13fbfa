/**
 * The one protocol-neutral message. Every protocol maps its frames onto this (docs/PROTOCOLS.md).
 * A Message is immutable once it has entered the broker: topics share one instance across all
 * subscriptions, so per-delivery state (redelivered, delivery count) lives on `Delivery`, not here.
 */
export type PropertyValue = string | number | boolean | null;

export interface Message {
  /** Broker-assigned, unique for the life of the store. */
  readonly id: string;
  /** Canonical address it was sent to, e.g. `queue://orders` (see address.ts). */
  readonly address: string;
  /** Zero-copy slice of what the producer sent. */
  readonly body: Uint8Array;
  /** Application properties, passed through unchanged (STOMP custom headers, MQTT user properties...). */
  readonly properties: Readonly<Record<string, PropertyValue>>;
  readonly persistent: boolean;
  /** 0..9, JMS default 4. Higher is delivered first on queues. */
  readonly priority: number;
  /** Epoch ms after which the message is expired; 0 = never. */
  readonly expiration: number;
  /** Epoch ms when the broker accepted it. */
  readonly timestamp: number;
  readonly correlationId?: string;
  /** Canonical address to reply to. */
  readonly replyTo?: string;
  /** JMSXGroupID: messages with the same group go to the same consumer while it lives. */
  readonly groupId?: string;
  readonly contentType?: string;
  /** Id of the core connection that produced it (for no-local and for temp-destination ownership). */
  readonly producerConnectionId?: string;
  /** Set on dead-lettered copies: the address the message was on before it went to the DLQ. */
  readonly originalAddress?: string;
}

/** What a protocol session hands to `CoreConnection.send`; the core fills id, timestamp and defaults. */
export interface MessageInit {
  address: string;
  body: Uint8Array;
  properties?: Record<string, PropertyValue>;
  persistent?: boolean;
  priority?: number;
  expiration?: number;
  correlationId?: string;
  replyTo?: string;
  groupId?: string;
  contentType?: string;
}

export const DEFAULT_PRIORITY = 4;
