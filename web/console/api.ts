/**
 * A typed client of the management API (`/v1/admin/...`) and the token endpoint (`/v1/auth/token`).
 * No DOM: it takes `fetch` and the token as inputs, so the unit tests run it against a fake server in Node.
 * Errors become ApiError with the server's stable `code` (BlazeError codes) and HTTP status.
 */
import type {
  BrowsedMessage,
  ConnectionInfo,
  Overview,
  QueueInfo,
  SendRequest,
  SubscriptionInfo,
  TopicInfo,
} from './types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiOptions {
  /** Origin and prefix of the broker's HTTP listener; '' for the page's own origin. */
  base?: string;
  /** The bearer token to present, if any (read on every request: login may change it). */
  token?: () => string | undefined;
  fetch?: typeof fetch;
}

export type Kind = 'queues' | 'topics';

/** `orders` -> `orders`, `a/b` -> `a%2Fb`: names are one path segment (ADMIN-API: bare name, URL-encoded). */
const seg = (name: string) => encodeURIComponent(name);

export class Api {
  private readonly base: string;
  private readonly token: () => string | undefined;
  private readonly fetchFn: typeof fetch;

  constructor(options: ApiOptions = {}) {
    this.base = (options.base ?? '').replace(/\/+$/, '');
    this.token = options.token ?? (() => undefined);
    // Bound: a bare `fetch` reference called as a method of another object throws "Illegal invocation".
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Sends one request; JSON in and out; 204 resolves to undefined. */
  async request<T>(method: string, path: string, body?: unknown, withToken = true): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = withToken ? this.token() : undefined;
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetchFn(`${this.base}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        // The browser must not pop up its own Basic-auth dialog: the console has a login form.
        credentials: 'omit',
      });
    } catch (err) {
      throw new ApiError(
        0,
        `broker unreachable: ${err instanceof Error ? err.message : String(err)}`,
        'NETWORK',
      );
    }
    const text = await res.text();
    let parsed: unknown;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (!res.ok) {
      const e = (parsed ?? {}) as { error?: unknown; code?: unknown };
      throw new ApiError(
        res.status,
        typeof e.error === 'string' ? e.error : `${res.status} ${res.statusText}`.trim(),
        typeof e.code === 'string' ? e.code : undefined,
      );
    }
    if (res.status === 204 || text.length === 0) return undefined as T;
    if (parsed === undefined) throw new ApiError(res.status, `not JSON: ${path}`, 'BAD_RESPONSE');
    return parsed as T;
  }

  /** POST /v1/auth/token: 401 -> ApiError(401). */
  login(login: string, passcode: string): Promise<{ token: string; expiresAt: number | string }> {
    return this.request('POST', '/v1/auth/token', { login, passcode }, false);
  }

  logout(): Promise<void> {
    return this.request('DELETE', '/v1/auth/token');
  }

  overview(): Promise<Overview> {
    return this.request('GET', '/v1/admin/overview');
  }

  queues(): Promise<QueueInfo[]> {
    return this.request('GET', '/v1/admin/queues');
  }

  queue(name: string): Promise<QueueInfo> {
    return this.request('GET', `/v1/admin/queues/${seg(name)}`);
  }

  deleteQueue(name: string): Promise<void> {
    return this.request('DELETE', `/v1/admin/queues/${seg(name)}`);
  }

  purge(name: string): Promise<{ purged: number }> {
    return this.request('POST', `/v1/admin/queues/${seg(name)}/purge`);
  }

  browse(name: string, max = 100, selector?: string): Promise<BrowsedMessage[]> {
    const q = new URLSearchParams({ max: String(max) });
    if (selector) q.set('selector', selector);
    return this.request('GET', `/v1/admin/queues/${seg(name)}/messages?${q}`);
  }

  send(kind: Kind, name: string, message: SendRequest): Promise<{ id: string } | undefined> {
    return this.request('POST', `/v1/admin/${kind}/${seg(name)}/messages`, message);
  }

  moveMessage(queue: string, id: string, to: string): Promise<void> {
    return this.request('POST', `/v1/admin/queues/${seg(queue)}/messages/${seg(id)}/move`, { to });
  }

  deleteMessage(queue: string, id: string): Promise<void> {
    return this.request('DELETE', `/v1/admin/queues/${seg(queue)}/messages/${seg(id)}`);
  }

  topics(): Promise<TopicInfo[]> {
    return this.request('GET', '/v1/admin/topics');
  }

  subscriptions(): Promise<SubscriptionInfo[]> {
    return this.request('GET', '/v1/admin/subscriptions');
  }

  deleteDurable(clientId: string, name: string): Promise<void> {
    return this.request('DELETE', `/v1/admin/subscriptions/durable/${seg(clientId)}/${seg(name)}`);
  }

  connections(): Promise<ConnectionInfo[]> {
    return this.request('GET', '/v1/admin/connections');
  }

  closeConnection(id: string): Promise<void> {
    return this.request('DELETE', `/v1/admin/connections/${seg(id)}`);
  }
}

/** True when the error means "log in (again)": no or expired token with users configured. */
export function needsLogin(err: unknown): boolean {
  return err instanceof ApiError && err.status === 401;
}
