/**
 * A small client of the management API (and of the REST receive endpoint) for the CLI: fetch with HTTP
 * Basic credentials, JSON in and out, and errors that say what the broker said (`{error, code}`).
 */

export interface ConnectionOptions {
  /** Base URL of the broker's HTTP listener, e.g. http://127.0.0.1:8161. */
  url: string;
  user?: string;
  password?: string;
}

/** The broker answered with an error status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

export class AdminClient {
  private readonly base: string;
  private readonly authorization: string | undefined;

  constructor(options: ConnectionOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.authorization =
      options.user === undefined
        ? undefined
        : `Basic ${Buffer.from(`${options.user}:${options.password ?? ''}`, 'utf8').toString('base64')}`;
  }

  /** One request; resolves with whatever status came back (errors are the caller's to judge). */
  async raw(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<RawResponse> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.authorization !== undefined) headers['authorization'] = this.authorization;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(
        `cannot reach the broker at ${this.base}: ${cause?.code ?? cause?.message ?? String(err)}`,
      );
    }
    return { status: res.status, headers: res.headers, body: new Uint8Array(await res.arrayBuffer()) };
  }

  /** A JSON request; throws ApiError for any status >= 400. Resolves undefined for 204. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.raw(method, path, body);
    if (res.status >= 400) throw apiError(res);
    if (res.status === 204 || res.body.length === 0) return undefined as T;
    return JSON.parse(Buffer.from(res.body).toString('utf8')) as T;
  }
}

/** The broker's `{error, code}` body as an ApiError (or the status line when the body is not that). */
export function apiError(res: RawResponse): ApiError {
  try {
    const parsed = JSON.parse(Buffer.from(res.body).toString('utf8')) as { error?: unknown; code?: unknown };
    if (typeof parsed.error === 'string') {
      const code = typeof parsed.code === 'string' ? parsed.code : `HTTP_${res.status}`;
      return new ApiError(res.status, code, `${parsed.error} (${res.status} ${code})`);
    }
  } catch {
    // Not JSON: fall through.
  }
  return new ApiError(res.status, `HTTP_${res.status}`, `the broker answered HTTP ${res.status}`);
}
