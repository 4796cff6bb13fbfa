/**
 * The client's WebSocket transport: frames of one turn share a binary message once the broker's frame
 * limit is known (never more than twice it), one frame per message before, and a frame too large to
 * share goes alone, after what was pending, in order. Driven through a fake standard WebSocket.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectWebSocket } from '../../../src/client/transport/websocket.js';
import { parseEndpoint } from '../../../src/client/url.js';

class FakeWebSocket {
  static last: FakeWebSocket | undefined;
  binaryType = '';
  bufferedAmount = 0;
  readyState = 1;
  protocol = 'blazemq.v1';
  readonly sent: Uint8Array[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeWebSocket.last = this;
    setTimeout(() => this.onopen?.({}), 0);
  }
  send(data: Uint8Array): void {
    this.sent.push(new Uint8Array(data));
  }
  close(): void {
    this.onclose?.({ code: 1000, reason: '' });
  }
}

const turn = () => new Promise((r) => setImmediate(r));
const frame = (n: number, fill: number) => new Uint8Array(n).fill(fill);

let saved: unknown;
beforeEach(() => {
  saved = (globalThis as { WebSocket?: unknown }).WebSocket;
  (globalThis as { WebSocket?: unknown }).WebSocket = FakeWebSocket;
});
afterEach(() => {
  (globalThis as { WebSocket?: unknown }).WebSocket = saved;
});

async function open() {
  const t = await connectWebSocket(
    parseEndpoint('ws://127.0.0.1:1/native'),
    { onData: () => {}, onClose: () => {}, onDrain: () => {} },
    { connectTimeout: 1000 },
  );
  return { t, ws: FakeWebSocket.last! };
}

describe('WebSocket transport batching', () => {
  it('sends one frame per message until the broker limit is known', async () => {
    const { t, ws } = await open();
    t.write(frame(3, 1));
    t.write(frame(4, 2));
    expect(ws.sent.map((m) => m.length)).toEqual([3, 4]);
  });

  it('joins the frames of a turn into one message, in order, within twice the limit', async () => {
    const { t, ws } = await open();
    t.peerMaxFrame?.(10);
    for (let i = 1; i <= 3; i++) t.write(frame(5, i));
    expect(ws.sent).toEqual([]);
    // A full message goes at once; the rest waits for the end of the turn.
    for (let i = 4; i <= 7; i++) t.write(frame(5, i));
    expect(ws.sent).toHaveLength(1);
    await turn();
    // 20 bytes per message at most: 4 frames, then 3.
    expect(ws.sent.map((m) => Array.from(m))).toEqual([
      [...frame(5, 1), ...frame(5, 2), ...frame(5, 3), ...frame(5, 4)],
      [...frame(5, 5), ...frame(5, 6), ...frame(5, 7)],
    ]);
  });

  it('sends a frame over the limit alone, after what was pending', async () => {
    const { t, ws } = await open();
    t.peerMaxFrame?.(4);
    t.write(frame(2, 1));
    t.write(frame(9, 2));
    t.write(frame(2, 3));
    await turn();
    expect(ws.sent.map((m) => Array.from(m))).toEqual([[1, 1], Array.from(frame(9, 2)), [3, 3]]);
  });

  it('flushes what is pending on close', async () => {
    const { t, ws } = await open();
    t.peerMaxFrame?.(100);
    t.write(frame(3, 7));
    t.close();
    expect(ws.sent.map((m) => m.length)).toEqual([3]);
  });
});
