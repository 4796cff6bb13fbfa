/**
 * Bundle codec: the hand-written writer/decoder (src/group/transport/bundle.ts) against protobufjs on the
 * same blaze.v1.Bundle, for a datagram full of 64 B payloads (22) and one holding a single 1 KiB payload.
 * Run: npx tsx bench/group/codec.ts
 */
import { BundleWriter, decodeBundle, encodeSenderHeader } from '../../src/group/transport/bundle.js';
import { loadProto } from '../../src/util/proto.js';

const Bundle = loadProto('blaze/v1/transport.proto').lookupType('blaze.v1.Bundle');
const sender = '10.77.0.1:40000';
const header = encodeSenderHeader(sender);

function time(label: string, fn: () => void): number {
  for (let i = 0; i < 2000; i++) fn(); // warm up the JIT
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 700) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
  }
  const perSec = (n * 1000) / (performance.now() - t0);
  console.log(`${label.padEnd(44)} ${Math.round(perSec).toLocaleString('en').padStart(12)} datagrams/s`);
  return perSec;
}

for (const [size, count] of [
  [64, 22],
  [1024, 1],
] as const) {
  const payloads = Array.from({ length: count }, () => new Uint8Array(size).fill(7));
  const encoded = (() => {
    const w = new BundleWriter(header, 1472);
    for (const p of payloads) w.add(p);
    return w.take()!;
  })();
  console.log(`\n${count} x ${size} B per datagram (${encoded.length} bytes)`);
  time('encode, hand-written (incremental)', () => {
    const w = new BundleWriter(header, 1472);
    for (const p of payloads) if (w.fits(p.length)) w.add(p);
    w.take();
  });
  time('encode, protobufjs (list first)', () => {
    Bundle.encode({ sender, payloads }).finish();
  });
  time('decode, hand-written', () => {
    decodeBundle(encoded);
  });
  time('decode, protobufjs', () => {
    Bundle.decode(encoded);
  });
}
