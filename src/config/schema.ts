/**
 * The broker configuration: its shape, its defaults and its validation, in one place. Every key is
 * optional in a file; what is absent takes the default below.
 */
import { join } from 'node:path';
import type { Permission } from '../core/api.js';
import {
  type CorePolicy,
  DEFAULT_POLICY,
  type DestinationPolicy,
  type PolicyOverride,
  SLOW_CONSUMER_POLICIES,
} from '../core/policy.js';
import { type CorsConfig, canonicalOrigin, DEFAULT_CORS_CONFIG } from '../protocol/http/cors.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from '../protocol/http/request.js';
import { DEFAULT_MQTT_LIMITS, type MqttLimits } from '../protocol/mqtt/context.js';
import { DEFAULT_NATIVE_LIMITS, type NativeLimits } from '../protocol/native/context.js';
import {
  DEFAULT_HEARTBEAT,
  DEFAULT_SESSION_LIMITS,
  type StompHeartbeatSettings,
  type StompSessionLimits,
} from '../protocol/stomp/context.js';
import { parseAddressPattern } from '../security/address-pattern.js';
import {
  boolean,
  configError,
  type Field,
  fail,
  field,
  integer,
  listOf,
  nonEmptyString,
  numberIn,
  oneOf,
  optional,
  type Parse,
  partialSection,
  port,
  record,
  section,
} from './fields.js';

export type PortSetting = number | 'off';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ListenersConfig {
  stomp: PortSetting;
  http: PortSetting;
  mqtt: PortSetting;
  /** Reserved for the protocols still to come; only 'off' is accepted until they exist. */
  amqp: PortSetting;
  /** Native protobuf protocol over TCP (docs/NATIVE.md). */
  native: PortSetting;
  /** Native protocol over TLS; needs `tls.cert` and `tls.key`. */
  nativeTls: PortSetting;
  /** STOMP over TLS (ActiveMQ's stomp+ssl); needs `tls.cert` and `tls.key`. */
  stompTls: PortSetting;
  /** MQTT over TLS (8883 by convention, MQTT 5.0 4.2); needs `tls.cert` and `tls.key`. */
  mqttTls: PortSetting;
}

/** Client certificates on the TLS listeners. */
export type ClientCertificates = 'none' | 'require';

/** Certificate and key (PEM files) of the TLS listeners, and whether clients must present one. */
export interface TlsConfig {
  cert: string | undefined;
  key: string | undefined;
  /** PEM file of the certificate authorities client certificates must chain to (`clientCertificates: require`). */
  ca: string | undefined;
  /** `require`: a client without a certificate signed by `ca` fails the handshake (mutual TLS). */
  clientCertificates: ClientCertificates;
}

/** STOMP 1.2 "Heart-beating": the `heart-beat:sx,sy` the broker offers in CONNECTED; 0 = none. */
export type HeartbeatConfig = StompHeartbeatSettings;

export interface LimitsConfig {
  /** Per listener. */
  maxConnections: number;
  /** Bytes read from one connection per event-loop turn before reading waits for the next (net/input-turn-limit.ts). */
  inputTurnBytes: number;
  /** Frame limits enforced by the decoder before it buffers, and per-connection session limits. */
  stomp: StompSessionLimits;
  heartbeat: HeartbeatConfig;
  /** Per MQTT connection (protocol/mqtt/context.ts). */
  mqtt: MqttLimits;
  /** REST messaging on the HTTP listener (protocol/http/request.ts). */
  http: HttpLimits;
  /** Per native-protocol connection (protocol/native/context.ts). */
  native: NativeLimits;
}

/** The core's policies (core/policy.ts), with the same names and defaults. */
export type CoreConfig = CorePolicy;

export interface AclRule {
  /** Address pattern with ActiveMQ wildcards, see security/address-pattern.ts. */
  pattern: string;
  /** User names; '*' = every authenticated user. */
  users: string[];
  groups: string[];
  permissions: Permission[];
}

export interface SecurityConfig {
  /** Users file; default `<dataDir>/users.json`. */
  usersFile: string | undefined;
  acl: AclRule[];
}

/** The message store (docs/STORAGE.md). */
export interface StoreConfig {
  /** `journal` (default): durable, under `<dataDir>/journal`. `memory`: nothing survives a restart. */
  type: 'journal' | 'memory';
  /** Journal segment size in bytes. */
  segmentSize: number;
  /** Zero-fill the next journal segment ahead of time (faster fdatasync). */
  preallocate: boolean;
  /**
   * Page bodies of durable persistent messages out of memory near the memory limits, instead of slowing
   * their producers (docs/STORAGE.md "Paging"). Journal only.
   */
  paging: boolean;
}

