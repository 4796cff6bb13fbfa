/**
 * PUBLISH (and Will) -> core MessageInit (docs/PROTOCOLS.md, "MQTT").
 *
 * QoS 0 is non-persistent, QoS 1 and 2 persistent. What MQTT needs later and the Message has no field
 * for travels in reserved properties (so it is stored with the message and survives the journal):
 *  - `mqtt.qos` = 2 for a QoS 2 publication (1 and 0 follow from `persistent`), so a delivery gets the
 *    minimum of the published and the granted QoS [MQTT-3.8.4-8];
 *  - `mqtt.retain` = true when published with RETAIN, for Retain As Published (MQTT 5 3.8.3.1);
 *  - `mqtt.utf8` = true for Payload Format Indicator 1, forwarded unaltered [MQTT-3.3.2-4];
 *  - `mqtt.correlationBinary` = true when the Correlation Data was not UTF-8 and `correlationId` holds
 *    it in base64.
 * User properties become properties (a name given several times keeps its first value).
 */
import type { Message, MessageInit, PropertyValue } from '../../core/message.js';
import { setOwn } from '../../util/own-property.js';
import { topicAddress } from './topics.js';

export const PROP_QOS = 'mqtt.qos';
export const PROP_RETAIN = 'mqtt.retain';
export const PROP_UTF8 = 'mqtt.utf8';
export const PROP_CORRELATION_BINARY = 'mqtt.correlationBinary';
export const RESERVED_PROPERTIES: ReadonlySet<string> = new Set([
  PROP_QOS,
  PROP_RETAIN,
  PROP_UTF8,
  PROP_CORRELATION_BINARY,
]);

/** The MQTT 5 properties of an incoming PUBLISH or Will that map onto the message. */
export interface IncomingProperties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: Record<string, string | string[]>;
}

export interface IncomingPublish {
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  payload: Buffer | string;
  properties?: IncomingProperties;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function correlationOf(data: Buffer): { id: string; binary: boolean } {
  try {
    return { id: utf8.decode(data), binary: false };
  } catch {
    return { id: data.toString('base64'), binary: true };
  }
}

/** Never written: only read when nothing is set (saves an object per plain PUBLISH). */
const NONE: Record<string, PropertyValue> = Object.freeze({}) as Record<string, PropertyValue>;

export function toMessageInit(p: IncomingPublish, now: number): MessageInit {
  const body = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
  const init: MessageInit = { address: topicAddress(p.topic), body, persistent: p.qos > 0 };
  const props = p.properties;
  const properties: Record<string, PropertyValue> =
    props === undefined && p.qos !== 2 && !p.retain ? NONE : {};
  let any = false;
  if (props !== undefined) {
    const user = props.userProperties;
    if (user !== undefined) {
      for (const name in user) {
        const v = user[name]!;
        setOwn(properties, name, typeof v === 'string' ? v : (v[0] ?? ''));
        any = true;
      }
    }
    // 3.3.2.3.3: the lifetime in seconds (0 expires at once).
    if (props.messageExpiryInterval !== undefined)
      init.expiration = Math.max(1, now + props.messageExpiryInterval * 1000);
    if (props.contentType !== undefined) init.contentType = props.contentType;
    if (props.responseTopic !== undefined) init.replyTo = topicAddress(props.responseTopic);
    if (props.correlationData !== undefined) {
      const c = correlationOf(props.correlationData);
      init.correlationId = c.id;
      if (c.binary) {
        properties[PROP_CORRELATION_BINARY] = true;
        any = true;
      }
    }
    if (props.payloadFormatIndicator === true) {
      properties[PROP_UTF8] = true;
      any = true;
    }
  }
  if (p.qos === 2) {
    properties[PROP_QOS] = 2;
    any = true;
  }
  if (p.retain) {
    properties[PROP_RETAIN] = true;
    any = true;
  }
  if (any) init.properties = properties;
  return init;
}

/** The Message kept in the retained store for a retained PUBLISH routed by `connectionId`. */
export function retainedMessage(init: MessageInit, id: string, connectionId: string, now: number): Message {
  return {
    id,
    address: init.address,
    body: init.body,
    properties: init.properties ?? {},
    persistent: init.persistent === true,
    priority: 4,
    expiration: init.expiration ?? 0,
    timestamp: now,
    correlationId: init.correlationId,
    replyTo: init.replyTo,
    contentType: init.contentType,
    producerConnectionId: connectionId,
  };
}

/** QoS a message was published with (STOMP and other protocols: persistent = 1, else 0). */
export function publishedQos(m: Message): 0 | 1 | 2 {
  if (!m.persistent) return 0;
  return m.properties[PROP_QOS] === 2 ? 2 : 1;
}
