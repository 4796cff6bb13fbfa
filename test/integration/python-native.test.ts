/**
 * Cross-language proof (issue 6): a Python client generated from proto/blaze/v1/native.proto by Debian's
 * protoc, running on python3-protobuf (examples/python/), publishes and consumes against a real broker
 * process, and interoperates with the TypeScript client and with STOMP.
 *
 * The Python code is generated here, into a temporary directory, by the same protoc command the module
 * runs on its own (generated code is not committed, so it cannot be stale).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, utimesSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BlazeClient, connect } from '../../src/client/index.js';
import { loadProto } from '../../src/util/proto.js';
import { type BrokerProcess, ROOT, startBroker } from './helpers/broker.js';
import { encodeRaw } from './helpers/native-raw.js';
import { connectStomp, sendWithReceipt, subscribe } from './helpers/stomp.js';

const run = promisify(execFile);
const Frame = loadProto('blaze/v1/native.proto').lookupType('blaze.v1.Frame');
// Debian's interpreter: apt puts python3-protobuf there (a pyenv python3 may shadow it on PATH).
const PYTHON = '/usr/bin/python3';
const EXAMPLES = join(ROOT, 'examples/python');
const PROTOC = '/usr/bin/protoc';

function pythonReady(): boolean {
  if (!existsSync(PYTHON) || !existsSync(PROTOC)) return false;
  try {
    execFileSync(PYTHON, ['-c', 'import google.protobuf'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let pbDir: string;
let broker: BrokerProcess;
const clients: BlazeClient[] = [];

interface PyResult {
  code: number;
  lines: Array<Record<string, unknown>>;
  stderr: string;
}

/** Runs a Python script (a file in examples/python or `-c` code) and parses its JSON lines. */
async function python(args: string[], timeoutMs = 15_000): Promise<PyResult> {
  const env = { ...process.env, BLAZEMQ_PB_PATH: pbDir, PYTHONPATH: EXAMPLES, PYTHONDONTWRITEBYTECODE: '1' };
  let stdout: string;
  let stderr: string;
  let code = 0;
  try {
    ({ stdout, stderr } = await run(PYTHON, args, { env, timeout: timeoutMs, cwd: EXAMPLES }));
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number };
    stdout = err.stdout ?? '';
    stderr = err.stderr ?? '';
    code = typeof err.code === 'number' ? err.code : -1;
  }
  const lines = stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, lines, stderr };
}

const port = () => String(broker.native);
let seq = 0;
const unique = (base: string) => `${base}.${process.pid}.${++seq}`;

async function nodeClient(): Promise<BlazeClient> {
  const c = await connect(`tcp://127.0.0.1:${broker.native}`, { heartbeatMs: 0 });
  clients.push(c);
  return c;
}

const ready = pythonReady();

// Generated once for the file, as the module itself would: same protoc, same .proto.
beforeAll(() => {
  if (!ready) return;
  pbDir = mkdtempSync(join(tmpdir(), 'blazemq-pb-'));
  execFileSync(PROTOC, [
    `--proto_path=${join(ROOT, 'proto')}`,
    `--python_out=${pbDir}`,
    'blaze/v1/native.proto',
  ]);
  expect(existsSync(join(pbDir, 'blaze/v1/native_pb2.py'))).toBe(true);
});
afterAll(() => {
  if (pbDir) rmSync(pbDir, { recursive: true, force: true });
});

