/**
 * MQTT 5 Topic Aliases (3.3.2.3.4), both directions. An alias is a number standing for a topic for the
 * life of one connection; each side sets the maximum the other may use (Topic Alias Maximum in CONNECT
 * and CONNACK).
 */
import type { OutgoingPublish } from './codec/encoder.js';
import { MqttError, RC } from './reason-codes.js';

/** Aliases the client defines in its PUBLISHes. */
export class IncomingAliases {
  private readonly topics = new Map<number, string>();

  /**
   * The topic a PUBLISH with `alias` stands for: a non-empty `topic` (re)defines the alias, an empty one
   * uses it.
   */
  resolve(alias: number, topic: string, maximum: number): string {
    // [MQTT-3.3.2-8] 0 or over our Topic Alias Maximum is invalid.
    if (alias === 0 || alias > maximum)
      throw new MqttError(RC.TOPIC_ALIAS_INVALID, `topic alias ${alias} out of range`);
    if (topic.length > 0) {
      this.topics.set(alias, topic);
      return topic;
    }
    const known = this.topics.get(alias);
    if (known === undefined) throw new MqttError(RC.PROTOCOL_ERROR, `unknown topic alias ${alias}`);
    return known;
  }
}

/**
 * Aliases we assign when sending: the first PUBLISH on a topic carries the topic and a new alias, the
 * following ones the alias and an empty topic, while aliases last (up to what the client allows).
 */
export class OutgoingAliases {
  private readonly aliases = new Map<string, number>();

  constructor(private readonly maximum: number) {}

  apply(out: OutgoingPublish): void {
    let alias = this.aliases.get(out.topic);
    if (alias !== undefined) out.topic = '';
    else if (this.aliases.size < this.maximum) {
      alias = this.aliases.size + 1;
      this.aliases.set(out.topic, alias);
    } else return;
    out.properties = { ...out.properties, topicAlias: alias };
  }
}
