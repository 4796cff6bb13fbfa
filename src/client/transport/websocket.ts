/**
 * ws:// and wss:// (route /native, subprotocol `blazemq.v1`). The standard WebSocket API: the browser's
 * own, or in Node 20 (no global WebSocket) the `ws` package, imported dynamically so that bundles for
 * browsers never reach it.
 *
 * Frames written in one turn go out in one binary message (native.proto: a message carries whole frames,
 * and the broker accepts messages of up to twice its max_frame_size), as the TCP transport makes one
 * socket write of them: a message per frame cost a WebSocket header, a send call and, at the broker, a
 * message event each. Until Connected has told the broker's limit, each frame is a message of its own.
 */
import { ClientCodes, ClientError } from '../codec/errors.js';
import { afterTurn } from '../timers.js';
import type { Endpoint } from '../url.js';
import { joinFrames } from './frame-runs.js';
import type { ClientTransport, TransportHandlers, TransportOptions } from './types.js';

export const SUBPROTOCOL = 'blazemq.v1';
/** Above this many bytes queued in the socket, write() says stop (a poll emulates 'drain'). */
const HIGH_WATER = 1024 * 1024;

interface StandardWebSocket {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  readonly protocol: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
type WebSocketClass = new (url: string, protocols: string[]) => StandardWebSocket;

const WS_PACKAGE = ['w', 's'].join('');

async function webSocketClass(): Promise<WebSocketClass> {
  const global = (globalThis as { WebSocket?: WebSocketClass }).WebSocket;
  if (global) return global;
  // Computed, so that bundlers do not pull `ws` into browser builds (browsers have a global WebSocket).
  const mod = (await import(WS_PACKAGE)) as { default: WebSocketClass };
  return mod.default;
}

export async function connectWebSocket(
  endpoint: Endpoint,
  handlers: TransportHandlers,
  options: TransportOptions,
): Promise<ClientTransport> {
  const WS = await webSocketClass();
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  const ws = new WS(`${endpoint.scheme}://${host}:${endpoint.port}${endpoint.path}`, [SUBPROTOCOL]);
  ws.binaryType = 'arraybuffer';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.close();
      reject(new ClientError(ClientCodes.TIMEOUT, `connect to ${endpoint.url} timed out`));
    }, options.connectTimeout);
    ws.onopen = () => {
      clearTimeout(timer);
      resolve();
    };
    ws.onerror = () => {
      clearTimeout(timer);
      reject(new ClientError(ClientCodes.CONNECTION_LOST, `cannot connect to ${endpoint.url}`));
    };
  });
  let closed = false;
  let drainPoll: ReturnType<typeof setInterval> | undefined;
  ws.onmessage = (ev) => {
    const d = ev.data;
    if (d instanceof ArrayBuffer) handlers.onData(new Uint8Array(d));
    else if (ArrayBuffer.isView(d)) handlers.onData(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  };
  let failure: Error | undefined;
  ws.onerror = () => {
    failure = new ClientError(ClientCodes.CONNECTION_LOST, `WebSocket error on ${endpoint.url}`);
  };
  ws.onclose = () => {
    closed = true;
    if (drainPoll !== undefined) clearInterval(drainPoll);
    handlers.onClose(failure);
  };
  /** Bytes one message may carry; 0 = one frame per message (the broker's limit is not known yet). */
  let messageLimit = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let scheduled = false;
  const send = (data: Uint8Array) => {
    if (!closed) ws.send(data);
  };
  const flush = () => {
    scheduled = false;
    const frames = pending;
    const total = pendingBytes;
    pending = [];
    pendingBytes = 0;
    if (frames.length === 1) send(frames[0]!);
    else if (frames.length > 1) send(joinFrames(frames, total));
  };
  const overHighWater = () => {
    if (ws.bufferedAmount + pendingBytes < HIGH_WATER) return false;
    // The standard API has no drain event: poll until the buffer has gone down.
    drainPoll ??= setInterval(() => {
      if (ws.bufferedAmount + pendingBytes >= HIGH_WATER / 2) return;
      clearInterval(drainPoll);
      drainPoll = undefined;
      handlers.onDrain();
    }, 10);
    return true;
  };
  return {
    write(frame) {
      if (closed) return false;
      if (messageLimit === 0 || frame.length > messageLimit) {
        flush();
        send(frame);
        return !overHighWater();
      }
      if (pendingBytes + frame.length > messageLimit) flush();
      pending.push(frame);
      pendingBytes += frame.length;
      if (!scheduled) {
        scheduled = true;
        afterTurn(flush);
      }
      return !overHighWater();
    },
    close() {
      flush();
      if (!closed) ws.close(1000, 'bye');
    },
    peerMaxFrame(bytes) {
      // Twice the broker's max_frame_size is what it accepts; a frame's own limit is its length prefix
      // plus max_frame_size, so one maximal frame always fits alone.
      messageLimit = 2 * bytes;
    },
  };
}