describe.skipIf(!ready)('Python native client (examples/python) against the broker', () => {
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    if (broker) expect(await broker.stop()).toBe(0);
  });

  it('Python publishes, Python consumes: bodies, typed properties and headers round-trip', async () => {
    const q = `queue://${unique('py.roundtrip')}`;
    const pub = await python([
      'publish.py',
      q,
      'hello {i} — ünïcode',
      '--port',
      port(),
      '--count',
      '3',
      '--persistent',
      '--priority',
      '7',
      '--correlation-id',
      'corr-1',
      '--property',
      'region=eu',
      '--property',
      'qty=42',
      '--property',
      'price=9.75',
      '--property',
      'rush=true',
      '--property',
      'none=null',
      '--property',
      'big=9007199254740991',
      '--property',
      'neg=-5',
      '--property',
      'text=s:123',
    ]);
    expect(pub.code, pub.stderr).toBe(0);
    expect(pub.lines).toHaveLength(3);

    const sub = await python(['consume.py', q, '--port', port(), '--count', '3', '--timeout', '5']);
    expect(sub.code, sub.stderr).toBe(0);
    expect(sub.lines.map((l) => l.body)).toEqual([0, 1, 2].map((i) => `hello ${i} — ünïcode`));
    sub.lines.forEach((l, i) => {
      expect(l).toMatchObject({
        address: q,
        persistent: true,
        priority: 7,
        correlation_id: 'corr-1',
        content_type: 'text/plain; charset=utf-8',
        redelivered: false,
        delivery_count: 1,
      });
      expect(l.properties).toEqual({
        region: 'eu',
        qty: 42,
        price: 9.75,
        rush: true,
        none: null,
        big: 9007199254740991,
        neg: -5,
        text: '123',
        seq: i,
      });
      expect(l.id).toMatch(/\S/);
    });
    // Acked by consume.py: nothing is left.
    const rest = await python(['consume.py', q, '--port', port(), '--count', '1', '--timeout', '0.3']);
    expect(rest).toMatchObject({ code: 3, lines: [] });
  });

  it('SendBatch from Python arrives complete and in order', async () => {
    const q = `queue://${unique('py.batch')}`;
    const pub = await python(['publish.py', q, 'b{i}', '--port', port(), '--count', '20', '--batch']);
    expect(pub.code, pub.stderr).toBe(0);
    const c = await nodeClient();
    const sub = c.subscribe(q, { prefetch: 50 });
    const got: string[] = [];
    for await (const m of sub) {
      got.push(m.text());
      await m.ack();
      if (got.length === 20) break;
    }
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `b${i}`));
  });

  it('Python publish -> TypeScript client: property types survive', async () => {
    const q = `queue://${unique('py.to.ts')}`;
    const c = await nodeClient();
    const sub = c.subscribe(q);
    await sub.ready;
    const pub = await python([
      'publish.py',
      q,
      'from python',
      '--port',
      port(),
      '--reply-to',
      'queue://answers',
      '--property',
      'n=3',
      '--property',
      'f=2.5',
      '--property',
      'ok=false',
      '--property',
      's=x',
    ]);
    expect(pub.code, pub.stderr).toBe(0);
    const m = (await sub.receive({ timeout: 5000 }))!;
    expect(m.text()).toBe('from python');
    expect(m.properties).toEqual({ n: 3, f: 2.5, ok: false, s: 'x', seq: 0 });
    expect(m).toMatchObject({ address: q, replyTo: 'queue://answers', persistent: false, priority: 4 });
    await m.ack();
  });

  it('TypeScript client -> Python consumer: binary body, properties, priority and correlation id', async () => {
    const q = `queue://${unique('ts.to.py')}`;
    const c = await nodeClient();
    const binary = new Uint8Array([0, 1, 2, 0xff, 0xfe, 0x80]);
    await c.publish(q, binary, {
      persistent: true,
      priority: 2,
      correlationId: 'ts-1',
      properties: { i: -7, d: 0.125, b: true, s: 'naïve', z: null },
    });
    const sub = await python(['consume.py', q, '--port', port(), '--count', '1']);
    expect(sub.code, sub.stderr).toBe(0);
    expect(sub.lines[0]).toMatchObject({
      address: q,
      persistent: true,
      priority: 2,
      correlation_id: 'ts-1',
      body_base64: Buffer.from(binary).toString('base64'),
      properties: { i: -7, d: 0.125, b: true, s: 'naïve', z: null },
    });
  });

  it('cross-protocol: Python native publish -> STOMP subscriber, STOMP send -> Python consumer', async () => {
    const name = unique('py.stomp');
    const stomp = await connectStomp(broker.stomp);
    try {
      const inbox = subscribe(stomp, `/queue/${name}`);
      // A receipt for SUBSCRIBE is not needed: a queue keeps the message until a consumer comes.
      const pub = await python([
        'publish.py',
        `queue://${name}`,
        'native to stomp',
        '--port',
        port(),
        '--persistent',
        '--correlation-id',
        'c-9',
        '--property',
        'region=eu',
        '--property',
        'n=5',
      ]);
      expect(pub.code, pub.stderr).toBe(0);
      const [m] = await inbox.waitFor(1);
      expect(m!.body).toBe('native to stomp');
      expect(m!.headers).toMatchObject({
        destination: `/queue/${name}`,
        persistent: 'true',
        'correlation-id': 'c-9',
        region: 'eu',
        n: '5',
      });
      inbox.unsubscribe();

      const back = unique('stomp.py');
      await sendWithReceipt(stomp, `/queue/${back}`, 'stomp to native', { priority: '8', color: 'red' });
      const sub = await python(['consume.py', `queue://${back}`, '--port', port(), '--count', '1']);
      expect(sub.code, sub.stderr).toBe(0);
      expect(sub.lines[0]).toMatchObject({
        body: 'stomp to native',
        priority: 8,
        properties: { color: 'red' },
      });
    } finally {
      await stomp.deactivate();
    }
  });

  it('credit: the broker sends no more than the window; taking messages grants more', async () => {
    const q = `queue://${unique('py.credit')}`;
    const c = await nodeClient();
    await c.publishBatch(Array.from({ length: 12 }, (_, i) => ({ address: q, body: `${i}` })));
    const code = `
import json
from blazemq_native import connect
conn = connect(port=${broker.native})
sub = conn.subscribe(${JSON.stringify(q)}, credit=4)
conn.poll(0.3)
before = sub.buffered
taken = [sub.receive(timeout=2).text() for _ in range(2)]
conn.poll(0.3)
after = sub.buffered
rest = []
while True:
    m = sub.receive(timeout=0.5)
    if m is None:
        break
    rest.append(m.text())
    m.ack()
print(json.dumps({"before": before, "taken": taken, "after": after, "total": len(taken) + len(rest)}))
conn.close()
`;
    const r = await python(['-c', code]);
    expect(r.code, r.stderr).toBe(0);
    // 4 of credit: 4 buffered; taking 2 grants 1 each (a quarter of 4), so 4 again, never more.
    expect(r.lines[0]).toEqual({ before: 4, taken: ['0', '1'], after: 4, total: 12 });
  });

  it('a topic subscriber in Python receives what the TypeScript client publishes', async () => {
    const t = `topic://${unique('py.topic')}`;
    const ready = join(pbDir, `${seq}.ready`);
    const consumer = python(['consume.py', t, '--port', port(), '--count', '2', '--ready-file', ready]);
    for (let i = 0; i < 200 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 25));
    expect(existsSync(ready)).toBe(true);
    const c = await nodeClient();
    await c.publish(t, 'one');
    await c.publish(t, 'two', { properties: { last: true } });
    const r = await consumer;
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines.map((l) => l.body)).toEqual(['one', 'two']);
    expect(r.lines[1]!.properties).toEqual({ last: true });
  });

  it('the module generates its protobuf code when missing, and again when older than the .proto', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blazemq-pb-auto-'));
    try {
      const generated = join(dir, 'blaze/v1/native_pb2.py');
      const env = {
        ...process.env,
        BLAZEMQ_PB_PATH: dir,
        PYTHONPATH: EXAMPLES,
        PYTHONDONTWRITEBYTECODE: '1',
      };
      const load = () =>
        run(PYTHON, ['-c', 'import blazemq_native; print(blazemq_native.pb.Frame.DESCRIPTOR.full_name)'], {
          env,
        });
      expect((await load()).stdout.trim()).toBe('blaze.v1.Frame');
      expect(existsSync(generated)).toBe(true);
      utimesSync(generated, 0, 0); // older than the .proto: stale
      await load();
      expect(statSync(generated).mtimeMs).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('broker errors reach Python with their stable code', async () => {
    const r = await python(['publish.py', 'not an address', 'x', '--port', port()]);
    expect(r.code).toBe(1);
    expect(r.lines[0]).toMatchObject({ error: 'INVALID_ADDRESS' });
    const bad = await python(['consume.py', 'queue://x', '--port', port(), '--selector', "color = = 'x'"]);
    expect(bad.code).toBe(1);
    expect(bad.lines[0]).toMatchObject({ error: 'INVALID_SELECTOR' });
  });
});

