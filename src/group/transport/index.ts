export { formatAddress, parseAddress } from './address.js';
export { LoopbackHub, type LoopbackHubOptions, LoopbackTransport } from './loopback.js';
export type { GroupTransport } from './types.js';
export {
  openUdpTransport,
  type UdpMulticastOptions,
  UdpTransport,
  type UdpTransportOptions,
  type UdpTransportStats,
} from './udp.js';
