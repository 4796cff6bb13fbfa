// A small MQTT 3.1.1 client for benchmarks: CONNECT, SUBSCRIBE, PUBLISH QoS 0/1 with PUBACK both ways,
// DISCONNECT. Incoming packets are parsed in place, so the client costs little next to the broker.
// (MQTT.js spends more CPU per message than the broker does; it would measure itself.)
import { once } from 'node:events';
import net from 'node:net';

const varint = (n) => {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
};
const utf8 = (s) => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]);
};
const packet = (first, body) => Buffer.concat([Buffer.from([first]), varint(body.length), body]);

export class MqttRaw {
  /** @param {{port:number, host?:string, clientId:string, clean?:boolean}} opts */
  constructor(opts) {
    this.opts = opts;
    this.rest = null;
    this.waiting = new Map();
    /** (buf, payloadStart, payloadEnd, packetId, qos) => void */
    this.onPublish = null;
    /** (packetId) => void */
    this.onPuback = null;
    /** After each received chunk: a place to flush batched acks. */
    this.afterData = null;
    this.out = [];
  }

  async connect() {
    const sock = net.connect({ host: this.opts.host ?? '127.0.0.1', port: this.opts.port });
    sock.setNoDelay(true);
    this.sock = sock;
    sock.on('data', (d) => this.onData(d));
    sock.on('error', (e) => {
      if (!this.closing) throw e;
    });
    await once(sock, 'connect');
    const flags = this.opts.clean === false ? 0 : 0x02;
    const acked = this.expect(2);
    sock.write(
      packet(0x10, Buffer.concat([utf8('MQTT'), Buffer.from([4, flags, 0, 0]), utf8(this.opts.clientId)])),
    );
    const [buf, at] = await acked;
    if (buf[at + 1] !== 0) throw new Error(`CONNACK return code ${buf[at + 1]}`);
  }

  expect(type) {
    return new Promise((resolve) => this.waiting.set(type, resolve));
  }

  async subscribe(filter, qos) {
    const acked = this.expect(9);
    this.sock.write(packet(0x82, Buffer.concat([Buffer.from([0, 1]), utf8(filter), Buffer.from([qos])])));
    const [buf, at] = await acked;
    if (buf[at + 2] === 0x80) throw new Error(`SUBSCRIBE ${filter} refused`);
  }

  /** A PUBLISH template for a fixed topic, QoS and payload size: fill packet id and payload, then send. */
  template(topic, qos, size) {
    const t = utf8(topic);
    const idLen = qos > 0 ? 2 : 0;
    const head = Buffer.concat([Buffer.from([0x30 | (qos << 1)]), varint(t.length + idLen + size), t]);
    const frame = Buffer.alloc(head.length + idLen + size, 0x61);
    head.copy(frame);
    return { frame, idAt: head.length, payloadAt: head.length + idLen };
  }

  /** Queues bytes; written together by flush() (one syscall for many packets). */
  write(bytes) {
    this.out.push(bytes);
  }

  flush() {
    if (this.out.length === 0) return true;
    const chunk = this.out.length === 1 ? this.out[0] : Buffer.concat(this.out);
    this.out = [];
    return this.sock.write(chunk);
  }

  puback(id) {
    this.write(Buffer.from([0x40, 2, id >> 8, id & 255]));
  }

  onData(chunk) {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= 2) {
      let i = off + 1;
      let len = 0;
      let mul = 1;
      let complete = false;
      for (let k = 0; k < 4 && i < buf.length; k++) {
        const b = buf[i++];
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || i + len > buf.length) break;
      const type = buf[off] >> 4;
      if (type === 3) {
        const qos = (buf[off] >> 1) & 3;
        let p = i + 2 + ((buf[i] << 8) | buf[i + 1]);
        let id = 0;
        if (qos > 0) {
          id = (buf[p] << 8) | buf[p + 1];
          p += 2;
        }
        this.onPublish(buf, p, i + len, id, qos);
      } else if (type === 4) {
        this.onPuback?.((buf[i] << 8) | buf[i + 1]);
      } else {
        const w = this.waiting.get(type);
        if (w) {
          this.waiting.delete(type);
          w([buf, i]);
        }
      }
      off = i + len;
    }
    this.rest = off < buf.length ? Buffer.from(buf.subarray(off)) : null;
    this.afterData?.();
  }

  async disconnect() {
    this.closing = true;
    this.flush();
    this.sock.end(Buffer.from([0xe0, 0]));
    await Promise.race([once(this.sock, 'close'), new Promise((r) => setTimeout(r, 2000))]);
    this.sock.destroy();
  }
}
