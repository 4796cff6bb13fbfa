/**
 * The ActiveMQ-compatible REST messaging API (`/api/message`) of the real broker process, driven with
 * `curl` as scripts do, and across protocols with a TCP STOMP client.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, CLI, startBroker } from './helpers/broker.js';
import { connectStomp, sendWithReceipt, subscribe } from './helpers/stomp.js';

const run = promisify(execFile);

interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One curl call; `-H Expect:` so that a large body gets its final status without a 100 first. */
async function curl(args: string[]): Promise<CurlResult> {
  const { stdout } = await run('curl', ['-s', '-i', '-H', 'Expect:', ...args], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const end = stdout.indexOf('\r\n\r\n');
  const head = stdout.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(head[0]!.split(' ')[1]), headers, body: stdout.slice(end + 4) };
}

let seq = 0;
const unique = (base: string) => `${base}${process.pid}x${++seq}`;

describe('REST messaging without users', () => {
  let broker: BrokerProcess;
  let dir: string;
  let url: (name: string, query?: string) => string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'blazemq-rest-'));
    const config = join(dir, 'blazemq.yaml');
    writeFileSync(config, 'limits:\n  http:\n    maxBodySize: 4096\n    maxReadTimeoutMs: 5000\n');
    broker = await startBroker({ args: ['--config', config] });
    url = (name, query = '') => `http://127.0.0.1:${broker.http}/api/message/${name}?${query}`;
  });
  afterAll(async () => {
    expect(await broker.stop()).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('POST sends, GET oneShot receives it with its properties, then 204 on timeout', async () => {
    const q = unique('orders');
    const sent = await curl([
      '--data-binary',
      'hello',
      '-H',
      'content-type: text/plain',
      '-H',
      'JMSCorrelationID: corr-1',
      url(q, 'type=queue&color=red&JMSPriority=7'),
    ]);
    expect(sent.status).toBe(200);
    expect(JSON.parse(sent.body)).toEqual({ sent: true, address: `queue://${q}` });
    const got = await curl([url(q, 'type=queue&oneShot=true&readTimeout=2000')]);
    expect(got.status).toBe(200);
    expect(got.body).toBe('hello');
    expect(got.headers).toMatchObject({
      destination: `queue://${q}`,
      color: 'red',
      jmspriority: '7',
      jmscorrelationid: 'corr-1',
      'content-type': 'text/plain',
      redelivered: 'false',
    });
    expect(got.headers.id).toBeTruthy();
    const empty = await curl([url(q, 'type=queue&oneShot=true&readTimeout=200')]);
    expect(empty.status).toBe(204);
  });

  it('accepts the ActiveMQ form style: body=... with other fields as properties', async () => {
    const q = unique('form');
    expect((await curl(['-d', 'body=from a form&k=v', url(q, 'type=queue')])).status).toBe(200);
    const got = await curl([url(q, 'type=queue&oneShot=true')]);
    expect(got.body).toBe('from a form');
    expect(got.headers.k).toBe('v');
  });

  it('long-polls: a GET waiting for a message gets one POSTed while it waits', async () => {
    const q = unique('poll');
    const waiting = curl([url(q, 'type=queue&oneShot=true&readTimeout=4000')]);
    await new Promise((r) => setTimeout(r, 300));
    await curl(['--data-binary', 'late', url(q, 'type=queue')]);
    const got = await waiting;
    expect(got.status).toBe(200);
    expect(got.body).toBe('late');
  });

  it('with a clientId, a stream of GETs receives every message once, in order', async () => {
    const q = unique('stream');
    for (let i = 0; i < 15; i++) await curl(['--data-binary', `m${i}`, url(q, 'type=queue')]);
    const bodies: string[] = [];
    for (;;) {
      const r = await curl([url(q, 'type=queue&clientId=reader1&readTimeout=300')]);
      if (r.status === 204) break;
      bodies.push(r.body);
    }
    expect(bodies).toEqual(Array.from({ length: 15 }, (_, i) => `m${i}`));
  });

  it('with a cookie jar, the session cookie keeps one consumer, including on a topic', async () => {
    const t = unique('news');
    const jar = join(dir, `${t}.cookies`);
    // First GET: served one-shot, sets the cookie. Second: creates the topic subscription and waits.
    expect((await curl(['-c', jar, url(t, 'type=topic&readTimeout=50')])).status).toBe(204);
    expect((await curl(['-b', jar, '-c', jar, url(t, 'type=topic&readTimeout=50')])).status).toBe(204);
    for (let i = 0; i < 3; i++) await curl(['--data-binary', `n${i}`, url(t, 'type=topic')]);
    const got: string[] = [];
    for (let i = 0; i < 3; i++)
      got.push((await curl(['-b', jar, url(t, 'type=topic&readTimeout=1000')])).body);
    expect(got).toEqual(['n0', 'n1', 'n2']);
  });

  it('loses nothing when a waiting client gives up, and DELETE returns the held message', async () => {
    const q = unique('gaveup');
    // A client that hangs up while waiting takes nothing with it.
    await run('curl', [
      '-s',
      '--max-time',
      '0.3',
      url(q, 'type=queue&clientId=quitter&readTimeout=4000'),
    ]).catch(() => undefined);
    await curl(['--data-binary', 'a', url(q, 'type=queue')]);
    await curl(['--data-binary', 'b', url(q, 'type=queue')]);
    expect((await curl([url(q, 'type=queue&clientId=quitter&readTimeout=1000')])).body).toBe('a');
    // 'b' is now prefetched by the quitter's consumer; closing the consumer puts it back in the queue.
    expect((await curl(['-X', 'DELETE', url(q, 'type=queue&clientId=quitter')])).status).toBe(200);
    expect((await curl(['-X', 'DELETE', url(q, 'type=queue&clientId=quitter')])).status).toBe(404);
    const other = await curl([url(q, 'type=queue&oneShot=true&readTimeout=1000')]);
    expect(other.body).toBe('b');
  });

  it('crosses protocols both ways with STOMP over TCP', async () => {
    const q = unique('cross');
    const stomp = await connectStomp(broker.stomp);
    const inbox = subscribe(stomp, `/queue/${q}.fromrest`);
    await curl(['--data-binary', 'rest->stomp', url(`${q}.fromrest`, 'type=queue&tag=x1')]);
    const [m] = await inbox.waitFor(1);
    expect(m!.body).toBe('rest->stomp');
    expect(m!.headers.tag).toBe('x1');
    await sendWithReceipt(stomp, `/queue/${q}.fromstomp`, 'stomp->rest', { 'x-app': 'demo' });
    const got = await curl([url(`${q}.fromstomp`, 'type=queue&oneShot=true&readTimeout=2000')]);
    expect(got.body).toBe('stomp->rest');
    expect(got.headers['x-app']).toBe('demo');
    await stomp.deactivate();
  });

  it('answers bad input with 4xx and a JSON error, and accepts nothing then', async () => {
    const q = unique('bad');
    const cases: Array<[string[], number]> = [
      [['--data-binary', 'x', url(q, 'type=exchange')], 400],
      [[url(q, 'type=queue&readTimeout=soon')], 400],
      [['--data-binary', 'x', url(q, 'type=queue&JMSPriority=99')], 400],
      [['--data-binary', 'x', `http://127.0.0.1:${broker.http}/api/message/?type=queue`], 400],
      [['--data-binary', 'x'.repeat(5000), url(q, 'type=queue')], 413],
      [['-X', 'PATCH', url(q, 'type=queue')], 405],
      [['-X', 'DELETE', url(q, 'type=queue')], 400],
    ];
    for (const [args, status] of cases) {
      const r = await curl(args);
      expect(r.status, args.join(' ')).toBe(status);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(typeof JSON.parse(r.body).error).toBe('string');
    }
    // A chunked body over the limit is cut off as it arrives.
    const chunked = await curl([
      '-H',
      'transfer-encoding: chunked',
      '--data-binary',
      'y'.repeat(6000),
      url(q, 'type=queue'),
    ]);
    expect(chunked.status).toBe(413);
    expect((await curl([url(q, 'type=queue&oneShot=true&readTimeout=100')])).status).toBe(204);
  });
});

