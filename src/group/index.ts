/**
 * blazemq/group: real-time group communication over UDP, usable without any broker.
 *
 *   const ch = createChannel({ name: 'chat', udp: { multicast: { group: '239.1.2.3', port: 45566 } } });
 *   await ch.connect();
 *   ch.on('view', (v) => console.log(v.members));
 *   await ch.broadcast('hello');
 *   for await (const m of ch.messages) console.log(m.from, m.text());
 */
export { Channel, type ChannelOptions, createChannel, type GroupQueue, type Inbox } from './channel.js';
export { type Clock, type Random, realClock, seededRandom, type Timer } from './clock.js';
export type { MembershipOptions } from './membership/options.js';
export type { GroupMessage } from './message.js';
export { Receiver } from './receiver.js';
export type { NackOptions } from './reliable/nack/options.js';
export { createNackProtocol, NackProtocol } from './reliable/nack/protocol.js';
export type {
  Delivery,
  Digest,
  FrameSender,
  ProtocolContext,
  ProtocolFactory,
  ReliableProtocol,
} from './reliable/types.js';
export { LoopbackHub, type LoopbackTransport } from './transport/loopback.js';
export type { GroupTransport } from './transport/types.js';
export type { UdpTransportOptions } from './transport/udp.js';
export type { View, ViewId } from './view.js';
