/**
 * Real third-party STOMP client (@stomp/stompjs over @stomp/tcp-wrapper) wrapped in promises for tests.
 */
import { Client, type IMessage, type StompHeaders } from '@stomp/stompjs';
import { TCPWrapper } from '@stomp/tcp-wrapper';

export interface ConnectOptions {
  login?: string;
  passcode?: string;
  headers?: StompHeaders;
  heartbeat?: number;
}

/** Connects; rejects with the ERROR frame's message when the broker refuses. */
export function connectStomp(port: number, opts: ConnectOptions = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client({
      webSocketFactory: () => new TCPWrapper('127.0.0.1', port),
      connectHeaders: {
        ...(opts.login !== undefined ? { login: opts.login } : {}),
        ...(opts.passcode !== undefined ? { passcode: opts.passcode } : {}),
        ...opts.headers,
      },
      reconnectDelay: 0,
      heartbeatIncoming: opts.heartbeat ?? 0,
      heartbeatOutgoing: opts.heartbeat ?? 0,
      onConnect: () => resolve(client),
      onStompError: (frame) => reject(new Error(frame.headers.message ?? 'stomp error')),
      onWebSocketClose: () => reject(new Error('connection closed before CONNECTED')),
    });
    client.activate();
  });
}

export interface Inbox {
  messages: IMessage[];
  /** Resolves once `n` messages have arrived in total; rejects after `ms`. */
  waitFor(n: number, ms?: number): Promise<IMessage[]>;
  unsubscribe(headers?: StompHeaders): void;
}

export function subscribe(client: Client, destination: string, headers: StompHeaders = {}): Inbox {
  const messages: IMessage[] = [];
  const waiters: Array<() => void> = [];
  const sub = client.subscribe(
    destination,
    (m) => {
      messages.push(m);
      for (const w of waiters.splice(0)) w();
    },
    headers,
  );
  return {
    messages,
    unsubscribe: (h) => sub.unsubscribe(h),
    waitFor(n, ms = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`timed out waiting for ${n} messages on ${destination}, got ${messages.length}`),
            ),
          ms,
        );
        const check = () => {
          if (messages.length >= n) {
            clearTimeout(timer);
            resolve(messages.slice(0, n));
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

/** Publishes with a receipt and waits for it: the broker has accepted (and for persistent, stored) it. */
export function sendWithReceipt(
  client: Client,
  destination: string,
  body: string | Uint8Array,
  headers: StompHeaders = {},
): Promise<void> {
  const receipt = `r-${Math.random().toString(36).slice(2)}`;
  const done = new Promise<void>((resolve) => client.watchForReceipt(receipt, () => resolve()));
  const frame =
    typeof body === 'string'
      ? { destination, body, headers: { ...headers, receipt } }
      : { destination, binaryBody: body, headers: { ...headers, receipt } };
  client.publish(frame);
  return done;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until no message arrives for `ms`, then returns what the inbox holds. */
export async function settle(inbox: Inbox, ms = 300): Promise<IMessage[]> {
  let n = -1;
  while (n !== inbox.messages.length) {
    n = inbox.messages.length;
    await sleep(ms);
  }
  return inbox.messages;
}
