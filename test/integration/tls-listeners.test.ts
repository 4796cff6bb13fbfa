/**
 * STOMP and MQTT over TLS (`--stomp-tls`, `--mqtt-tls`) and mutual TLS (`tls.clientCertificates: require`)
 * on the real broker process, with real clients: mosquitto_pub/mosquitto_sub, Debian's stomp.py, MQTT.js
 * over mqtts://, and the native client over tls://. Certificates are made with openssl for the test: a CA,
 * a server certificate and a client certificate it signed, and a self-signed client certificate it did not.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/index.js';
import { type BrokerProcess, startBroker } from './helpers/broker.js';

const run = promisify(execFile);
const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';
const MOSQUITTO_SUB = '/usr/bin/mosquitto_sub';
const PYTHON = '/usr/bin/python3';

let dir: string;
const file = (name: string) => join(dir, name);
let plain: BrokerProcess;
let mutual: BrokerProcess;
let seq = 0;
const unique = (base: string) => `${base}${process.pid}x${++seq}`;

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A key and a certificate for `cn` signed by the test CA (or self-signed with `selfSigned`). */
function certificate(name: string, cn: string, extensions: string | undefined, selfSigned = false): void {
  const key = file(`${name}.key`);
  const crt = file(`${name}.crt`);
  if (selfSigned) {
    openssl(
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '1'].concat([
        '-subj',
        `/CN=${cn}`,
      ]),
    );
    return;
  }
  const csr = file(`${name}.csr`);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`]);
  const ext = file(`${name}.ext`);
  writeFileSync(ext, extensions ?? 'basicConstraints=CA:FALSE\n');
  openssl(
    ['x509', '-req', '-in', csr, '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial'].concat([
      '-out',
      crt,
      '-days',
      '1',
      '-extfile',
      ext,
    ]),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'blazemq-tls-listeners-'));
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.crt'),
    ].concat(['-days', '1', '-subj', '/CN=BlazeMQ test CA']),
  );
  certificate(
    'server',
    'localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n',
  );
  certificate('client', 'alice', undefined);
  certificate('rogue', 'mallory', undefined, true);
  const tls = { cert: file('server.crt'), key: file('server.key') };
  writeFileSync(file('plain.json'), JSON.stringify({ tls }));
  writeFileSync(
    file('mutual.json'),
    JSON.stringify({ tls: { ...tls, ca: file('ca.crt'), clientCertificates: 'require' } }),
  );
  [plain, mutual] = await Promise.all([
    startBroker({ args: ['--config', file('plain.json'), '--stomp-tls', '0', '--mqtt-tls', '0'] }),
    startBroker({ args: ['--config', file('mutual.json'), '--mqtt-tls', '0', '--native-tls', '0'] }),
  ]);
});

afterAll(async () => {
  const codes = await Promise.all([plain?.stop(), mutual?.stop()]);
  rmSync(dir, { recursive: true, force: true });
  expect(codes).toEqual([0, 0]);
});

/**
 * mosquitto_pub a retained message to `topic`, then mosquitto_sub takes it (retained, so no race with the
 * subscription), both with the TLS options `extra`; resolves with what mosquitto_sub printed.
 */
async function pubThenSub(port: number, topic: string, text: string, extra: string[]): Promise<string> {
  const common = ['-h', 'localhost', '-p', String(port), '-t', topic, '-q', '1', ...extra];
  await run(MOSQUITTO_PUB, [...common, '-m', text, '-r']);
  const { stdout } = await run(MOSQUITTO_SUB, [...common, '-C', '1', '-W', '10']);
  return stdout.trim();
}

describe.skipIf(!existsSync(MOSQUITTO_PUB))('TLS listeners', () => {
  it('MQTT over TLS: mosquitto_pub to mosquitto_sub, trusting the CA', async () => {
    expect(plain.mqttTls).toBeGreaterThan(0);
    const topic = unique('tls/mqtt/');
    const ca = ['--cafile', file('ca.crt')];
    expect(await pubThenSub(plain.mqttTls!, topic, 'over tls', ca)).toBe('over tls');
  });

  it('STOMP over TLS with stomp.py reaches an MQTT.js subscriber over mqtts://', async () => {
    expect(plain.stompTls).toBeGreaterThan(0);
    const name = unique('tls.cross.');
    const sub = await mqtt.connectAsync(`mqtts://localhost:${plain.mqttTls}`, {
      ca: readFileSync(file('ca.crt')),
      reconnectPeriod: 0,
    });
    try {
      const received = new Promise<string>((resolve) => sub.on('message', (_t, p) => resolve(p.toString())));
      await sub.subscribeAsync(name.replaceAll('.', '/'), { qos: 1 });
      const script = [
        'import ssl, stomp, sys',
        'port = int(sys.argv[1])',
        "c = stomp.Connection([('localhost', port)])",
        "c.set_ssl(for_hosts=[('localhost', port)], ca_certs=sys.argv[2], ssl_version=ssl.PROTOCOL_TLS_CLIENT)",
        'c.connect(wait=True)',
        "c.send('/topic/' + sys.argv[3], 'from stomp over tls', receipt='r1')",
        'c.disconnect()',
      ].join('\n');
      // Bounded below the test's timeout, so a failure says which side stopped (with stomp.py's output).
      await run(PYTHON, ['-c', script, String(plain.stompTls), file('ca.crt'), name], { timeout: 15_000 });
      const late = new Promise<string>((_, reject) =>
        setTimeout(
          () => reject(new Error('stomp.py sent, the MQTT subscriber got nothing in 10 s')),
          10_000,
        ).unref(),
      );
      expect(await Promise.race([received, late])).toBe('from stomp over tls');
    } finally {
      await sub.endAsync(true);
    }
  });

  it('a client that does not speak TLS gets nothing from a TLS port', async () => {
    // mosquitto_pub without --cafile talks plain MQTT: the handshake fails and it exits non-zero.
    await expect(
      run(MOSQUITTO_PUB, ['-h', 'localhost', '-p', String(plain.mqttTls), '-t', 'x', '-m', 'x', '-q', '1']),
    ).rejects.toThrow();
  });
});

