import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  applyFlags,
  defaultConfig,
  loadConfig,
  parseConfig,
  parseConfigText,
  usersFilePath,
} from '../../../src/config/index.js';
import { isBlazeError } from '../../../src/util/errors.js';

/** Runs `fn`, expects a BlazeError CONFIG, returns its message (asserting it is one line). */
function configMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isBlazeError(err) && err.code).toBe('CONFIG');
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a CONFIG error');
}

describe('defaults', () => {
  it('fills every key when the document is empty or null', () => {
    const c = parseConfig({});
    expect(parseConfig(null)).toEqual(c);
    expect(c.dataDir).toBe('./data');
    expect(c.host).toBe('0.0.0.0');
    expect(c.logLevel).toBe('info');
    expect(c.listeners).toEqual({
      stomp: 61613,
      http: 8161,
      mqtt: 1883,
      amqp: 'off',
      native: 61616,
      nativeTls: 'off',
      stompTls: 'off',
      mqttTls: 'off',
    });
    expect(c.tls).toEqual({ cert: undefined, key: undefined, ca: undefined, clientCertificates: 'none' });
    expect(c.limits.maxConnections).toBeGreaterThan(0);
    expect(c.limits.stomp.maxHeaders).toBe(1000);
    expect(c.core.maxRedeliveries).toBe(6);
    expect(c.core.deadLetterAddress).toContain('{name}');
    expect(c.security).toEqual({ usersFile: undefined, acl: [] });
    expect(defaultConfig()).toEqual(c);
  });

  it('keeps given values and defaults the siblings', () => {
    const c = parseConfig({ listeners: { stomp: 0 }, limits: { stomp: { maxHeaders: 5 } } });
    expect(c.listeners.stomp).toBe(0);
    expect(c.listeners.http).toBe(8161);
    expect(c.limits.stomp.maxHeaders).toBe(5);
    expect(c.limits.stomp.maxFrameSize).toBe(defaultConfig().limits.stomp.maxFrameSize);
  });

  it('does not share mutable defaults between configs', () => {
    const a = parseConfig({});
    a.security.acl.push({ pattern: '>', users: ['x'], groups: [], permissions: ['read'] });
    expect(parseConfig({}).security.acl).toEqual([]);
  });

  it('takes the TLS listeners and client certificate settings, and refuses unknown modes', () => {
    const c = parseConfig({
      listeners: { stompTls: 61614, mqttTls: 8883 },
      tls: { cert: 'c.pem', key: 'k.pem', ca: 'ca.pem', clientCertificates: 'require' },
    });
    expect([c.listeners.stompTls, c.listeners.mqttTls]).toEqual([61614, 8883]);
    expect(c.tls.clientCertificates).toBe('require');
    expect(() => parseConfig({ tls: { clientCertificates: 'optional' } })).toThrow(/clientCertificates/);
  });

  it('puts the users file in the data directory unless configured', () => {
    expect(usersFilePath(parseConfig({ dataDir: '/d' }))).toBe('/d/users.json');
    expect(usersFilePath(parseConfig({ security: { usersFile: '/etc/u.json' } }))).toBe('/etc/u.json');
  });
});