export interface BlazeConfig {
  dataDir: string;
  /** Address to bind when users are configured; without users the broker binds to 127.0.0.1 only. */
  host: string;
  logLevel: LogLevel;
  listeners: ListenersConfig;
  limits: LimitsConfig;
  core: CoreConfig;
  security: SecurityConfig;
  store: StoreConfig;
  tls: TlsConfig;
  /** HTTP listener behaviour that is not a limit: cross-origin access (protocol/http/cors.ts). */
  http: HttpConfig;
}

export interface HttpConfig {
  cors: CorsConfig;
}

export const parseLogLevel: Parse<LogLevel> = oneOf(LOG_LEVELS);
export const parsePort: Parse<PortSetting> = port;
export const parseHost: Parse<string> = nonEmptyString('a host name or IP address');
export const parseDataDir: Parse<string> = nonEmptyString('a directory path');

const notYet: Parse<PortSetting> = (v, path) => {
  const p = port(v, path);
  if (p !== 'off') throw configError(path, 'this protocol is not available yet; only "off" is accepted');
  return p;
};

const parsePattern: Parse<string> = (v, path) => {
  if (typeof v !== 'string') fail(path, 'an address pattern', v);
  const parsed = parseAddressPattern(v);
  if (typeof parsed === 'string') throw configError(path, `bad address pattern "${v}": ${parsed}`);
  return v;
};

const parseName: Parse<string> = nonEmptyString('a name');
const PERMISSIONS = ['read', 'write', 'admin'] as const satisfies readonly Permission[];

const parseAclRule: Parse<AclRule> = (v, path) => {
  const rule = record<AclRule>(
    {
      pattern: field(parsePattern, '>'),
      users: field(listOf(parseName), () => []),
      groups: field(listOf(parseName), () => []),
      permissions: field(listOf(oneOf(PERMISSIONS)), () => []),
    },
    ['pattern', 'permissions'],
  )(v, path);
  if (rule.users.length === 0 && rule.groups.length === 0) {
    throw configError(path, 'a rule needs "users" or "groups" (use users: ["*"] for every user)');
  }
  return rule;
};

const parseDeadLetter: Parse<string> = (v, path) => {
  if (typeof v !== 'string' || !/^queue:\/\/[^*>]*\{name\}[^*>]*$/.test(v)) {
    fail(path, 'a queue:// address containing {name}, e.g. "queue://DLQ.{name}"', v);
  }
  return v;
};

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** Bytes as a number or a string with a unit: `536870912`, `"512MiB"`, `"64 MB"`; 0 = no limit. */
const parseMemorySize: Parse<number> = (v, path) => {
  const what = 'a size in bytes, e.g. 536870912 or "512MiB" (0 = no limit)';
  let bytes: number;
  if (typeof v === 'number') bytes = v;
  else if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$/i.exec(v);
    if (m === null) fail(path, what, v);
    bytes = Math.floor(Number(m[1]) * (SIZE_UNITS[(m[2] ?? 'b').toLowerCase()] ?? 1));
  } else fail(path, what, v);
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > 1024 ** 4) fail(path, what, v);
  return bytes;
};

/** A message property name, or '' for the group id. */
const parseConflationKey: Parse<string> = (v, path) => {
  if (typeof v !== 'string' || v.length > 256)
    fail(path, 'a property name (or "" for the message group id)', v);
  return v;
};

const parseCountOrUnlimited: Parse<number> = integer(-1, 1_000_000_000, 'a count (-1 = no limit)');

/** Each key of a destination policy, for the top level (with defaults) and for overrides (without). */
const policyParsers = {
  maxRedeliveries: parseCountOrUnlimited,
  deadLetterAddress: parseDeadLetter,
  deadLetterNonPersistent: boolean,
  expiredMessages: oneOf(['drop', 'dlq'] as const),
  topicSubscriberBuffer: integer(1, 100_000_000, 'a message count'),
  slowConsumerPolicy: oneOf(SLOW_CONSUMER_POLICIES),
  conflationKey: parseConflationKey,
  memoryLimit: parseMemorySize,
  maxQueueDepth: integer(0, 1_000_000_000, 'a message count (0 = no limit)'),
} satisfies { [K in keyof DestinationPolicy]: Parse<DestinationPolicy[K]> };

