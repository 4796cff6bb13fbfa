/**
 * Protobuf wire-format primitives for the broker's hand-written hot-frame codecs: the shared ones of
 * util/protobuf-wire.ts (also the client's), the reader failing with a PROTOCOL BlazeError, and zigzag.
 */
import { WireReader } from '../../../util/protobuf-wire.js';
import { malformed } from './errors.js';

export {
  stringFieldSize,
  tagOf,
  varintSize,
  WT_I32,
  WT_I64,
  WT_LEN,
  WT_VARINT,
  writeString,
  writeStringField,
  writeVarint,
} from '../../../util/protobuf-wire.js';

/** The broker's protobuf reader: the shared wire reader failing with the codec's PROTOCOL BlazeError. */
export class Reader extends WireReader {
  constructor(buf: Uint8Array, start: number, end: number) {
    super(malformed);
    this.reset(buf, start, end);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }
}

/**
 * Zigzag encoding of an integer (sint64), as the unsigned value to write as a varint. Exact for
 * |v| < 2^52 (SINT_SAFE); larger integers are sent as doubles by the message encoder.
 */
export const SINT_SAFE = 2 ** 52;

export function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}
