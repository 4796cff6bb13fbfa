/**
 * Reads a journal directory back: replays every segment into a JournalIndex and classifies whatever is
 * wrong with the files. The broker (load), `store verify` and `store repair` share this walk and differ
 * only in what they do with the issues:
 *
 *   torn-tail   the last segment ends in an incomplete or bad record with nothing valid after it: the
 *               group being written when the process or machine died. It was never acknowledged
 *               (acknowledgement waits for fdatasync), so truncating it loses nothing promised.
 *   empty-head  the last segment has no valid header and no records (a crash while creating it).
 *   corrupt     a bad record with a valid record after it, or anywhere in a segment that is not the
 *               last: damage to data that was acknowledged. Never repaired silently.
 *   unsealed    a segment that is not the last ends cleanly but without its seal record: its tail
 *               is missing.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ByteReader, JournalDecodeError } from './bytes.js';
import { decodeOp } from './codec.js';
import {
  parseSegmentFileName,
  RECORD_HEADER,
  SEGMENT_MAGIC,
  type SegmentScan,
  scanSegment,
} from './format.js';
import type { JournalIndex } from './live-index.js';

export type IssueKind = 'torn-tail' | 'empty-head' | 'corrupt' | 'unsealed';

export interface JournalIssue {
  readonly kind: IssueKind;
  readonly segment: number;
  readonly file: string;
  readonly offset: number;
  readonly reason: string;
  /** For `corrupt`: the next valid record in the same segment, if any. */
  readonly nextValid?: number;
  readonly fileSize: number;
}

export interface SegmentSummary {
  readonly id: number;
  readonly file: string;
  readonly fileSize: number;
  readonly dataEnd: number;
  readonly records: number;
  readonly sealed: boolean;
  /** Format version of the segment header (0 when unreadable). */
  readonly version: number;
}

export interface ReplayResult {
  readonly segments: SegmentSummary[];
  readonly issues: JournalIssue[];
  readonly lastSeq: number;
  /** The enqueue order to continue from. */
  readonly nextOrder: number;
  readonly records: number;
  readonly ops: number;
}

/** Segment ids present in `dir`, ascending; `spares` are preallocated files not yet in use. */
export async function listSegments(dir: string): Promise<{ ids: number[]; spares: string[] }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ids: [], spares: [] };
    throw err;
  }
  const ids: number[] = [];
  const spares: string[] = [];
  for (const name of names) {
    const id = parseSegmentFileName(name);
    if (id !== undefined) ids.push(id);
    else if (name.endsWith('.spare')) spares.push(name);
  }
  ids.sort((a, b) => a - b);
  return { ids, spares };
}

class GroupDecodeError extends Error {
  constructor(
    readonly recordOffset: number,
    cause: unknown,
  ) {
    super(`undecodable group record: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Replays the journal in `dir` into `index`. With `stopAtCorrupt`, returns at the first `corrupt` or
 * `unsealed` issue (the broker refuses to start; nothing more needs reading).
 */
export async function replayJournal(
  dir: string,
  index: JournalIndex,
  options: { stopAtCorrupt: boolean },
): Promise<ReplayResult> {
  const { ids } = await listSegments(dir);
  const segments: SegmentSummary[] = [];
  const issues: JournalIssue[] = [];
  let lastSeq = 0;
  let nextOrder = 1;
  let records = 0;
  let ops = 0;

  const replayGroup = (payload: Buffer, seg: number, offset: number) => {
    try {
      const r = new ByteReader(payload);
      let order = r.f64();
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const start = r.pos;
        const op = decodeOp(r);
        // The payload starts RECORD_HEADER bytes into the record at `offset`.
        const off = offset + RECORD_HEADER + start;
        index.apply(op, seg, off, r.pos - start, op.type === 'enqueue' ? order++ : 0, true);
        if (op.type === 'relocate' && op.order >= nextOrder) nextOrder = op.order + 1;
      }
      if (r.remaining !== 0)
        throw new JournalDecodeError(`${r.remaining} bytes after the last operation`, r.pos);
      if (order > nextOrder) nextOrder = order;
      ops += count;
    } catch (err) {
      throw new GroupDecodeError(offset, err);
    }
  };

  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const last = i === ids.length - 1;
    const file = join(dir, `${String(id).padStart(10, '0')}.seg`);
    const buf = await readFile(file);
    index.addSegment(id);
    let scan: SegmentScan;
    try {
      scan = scanSegment(buf, id, lastSeq, (payload, _seq, offset) => replayGroup(payload, id, offset));
    } catch (err) {
      if (!(err instanceof GroupDecodeError)) throw err;
      // The checksum matched, so these are the bytes that were written: a format or software fault.
      issues.push({
        kind: 'corrupt',
        segment: id,
        file,
        offset: err.recordOffset,
        reason: err.message,
        // The record itself is intact (its checksum matched): what follows starts right after it.
        nextValid: err.recordOffset + buf.readUInt32LE(err.recordOffset + 4),
        fileSize: buf.length,
      });
      if (options.stopAtCorrupt) break;
      segments.push({
        id,
        file,
        fileSize: buf.length,
        dataEnd: err.recordOffset,
        records: 0,
        sealed: false,
        version: 0,
      });
      continue;
    }
    records += scan.records;
    let dataEnd = scan.dataEnd;
    const p = scan.problem;
    if (p !== undefined) {
      const issue = { segment: id, file, offset: p.offset, reason: p.reason, fileSize: buf.length };
      if (!last || p.nextValid !== undefined) {
        issues.push({ ...issue, kind: 'corrupt', nextValid: p.nextValid });
        if (options.stopAtCorrupt) break;
      } else if (scan.records === 0 && p.offset <= SEGMENT_MAGIC.length) {
        // Not even the segment-start record is valid.
        issues.push({ ...issue, kind: 'empty-head' });
      } else if (!p.zeros) {
        issues.push({ ...issue, kind: 'torn-tail' });
      }
      // All zeros from here: preallocated space never written, the normal end of a preallocated head.
      dataEnd = p.offset;
    } else if (!last && !scan.sealed) {
      issues.push({
        kind: 'unsealed',
        segment: id,
        file,
        offset: scan.dataEnd,
        reason: 'segment ends without a seal record although later segments exist (its tail is missing)',
        fileSize: buf.length,
      });
      if (options.stopAtCorrupt) break;
    }
    index.addSegment(id).size = dataEnd;
    segments.push({
      id,
      file,
      fileSize: buf.length,
      dataEnd,
      records: scan.records,
      sealed: scan.sealed,
      version: scan.version,
    });
    lastSeq = scan.lastSeq;
  }
  return { segments, issues, lastSeq, nextOrder, records, ops };
}

/** The one-line description of an issue that names file and offset. */
export function describeIssue(issue: JournalIssue): string {
  const where = `${issue.file} at offset ${issue.offset}`;
  switch (issue.kind) {
    case 'torn-tail':
      return `torn tail in ${where} (${issue.reason}): ${issue.fileSize - issue.offset} unacknowledged bytes`;
    case 'empty-head':
      return `incomplete new segment ${issue.file} (${issue.reason})`;
    case 'unsealed':
      return `${where}: ${issue.reason}`;
    case 'corrupt':
      return (
        `corrupt record in ${where}: ${issue.reason}` +
        (issue.nextValid !== undefined ? `; a valid record follows at offset ${issue.nextValid}` : '')
      );
  }
}