describe.skipIf(!existsSync(MOSQUITTO_PUB))('mutual TLS (tls.clientCertificates: require)', () => {
  const ca = () => ['--cafile', file('ca.crt')];
  const asAlice = () => [...ca(), '--cert', file('client.crt'), '--key', file('client.key')];

  it('takes a client certificate signed by tls.ca', async () => {
    const topic = unique('mtls/');
    expect(await pubThenSub(mutual.mqttTls!, topic, 'mutual', asAlice())).toBe('mutual');
  });

  it('refuses a client without a certificate, or with one the CA did not sign', async () => {
    const pub = (extra: string[]) =>
      run(MOSQUITTO_PUB, [
        '-h',
        'localhost',
        '-p',
        String(mutual.mqttTls),
        '-t',
        'x',
        '-m',
        'x',
        '-q',
        '1',
        ...extra,
      ]);
    await expect(pub(ca())).rejects.toThrow();
    await expect(pub([...ca(), '--cert', file('rogue.crt'), '--key', file('rogue.key')])).rejects.toThrow();
  });

  it('the native client connects over tls:// with its certificate, and not without', async () => {
    const url = `tls://localhost:${mutual.nativeTls}`;
    const tls = { ca: readFileSync(file('ca.crt'), 'utf8') };
    const c = await connect(url, {
      tls: {
        ...tls,
        cert: readFileSync(file('client.crt'), 'utf8'),
        key: readFileSync(file('client.key'), 'utf8'),
      },
    });
    try {
      const q = `queue://${unique('mtls.native.')}`;
      await c.publish(q, 'mutual native');
      expect((await c.subscribe(q).receive({ timeout: 5000 }))?.text()).toBe('mutual native');
    } finally {
      await c.close();
    }
    await expect(connect(url, { tls, connectTimeout: 5000 })).rejects.toThrow();
  });

  it('refuses to start with clientCertificates: require and no tls.ca', async () => {
    writeFileSync(
      file('no-ca.json'),
      JSON.stringify({
        tls: { cert: file('server.crt'), key: file('server.key'), clientCertificates: 'require' },
      }),
    );
    await expect(startBroker({ args: ['--config', file('no-ca.json'), '--mqtt-tls', '0'] })).rejects.toThrow(
      /tls\.clientCertificates: require needs tls\.ca/,
    );
  });
});
