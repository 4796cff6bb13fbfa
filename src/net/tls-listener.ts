/**
 * A TLS listener: the TCP listener (listener.ts) on a `node:tls` server. A TLS socket is a `net.Socket`,
 * so every protocol session runs over it unchanged (tcp-transport.ts); only completed handshakes reach
 * the protocol, and a failed handshake is logged and dropped by node:tls.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:tls';
import { BlazeError } from '../util/errors.js';
import { type Listener, type ListenOptions, listen } from './listener.js';

export interface TlsFiles {
  /** PEM certificate (chain) file. */
  cert: string;
  /** PEM private key file. */
  key: string;
  /**
   * Mutual TLS: a PEM file of the certificate authorities a client certificate must chain to. Set, every
   * client must present such a certificate or its handshake fails (node:tls `requestCert` +
   * `rejectUnauthorized`), before any protocol byte is read.
   */
  clientCa?: string;
}

async function readPem(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new BlazeError('CONFIG', `tls.${what}: cannot read ${file}: ${code}`, { cause: err });
  }
}

export async function listenTls(
  options: Omit<ListenOptions, 'server'> & { tls: TlsFiles },
): Promise<Listener> {
  const { clientCa } = options.tls;
  const [cert, key, ca] = await Promise.all([
    readPem(options.tls.cert, 'cert'),
    readPem(options.tls.key, 'key'),
    clientCa === undefined ? undefined : readPem(clientCa, 'ca'),
  ]);
  const log = options.logger.child({ listener: options.name });
  let server: ReturnType<typeof createServer>;
  try {
    server = createServer(
      ca === undefined ? { cert, key } : { cert, key, ca, requestCert: true, rejectUnauthorized: true },
    );
  } catch (err) {
    throw new BlazeError('CONFIG', `tls: invalid certificate or key: ${(err as Error).message}`, {
      cause: err,
    });
  }
  server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));
  return listen({ ...options, server: { create: () => server, connectionEvent: 'secureConnection' } });
}
