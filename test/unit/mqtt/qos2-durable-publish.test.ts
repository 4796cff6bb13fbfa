/**
 * A QoS 2 PUBLISH to a persistent session leaves only once its outbound record is durable, and what the
 * session writes after it waits behind it, in order: a client must never hold a QoS 2 message whose packet
 * id the broker could forget in a crash (it would come back under a new id: a duplicate). Driven with a
 * session store whose durability the test releases by hand.
 */
import { describe, expect, it } from 'vitest';
import { createBrokerCore, RetainedStore } from '../../../src/core/index.js';
import { mqttProtocol } from '../../../src/protocol/mqtt/index.js';
import type { MqttSessionStore } from '../../../src/protocol/mqtt/state.js';
import { Client, flush, ManualTimers, testAuthenticator } from './harness.js';

/** A durable store whose `flushed()` waits, after `hold()`, until `release()`. */
function gatedStore() {
  let gate: { promise: Promise<void>; resolve: () => void } | null = null;
  const store: MqttSessionStore & { hold(): void; release(): void } = {
    durable: true,
    load: () => Promise.resolve([]),
    write: () => {},
    flushed: () => gate?.promise ?? Promise.resolve(),
    hold() {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      gate = { promise, resolve };
    },
    release() {
      const g = gate;
      gate = null;
      g?.resolve();
    },
  };
  return store;
}

async function setup() {
  const core = await createBrokerCore({});
  const timers = new ManualTimers();
  const sessionStore = gatedStore();
  const protocol = mqttProtocol({
    core,
    authenticator: testAuthenticator,
    retained: new RetainedStore({ clock: timers }),
    sessionStore,
    timers,
  });
  return { core, protocol, sessionStore };
}

/** A subscriber at QoS 2 on `topic` (its SUBACK read) and a publisher, both MQTT 3.1.1. */
async function subscriberAndPublisher(
  protocol: Awaited<ReturnType<typeof setup>>['protocol'],
  sub: { clientId: string; clean: boolean; topic: string },
  publisherId: string,
) {
  const subscriber = new Client(protocol, 4);
  await subscriber.connect({ clientId: sub.clientId, clean: sub.clean });
  subscriber.subscribe([{ topic: sub.topic, qos: 2 }]);
  await flush();
  subscriber.read();
  const publisher = new Client(protocol, 4);
  await publisher.connect({ clientId: publisherId });
  return { sub: subscriber, pub: publisher };
}

const payloads = (c: Client) => c.publishes().map((p) => `${String(p.payload)}/q${p.qos}`);

describe('QoS 2 PUBLISH behind its durable record', () => {
  it('waits for the record, and a later QoS 0 / QoS 1 delivery waits behind it, in order', async () => {
    const { core, protocol, sessionStore } = await setup();
    const { sub, pub } = await subscriberAndPublisher(
      protocol,
      { clientId: 'keeper', clean: false, topic: 't' },
      'pub',
    );

    sessionStore.hold();
    pub.publish('t', 'exactly-once', { qos: 2, messageId: 1 });
    pub.publish('t', 'after', { qos: 0 });
    await flush();
    expect(payloads(sub)).toEqual([]);
    sessionStore.release();
    await flush();
    expect(payloads(sub)).toEqual(['exactly-once/q2', 'after/q0']);
    sub.session.onClose();
    pub.session.onClose();
    await core.shutdown();
  });

  it('a clean session (nothing stored) is not held', async () => {
    const { core, protocol, sessionStore } = await setup();
    const { sub, pub } = await subscriberAndPublisher(
      protocol,
      { clientId: 'transient', clean: true, topic: 'u' },
      'pub2',
    );
    sessionStore.hold();
    pub.publish('u', 'now', { qos: 2, messageId: 1 });
    await flush();
    expect(payloads(sub)).toEqual(['now/q2']);
    sessionStore.release();
    sub.session.onClose();
    pub.session.onClose();
    await core.shutdown();
  });
});
