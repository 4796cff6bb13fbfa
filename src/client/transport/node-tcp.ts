/**
 * tcp:// and tls:// in Node. Loaded only through a dynamic import (transport/select.ts), so that the
 * rest of the client bundles for browsers. Frames written in one event-loop turn go out in one socket
 * write (flushed on setImmediate) (the measured first rule of the hot path: DEPENDENCIES.md), and write() reports the socket's
 * back-pressure instead of buffering without bound.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ClientCodes, ClientError } from '../codec/errors.js';
import type { Endpoint } from '../url.js';
import { adjacent } from './frame-runs.js';
import type { ClientTransport, TransportHandlers, TransportOptions } from './types.js';

export async function connectTcp(
  endpoint: Endpoint,
  handlers: TransportHandlers,
  options: TransportOptions,
): Promise<ClientTransport> {
  const socket =
    endpoint.scheme === 'tls'
      ? tls.connect({ host: endpoint.host, port: endpoint.port, servername: endpoint.host, ...options.tls })
      : net.connect({ host: endpoint.host, port: endpoint.port });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ClientError(ClientCodes.TIMEOUT, `connect to ${endpoint.url} timed out`));
    }, options.connectTimeout);
    const fail = (e: Error) => {
      clearTimeout(timer);
      reject(
        new ClientError(ClientCodes.CONNECTION_LOST, `cannot connect to ${endpoint.url}: ${e.message}`, {
          cause: e,
        }),
      );
    };
    socket.once('error', fail);
    socket.once(endpoint.scheme === 'tls' ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve();
    });
  });
  let closed = false;
  let failure: Error | undefined;
  socket.on('data', (b: Buffer) => handlers.onData(b));
  socket.on('drain', () => handlers.onDrain());
  socket.on('error', (e) => {
    failure = e;
  });
  socket.on('close', () => {
    closed = true;
    handlers.onClose(failure);
  });

  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = () => {
    const frames = pending;
    pending = [];
    if (closed || frames.length === 0) return;
    if (frames.length === 1) socket.write(frames[0]!);
    else writeRuns(socket, frames, pendingBytes);
    pendingBytes = 0;
  };
  return {
    write(frame) {
      if (closed) return false;
      // After the turn, not after the microtask: a `for await` consumer acks one message per microtask.
      if (pending.length === 0) setImmediate(flush);
      pending.push(frame);
      pendingBytes += frame.length;
      return socket.writableLength + pendingBytes < socket.writableHighWaterMark;
    },
    close() {
      flush();
      socket.end();
      // A peer that never closes its side must not keep the client alive.
      setTimeout(() => socket.destroy(), 1000).unref();
    },
  };
}

/** Runs shorter than this on average are joined: one copy then costs less than a write per run. */
const MIN_AVERAGE_RUN = 4096;

/**
 * Writes the frames of a turn. Frames encoded one after the other are adjacent in a 64 KiB slab
 * (codec/writer.ts allocFrame), so a turn's frames are a few runs of bytes: each goes out as a view,
 * without the copy a join of the frames would make, in one corked write. Scattered frames are joined.
 */
function writeRuns(socket: net.Socket, frames: Uint8Array[], total: number): void {
  let runs = 1;
  for (let i = 1; i < frames.length; i++) if (!adjacent(frames[i - 1]!, frames[i]!)) runs++;
  if (runs > 1 && total / runs < MIN_AVERAGE_RUN) {
    socket.write(Buffer.concat(frames, total));
    return;
  }
  socket.cork();
  let start = frames[0]!;
  let length = start.length;
  for (let i = 1; i < frames.length; i++) {
    const f = frames[i]!;
    if (adjacent(frames[i - 1]!, f)) {
      length += f.length;
      continue;
    }
    socket.write(new Uint8Array(start.buffer, start.byteOffset, length));
    start = f;
    length = f.length;
  }
  socket.write(new Uint8Array(start.buffer, start.byteOffset, length));
  socket.uncork();
}
