/**
 * On-disk layout of the journal (docs/STORAGE.md). A journal is a directory of segment files named
 * `0000000001.seg`, `0000000002.seg`... Each segment:
 *
 *   8 bytes  magic "BLZJRNL\x01" (the last byte versions the record framing, still 1)
 *   records, back to back:
 *     u32 crc32 (zlib polynomial) of bytes [4, length) of the record: it covers the length too
 *     u32 length of the whole record, header included (>= 17)
 *     f64 sequence number: strictly increasing over the group records of the whole journal (0 in
 *         segment-start, seal and pad records)
 *     u8  type: 1 segment-start, 2 group, 3 seal, 4 pad
 *     payload
 *   then, in a preallocated segment, zeros up to the end of the file.
 *
 * segment-start (the first record of every segment): u32 segment number, u32 format version: the
 *   operations the segment may hold (1: messages and durable subscriptions; 2: also key/value records;
 *   3: also prepared XA branches, `xa-prepare` / `xa-forget`).
 *   A reader accepts every version up to its own and refuses a newer one by name instead of misreading
 *   operations it does not know.
 * group: one group commit: f64 base order, u32 op count, ops (codec.ts). Everything written by one
 *   fdatasync is one record, so a crash leaves a group all there or not at all, and the bytes not yet
 *   synced (the only ones a power loss may scramble) are always the last record of the journal.
 * seal: the segment is full; the next one continues the journal. Every segment but the last ends so,
 *   which detects a lost tail in a middle segment.
 * pad: bytes skipped by `blazemq store repair`; ignored.

 */
import { crc32 } from 'node:zlib';

export const SEGMENT_MAGIC = Buffer.from('BLZJRNL\x01', 'latin1');
/** Written into new segments; read: 1 ... FORMAT_VERSION. */
export const FORMAT_VERSION = 3;
export const RECORD_HEADER = 17;
/** Magic + segment-start record: where the first group of a segment begins. */
export const SEGMENT_HEADER_SIZE = 8 + RECORD_HEADER + 8;
/** Bigger groups are split before this; a larger length read back is corruption. */
export const MAX_RECORD = 1024 * 1024 * 1024;

export const RecordType = { start: 1, group: 2, seal: 3, pad: 4 } as const;
export type RecordTypeCode = (typeof RecordType)[keyof typeof RecordType];

const SEGMENT_NAME = /^(\d{10})\.seg$/;

export function segmentFileName(id: number): string {
  return `${String(id).padStart(10, '0')}.seg`;
}

export function parseSegmentFileName(name: string): number | undefined {
  const m = SEGMENT_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Fills in the header of the record occupying buf[start, end) (its payload already written). */
export function finishRecord(buf: Buffer, start: number, end: number, seq: number, type: number): void {
  buf.writeUInt32LE(end - start, start + 4);
  buf.writeDoubleLE(seq, start + 8);
  buf[start + 16] = type;
  buf.writeUInt32LE(crc32(buf.subarray(start + 4, end)), start);
}

/** A small self-contained record (segment-start, seal, pad). */
export function encodeRecord(seq: number, type: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const buf = Buffer.alloc(RECORD_HEADER + payload.length);
  buf.set(payload, RECORD_HEADER);
  finishRecord(buf, 0, buf.length, seq, type);
  return buf;
}

/** The first bytes of a new segment: magic + segment-start record. */
export function segmentHeader(id: number, seq: number): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32LE(id, 0);
  payload.writeUInt32LE(FORMAT_VERSION, 4);
  return Buffer.concat([SEGMENT_MAGIC, encodeRecord(seq, RecordType.start, payload)]);
}

export interface RecordView {
  readonly offset: number;
  readonly length: number;
  readonly seq: number;
  readonly type: RecordTypeCode;
  /** A view into the segment buffer. */
  readonly payload: Buffer;
}

/** Why the bytes at an offset are not a valid record, or the record. */
export function checkRecordAt(buf: Buffer, pos: number, minSeq: number): RecordView | string {
  const size = buf.length;
  if (pos + RECORD_HEADER > size) return 'incomplete record header';
  const length = buf.readUInt32LE(pos + 4);
  if (length === 0 && buf.readUInt32LE(pos) === 0) return 'zeroed bytes';
  if (length < RECORD_HEADER || length > MAX_RECORD) return `bad record length ${length}`;
  if (length > size - pos) return `record of ${length} bytes extends past the end of the file`;
  const type = buf[pos + 16]!;
  if (type < RecordType.start || type > RecordType.pad) return `unknown record type ${type}`;
  if (crc32(buf.subarray(pos + 4, pos + length)) !== buf.readUInt32LE(pos)) return 'checksum mismatch';
  const seq = buf.readDoubleLE(pos + 8);
  // Only group records are ordered: segment-start, seal and pad records are written at rotation or by
  // repair, outside the order in which groups are numbered.
  if (type === RecordType.group && (!Number.isSafeInteger(seq) || seq <= minSeq)) {
    return `sequence ${seq} not after ${minSeq}`;
  }
  return {
    offset: pos,
    length,
    seq,
    type: type as RecordTypeCode,
    payload: buf.subarray(pos + RECORD_HEADER, pos + length),
  };
}

