/**
 * The management API over HTTP in process, for the admin tests: a real core (test/unit/core/helpers.ts
 * harness) and the real HTTP server on port 0, with two users: root (admin everywhere) and alice (admin
 * on queue://alice.> only).
 */
import { type HttpServer, startHttpServer } from '../../../src/admin/http.js';
import { type ManagementApi, managementApi } from '../../../src/admin/management/management.js';
import { type BrokerMetrics, createMetrics } from '../../../src/admin/management/metrics.js';
import type { Authenticator, Principal } from '../../../src/core/index.js';
import { authenticate } from '../../../src/protocol/http/auth.js';
import { silentLogger } from '../../../src/util/logger.js';
import { type Harness, harness } from '../core/helpers.js';

export const root: Principal = { user: 'root', anonymous: false };
export const PASSWORDS: Record<string, string> = { root: 'r00t', alice: 'a' };

const authenticator: Authenticator = {
  required: true,
  async authenticate(login, passcode) {
    return login !== undefined && PASSWORDS[login] === passcode ? { user: login, anonymous: false } : null;
  },
};

/** `Authorization: Basic` for `user` (with its password unless another is given). */
export const basic = (user: string, password = PASSWORDS[user]!) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

export interface ManagementFixture {
  h: Harness;
  api: ManagementApi;
  metrics: BrokerMetrics;
  server: HttpServer;
  /** `http://127.0.0.1:<port>` */
  base: string;
  close(): Promise<void>;
}

export async function startManagement(options: { maxBodySize?: number } = {}): Promise<ManagementFixture> {
  const h = await harness({
    authorizer: {
      allowed: (p: Principal, _perm, address) => p.user === 'root' || address.startsWith('queue://alice.'),
    },
  });
  const metrics = createMetrics({ core: h.core, processMetrics: false });
  const api = managementApi({
    core: h.core,
    authenticate: (req) => authenticate(authenticator, req.headers.authorization),
    logger: silentLogger,
    version: '9.9.9',
    metrics,
    sampleEveryMs: 0,
    ...options,
  });
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    health: () => ({ state: 'ready' }),
    handlers: [api.handle],
  });
  return {
    h,
    api,
    metrics,
    server,
    base: `http://127.0.0.1:${server.port}`,
    async close() {
      api.close();
      await server.close();
      await h.core.shutdown();
    },
  };
}
