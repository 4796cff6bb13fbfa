/**
 * A raw TCP peer for the tests of bad input: writes arbitrary bytes and collects whatever the broker
 * answers, so ERROR frames and the close that follows can be asserted exactly.
 */
import { once } from 'node:events';
import net from 'node:net';

export interface RawPeer {
  socket: net.Socket;
  /** Everything received so far, latin1. */
  received(): string;
  /** Resolves when the broker has closed the connection (with what it sent). */
  closed: Promise<string>;
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
}

export async function rawConnect(port: number, opts: { read?: boolean } = {}): Promise<RawPeer> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  let data = '';
  const listeners: Array<() => void> = [];
  if (opts.read !== false) {
    socket.on('data', (d) => {
      data += d.toString('latin1');
      for (const l of listeners.splice(0)) l();
    });
  }
  socket.on('error', () => {});
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(data)));
  return {
    socket,
    received: () => data,
    closed,
    waitFor(pattern, ms = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timeout waiting for ${pattern}; got ${JSON.stringify(data)}`)),
          ms,
        );
        const check = () => {
          if (pattern.test(data)) {
            clearTimeout(timer);
            resolve(data);
          } else listeners.push(check);
        };
        check();
      });
    },
  };
}

export const CONNECT = 'CONNECT\naccept-version:1.2\nhost:/\n\n\0';
