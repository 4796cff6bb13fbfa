/**
 * Picks the transport for an endpoint. Node-only code (node:net, node:tls, the `ws` package) is reached
 * through dynamic imports only, so bundlers can leave it out of browser builds.
 */
import type { Endpoint } from '../url.js';
import type { ClientTransport, TransportHandlers, TransportOptions } from './types.js';
import { connectVm } from './vm.js';
import { connectWebSocket } from './websocket.js';

const NODE_TCP = ['.', 'node-tcp.js'].join('/');

export async function openTransport(
  endpoint: Endpoint,
  handlers: TransportHandlers,
  options: TransportOptions,
): Promise<ClientTransport> {
  switch (endpoint.scheme) {
    case 'vm':
      return connectVm(endpoint, handlers, options.broker);
    case 'ws':
    case 'wss':
      return connectWebSocket(endpoint, handlers, options);
    case 'tcp':
    case 'tls': {
      // A computed specifier: bundlers leave it alone, so browser bundles never see node:net.
      const { connectTcp } = (await import(NODE_TCP)) as typeof import('./node-tcp.js');
      return connectTcp(endpoint, handlers, options);
    }
  }
}