/**
 * The first offset after `from` holding a valid record (checksum and sequence), or undefined. Used only
 * after a bad record, to tell a torn tail (nothing valid follows) from corruption in the middle.
 */
export function findNextValid(buf: Buffer, from: number, minSeq: number): number | undefined {
  const last = buf.length - RECORD_HEADER;
  for (let i = from; i <= last; i++) {
    // Cheap filters first: zeros and implausible lengths or types are the common case.
    const type = buf[i + 16]!;
    if (type < RecordType.start || type > RecordType.pad) continue;
    const length = buf.readUInt32LE(i + 4);
    if (length < RECORD_HEADER || length > buf.length - i) continue;
    if (typeof checkRecordAt(buf, i, minSeq) !== 'string') return i;
  }
  return undefined;
}

export function allZero(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

export interface SegmentProblem {
  readonly offset: number;
  readonly reason: string;
  /** Offset of the next valid record in the same segment, when there is one. */
  readonly nextValid: number | undefined;
  /** Everything from `offset` to the end of the file is zero (preallocated, never written). */
  readonly zeros: boolean;
}

export interface SegmentScan {
  readonly id: number;
  readonly size: number;
  /** Group records read. */
  readonly records: number;
  readonly lastSeq: number;
  readonly sealed: boolean;
  /** Offset after the last valid record (where appending continues). */
  readonly dataEnd: number;
  /** Format version from the segment header (0 when the header is unreadable). */
  readonly version: number;
  readonly problem?: SegmentProblem;
}

/**
 * Walks a segment's records, handing each group payload to `onGroup`, and stops at the seal, the first
 * bad record or the end. `onGroup` may throw; the caller decides what a problem means.
 */
export function scanSegment(
  buf: Buffer,
  id: number,
  prevSeq: number,
  onGroup: (payload: Buffer, seq: number, offset: number) => void,
): SegmentScan {
  let lastSeq = prevSeq;
  let records = 0;
  let version = 0;
  const problemAt = (offset: number, reason: string): SegmentScan => ({
    id,
    size: buf.length,
    records,
    lastSeq,
    sealed: false,
    dataEnd: offset,
    version,
    problem: {
      offset,
      reason,
      nextValid: findNextValid(buf, offset + 1, lastSeq),
      zeros: allZero(buf, offset),
    },
  });
  if (buf.length < SEGMENT_MAGIC.length || !buf.subarray(0, SEGMENT_MAGIC.length).equals(SEGMENT_MAGIC)) {
    return problemAt(0, buf.length < SEGMENT_MAGIC.length ? 'file too short' : 'bad magic');
  }
  let pos = SEGMENT_MAGIC.length;
  const first = checkRecordAt(buf, pos, lastSeq);
  if (typeof first === 'string') return problemAt(pos, `bad segment header: ${first}`);
  if (first.type !== RecordType.start || first.payload.length < 8) {
    return problemAt(pos, 'segment does not begin with a segment-start record');
  }
  const headerId = first.payload.readUInt32LE(0);
  const headerVersion = first.payload.readUInt32LE(4);
  if (headerId !== id) return problemAt(pos, `segment header names segment ${headerId}`);
  if (headerVersion < 1 || headerVersion > FORMAT_VERSION) {
    return problemAt(
      pos,
      `unsupported format version ${headerVersion} (this build reads 1 to ${FORMAT_VERSION}: ` +
        'written by a newer BlazeMQ?)',
    );
  }
  version = headerVersion;
  pos += first.length;
  while (pos < buf.length) {
    const r = checkRecordAt(buf, pos, lastSeq);
    if (typeof r === 'string') {
      if (r === 'zeroed bytes' && allZero(buf, pos)) {
        return { id, size: buf.length, records, lastSeq, sealed: false, dataEnd: pos, version };
      }
      return problemAt(pos, r);
    }
    if (r.type === RecordType.start) return problemAt(pos, 'second segment-start record');
    if (r.type === RecordType.seal) {
      return { id, size: buf.length, records, lastSeq, sealed: true, dataEnd: pos + r.length, version };
    }
    if (r.type === RecordType.group) {
      onGroup(r.payload, r.seq, pos);
      lastSeq = r.seq;
      records++;
    }
    pos += r.length;
  }
  return { id, size: buf.length, records, lastSeq, sealed: false, dataEnd: pos, version };
}
