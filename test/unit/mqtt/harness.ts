/**
 * MQTT session tests run against the real in-process core (createBrokerCore) through a fake transport:
 * a `Client` writes packets built by mqtt-packet and decodes what the session wrote with mqtt-packet's
 * parser. Timers are manual, so keep-alive, Will delay and session expiry are deterministic.
 */
import { generate, type Packet, parser } from 'mqtt-packet';
import type { Authenticator } from '../../../src/core/api.js';
import { type BlazeCore, createBrokerCore, RetainedStore } from '../../../src/core/index.js';
import type { MqttProtocol } from '../../../src/protocol/mqtt/index.js';
import { type MqttLimits, mqttProtocol } from '../../../src/protocol/mqtt/index.js';
import type { Logger } from '../../../src/util/logger.js';
import { FakeTransport as BaseFakeTransport } from '../../helpers/fake-transport.js';
import { ManualTimers } from '../../helpers/manual-timers.js';

export class FakeTransport extends BaseFakeTransport {
  constructor() {
    super('192.0.2.1:1883');
  }
}

export { ManualTimers };

/** Users: anyone, except password `bad`; user `reader` may not write (see `authorizer` below). */
export const testAuthenticator: Authenticator = {
  required: true,
  authenticate: (login, passcode) =>
    Promise.resolve(
      passcode === 'bad' ? null : { user: login ?? 'anonymous', anonymous: login === undefined },
    ),
};

export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
}

export interface Broker {
  core: BlazeCore;
  retained: RetainedStore;
  timers: ManualTimers;
  protocol: MqttProtocol;
  client(version?: 3 | 4 | 5): Client;
  close(): Promise<void>;
}

export async function startBroker(limits: Partial<MqttLimits> = {}, logger?: Logger): Promise<Broker> {
  const core = await createBrokerCore({
    authorizer: {
      // `reader` may read anything and write nothing; `nobody` may do nothing under `secret/`.
      allowed: (p, permission, address) =>
        !(p.user === 'reader' && permission === 'write') &&
        !(p.user === 'nobody' && address.startsWith('topic://secret')),
    },
  });
  const timers = new ManualTimers();
  const retained = new RetainedStore({ clock: timers });
  const protocol = mqttProtocol({ core, authenticator: testAuthenticator, retained, timers, limits, logger });
  const clients: Client[] = [];
  return {
    core,
    retained,
    timers,
    protocol,
    client(version = 4) {
      const c = new Client(protocol, version);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.session.onClose();
      await core.shutdown();
    },
  };
}

/** The client side of one connection. */
export class Client {
  readonly transport = new FakeTransport();
  readonly session: ReturnType<MqttProtocol>;
  private readonly parser: ReturnType<typeof parser>;
  private consumed = 0;
  private readonly parsed: Packet[] = [];
  readonly received: Packet[] = [];
  parseError: Error | undefined;

  constructor(
    protocol: MqttProtocol,
    readonly version: 3 | 4 | 5,
  ) {
    this.session = protocol(this.transport);
    this.parser = parser({ protocolVersion: version });
    this.parser.on('packet', (p: Packet) => this.parsed.push(p));
    this.parser.on('error', (e: Error) => {
      this.parseError = e;
    });
  }

  sendBytes(bytes: Buffer): void {
    this.session.onData(bytes);
  }

  send(packet: Packet): void {
    this.sendBytes(generate(packet, { protocolVersion: this.version }));
  }

  /** Packets written by the session since the last call. */
  read(): Packet[] {
    for (; this.consumed < this.transport.chunks.length; this.consumed++) {
      this.parser.parse(this.transport.chunks[this.consumed]!);
    }
    const out = this.parsed.splice(0);
    this.received.push(...out);
    return out;
  }

  /** The single packet written since the last read. */
  one<T extends Packet['cmd']>(cmd?: T): Extract<Packet, { cmd: T }> {
    const ps = this.read();
    if (ps.length !== 1 || (cmd !== undefined && ps[0]!.cmd !== cmd)) {
      throw new Error(`expected one ${cmd ?? 'packet'}, got ${ps.map((p) => p.cmd).join(', ') || 'none'}`);
    }
    return ps[0] as Extract<Packet, { cmd: T }>;
  }

  async connect(
    options: Partial<Extract<Packet, { cmd: 'connect' }>> = {},
  ): Promise<Extract<Packet, { cmd: 'connack' }>> {
    this.send({
      cmd: 'connect',
      protocolId: this.version === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: this.version,
      clientId: 'c1',
      clean: true,
      keepalive: 0,
      ...options,
    });
    await flush();
    // What a resumed session sends right after CONNACK stays for the next read().
    const [first, ...rest] = this.read();
    if (first?.cmd !== 'connack') throw new Error(`expected CONNACK, got ${first?.cmd ?? 'nothing'}`);
    this.received.splice(this.received.length - rest.length);
    this.parsed.unshift(...rest);
    return first;
  }

  subscribe(
    topics: Array<{ topic: string; qos: 0 | 1 | 2; nl?: boolean; rap?: boolean; rh?: number }>,
    messageId = 1,
    properties?: { subscriptionIdentifier?: number },
  ): void {
    this.send({ cmd: 'subscribe', messageId, subscriptions: topics, ...(properties ? { properties } : {}) });
  }

  publish(
    topic: string,
    payload: string | Buffer,
    options: {
      qos?: 0 | 1 | 2;
      retain?: boolean;
      messageId?: number;
      dup?: boolean;
      properties?: object;
    } = {},
  ): void {
    const qos = options.qos ?? 0;
    this.send({
      cmd: 'publish',
      topic,
      payload,
      qos,
      retain: options.retain ?? false,
      dup: options.dup ?? false,
      ...(qos > 0 ? { messageId: options.messageId ?? 1 } : {}),
      ...(options.properties ? { properties: options.properties } : {}),
    } as Packet);
  }

  publishes(): Array<Extract<Packet, { cmd: 'publish' }>> {
    return this.read().filter((p) => p.cmd === 'publish') as Array<Extract<Packet, { cmd: 'publish' }>>;
  }

  get closed(): boolean {
    return this.transport.closed;
  }
}
