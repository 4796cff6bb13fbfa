/**
 * kill -9 under MQTT QoS 1 and 2 traffic (issue 4): a publisher with a persistent session publishes
 * QoS 1 and QoS 2 messages (at most 20 in flight), a subscriber with a persistent session is connected
 * in some cycles and away in others, and the broker process is killed at random moments, several times,
 * each time restarted on the same data directory and port. Both clients are MQTT.js with
 * `clean: false`; they reconnect by themselves and re-send what was in flight (PUBLISH or PUBREL), so
 * kills land in the middle of handshakes in both directions. The subscriber keeps its incoming QoS 2
 * state across its connections (as a device keeps it on flash), so any duplicate it sees comes from
 * the broker.
 *
 * Checked: every message whose PUBACK / PUBCOMP the publisher got is delivered; no QoS 2 message is
 * delivered twice (counted by payload id), acknowledged or not; the journal verifies clean.
 *
 * MQTT_CHAOS_CYCLES (default 6) sets the number of kills; CHAOS_SEED replays a run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyJournal } from '../../src/store/journal/index.js';
import { seededRandom } from '../../src/util/random.js';
import { freePort } from '../helpers/ports.js';
import { type BrokerProcess, startBroker } from '../integration/helpers/broker.js';

const CYCLES = Number(process.env['MQTT_CHAOS_CYCLES'] ?? 6);
const SEED = Number(process.env['CHAOS_SEED'] ?? Date.now() % 1_000_000);
const WINDOW = 20;

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(20);
  return cond();
}

const root = mkdtempSync(join(tmpdir(), 'blazemq-mqtt-chaos-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('MQTT persistent sessions under kill -9', () => {
  it(`delivers every acknowledged QoS 1/2 message, QoS 2 exactly once, across ${CYCLES} kills`, {
    timeout: 30_000 + CYCLES * 4_000,
  }, async () => {
    const rng = seededRandom(SEED);
    const dataDir = join(root, 'data');
    const config = join(root, 'blazemq.yaml');
    // Small segments, so that rotation and reclaim run under fire too.
    writeFileSync(config, 'store:\n  segmentSize: 262144\n');
    const port = await freePort();
    const args = ['--config', config, '--mqtt', String(port)];
    const url = `mqtt://127.0.0.1:${port}`;
    let broker: BrokerProcess = await startBroker({ dataDir, keepData: true, args });
    const outputs: string[] = [];

    // --- subscriber ------------------------------------------------------------------------------
    const received = new Map<string, number>();
    const duplicates: string[] = [];
    const subOptions: IClientOptions = {
      clientId: 'chaos-sub',
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 50,
      connectTimeout: 2000,
      incomingStore: new mqtt.Store({ clean: false }),
    };
    let sub: MqttClient | undefined;
    const subscriberUp = () => {
      const c = mqtt.connect(url, subOptions);
      c.on('error', () => {});
      c.on('message', (_topic, payload) => {
        const id = String(payload);
        const n = (received.get(id) ?? 0) + 1;
        received.set(id, n);
        if (n > 1 && id.startsWith('q2-')) duplicates.push(`${id} delivered ${n} times`);
      });
      return c;
    };
    sub = subscriberUp();
    await until(() => sub!.connected, 5000);
    await sub.subscribeAsync({ 'chaos/q1': { qos: 1 }, 'chaos/q2': { qos: 2 } });

    // --- publisher -------------------------------------------------------------------------------
    const pub = mqtt.connect(url, {
      clientId: 'chaos-pub',
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 50,
      connectTimeout: 2000,
    });
    pub.on('error', () => {});
    const acked = new Set<string>();
    // MQTT.js fails publishes it queued but never sent when the connection drops while it re-sends its
    // stored ones ("Connection closed"): not acknowledged, so nothing is promised about them.
    let refused = 0;
    let inflight = 0;
    let seq = 0;
    let publishing = true;
    const produce = async () => {
      while (publishing) {
        if (inflight >= WINDOW || !pub.connected) {
          await sleep(2);
          continue;
        }
        const qos = rng() < 0.5 ? 1 : 2;
        const id = `q${qos}-${++seq}`;
        inflight++;
        pub.publish(`chaos/q${qos}`, id, { qos }, (err) => {
          inflight--;
          if (err) refused++;
          else acked.add(id);
        });
        // Let the socket breathe: acks arrive, and kills find a mix of handshake states.
        if (seq % 5 === 0) await sleep(1);
      }
    };
    const producing = produce();

    // --- kills -----------------------------------------------------------------------------------
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const online = rng() < 0.5;
      if (online && sub === undefined) sub = subscriberUp();
      if (!online && sub !== undefined) {
        await sub.endAsync(true);
        sub = undefined;
      }
      await sleep(150 + rng() * 450);
      await broker.kill9();
      outputs.push(broker.output());
      await sleep(rng() * 100);
      broker = await startBroker({ dataDir, keepData: true, args });
    }

    // --- drain -----------------------------------------------------------------------------------
    publishing = false;
    await producing;
    // The publisher re-sends what the last kill left in flight; every callback comes back.
    const settled = await until(() => inflight === 0, 15_000);
    sub ??= subscriberUp();
    const unseen = () => [...acked].filter((id) => !received.has(id));
    await until(() => unseen().length === 0, 10_000);
    await sleep(300); // room for a late duplicate
    await sub.endAsync(true);
    await pub.endAsync(true);
    outputs.push(broker.output());
    expect(await broker.stop()).toBe(0);

    const context =
      `seed ${SEED}: ${seq} published, ${acked.size} acknowledged, ${refused} failed by the client, ` +
      `${received.size} received`;
    if (process.env['CHAOS_DEBUG']) console.log(context, outputs.join('\n---\n'));
    expect(settled, `${context}: ${inflight} publishes never completed`).toBe(true);
    expect(duplicates, context).toEqual([]);
    expect(unseen(), context).toEqual([]);
    expect(acked.size, context).toBeGreaterThan(CYCLES * 10);
    const report = await verifyJournal(join(dataDir, 'journal'));
    expect(report.ok, context).toBe(true);
    // Everything was delivered and acknowledged by the subscriber: nothing is left but session state.
    expect(report.liveMessages, context).toBe(0);
    expect(report.kv, context).toBeGreaterThan(0);
  });
});
