/**
 * vm:// (src/client/vm-registry.ts): frames pass as function calls. Incoming bytes are handed on in a
 * microtask so that a broker answering synchronously inside write() does not re-enter the client.
 */
import { ClientCodes, ClientError } from '../codec/errors.js';
import type { Endpoint } from '../url.js';
import { lookupVmBroker, type VmBroker } from '../vm-registry.js';
import type { ClientTransport, TransportHandlers } from './types.js';

export function connectVm(
  endpoint: Endpoint,
  handlers: TransportHandlers,
  broker: VmBroker | undefined,
): ClientTransport {
  const target = broker ?? lookupVmBroker(endpoint.host);
  if (!target) {
    throw new ClientError(ClientCodes.CONNECTION_LOST, `no in-process broker registered as ${endpoint.url}`);
  }
  const conn = target.connectInProcess();
  let closed = false;
  const end = (error?: Error) => {
    if (closed) return;
    closed = true;
    queueMicrotask(() => handlers.onClose(error));
  };
  conn.onData((bytes) => {
    if (!closed) queueMicrotask(() => handlers.onData(bytes));
  });
  conn.onClose?.(end);
  return {
    write(frame) {
      if (!closed) conn.write(frame);
      return !closed;
    },
    close() {
      if (closed) return;
      conn.close();
      end();
    },
  };
}
