/**
 * A minimal streaming STOMP 1.2 peer for the memory tests: counts MESSAGE and RECEIPT frames without
 * keeping them, can stop reading its socket (a consumer that never reads), and sends with socket
 * back-pressure. Real STOMP libraries buffer without bound when the broker slows them, which would
 * measure the client rather than the broker.
 */
import { once } from 'node:events';
import net from 'node:net';

export interface FramePeer {
  readonly socket: net.Socket;
  /** MESSAGE frames received. */
  messages: number;
  receipts: number;
  errors: string[];
  /** `message-id` and `redelivered` of every MESSAGE when `keepIds` is on. */
  readonly ids: Array<{ id: string; redelivered: boolean; ack: string }>;
  /** Resolves when the broker closed the connection. */
  readonly closed: Promise<void>;
  /** Writes a frame; resolves at once, or on 'drain' when the socket is full. */
  frame(command: string, headers: Record<string, string | number>, body?: Buffer): Promise<void>;
  stopReading(): void;
}

export async function framePeer(port: number, opts: { keepIds?: boolean } = {}): Promise<FramePeer> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  socket.setNoDelay(true);
  socket.on('error', () => {});
  let buf: Buffer = Buffer.alloc(0);
  const peer: FramePeer = {
    socket,
    messages: 0,
    receipts: 0,
    errors: [],
    ids: [],
    closed: new Promise((resolve) => socket.once('close', () => resolve())),
    frame(command, headers, body) {
      let head = `${command}\n`;
      for (const [k, v] of Object.entries(headers)) head += `${k}:${v}\n`;
      if (body !== undefined) head += `content-length:${body.length}\n`;
      const parts: Buffer[] = [Buffer.from(`${head}\n`, 'latin1')];
      if (body !== undefined) parts.push(body);
      parts.push(Buffer.from([0]));
      const ok = socket.write(Buffer.concat(parts));
      return ok || socket.destroyed ? Promise.resolve() : once(socket, 'drain').then(() => {});
    },
    stopReading() {
      socket.pause();
    },
  };
  let connected: () => void;
  const ready = new Promise<void>((r) => {
    connected = r;
  });
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    let at = 0;
    for (;;) {
      // Heart-beat EOLs between frames.
      while (at < buf.length && (buf[at] === 10 || buf[at] === 13)) at++;
      const headEnd = buf.indexOf('\n\n', at, 'latin1');
      if (headEnd < 0) break;
      const head = buf.toString('latin1', at, headEnd);
      const m = /\ncontent-length:(\d+)/.exec(head);
      let end: number;
      if (m !== null) {
        end = headEnd + 2 + Number(m[1]);
        if (end >= buf.length) break;
      } else {
        end = buf.indexOf(0, headEnd + 2);
        if (end < 0) break;
      }
      const command = head.slice(0, head.indexOf('\n'));
      if (command === 'MESSAGE') {
        peer.messages++;
        if (opts.keepIds === true) {
          peer.ids.push({
            id: /\nmessage-id:([^\n]*)/.exec(head)?.[1] ?? '',
            redelivered: /\nredelivered:true/.test(head),
            ack: /\nack:([^\n]*)/.exec(head)?.[1] ?? '',
          });
        }
      } else if (command === 'RECEIPT') peer.receipts++;
      else if (command === 'CONNECTED') connected();
      else if (command === 'ERROR') peer.errors.push(head);
      at = end + 1;
    }
    buf = at >= buf.length ? Buffer.alloc(0) : buf.subarray(at);
  });
  await peer.frame('CONNECT', { 'accept-version': '1.2', host: '/', 'heart-beat': '0,0' });
  await ready;
  return peer;
}

/** Broker RSS in bytes, from /proc (Linux). */
export function rssOf(pid: number): Promise<number> {
  return import('node:fs/promises').then(async ({ readFile }) => {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    if (m === null) throw new Error('no VmRSS');
    return Number(m[1]) * 1024;
  });
}
