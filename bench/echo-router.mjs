#!/usr/bin/env node
// The machine's ceiling for routing length-prefixed frames through one Node process (issue 6): producer
// process -> router -> consumer process over loopback TCP, the router parsing every 4-byte length prefix
// and writing the complete frames of each input chunk to the consumer in one write (the batching rule of
// DEPENDENCIES.md), pausing the producer while the consumer socket is above its high-water mark. No
// protobuf, no broker logic: what bench/native.mjs is compared with.
//   node bench/echo-router.mjs [--size 1024] [--messages 200000]
import { fork } from 'node:child_process';
import { connect, createServer } from 'node:net';

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i].startsWith('--')) args[process.argv[i].slice(2)] = process.argv[i + 1];
}
const role = args.role ?? 'main';

function frameCounter(onFrames) {
  let carry = Buffer.alloc(0);
  return (chunk) => {
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    let p = 0;
    let n = 0;
    while (buf.length - p >= 4) {
      const len = buf.readUInt32BE(p);
      if (buf.length - p - 4 < len) break;
      p += 4 + len;
      n++;
    }
    carry = buf.subarray(p);
    onFrames(buf.subarray(0, p), n);
  };
}

if (role === 'producer') {
  const size = Number(args.size);
  const messages = Number(args.messages);
  const sock = connect({ port: Number(args.port), host: '127.0.0.1' }, async () => {
    sock.setNoDelay(true);
    const frame = Buffer.alloc(4 + size, 0x61);
    frame.writeUInt32BE(size, 0);
    const batch = 64;
    for (let i = 0; i < messages; i += batch) {
      const n = Math.min(batch, messages - i);
      const parts = [];
      for (let k = 0; k < n; k++) parts.push(Buffer.from(frame));
      if (!sock.write(Buffer.concat(parts))) await new Promise((r) => sock.once('drain', r));
      else if ((i / batch) % 4 === 3) await new Promise((r) => setImmediate(r));
    }
  });
  process.on('message', () => process.exit(0));
} else if (role === 'consumer') {
  const messages = Number(args.messages);
  let count = 0;
  let first = 0;
  const sock = connect({ port: Number(args.port), host: '127.0.0.1' });
  sock.on('error', () => {});
  sock.on(
    'data',
    frameCounter((_bytes, n) => {
      if (count === 0) first = performance.timeOrigin + performance.now();
      count += n;
      if (count >= messages) {
        process.send({ first, last: performance.timeOrigin + performance.now() });
        sock.destroy();
      }
    }),
  );
} else {
  const size = Number(args.size ?? 1024);
  const messages = Number(args.messages ?? 200_000);
  const self = new URL(import.meta.url).pathname;
  let consumer;
  let producerProcess;
  const inp = createServer((s) => {
    s.on('error', () => {});
    s.on(
      'data',
      frameCounter((bytes) => {
        if (bytes.length > 0 && !consumer.write(bytes)) {
          s.pause();
          consumer.once('drain', () => s.resume());
        }
      }),
    );
  });
  // The producer starts once the consumer is connected, so that no frame arrives before its route.
  const out = createServer((s) => {
    consumer = s;
    s.setNoDelay(true);
    s.on('error', () => {});
    producerProcess = fork(
      self,
      ['--role', 'producer', '--port', String(inp.address().port)].concat([
        '--size',
        String(size),
        '--messages',
        String(messages),
      ]),
    );
  });
  await new Promise((r) => inp.listen(0, '127.0.0.1', r));
  await new Promise((r) => out.listen(0, '127.0.0.1', r));
  const c = fork(self, [
    '--role',
    'consumer',
    '--port',
    String(out.address().port),
    '--messages',
    String(messages),
  ]);
  c.once('message', (m) => {
    const rate = messages / ((m.last - m.first) / 1000);
    console.log(`echo router, ${size} B frames: ${Math.round(rate).toLocaleString('en')} msgs/s`);
    producerProcess.send('stop');
    process.exit(0);
  });
}
