/**
 * The management API's JSON shapes, as the console reads them (contract: ADMIN-API in docs/CONSOLE.md).
 * Fields the console does not use are left out on purpose: the server may add more.
 */

export interface Overview {
  version: string;
  uptimeSeconds: number;
  memory: { used: number; peak: number; limit: number; blocked: boolean | number };
  totals: {
    connections: number;
    queues: number;
    topics: number;
    durables: number;
    messages: number;
    enqueued: number;
    dequeued: number;
  };
  rates: { enqueuedPerSecond: number; dequeuedPerSecond: number };
}

export interface QueueInfo {
  address: string;
  name: string;
  depth: number;
  enqueued: number;
  dequeued: number;
  consumers: number;
  inFlight: number;
  oldestMessageAgeMs: number | null;
  memoryBytes: number;
}

export interface BrowsedMessage {
  id: string;
  address: string;
  body: string;
  bodyEncoding?: 'base64';
  properties?: Record<string, unknown>;
  persistent?: boolean;
  priority?: number;
  timestamp?: number;
  expiration?: number;
  correlationId?: string;
  replyTo?: string;
  deliveryCount?: number;
  redelivered?: boolean;
}

export interface TopicInfo {
  address: string;
  name: string;
  published: number;
  subscribers: number;
}

export interface SubscriptionInfo {
  id: string;
  connectionId: string;
  address: string;
  durable: boolean;
  clientId?: string;
  name?: string;
  active: boolean;
  ackMode: string;
  pending: number;
  inFlight: number;
  selector?: string;
}

export interface ConnectionInfo {
  id: string;
  protocol: string;
  remoteAddress: string;
  clientId?: string;
  user: string;
  connectedAt: number | string;
  subscriptions: number;
  inFlight: number;
  transactions: number;
}

/** What the send form posts (POST /v1/admin/{queues|topics}/{name}/messages). */
export interface SendRequest {
  body: string;
  properties?: Record<string, string>;
  persistent?: boolean;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
}
