/**
 * The bottom of a member's stack: encodes frames into GroupFrames of one group on a GroupTransport and
 * decodes what arrives, handing every valid frame to one handler. Undecodable datagrams and frames of
 * other groups are dropped here (counted), so no layer above ever sees garbage.
 */
import type { FrameSender } from './reliable/types.js';
import type { GroupTransport } from './transport/types.js';
import {
  decodeFrame,
  encodeDataFrameAround,
  encodeFrame,
  type Frame,
  type FrameBodies,
  type FrameKind,
  type McastData,
} from './wire.js';

export class FrameWire implements FrameSender {
  readonly stats = { framesIn: 0, framesOut: 0, rejected: 0 };
  private closed = false;

  constructor(
    private readonly transport: GroupTransport,
    private readonly group: string,
    onFrame: (from: string, frame: Frame) => void,
  ) {
    const self = transport.localAddress;
    transport.onMessage((from, payload) => {
      if (this.closed || from === self) return;
      const frame = decodeFrame(this.group, payload);
      if (!frame) {
        this.stats.rejected++;
        return;
      }
      this.stats.framesIn++;
      onFrame(from, frame);
    });
  }

  /** Room left for a protocol's own frame once the envelope (group name, oneof tag) is paid for. */
  get maxPayload(): number {
    return this.transport.maxPayload - (Buffer.byteLength(this.group) + 16);
  }

  multicast<K extends FrameKind>(kind: K, body: FrameBodies[K]): void {
    if (this.closed) return;
    this.stats.framesOut++;
    const t = this.transport;
    if (kind === 'data' && t.multicastParts) {
      // The bulk of the traffic: the payload is copied once, into the datagram.
      const d = body as McastData;
      const { head, tail } = encodeDataFrameAround(this.group, d);
      t.multicastParts(head, d.payload, tail);
    } else {
      t.multicast(encodeFrame(this.group, kind, body));
    }
  }

  unicast<K extends FrameKind>(to: string, kind: K, body: FrameBodies[K]): void {
    if (this.closed) return;
    this.stats.framesOut++;
    this.transport.unicast(to, encodeFrame(this.group, kind, body));
  }

  /** Stops sending and receiving; the transport itself belongs to whoever opened it. */
  close(): void {
    this.closed = true;
  }
}
