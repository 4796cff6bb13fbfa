/**
 * The client over tls:// against the real broker process (`--native-tls`, tls.cert/tls.key): a
 * self-signed certificate made with openssl for this test, trusted through the client's `tls.ca`; the
 * same broker refused without it (certificate verification on by default) and accepted with
 * `rejectUnauthorized: false`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BlazeClient, connect } from '../../src/client/index.js';
import { type BrokerProcess, startBroker } from './helpers/broker.js';

let broker: BrokerProcess;
let dir: string;
let ca: string;
const clients: BlazeClient[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'blazemq-tls-it-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1'].concat([
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ]),
    { stdio: 'ignore' },
  );
  ca = readFileSync(cert, 'utf8');
  const config = join(dir, 'broker.json');
  writeFileSync(config, JSON.stringify({ tls: { cert, key } }));
  broker = await startBroker({ args: ['--config', config, '--native-tls', '0'] });
});

afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  expect(await broker.stop()).toBe(0);
  rmSync(dir, { recursive: true, force: true });
});

describe('client tls://', () => {
  it('publishes and consumes over TLS with the broker certificate as CA', async () => {
    expect(broker.nativeTls).toBeGreaterThan(0);
    const c = await connect(`tls://localhost:${broker.nativeTls}`, { tls: { ca } });
    clients.push(c);
    const q = `queue://tls.${process.pid}`;
    await c.publish(q, 'over tls', { persistent: true });
    const m = await c.subscribe(q).receive({ timeout: 5000 });
    expect(m?.text()).toBe('over tls');
    await m?.ack();
  });

  it('refuses an untrusted certificate unless rejectUnauthorized is false', async () => {
    const url = `tls://127.0.0.1:${broker.nativeTls}`;
    await expect(connect(url, { connectTimeout: 5000 })).rejects.toThrow();
    const c = await connect(url, { tls: { rejectUnauthorized: false } });
    clients.push(c);
    await c.publish(`queue://tls.insecure.${process.pid}`, 'x');
  });
});
