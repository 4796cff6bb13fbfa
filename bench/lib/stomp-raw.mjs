// A minimal STOMP 1.2 client for benchmarks: frames are located in place by byte search and writes are
// batched, so that the client is never the bottleneck we measure. Not a general-purpose client.
import { once } from 'node:events';
import net from 'node:net';

const NLNL = Buffer.from('\n\n');
const K_CL = Buffer.from('\ncontent-length:');
const K_ACK = Buffer.from('\nack:');
const K_RID = Buffer.from('\nreceipt-id:');

export class StompRaw {
  constructor({ host = '127.0.0.1', port, login, passcode }) {
    Object.assign(this, { host, port, login, passcode });
    this.rest = null;
    this.onMessage = null; // (buf, bodyStart, bodyEnd, ackStart, ackEnd)
    this.onReceipt = null; // (receiptId string)
    this.afterData = null;
    this.pending = [];
    this.flushScheduled = false;
  }

  async connect() {
    this.sock = net.connect({ host: this.host, port: this.port });
    this.sock.setNoDelay(true);
    this.sock.on('data', (d) => this.#onData(d));
    this.sock.on('error', (e) => {
      if (!this.closing) throw e;
    });
    await once(this.sock, 'connect');
    let f = 'CONNECT\naccept-version:1.2\nhost:/\nheart-beat:0,0\n';
    if (this.login) f += `login:${this.login}\npasscode:${this.passcode}\n`;
    const connected = new Promise((resolve) => {
      this.connected = resolve;
    });
    this.sock.write(`${f}\n\0`);
    await connected;
  }

  /** Queue raw frame bytes; one socket write per event-loop turn. Returns false when the socket is full. */
  write(buf) {
    this.pending.push(buf);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return this.sock.writableLength < 4 * 1024 * 1024;
  }

  flush() {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const chunk = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    this.sock.write(chunk);
  }

  frame(command, headers, body = '') {
    let f = `${command}\n`;
    for (const [k, v] of Object.entries(headers)) f += `${k}:${v}\n`;
    return Buffer.concat([Buffer.from(`${f}\n`), Buffer.from(body), Buffer.from([0])]);
  }

  async disconnect() {
    this.flush();
    this.closing = true;
    const receipt = new Promise((resolve) => {
      this.disconnectReceipt = resolve;
    });
    this.sock.write(this.frame('DISCONNECT', { receipt: 'bye' }));
    await Promise.race([receipt, new Promise((r) => setTimeout(r, 2000))]);
    this.sock.destroy();
  }

  #hdr(buf, key, from, to) {
    const i = buf.indexOf(key, from);
    return i < 0 || i >= to ? -1 : i + key.length;
  }

  #onData(chunk) {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    const len = buf.length;
    let off = 0;
    for (;;) {
      while (off < len && (buf[off] === 0x0a || buf[off] === 0x0d)) off++;
      if (off >= len) break;
      const hEnd = buf.indexOf(NLNL, off);
      if (hEnd < 0) break;
      const bodyStart = hEnd + 2;
      let bodyEnd;
      const cl = this.#hdr(buf, K_CL, off, hEnd);
      if (cl >= 0) {
        let n = 0;
        for (let i = cl; buf[i] >= 0x30 && buf[i] <= 0x39; i++) n = n * 10 + (buf[i] - 0x30);
        if (bodyStart + n + 1 > len) break;
        bodyEnd = bodyStart + n;
      } else {
        bodyEnd = buf.indexOf(0, bodyStart);
        if (bodyEnd < 0) break;
      }
      const c0 = buf[off];
      if (c0 === 0x4d /* MESSAGE */) {
        const a = this.#hdr(buf, K_ACK, off, hEnd);
        this.onMessage?.(buf, bodyStart, bodyEnd, a, a >= 0 ? buf.indexOf(0x0a, a) : -1);
      } else if (c0 === 0x52 /* RECEIPT */) {
        const r = this.#hdr(buf, K_RID, off, hEnd);
        const id = buf.toString('latin1', r, buf.indexOf(0x0a, r));
        if (id === 'bye') this.disconnectReceipt?.();
        else this.onReceipt?.(id);
      } else if (c0 === 0x43 /* CONNECTED */) {
        this.connected?.();
      } else if (c0 === 0x45 /* ERROR */) {
        console.error(`[bench] ERROR frame: ${buf.toString('utf8', off, Math.min(bodyEnd, off + 500))}`);
        process.exit(3);
      }
      off = bodyEnd + 1;
    }
    this.rest = off < len ? Buffer.from(buf.subarray(off)) : null;
    this.afterData?.();
  }
}
