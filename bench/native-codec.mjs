#!/usr/bin/env node
// Micro-bench behind the native codec's hand-written hot frames (docs/NATIVE.md "Codec"): decode of a
// Send and encode of a Deliver of N deliveries, hand-written vs protobufjs reflection, 128 B and 1 KiB.
//   node --import tsx bench/native-codec.mjs      (runs the TypeScript sources)
import protobuf from 'protobufjs';
import { DeliverBuilder, decodeFrame } from '../src/protocol/native/codec/index.ts';
import { loadProto } from '../src/util/proto.ts';

const Frame = loadProto('blaze/v1/native.proto').lookupType('blaze.v1.Frame');
void protobuf;

function time(label, n, fn) {
  fn(Math.min(n, 20_000));
  const t0 = process.cpuUsage();
  fn(n);
  const t = process.cpuUsage(t0);
  const s = (t.user + t.system) / 1e6;
  console.log(
    `${label.padEnd(48)} ${Math.round(n / s)
      .toLocaleString('en-US')
      .padStart(12)} ops/CPU-s`,
  );
}

for (const size of [128, 1024]) {
  const body = Buffer.alloc(size, 7);
  const send = Frame.encode({
    send: {
      request_id: 12,
      message: { address: 'queue://bench', body, persistent: false, properties: { k: { int_value: 3 } } },
      producer_id: 'p-0123456789',
      sequence: 123456,
    },
  }).finish();
  const N = 300_000;
  time(`decode Send ${size} B, hand-written`, N, (n) => {
    for (let i = 0; i < n; i++) decodeFrame(send);
  });
  time(`decode Send ${size} B, protobufjs decode+toObject`, N, (n) => {
    for (let i = 0; i < n; i++)
      Frame.toObject(Frame.decode(send), { longs: Number, defaults: true, oneofs: true });
  });
  time(`decode Send ${size} B, protobufjs decode only`, N, (n) => {
    for (let i = 0; i < n; i++) Frame.decode(send);
  });
  const message = {
    id: 'ID:abcdef12:123456',
    address: 'queue://bench',
    body,
    properties: { k: 3 },
    persistent: false,
    priority: 4,
    expiration: 0,
    timestamp: 1_763_000_000_000,
  };
  const B = 100;
  time(`encode Deliver x${B} ${size} B, hand-written (per delivery)`, N, (n) => {
    const b = new DeliverBuilder();
    for (let i = 0; i < n; i++) {
      b.add(1, i + 1, { ...message }, false, 1);
      if (b.count === B) b.finish();
    }
  });
  time(`encode Deliver x${B} ${size} B, protobufjs (per delivery)`, N, (n) => {
    let batch = [];
    for (let i = 0; i < n; i++) {
      batch.push({
        subscription_id: 1,
        tag: i + 1,
        message: {
          id: message.id,
          address: message.address,
          body,
          timestamp: message.timestamp,
          properties: { k: { int_value: 3 } },
        },
        delivery_count: 1,
      });
      if (batch.length === B) {
        Frame.encode({ deliver: { deliveries: batch } }).finish();
        batch = [];
      }
    }
  });
}
