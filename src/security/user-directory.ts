/**
 * The users known to a running broker: the users file, cached, and reloaded when it changes on disk, so
 * that `blazemq user add` takes effect at the next login without a restart. The authorizer reads it
 * synchronously; the authenticator refreshes it (a `stat`) before each login.
 */
import { stat } from 'node:fs/promises';
import { type Logger, silentLogger } from '../util/logger.js';
import { readUsersFile, type UserRecord } from './users-file.js';

export class UserDirectory {
  private users = new Map<string, UserRecord>();
  private signature = '';
  private refreshing: Promise<void> | undefined;

  private constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {}

  /** Reads the file now; a broken file is an error at start-up (fail fast), a warning later. */
  static async open(file: string, logger: Logger): Promise<UserDirectory> {
    const dir = new UserDirectory(file, logger);
    await dir.load(await dir.currentSignature());
    return dir;
  }

  static fromRecords(records: readonly UserRecord[]): UserDirectory {
    const dir = new UserDirectory('', silentLogger);
    dir.users = new Map(records.map((u) => [u.name, u]));
    return dir;
  }

  get size(): number {
    return this.users.size;
  }

  get(name: string): UserRecord | undefined {
    return this.users.get(name);
  }

  names(): string[] {
    return [...this.users.keys()];
  }

  /**
   * Logins that arrive together share one refresh: an HTTP endpoint authenticates every request, and a
   * `stat` per request was measured at ~28 % of the broker's main thread under REST load (docs/PERFORMANCE.md).
   */
  refresh(): Promise<void> {
    if (!this.file) return Promise.resolve();
    this.refreshing ??= this.refreshNow().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refreshNow(): Promise<void> {
    const sig = await this.currentSignature();
    if (sig === this.signature) return;
    try {
      await this.load(sig);
      this.logger.info({ file: this.file, users: this.users.size }, 'users file reloaded');
    } catch (err) {
      // Keep serving with the last good version rather than locking everyone out.
      this.logger.warn(
        { err, file: this.file },
        'users file changed but cannot be read; keeping the previous one',
      );
      this.signature = sig;
    }
  }

  private async currentSignature(): Promise<string> {
    try {
      const s = await stat(this.file);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }

  private async load(sig: string): Promise<void> {
    const records = await readUsersFile(this.file);
    this.users = new Map(records.map((u) => [u.name, u]));
    this.signature = sig;
  }
}