/**
 * The Python reader against a scripted peer instead of the broker: byte-at-a-time frames, several frames
 * in one chunk, fields and frame kinds it does not know (a newer broker), and a length over its limit.
 */
describe.skipIf(!ready)('Python native client framing (scripted peer)', () => {
  let server: Server;
  let script: (socket: Socket, requestIds: number[]) => void;

  beforeAll(async () => {
    server = createServer((socket) => {
      // Request ids of the client's frames, in order: enough for a script that answers in order.
      let buf = Buffer.alloc(0);
      const ids: number[] = [];
      socket.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
          const frame = buf.subarray(4, 4 + buf.readUInt32BE(0));
          buf = buf.subarray(4 + frame.length);
          ids.push(requestIdOf(frame));
          script(socket, ids);
        }
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  const serverPort = () => (server.address() as { port: number }).port;

  /** Writes `bytes` one byte per event-loop turn: the reader must reassemble frames from any chunking. */
  async function dribble(socket: Socket, bytes: Buffer): Promise<void> {
    for (const b of bytes) {
      socket.write(Buffer.of(b));
      await new Promise((r) => setImmediate(r));
    }
  }

  // Field 99 (varint 1) is unknown to this .proto: a newer peer may send it, alone or next to a known kind.
  const unknownField = Buffer.from([0x98, 0x06, 0x01]);
  function withUnknown(frame: Buffer): Buffer {
    const body = Buffer.concat([frame.subarray(4), unknownField]);
    const out = Buffer.alloc(4);
    out.writeUInt32BE(body.length, 0);
    return Buffer.concat([out, body]);
  }

  it('reassembles split and coalesced frames and ignores what it does not know', async () => {
    script = (socket, ids) => {
      const rid = ids[ids.length - 1]!;
      if (ids.length === 1) {
        void dribble(
          socket,
          Buffer.concat([
            withUnknown(encodeRaw('connected', { request_id: rid, version: 1, server: 'scripted' })),
            Buffer.from([0, 0, 0, 3, ...unknownField]), // a frame kind from the future: skipped
          ]),
        );
      } else if (ids.length === 2) {
        const delivery = (tag: number) => ({
          subscription_id: 1,
          tag,
          delivery_count: 1,
          message: {
            address: 'queue://s',
            body: Buffer.from(`m${tag}`),
            properties: { k: { int_value: tag } },
          },
        });
        // Subscribed and a Deliver of three in one write, then a heartbeat split across writes.
        socket.write(
          Buffer.concat([
            encodeRaw('subscribed', { request_id: rid, subscription_id: 1 }),
            withUnknown(encodeRaw('deliver', { deliveries: [1, 2, 3].map(delivery) })),
          ]),
        );
        void dribble(socket, encodeRaw('heartbeat', {}));
      }
    };
    const code = `
import json
from blazemq_native import connect
conn = connect(port=${serverPort()}, timeout=5)
sub = conn.subscribe('queue://s', credit=10, ack_mode='auto')
got = [(m.text(), m.properties, m.priority) for m in (sub.receive(timeout=2) for _ in range(3))]
print(json.dumps({"server": conn.server, "got": got}))
`;
    const r = await python(['-c', code]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines[0]).toEqual({
      server: 'scripted',
      got: [1, 2, 3].map((i) => [`m${i}`, { k: i }, 4]),
    });
  });

  it('refuses a frame longer than its limit before buffering it', async () => {
    script = (socket, ids) => {
      if (ids.length !== 1) return;
      socket.write(encodeRaw('connected', { request_id: ids[0], version: 1 }));
      socket.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0]));
    };
    const code = `
import json
from blazemq_native import BlazeMQError, connect
conn = connect(port=${serverPort()}, timeout=5, max_frame_size=1024)
try:
    conn.poll(2)
    print(json.dumps({"error": None}))
except BlazeMQError as e:
    print(json.dumps({"error": e.code, "closed": conn._closed}))
`;
    const r = await python(['-c', code]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines[0]).toEqual({ error: 'PROTOCOL', closed: true });
  });
});

/** The request id of a client frame (0 when it has none), decoded with the same .proto. */
function requestIdOf(frame: Buffer): number {
  const decoded = Frame.toObject(Frame.decode(frame)) as Record<string, { request_id?: number }>;
  const inner = Object.values(decoded)[0];
  return inner?.request_id ?? 0;
}