describe('REST messaging with users and ACLs', () => {
  let broker: BrokerProcess;
  let dir: string;
  let url: (name: string, query?: string) => string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'blazemq-rest-auth-'));
    execFileSync(process.execPath, [CLI, 'user', 'add', 'alice', '--password', 's3cret', '--data', dir]);
    const config = join(dir, 'blazemq.yaml');
    writeFileSync(
      config,
      [
        'security:',
        '  acl:',
        '    - pattern: "queue://public.>"',
        '      users: [alice]',
        '      permissions: [read, write]',
        '',
      ].join('\n'),
    );
    broker = await startBroker({ dataDir: dir, args: ['--config', config, '--host', '127.0.0.1'] });
    url = (name, query = '') => `http://127.0.0.1:${broker.http}/api/message/${name}?${query}`;
  });
  afterAll(async () => {
    expect(await broker.stop()).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('401 with a Basic challenge without or with wrong credentials', async () => {
    const none = await curl(['--data-binary', 'x', url('public.a', 'type=queue')]);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic realm="blazemq"/);
    expect(JSON.parse(none.body).error).toBeTruthy();
    const wrong = await curl(['-u', 'alice:nope', '--data-binary', 'x', url('public.a', 'type=queue')]);
    expect(wrong.status).toBe(401);
    // Server-Sent Events authenticate the same way.
    const stream = `http://127.0.0.1:${broker.http}/v1/stream/public.a?type=queue`;
    expect((await curl([stream])).status).toBe(401);
    const denied = await curl([
      '-u',
      'alice:s3cret',
      `http://127.0.0.1:${broker.http}/v1/stream/private.a?type=queue`,
    ]);
    expect(denied.status).toBe(403);
  });

  it('lets alice use what her rule grants and refuses the rest with 403', async () => {
    const ok = await curl(['-u', 'alice:s3cret', '--data-binary', 'mine', url('public.a', 'type=queue')]);
    expect(ok.status).toBe(200);
    const got = await curl([
      '-u',
      'alice:s3cret',
      url('public.a', 'type=queue&oneShot=true&readTimeout=1000'),
    ]);
    expect(got.body).toBe('mine');
    const denied = await curl(['-u', 'alice:s3cret', '--data-binary', 'x', url('private.a', 'type=queue')]);
    expect(denied.status).toBe(403);
    const deniedRead = await curl(['-u', 'alice:s3cret', url('private.a', 'type=queue&oneShot=true')]);
    expect(deniedRead.status).toBe(403);
  });
});
