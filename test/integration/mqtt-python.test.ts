/**
 * Interop with Debian's paho-mqtt (python3-paho-mqtt) and mosquitto-clients (mosquitto_pub/sub): the
 * paho scenarios live in test/interop/paho_mqtt.py and assert on their own side; this file runs them
 * (and the mosquitto tools) against a real broker process.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, startBroker } from './helpers/broker.js';

const run = promisify(execFile);
// Debian's interpreter: that is where apt puts python3-paho-mqtt (a pyenv python3 may shadow it on PATH).
const PYTHON = '/usr/bin/python3';
const SCRIPT = new URL('../interop/paho_mqtt.py', import.meta.url).pathname;
const MOSQUITTO_SUB = '/usr/bin/mosquitto_sub';
const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';

async function scenario(port: number, name: string): Promise<Record<string, unknown>> {
  try {
    const { stdout } = await run(PYTHON, [SCRIPT, String(port), name], { timeout: 30_000 });
    return JSON.parse(stdout.trim().split('\n').pop()!);
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`scenario ${name} failed: ${err.stdout ?? ''} ${err.stderr ?? ''}`);
  }
}

let broker: BrokerProcess;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  expect(await broker.stop()).toBe(0);
});

describe.skipIf(!existsSync(PYTHON))('paho-mqtt against the broker', () => {
  for (const name of ['qos', 'v5_properties', 'retained', 'will', 'persistent', 'shared']) {
    it(name, async () => {
      expect(await scenario(broker.mqtt, name)).toMatchObject({ ok: true });
    });
  }
});

describe.skipIf(!existsSync(MOSQUITTO_SUB))('mosquitto_pub / mosquitto_sub', () => {
  for (const version of ['mqttv311', 'mqttv5']) {
    it(`${version}: QoS 0/1/2 through wildcards, and a retained message`, async () => {
      const port = String(broker.mqtt);
      const base = `mosq-${version}`;
      await run(MOSQUITTO_PUB, ['-p', port, '-V', version, '-t', `${base}/r`, '-m', 'kept', '-r', '-q', '1']);
      const sub = spawn(MOSQUITTO_SUB, [
        '-p',
        port,
        '-V',
        version,
        '-t',
        `${base}/#`,
        '-q',
        '2',
        '-C',
        '4',
        '-v',
      ]);
      let out = '';
      sub.stdout.on('data', (d) => {
        out += d;
      });
      const exited = new Promise<number | null>((resolve) => sub.once('exit', resolve));
      // The retained message arrives first, once subscribed; then publish the live ones.
      for (let i = 0; i < 100 && !out.includes('kept'); i++) await new Promise((r) => setTimeout(r, 50));
      for (const q of ['0', '1', '2']) {
        await run(MOSQUITTO_PUB, ['-p', port, '-V', version, '-t', `${base}/a/b`, '-m', `q${q}`, '-q', q]);
      }
      expect(await exited).toBe(0);
      expect(out.trim().split('\n')).toEqual([
        `${base}/r kept`,
        `${base}/a/b q0`,
        `${base}/a/b q1`,
        `${base}/a/b q2`,
      ]);
    });
  }
});
