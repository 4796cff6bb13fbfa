/**
 * The few protobuf wire primitives the hand-written group codecs need (Protocol Buffers encoding guide:
 * "Base 128 Varints", "Message Structure"). Readers never throw: they return -1 on truncated or
 * over-long input so that a datagram from the network is rejected, not turned into an exception.
 */

/** Wire types, tags and varint writing are the native codecs' too (util/protobuf-wire.ts). */
import { WT_I32, WT_I64, WT_LEN, WT_VARINT } from '../../util/protobuf-wire.js';

export {
  tagOf as tag,
  varintSize,
  WT_I32,
  WT_I64,
  WT_LEN,
  WT_VARINT,
  writeVarint,
} from '../../util/protobuf-wire.js';

/**
 * Cursor over untrusted bytes. `readVarint` returns -1 when the input ends inside the varint or the
 * value does not fit a safe integer (more than 53 bits), which callers treat as a malformed frame.
 */
export class WireReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  readVarint(): number {
    const { buf, end } = this;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= end) return -1;
      const b = buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result <= Number.MAX_SAFE_INTEGER ? result : -1;
      mul *= 128;
    }
    return -1; // 8 groups of 7 bits already exceed 53 bits
  }

  /** Skips a field of an unknown number (forward compatibility); false if the field is malformed. */
  skip(wireType: number): boolean {
    switch (wireType) {
      case WT_VARINT:
        return this.skipVarint();
      case WT_I64:
        this.pos += 8;
        return this.pos <= this.end;
      case WT_LEN: {
        const len = this.readVarint();
        if (len < 0 || len > this.end - this.pos) return false;
        this.pos += len;
        return true;
      }
      case WT_I32:
        this.pos += 4;
        return this.pos <= this.end;
      default:
        return false;
    }
  }

  /** An unknown varint field may legally hold up to 64 bits (10 bytes); we only need to step over it. */
  private skipVarint(): boolean {
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) return false;
      if (this.buf[this.pos++]! < 0x80) return true;
    }
    return false;
  }
}
