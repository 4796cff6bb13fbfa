// Minimal HTTP/1.1 clients for the web benchmarks, on raw sockets so that the load process is never the
// bottleneck we measure: a keep-alive request loop (one request in flight per connection) and a
// Server-Sent Events reader (chunked transfer decoding + just enough of the event-stream format).
// Not general-purpose clients: they assume the broker's well-formed answers.
import { once } from 'node:events';
import net from 'node:net';

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

function headerValue(head, name) {
  const m = new RegExp(`\\r\\n${name}:\\s*([^\\r]*)`, 'i').exec(head);
  return m ? m[1] : undefined;
}

/**
 * A keep-alive connection issuing one request at a time: `request(bytes)` resolves with the status once the
 * whole response (content-length framed: the broker's JSON answers) has arrived.
 */
export class KeepAliveConnection {
  constructor({ host = '127.0.0.1', port }) {
    Object.assign(this, { host, port });
    this.buf = Buffer.alloc(0);
    this.waiting = null;
  }

  async connect() {
    this.sock = net.connect({ host: this.host, port: this.port });
    this.sock.setNoDelay(true);
    this.sock.on('data', (d) => this.#onData(d));
    this.sock.on('error', (e) => this.waiting?.reject(e));
    this.sock.on('close', () => this.waiting?.reject(new Error('connection closed')));
    await once(this.sock, 'connect');
  }

  request(bytes) {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.sock.write(bytes);
    });
  }

  #onData(chunk) {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const end = this.buf.indexOf(HEAD_END);
    if (end < 0) return;
    const head = this.buf.latin1Slice(0, end);
    const length = Number(headerValue(head, 'content-length') ?? 0);
    if (this.buf.length < end + 4 + length) return;
    const status = Number(head.slice(9, 12));
    this.buf = this.buf.subarray(end + 4 + length);
    const w = this.waiting;
    this.waiting = null;
    w?.resolve(status);
  }

  close() {
    this.sock.destroy();
  }
}

/**
 * One EventSource-like reader: `onData(text)` gets the data of each `message` event (several `data:` lines
 * joined by LF); other events and comments are counted in `others`. Opens with `open()`, which resolves once
 * the 200 response headers are in.
 */
export class SseReader {
  constructor({ host = '127.0.0.1', port, path }) {
    Object.assign(this, { host, port, path });
    this.onData = null;
    this.others = 0;
    this.head = Buffer.alloc(0);
    this.chunked = false;
    // Chunked decoding state: bytes left in the current chunk, -1 while reading a size line.
    this.left = -1;
    this.sizeLine = '';
    this.skipCrlf = 0;
    this.text = '';
  }

  async open() {
    this.sock = net.connect({ host: this.host, port: this.port });
    this.sock.on('error', (e) => {
      if (!this.closing) this.failed?.(e);
    });
    await once(this.sock, 'connect');
    const ready = new Promise((resolve, reject) => {
      this.ready = resolve;
      this.failed = reject;
    });
    this.sock.on('data', (d) => this.#onData(d));
    this.sock.write(
      `GET ${this.path} HTTP/1.1\r\nhost: ${this.host}:${this.port}\r\naccept: text/event-stream\r\n\r\n`,
    );
    await ready;
  }

  #onData(chunk) {
    if (this.ready) {
      this.head = Buffer.concat([this.head, chunk]);
      const end = this.head.indexOf(HEAD_END);
      if (end < 0) return;
      const head = this.head.latin1Slice(0, end);
      if (!head.startsWith('HTTP/1.1 200')) {
        this.failed(new Error(`stream refused: ${head.split('\r\n', 1)[0]}`));
        return;
      }
      this.chunked = /transfer-encoding:\s*chunked/i.test(head);
      const rest = this.head.subarray(end + 4);
      this.head = null;
      const ready = this.ready;
      this.ready = null;
      ready();
      if (rest.length > 0) this.#body(rest);
      return;
    }
    this.#body(chunk);
  }

  #body(buf) {
    if (!this.chunked) {
      this.#events(buf.latin1Slice(0, buf.length));
      return;
    }
    let off = 0;
    let out = '';
    while (off < buf.length) {
      if (this.skipCrlf > 0) {
        off++;
        this.skipCrlf--;
        continue;
      }
      if (this.left < 0) {
        const nl = buf.indexOf(CRLF, off);
        if (nl < 0) {
          this.sizeLine += buf.latin1Slice(off, buf.length);
          break;
        }
        this.sizeLine += buf.latin1Slice(off, nl);
        this.left = Number.parseInt(this.sizeLine, 16);
        this.sizeLine = '';
        off = nl + 2;
        continue;
      }
      const take = Math.min(this.left, buf.length - off);
      out += buf.latin1Slice(off, off + take);
      off += take;
      this.left -= take;
      if (this.left === 0) {
        this.left = -1;
        this.skipCrlf = 2;
      }
    }
    if (out.length > 0) this.#events(out);
  }

  #events(text) {
    this.text = this.text.length === 0 ? text : this.text + text;
    let start = 0;
    for (;;) {
      const end = this.text.indexOf('\n\n', start);
      if (end < 0) break;
      const event = this.text.slice(start, end);
      start = end + 2;
      if (event.startsWith(':') || event.includes('\nevent:') || event.startsWith('event:')) {
        this.others++;
        continue;
      }
      const d = event.indexOf('data: ');
      if (d >= 0) this.onData?.(event.slice(d + 6));
      else this.others++;
    }
    this.text = start === this.text.length ? '' : this.text.slice(start);
  }

  close() {
    this.closing = true;
    this.sock?.destroy();
  }
}
