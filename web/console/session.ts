/**
 * Who the console talks as: a bearer token from POST /v1/auth/token kept in sessionStorage (gone when the
 * tab closes; never localStorage, which any later visitor of the machine could read), or nothing when the
 * broker has no users (then /v1/admin/overview answers without credentials and the login is skipped).
 */
import { Api, ApiError } from './api.js';

const KEY = 'blazemq.console.token';

export type SessionState = 'probing' | 'open' | 'login' | 'ready';

export class Session {
  readonly api: Api;
  private token: string | undefined;

  constructor(private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | undefined) {
    this.token = storage?.getItem(KEY) ?? undefined;
    this.api = new Api({ token: () => this.token });
  }

  get hasToken(): boolean {
    return this.token !== undefined;
  }

  /** 'open' when no login is needed, 'ready' when the stored token still works, else 'login'. */
  async probe(): Promise<SessionState> {
    try {
      await this.api.request('GET', '/v1/admin/overview', undefined, false);
      return 'open';
    } catch (err) {
      if (!(err instanceof ApiError) || (err.status !== 401 && err.status !== 403)) throw err;
    }
    if (!this.token) return 'login';
    try {
      await this.api.overview();
      return 'ready';
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        this.forget();
        return 'login';
      }
      throw err;
    }
  }

  async login(user: string, password: string): Promise<void> {
    const { token } = await this.api.login(user, password);
    this.token = token;
    this.storage?.setItem(KEY, token);
  }

  async logout(): Promise<void> {
    if (this.token) await this.api.logout().catch(() => undefined);
    this.forget();
  }

  forget(): void {
    this.token = undefined;
    this.storage?.removeItem(KEY);
  }
}