const parseOverridePattern: Parse<string> = (v, path) => {
  const p = parsePattern(v, path);
  if (p === '*' || p === '>' || !/^(queue|topic):\/\//.test(p)) {
    throw configError(path, `expected a queue:// or topic:// pattern, got ${JSON.stringify(p)}`);
  }
  return p;
};

const parseOverride: Parse<PolicyOverride> = record<PolicyOverride>(
  {
    match: field(parseOverridePattern, ''),
    policy: field(partialSection<DestinationPolicy>(policyParsers), () => ({})),
  },
  ['match', 'policy'],
);

function stompField<K extends keyof StompSessionLimits>(
  key: K,
  parse: Parse<StompSessionLimits[K]>,
): Field<StompSessionLimits[K]> {
  return field(parse, DEFAULT_SESSION_LIMITS[key]);
}

function mqttField<K extends keyof MqttLimits>(key: K, parse: Parse<MqttLimits[K]>): Field<MqttLimits[K]> {
  return field(parse, DEFAULT_MQTT_LIMITS[key]);
}

function nativeField<K extends keyof NativeLimits>(
  key: K,
  parse: Parse<NativeLimits[K]>,
): Field<NativeLimits[K]> {
  return field(parse, DEFAULT_NATIVE_LIMITS[key]);
}

function httpField<K extends keyof HttpLimits>(key: K, parse: Parse<HttpLimits[K]>): Field<HttpLimits[K]> {
  return field(parse, DEFAULT_HTTP_LIMITS[key]);
}

function policyField<K extends keyof DestinationPolicy>(key: K): Field<DestinationPolicy[K]> {
  return field(policyParsers[key] as Parse<DestinationPolicy[K]>, DEFAULT_POLICY[key]);
}

/** An allowed CORS origin: `*` or `scheme://host[:port]`, stored canonical (lowercase, no default port). */
const parseOrigin: Parse<string> = (v, path) => {
  if (v === '*') return v;
  const o = typeof v === 'string' ? canonicalOrigin(v) : undefined;
  if (o === undefined)
    fail(path, 'an origin like "https://app.example.com" or "http://localhost:3000", or "*"', v);
  return o;
};

const corsSection = section<CorsConfig>({
  allowedOrigins: field(listOf(parseOrigin), () => []),
  allowCredentials: field(boolean, DEFAULT_CORS_CONFIG.allowCredentials),
  maxAgeSeconds: field(integer(0, 86_400, 'seconds'), DEFAULT_CORS_CONFIG.maxAgeSeconds),
  allowAdmin: field(boolean, DEFAULT_CORS_CONFIG.allowAdmin),
});

const parseCors: Parse<CorsConfig> = (v, path) => {
  const c = corsSection.parse(v, path);
  // Fetch §3.2.5: a credentialed response must name its origin; "*" with credentials would be refused by
  // browsers, and echoing any origin instead would hand every site the user's session.
  if (c.allowCredentials && c.allowedOrigins.includes('*')) {
    throw configError(path, '"allowedOrigins": ["*"] cannot be combined with "allowCredentials": true');
  }
  return c;
};

const KB = 1024;
const MB = 1024 * KB;

