/**
 * MQTT 5 reason codes (2.4 "Reason Code") and MQTT 3.1.1 CONNACK return codes (3.2.2.3), with the
 * mapping from BlazeError codes, so that every refusal by the core reaches the client as the right code.
 */
import { BlazeError, type ErrorCode, isBlazeError } from '../../util/errors.js';

export const RC = {
  SUCCESS: 0x00,
  GRANTED_QOS_1: 0x01,
  GRANTED_QOS_2: 0x02,
  DISCONNECT_WITH_WILL: 0x04,
  NO_MATCHING_SUBSCRIBERS: 0x10,
  NO_SUBSCRIPTION_EXISTED: 0x11,
  UNSPECIFIED: 0x80,
  MALFORMED_PACKET: 0x81,
  PROTOCOL_ERROR: 0x82,
  IMPLEMENTATION_SPECIFIC: 0x83,
  UNSUPPORTED_PROTOCOL_VERSION: 0x84,
  CLIENT_ID_NOT_VALID: 0x85,
  BAD_USER_NAME_OR_PASSWORD: 0x86,
  NOT_AUTHORIZED: 0x87,
  SERVER_UNAVAILABLE: 0x88,
  SERVER_BUSY: 0x89,
  BAD_AUTHENTICATION_METHOD: 0x8c,
  SERVER_SHUTTING_DOWN: 0x8b,
  KEEP_ALIVE_TIMEOUT: 0x8d,
  SESSION_TAKEN_OVER: 0x8e,
  TOPIC_FILTER_INVALID: 0x8f,
  TOPIC_NAME_INVALID: 0x90,
  PACKET_ID_IN_USE: 0x91,
  PACKET_ID_NOT_FOUND: 0x92,
  RECEIVE_MAXIMUM_EXCEEDED: 0x93,
  TOPIC_ALIAS_INVALID: 0x94,
  PACKET_TOO_LARGE: 0x95,
  QUOTA_EXCEEDED: 0x97,
  ADMINISTRATIVE_ACTION: 0x98,
  PAYLOAD_FORMAT_INVALID: 0x99,
  QOS_NOT_SUPPORTED: 0x9b,
  SHARED_SUBSCRIPTIONS_NOT_SUPPORTED: 0x9e,
  SUBSCRIPTION_IDS_NOT_SUPPORTED: 0xa1,
} as const;

/** MQTT 3.1 / 3.1.1 CONNACK return codes. */
export const V3_CONNACK = {
  ACCEPTED: 0,
  UNACCEPTABLE_PROTOCOL_VERSION: 1,
  IDENTIFIER_REJECTED: 2,
  SERVER_UNAVAILABLE: 3,
  BAD_USER_NAME_OR_PASSWORD: 4,
  NOT_AUTHORIZED: 5,
} as const;

/** MQTT 3.1.1 SUBACK failure (3.9.3). */
export const V3_SUBACK_FAILURE = 0x80;

/** The v3 CONNACK return code closest to a v5 CONNACK reason code. */
export function v3ConnackCode(reason: number): number {
  switch (reason) {
    case RC.SUCCESS:
      return V3_CONNACK.ACCEPTED;
    case RC.UNSUPPORTED_PROTOCOL_VERSION:
      return V3_CONNACK.UNACCEPTABLE_PROTOCOL_VERSION;
    case RC.CLIENT_ID_NOT_VALID:
      return V3_CONNACK.IDENTIFIER_REJECTED;
    case RC.BAD_USER_NAME_OR_PASSWORD:
      return V3_CONNACK.BAD_USER_NAME_OR_PASSWORD;
    case RC.NOT_AUTHORIZED:
    case RC.BAD_AUTHENTICATION_METHOD:
      return V3_CONNACK.NOT_AUTHORIZED;
    default:
      return V3_CONNACK.SERVER_UNAVAILABLE;
  }
}

/** Reason code for a core refusal of a PUBLISH or SUBSCRIBE. */
export function reasonOf(error: unknown, invalidAddress: number): number {
  if (error instanceof MqttError) return error.reason;
  if (!isBlazeError(error)) return RC.UNSPECIFIED;
  switch (error.code) {
    case 'FORBIDDEN':
    case 'UNAUTHENTICATED':
      return RC.NOT_AUTHORIZED;
    case 'INVALID_ADDRESS':
      return invalidAddress;
    case 'LIMIT_EXCEEDED':
      return RC.QUOTA_EXCEEDED;
    case 'CLOSED':
      return RC.SERVER_SHUTTING_DOWN;
    case 'BAD_REQUEST':
      return RC.PROTOCOL_ERROR;
    default:
      return RC.UNSPECIFIED;
  }
}

/**
 * A protocol violation or refusal carrying its MQTT 5 reason code: the session answers with DISCONNECT
 * (v5) or just closes (3.1.1, which has no way to say why).
 */
export class MqttError extends BlazeError {
  constructor(
    readonly reason: number,
    message: string,
    code: ErrorCode = 'BAD_REQUEST',
  ) {
    super(code, message);
    this.name = 'MqttError';
  }
}
