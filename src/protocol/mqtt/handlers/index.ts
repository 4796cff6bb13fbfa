/**
 * Packet type -> handler. Packets a server never receives (CONNACK, SUBACK, UNSUBACK, PINGRESP) and
 * AUTH (no authentication method is ever agreed, 4.12) are protocol errors.
 */
import type { Packet, PacketCmd } from 'mqtt-packet';
import { MqttError, RC } from '../reason-codes.js';
import type { MqttSession } from '../session.js';
import { handleConnect } from './connect.js';
import { handleDisconnect } from './disconnect.js';
import { handlePingreq } from './pingreq.js';
import { handlePuback } from './puback.js';
import { handlePubcomp } from './pubcomp.js';
import { handlePublish } from './publish.js';
import { handlePubrec } from './pubrec.js';
import { handlePubrel } from './pubrel.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';

export type Handler = (session: MqttSession, packet: Packet) => void;

const unexpected: Handler = (_session, packet) => {
  throw new MqttError(RC.PROTOCOL_ERROR, `unexpected ${packet.cmd.toUpperCase()} from a client`);
};

const HANDLERS: Readonly<Record<PacketCmd, Handler>> = {
  connect: handleConnect as Handler,
  publish: handlePublish as Handler,
  puback: handlePuback as Handler,
  pubrec: handlePubrec as Handler,
  pubrel: handlePubrel as Handler,
  pubcomp: handlePubcomp as Handler,
  subscribe: handleSubscribe as Handler,
  unsubscribe: handleUnsubscribe as Handler,
  pingreq: handlePingreq as Handler,
  disconnect: handleDisconnect as Handler,
  auth: unexpected,
  connack: unexpected,
  suback: unexpected,
  unsuback: unexpected,
  pingresp: unexpected,
};

export function handlerFor(cmd: PacketCmd): Handler {
  return HANDLERS[cmd] ?? unexpected;
}