export const configSchema: Field<BlazeConfig> = section<BlazeConfig>({
  dataDir: field(parseDataDir, './data'),
  host: field(parseHost, '0.0.0.0'),
  logLevel: field(parseLogLevel, 'info'),
  listeners: section<ListenersConfig>({
    stomp: field(port, 61613),
    http: field(port, 8161),
    mqtt: field(port, 1883),
    amqp: field(notYet, 'off'),
    native: field(port, 61616),
    nativeTls: field(port, 'off'),
    stompTls: field(port, 'off'),
    mqttTls: field(port, 'off'),
  }),
  limits: section<LimitsConfig>({
    maxConnections: field(integer(1, 1_000_000), 10_000),
    inputTurnBytes: field(integer(4 * KB, 64 * MB, 'a size in bytes'), 64 * KB),
    stomp: section<StompSessionLimits>({
      maxFrameSize: stompField('maxFrameSize', integer(256, 1024 * MB, 'a size in bytes')),
      maxBodySize: stompField('maxBodySize', integer(0, 1024 * MB, 'a size in bytes')),
      maxHeaders: stompField('maxHeaders', integer(1, 100_000)),
      maxHeaderLineLength: stompField('maxHeaderLineLength', integer(64, MB, 'a size in bytes')),
      maxCommandLength: stompField('maxCommandLength', integer(16, 64 * KB, 'a size in bytes')),
      maxSubscriptions: stompField('maxSubscriptions', integer(1, 1_000_000)),
      maxTransactions: stompField('maxTransactions', integer(1, 1_000_000)),
      maxTemporaries: stompField('maxTemporaries', integer(0, 1_000_000)),
      maxInflight: stompField('maxInflight', integer(1, 1_000_000)),
      defaultPrefetch: stompField('defaultPrefetch', integer(1, 1_000_000)),
      autoPrefetch: stompField('autoPrefetch', integer(1, 1_000_000)),
      slowConsumerTimeoutMs: stompField('slowConsumerTimeoutMs', integer(100, 3_600_000, 'milliseconds')),
    }),
    mqtt: section<MqttLimits>({
      maxPacketSize: mqttField('maxPacketSize', integer(64, 256 * MB - 1, 'a size in bytes')),
      receiveMaximum: mqttField('receiveMaximum', integer(1, 65_535)),
      maxInflightOut: mqttField('maxInflightOut', integer(1, 65_535)),
      topicAliasMaximum: mqttField('topicAliasMaximum', integer(0, 65_535)),
      outgoingTopicAliases: mqttField('outgoingTopicAliases', integer(0, 65_535)),
      maxSubscriptions: mqttField('maxSubscriptions', integer(1, 1_000_000)),
      maxClientIdLength: mqttField('maxClientIdLength', integer(23, 65_535)),
      maxSessionExpiry: mqttField('maxSessionExpiry', integer(0, 0xffff_ffff, 'seconds')),
      maxKeepAlive: mqttField('maxKeepAlive', integer(1, 65_535, 'seconds')),
      maximumQoS: mqttField('maximumQoS', integer(0, 2, 'a QoS: 0, 1 or 2') as Parse<0 | 1 | 2>),
      autoPrefetch: mqttField('autoPrefetch', integer(1, 1_000_000)),
      slowConsumerTimeoutMs: mqttField('slowConsumerTimeoutMs', integer(100, 3_600_000, 'milliseconds')),
    }),
    http: section<HttpLimits>({
      maxBodySize: httpField('maxBodySize', integer(0, 1024 * MB, 'a size in bytes')),
      defaultReadTimeoutMs: httpField('defaultReadTimeoutMs', integer(0, 3_600_000, 'milliseconds')),
      maxReadTimeoutMs: httpField('maxReadTimeoutMs', integer(0, 3_600_000, 'milliseconds')),
      consumerIdleTimeoutMs: httpField('consumerIdleTimeoutMs', integer(100, 86_400_000, 'milliseconds')),
      maxConsumers: httpField('maxConsumers', integer(0, 1_000_000)),
      maxStreams: httpField('maxStreams', integer(0, 1_000_000)),
      sseHeartbeatMs: httpField('sseHeartbeatMs', integer(10, 3_600_000, 'milliseconds')),
      sseSlowConsumerTimeoutMs: httpField(
        'sseSlowConsumerTimeoutMs',
        integer(100, 3_600_000, 'milliseconds'),
      ),
      sseHistorySize: httpField('sseHistorySize', integer(0, 1_000_000, 'a message count')),
      sseHistoryBytes: httpField('sseHistoryBytes', integer(0, 1024 * MB, 'a size in bytes')),
      sseHistoryRetentionMs: httpField('sseHistoryRetentionMs', integer(0, 86_400_000, 'milliseconds')),
      sseHistoryMaxAddresses: httpField('sseHistoryMaxAddresses', integer(0, 100_000)),
      tokenTtlMs: httpField('tokenTtlMs', integer(1000, 30 * 86_400_000, 'milliseconds')),
      maxTokens: httpField('maxTokens', integer(0, 10_000_000)),
      credentialCacheTtlMs: httpField('credentialCacheTtlMs', integer(0, 86_400_000, 'milliseconds')),
      credentialCacheSize: httpField('credentialCacheSize', integer(0, 1_000_000)),
      visibilityTimeoutMs: httpField('visibilityTimeoutMs', integer(100, 43_200_000, 'milliseconds')),
      maxReceiveMessages: httpField('maxReceiveMessages', integer(1, 10_000)),
      maxLeases: httpField('maxLeases', integer(0, 1_000_000)),
      maxBatchMessages: httpField('maxBatchMessages', integer(1, 100_000)),
    }),
    native: section<NativeLimits>({
      maxFrameSize: nativeField('maxFrameSize', integer(1024, 1024 * MB, 'a size in bytes')),
      maxInflight: nativeField('maxInflight', integer(1, 1_000_000)),
      maxSubscriptions: nativeField('maxSubscriptions', integer(1, 1_000_000)),
      maxTransactions: nativeField('maxTransactions', integer(1, 1_000_000)),
      maxTemporaries: nativeField('maxTemporaries', integer(0, 1_000_000)),
      maxUnacked: nativeField('maxUnacked', integer(1, 10_000_000)),
      maxBrowse: nativeField('maxBrowse', integer(1, 1_000_000)),
      minHeartbeatMs: nativeField('minHeartbeatMs', integer(10, 3_600_000, 'milliseconds')),
      maxHeartbeatMs: nativeField('maxHeartbeatMs', integer(10, 3_600_000, 'milliseconds')),
      slowConsumerTimeoutMs: nativeField('slowConsumerTimeoutMs', integer(100, 3_600_000, 'milliseconds')),
      deliverBatchBytes: nativeField('deliverBatchBytes', integer(1024, 64 * MB, 'a size in bytes')),
      maxProducers: nativeField('maxProducers', integer(1, 100_000_000)),
      producerIdleMs: nativeField('producerIdleMs', integer(1000, 365 * 86_400_000, 'milliseconds')),
    }),
    heartbeat: section<HeartbeatConfig>({
      sendMs: field(integer(0, 3_600_000, 'milliseconds'), DEFAULT_HEARTBEAT.sendMs),
      receiveMs: field(integer(0, 3_600_000, 'milliseconds'), DEFAULT_HEARTBEAT.receiveMs),
      graceFactor: field(numberIn(1, 100), DEFAULT_HEARTBEAT.graceFactor),
    }),
  }),
  core: section<CoreConfig>({
    maxRedeliveries: policyField('maxRedeliveries'),
    deadLetterAddress: policyField('deadLetterAddress'),
    deadLetterNonPersistent: policyField('deadLetterNonPersistent'),
    expiredMessages: policyField('expiredMessages'),
    topicSubscriberBuffer: policyField('topicSubscriberBuffer'),
    slowConsumerPolicy: policyField('slowConsumerPolicy'),
    conflationKey: policyField('conflationKey'),
    memoryLimit: policyField('memoryLimit'),
    maxQueueDepth: policyField('maxQueueDepth'),
    expirySweepIntervalMs: field(
      integer(0, 86_400_000, 'milliseconds'),
      DEFAULT_POLICY.expirySweepIntervalMs,
    ),
    globalMemoryLimit: field(parseMemorySize, DEFAULT_POLICY.globalMemoryLimit),
    overrides: field(listOf(parseOverride), () => []),
  }),
  security: section<SecurityConfig>({
    usersFile: field(optional(nonEmptyString('a file path')), undefined),
    acl: field(listOf(parseAclRule), () => []),
  }),
  store: section<StoreConfig>({
    type: field(oneOf(['journal', 'memory'] as const), 'journal'),
    segmentSize: field(integer(64 * KB, 4096 * MB, 'a size in bytes'), 64 * MB),
    preallocate: field(boolean, true),
    paging: field(boolean, true),
  }),
  tls: section<TlsConfig>({
    cert: field(optional(nonEmptyString('a PEM certificate file path')), undefined),
    key: field(optional(nonEmptyString('a PEM private key file path')), undefined),
    ca: field(optional(nonEmptyString('a PEM certificate authorities file path')), undefined),
    clientCertificates: field(oneOf(['none', 'require'] as const), 'none'),
  }),
  http: section<HttpConfig>({ cors: { parse: parseCors, defaultValue: () => ({ ...DEFAULT_CORS_CONFIG }) } }),
});

export function defaultConfig(): BlazeConfig {
  return configSchema.defaultValue();
}

/** Where the users file is: configured, or `users.json` in the data directory. */
export function usersFilePath(config: Pick<BlazeConfig, 'dataDir' | 'security'>): string {
  return config.security.usersFile ?? join(config.dataDir, 'users.json');
}
