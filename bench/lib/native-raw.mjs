// Minimal native-protocol client for the benchmarks (not the client library): cold frames encoded and
// decoded with protobufjs, the hot ones (Send, Deliver, Ack, Credit) by hand so that the client side is
// not what a benchmark measures. Payload layout as in stomp-worker.mjs: [0..3] sequence, [8..15] send time.
import { connect } from 'node:net';
import protobuf from 'protobufjs';
// The broker's own varint helpers (the built dist/, which every bench runs against).
import { varintSize, writeVarint } from '../../dist/util/protobuf-wire.js';

const root = new protobuf.Root();
root.loadSync(new URL('../../proto/blaze/v1/native.proto', import.meta.url).pathname, { keepCase: true });
export const Frame = root.lookupType('blaze.v1.Frame');

export function encode(kind, value) {
  const body = Frame.encode(Frame.fromObject({ [kind]: value })).finish();
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}

// Varint reader with the position in a module variable: no array allocated per field.
let at = 0;
function varint(buf) {
  let v = 0;
  let mul = 1;
  for (;;) {
    const c = buf[at++];
    v += (c & 0x7f) * mul;
    if (c < 0x80) return v;
    mul *= 128;
  }
}

function putVarint(arr, v) {
  while (v >= 0x80) {
    arr.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  arr.push(v);
}

/**
 * One buffer holding Ack{subscription_id, tags (packed)} (Frame.ack = 25) and, when `credit` > 0,
 * Credit{subscription_id, credit} (Frame.credit = 23): one socket write per read for the consumer, written
 * in place (the consumer's own cost is not what the benchmark measures). Tags are below 2^32.
 */
export function ackCreditFrames(sub, tags, count, credit) {
  let packed = 0;
  for (let i = 0; i < count; i++) packed += varintSize(tags[i]);
  const ackInner = count > 0 ? 1 + varintSize(sub) + 1 + varintSize(packed) + packed : 0;
  const ackBody = count > 0 ? 2 + varintSize(ackInner) + ackInner : 0;
  const creditInner = credit > 0 ? 1 + varintSize(sub) + 1 + varintSize(credit) : 0;
  const creditBody = credit > 0 ? 2 + varintSize(creditInner) + creditInner : 0;
  const out = Buffer.allocUnsafe((ackBody > 0 ? 4 + ackBody : 0) + (creditBody > 0 ? 4 + creditBody : 0));
  let p = 0;
  if (ackBody > 0) {
    out.writeUInt32BE(ackBody, p);
    p += 4;
    out[p++] = 0xca;
    out[p++] = 0x01;
    p = writeVarint(out, p, ackInner);
    out[p++] = 0x10;
    p = writeVarint(out, p, sub);
    out[p++] = 0x1a;
    p = writeVarint(out, p, packed);
    for (let i = 0; i < count; i++) p = writeVarint(out, p, tags[i]);
  }
  if (creditBody > 0) {
    out.writeUInt32BE(creditBody, p);
    p += 4;
    out[p++] = 0xba;
    out[p++] = 0x01;
    p = writeVarint(out, p, creditInner);
    out[p++] = 0x08;
    p = writeVarint(out, p, sub);
    out[p++] = 0x10;
    p = writeVarint(out, p, credit);
  }
  return out;
}

export class NativeRaw {
  constructor({ port, host = '127.0.0.1' }) {
    this.port = port;
    this.host = host;
    /** Parts of a frame split across reads, their bytes, and the frame's size once known (-1 before). */
    this.held = [];
    this.heldBytes = 0;
    this.need = -1;
    this.waiters = new Map();
    this.nextId = 1;
    /** (buf, bodyStart, bodyEnd, tag, subscriptionId) for every delivery. */
    this.onDelivery = null;
    this.afterData = null;
    this.onOk = null;
  }

  connect() {
    return new Promise((resolve, reject) => {
      this.sock = connect({ port: this.port, host: this.host }, async () => {
        this.sock.setNoDelay(true);
        resolve(await this.request('connect', { versions: [1] }));
      });
      this.sock.on('error', reject);
      this.sock.on('data', (d) => this.onData(d));
    });
  }

  request(kind, value) {
    const id = this.nextId++;
    this.sock.write(encode(kind, { ...value, request_id: id }));
    return new Promise((resolve) => this.waiters.set(id, resolve));
  }

  write(bytes) {
    return this.sock.write(bytes);
  }

  onData(chunk) {
    let p = 0;
    if (this.heldBytes > 0) {
      // A frame split across reads (Deliver frames carry up to 256 KiB): its parts are kept as they came
      // and joined once, when the last one is here (joining at every read copied it over and over).
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      if (this.need < 0) {
        if (this.heldBytes < 4) return;
        const joined = Buffer.concat(this.held);
        this.held = [joined];
        this.need = 4 + joined.readUInt32BE(0);
      }
      if (this.heldBytes < this.need) return;
      const over = this.heldBytes - this.need;
      this.held[this.held.length - 1] = chunk.subarray(0, chunk.length - over);
      const first = Buffer.concat(this.held, this.need);
      this.held = [];
      this.heldBytes = 0;
      this.need = -1;
      this.frame(first, 4, first.length);
      p = chunk.length - over;
    }
    while (chunk.length - p >= 4) {
      const n = chunk.readUInt32BE(p);
      if (chunk.length - p - 4 < n) break;
      this.frame(chunk, p + 4, p + 4 + n);
      p += 4 + n;
    }
    if (p < chunk.length) {
      const rest = chunk.subarray(p);
      this.held = [rest];
      this.heldBytes = rest.length;
      this.need = rest.length >= 4 ? 4 + rest.readUInt32BE(0) : -1;
    }
    this.afterData?.();
  }

  frame(buf, start, end) {
    // Frame.deliver = field 24 (0xc2 0x01), Frame.ok = field 5 (0x2a).
    if (buf[start] === 0xc2 && buf[start + 1] === 0x01) {
      at = start + 2;
      varint(buf);
      while (at < end) {
        at++; // Delivery (field 1)
        const dEnd = varint(buf) + at;
        let tag = 0;
        let sub = 0;
        let bs = 0;
        let be = 0;
        while (at < dEnd) {
          const key = buf[at++];
          if (key === 0x08) sub = varint(buf);
          else if (key === 0x10) tag = varint(buf);
          else if (key === 0x1a) {
            const mEnd = varint(buf) + at;
            while (at < mEnd) {
              const k = buf[at++];
              const wt = k & 7;
              if (wt === 2) {
                const l = varint(buf);
                if (k === 0x12) {
                  bs = at;
                  be = at + l;
                }
                at += l;
              } else if (wt === 0) varint(buf);
              else if (wt === 1) at += 8;
              else at += 4;
            }
          } else varint(buf);
        }
        const next = at;
        this.onDelivery?.(buf, bs, be, tag, sub);
        at = next;
      }
      return;
    }
    if (buf[start] === 0x2a && this.onOk && this.waiters.size === 0) {
      this.onOk();
      return;
    }
    const msg = Frame.decode(buf.subarray(start, end));
    const value = msg[msg.kind];
    const id = value?.request_id;
    const w = id ? this.waiters.get(id) : undefined;
    if (w) {
      this.waiters.delete(id);
      w({ kind: msg.kind, ...value });
    } else if (msg.kind === 'ok') this.onOk?.();
    else if (msg.kind === 'error') console.error('native error', value);
  }

  async disconnect() {
    await this.request('disconnect', {});
    this.sock.end();
  }
}

/**
 * Builds Send frames by hand: Frame.send (0x52) { request_id (0x08), message (0x12) { address (0x0a),
 * body (0x12), persistent (0x18) } }. `build(seq, requestId)` writes seq and send time into the body.
 * Every frame copies one encoded Message (body filled once) and stamps it: the producer's own CPU shares
 * the machine with the broker it measures.
 */
export function sendBuilder(address, size, persistent, now) {
  const addr = Buffer.from(address);
  const addrHead = [0x0a];
  putVarint(addrHead, addr.length);
  const bodyHead = [0x12];
  putVarint(bodyHead, size);
  const message = Buffer.concat([
    Buffer.from(addrHead),
    addr,
    Buffer.from(bodyHead),
    Buffer.alloc(size, 0x61),
    Buffer.from(persistent ? [0x18, 0x01] : []),
  ]);
  const bodyAt = addrHead.length + addr.length + bodyHead.length;
  /** Copies the Message to `at` with `seq` and the send time in its body. */
  const putMessage = (out, at, seq) => {
    message.copy(out, at);
    out.writeUInt32LE(seq, at + bodyAt);
    out.writeDoubleLE(now(), at + bodyAt + 8);
  };
  /** A Send frame up to its Message: length prefix, Frame.send, request_id, the message's tag and length. */
  const sendHead = (requestId) => {
    const send = [];
    if (requestId) {
      send.push(0x08);
      putVarint(send, requestId);
    }
    send.push(0x12);
    putVarint(send, message.length);
    const head = [0x52];
    putVarint(head, send.length + message.length);
    const prefix = Buffer.allocUnsafe(4);
    prefix.writeUInt32BE(head.length + send.length + message.length, 0);
    return Buffer.concat([prefix, Buffer.from(head), Buffer.from(send)]);
  };
  const fireAndForget = sendHead(0);
  const build = (seq, requestId) => {
    const head = requestId ? sendHead(requestId) : fireAndForget;
    const out = Buffer.allocUnsafe(head.length + message.length);
    head.copy(out, 0);
    putMessage(out, head.length, seq);
    return out;
  };
  /** `n` fire-and-forget Send frames from `seq` on, written straight into one buffer. */
  build.batch = (seq, n) => {
    const len = fireAndForget.length + message.length;
    const out = Buffer.allocUnsafe(n * len);
    for (let i = 0; i < n; i++) {
      fireAndForget.copy(out, i * len);
      putMessage(out, i * len + fireAndForget.length, seq + i);
    }
    return out;
  };
  const itemHead = [0x12];
  putVarint(itemHead, message.length);
  /**
   * `n` messages from `seq` on in ONE SendBatch frame (Frame.send_batch = 0x5a { messages (0x12) ... }),
   * fire-and-forget: the native protocol's batched send.
   */
  build.sendBatch = (seq, n) => {
    const itemLen = itemHead.length + message.length;
    const head = [0x5a];
    putVarint(head, n * itemLen);
    const out = Buffer.allocUnsafe(4 + head.length + n * itemLen);
    out.writeUInt32BE(head.length + n * itemLen, 0);
    let p = 4;
    for (const b of head) out[p++] = b;
    for (let i = 0; i < n; i++) {
      for (const b of itemHead) out[p++] = b;
      putMessage(out, p, seq + i);
      p += message.length;
    }
    return out;
  };
  return build;
}
