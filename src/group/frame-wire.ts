/**
 * The bottom of a member's stack: encodes frames into GroupFrames of one group on a GroupTransport and
 * decodes what arrives, handing every valid frame to one handler with its sender's incarnation.
 * Undecodable datagrams and frames of other groups are dropped here (counted), so no layer above ever
 * sees garbage.
 *
 * Frames larger than a datagram (views of more than ~30 members: install, merge response, discovery
 * response; the digests and survivor lists of their flushes) are cut into `frame_fragment` frames, each
 * an encoded blaze.v1.Fragment of the whole frame, and reassembled per sender before decoding. A lost
 * piece loses the frame; every such frame belongs to a round that repeats it until answered (round.ts),
 * and each repetition is cut afresh under a new id, so the bounded reassembler below evicts the leftovers.
 */
import { fragment, Reassembler } from './frag/index.js';
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

/** Largest frame accepted after reassembly: a view of ~10,000 members with its cut. */
const MAX_FRAME = 1024 * 1024;
/** GroupFrame envelope around a fragment: group field, oneof tag (2 bytes) and length. */
const FRAGMENT_OVERHEAD = 8;

export class FrameWire implements FrameSender {
  readonly stats = {
    framesIn: 0,
    framesOut: 0,
    rejected: 0,
    /** Frames sent in pieces, and frames rebuilt from pieces. */
    fragmented: 0,
    reassembled: 0,
  };
  private closed = false;
  private fragmentId = 0;
  private readonly reassembler = new Reassembler({
    maxMessageSize: MAX_FRAME,
    maxPartialMessages: 4096,
    maxBufferedBytes: 16 * MAX_FRAME,
  });
  private readonly groupBytes: number;

  constructor(
    private readonly transport: GroupTransport,
    private readonly group: string,
    onFrame: (from: string, frame: Frame, incarnation: number) => void,
  ) {
    const self = transport.localAddress;
    this.groupBytes = Buffer.byteLength(group);
    transport.onMessage((from, payload, incarnation) => {
      if (this.closed || from === self) return;
      let frame = decodeFrame(this.group, payload);
      if (frame?.kind === 'frame_fragment') {
        // Pieces of one frame come from one process: a restarted sender's pieces never mix with its
        // predecessor's because the key includes the incarnation.
        const whole = this.reassembler.add(`${from}/${incarnation}`, frame.body);
        if (!whole) return;
        this.stats.reassembled++;
        frame = decodeFrame(this.group, whole);
        if (frame?.kind === 'frame_fragment') frame = undefined;
      }
      if (!frame) {
        this.stats.rejected++;
        return;
      }
      this.stats.framesIn++;
      onFrame(from, frame, incarnation);
    });
  }

  /** Room left for a protocol's own frame once the envelope (group name, oneof tag) is paid for. */
  get maxPayload(): number {
    return this.transport.maxPayload - (this.groupBytes + 16);
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
      return;
    }
    for (const f of this.pieces(encodeFrame(this.group, kind, body))) t.multicast(f);
  }

  unicast<K extends FrameKind>(to: string, kind: K, body: FrameBodies[K]): void {
    if (this.closed) return;
    this.stats.framesOut++;
    for (const f of this.pieces(encodeFrame(this.group, kind, body))) this.transport.unicast(to, f);
  }

  /** Stops sending and receiving; the transport itself belongs to whoever opened it. */
  close(): void {
    this.closed = true;
  }

  /** The frame itself if it fits a datagram, else its fragments as frame_fragment frames. */
  private pieces(frame: Uint8Array): Uint8Array[] {
    const max = this.transport.maxPayload;
    if (frame.length <= max) return [frame];
    this.stats.fragmented++;
    const room = max - this.groupBytes - FRAGMENT_OVERHEAD - 5;
    return fragment(++this.fragmentId, frame, room).map((piece) =>
      encodeFrame(this.group, 'frame_fragment', piece),
    );
  }
}