describe('validation messages name the key path', () => {
  it.each<[string, unknown, string]>([
    [
      'bad port string',
      { listeners: { stomp: 'abc' } },
      'config: listeners.stomp: expected a port number 0-65535 or "off", got "abc"',
    ],
    [
      'port out of range',
      { listeners: { http: 70000 } },
      'config: listeners.http: expected a port number 0-65535 or "off", got 70000',
    ],
    ['fractional port', { listeners: { http: 1.5 } }, 'config: listeners.http: expected a port number'],
    ['unknown top-level key', { dataDri: 'x' }, 'config: dataDri: unknown key (expected one of dataDir,'],
    [
      'unknown nested key',
      { limits: { stomp: { maxFrame: 1 } } },
      'config: limits.stomp.maxFrame: unknown key',
    ],
    ['section not an object', { limits: [] }, 'config: limits: expected an object, got a list'],
    ['top level not an object', [1], 'config: top level: expected an object, got a list'],
    [
      'bad log level',
      { logLevel: 'loud' },
      'config: logLevel: expected one of trace, debug, info, warn, error, fatal, silent, got "loud"',
    ],
    ['empty data dir', { dataDir: '' }, 'config: dataDir: expected a directory path, got ""'],
    [
      'negative limit',
      { limits: { maxConnections: 0 } },
      'config: limits.maxConnections: expected an integer 1-',
    ],
    [
      'string number',
      { limits: { heartbeat: { sendMs: '10' } } },
      'config: limits.heartbeat.sendMs: expected milliseconds 0-3600000, got "10"',
    ],
    [
      'future protocol on',
      { listeners: { amqp: 5672 } },
      'config: listeners.amqp: this protocol is not available yet',
    ],
    [
      'boolean',
      { core: { deadLetterNonPersistent: 'yes' } },
      'config: core.deadLetterNonPersistent: expected true or false, got "yes"',
    ],
    [
      'dlq without name',
      { core: { deadLetterAddress: 'queue://DLQ' } },
      'config: core.deadLetterAddress: expected a queue:// address containing {name}',
    ],
    [
      'expiry policy',
      { core: { expiredMessages: 'keep' } },
      'config: core.expiredMessages: expected one of drop, dlq, got "keep"',
    ],
    [
      'override unknown key',
      { core: { overrides: [{ match: 'queue://a', policy: { maxRedeliveries: 1, x: 1 } }] } },
      'config: core.overrides[0].policy.x: unknown key',
    ],
    [
      'override bad value',
      { core: { overrides: [{ match: 'queue://a', policy: { maxRedeliveries: -2 } }] } },
      'config: core.overrides[0].policy.maxRedeliveries: expected a count (-1 = no limit) -1-',
    ],
    [
      'override missing match',
      { core: { overrides: [{ policy: {} }] } },
      'config: core.overrides[0].match: missing required key',
    ],
    ['acl not a list', { security: { acl: {} } }, 'config: security.acl: expected a list, got an object'],
    [
      'acl bad pattern',
      { security: { acl: [{ pattern: 'queue://a*', users: ['u'], permissions: ['read'] }] } },
      'config: security.acl[0].pattern: bad address pattern "queue://a*": wildcards',
    ],
    [
      'acl bad kind',
      { security: { acl: [{ pattern: 'q://a', users: ['u'], permissions: ['read'] }] } },
      'config: security.acl[0].pattern: bad address pattern "q://a": unknown address kind "q"',
    ],
    [
      'acl bad permission',
      { security: { acl: [{ pattern: '>', users: ['u'], permissions: ['delete'] }] } },
      'config: security.acl[0].permissions[0]: expected one of read, write, admin, got "delete"',
    ],
    [
      'acl without subject',
      { security: { acl: [{ pattern: '>', permissions: ['read'] }] } },
      'config: security.acl[0]: a rule needs "users" or "groups"',
    ],
    [
      'acl missing permissions',
      { security: { acl: [{ pattern: '>', users: ['u'] }] } },
      'config: security.acl[0].permissions: missing required key',
    ],
    ['host not a string', { host: 7 }, 'config: host: expected a host name or IP address, got 7'],
  ])('%s', (_name, doc, expected) => {
    expect(configMessage(() => parseConfig(doc))).toContain(expected);
  });

  it('truncates long offending values to keep one short line', () => {
    const message = configMessage(() => parseConfig({ logLevel: 'x'.repeat(500) }));
    expect(message.length).toBeLessThan(200);
  });
});

describe('files and flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'blazemq-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads YAML and JSON', async () => {
    const yaml = join(dir, 'c.yaml');
    writeFileSync(yaml, '# comment\nlisteners:\n  stomp: off\ncore:\n  maxRedeliveries: 2\n');
    const c = await loadConfig({ file: yaml });
    expect(c.listeners.stomp).toBe('off');
    expect(c.core.maxRedeliveries).toBe(2);
    const json = join(dir, 'c.json');
    writeFileSync(json, JSON.stringify({ host: '10.0.0.1' }));
    expect((await loadConfig({ file: json })).host).toBe('10.0.0.1');
  });

  it('treats an empty YAML file as all defaults', async () => {
    const f = join(dir, 'empty.yml');
    writeFileSync(f, '');
    expect(await loadConfig({ file: f })).toEqual(defaultConfig());
  });

  it('reports unreadable and unparsable files on one line', async () => {
    await expect(loadConfig({ file: join(dir, 'missing.yaml') })).rejects.toThrow(
      /^config: .*missing\.yaml: cannot read: ENOENT$/,
    );
    expect(configMessage(() => parseConfigText('{"a":', 'x.json'))).toMatch(
      /^config: x\.json: cannot parse: /,
    );
    expect(configMessage(() => parseConfigText('a: [1\nb: {', 'x.yaml'))).toMatch(
      /^config: x\.yaml: cannot parse: /,
    );
  });

  it('lets flags override the file and validates them by flag name', async () => {
    const f = join(dir, 'flags.yaml');
    writeFileSync(f, 'listeners: {stomp: 1234, http: 4321}\nlogLevel: debug\n');
    const c = await loadConfig({
      file: f,
      flags: { stomp: '0', http: 'off', logLevel: 'warn', data: '/tmp/x', host: '::' },
    });
    expect(c.listeners).toMatchObject({ stomp: 0, http: 'off' });
    expect(c.logLevel).toBe('warn');
    expect(c.dataDir).toBe('/tmp/x');
    expect(c.host).toBe('::');
    expect(configMessage(() => applyFlags(defaultConfig(), { stomp: 'abc' }))).toBe(
      'config: --stomp: expected a port number 0-65535 or "off", got "abc"',
    );
    expect(configMessage(() => applyFlags(defaultConfig(), { http: '99999' }))).toBe(
      'config: --http: expected a port number 0-65535 or "off", got 99999',
    );
    expect(configMessage(() => applyFlags(defaultConfig(), { logLevel: 'verbose' }))).toContain(
      'config: --log-level:',
    );
  });

  it('does not mutate the configuration it overrides', () => {
    const base = defaultConfig();
    applyFlags(base, { stomp: '1' });
    expect(base.listeners.stomp).toBe(61613);
  });
});
