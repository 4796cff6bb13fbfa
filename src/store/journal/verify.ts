/**
 * Offline tools behind `blazemq store verify` and `blazemq store repair`.
 *
 * verify reads every segment (changing nothing) and reports segments, records, live state and issues;
 * the journal is usable by the broker when no issue is `corrupt` or `unsealed` (a torn tail is repaired
 * by the broker itself on start).
 *
 * repair takes the journal's lock and fixes one issue at a time, re-verifying after each, and says what
 * it did: torn tails are truncated; an incomplete new segment is removed; damaged bytes followed by
 * valid records are overwritten with a pad record (the damaged records' operations are lost, the rest
 * survives); a damaged header is rewritten; a middle segment with no valid record after the damage is
 * truncated there and sealed. Data in damaged bytes cannot be recovered: repair trades it for a journal
 * the broker accepts, and reports it.
 */
import { open, rm } from 'node:fs/promises';
import { acquireLock, fsyncDir, lockHolder, writeFully } from './files.js';
import {
  encodeRecord,
  RECORD_HEADER,
  RecordType,
  SEGMENT_HEADER_SIZE,
  SEGMENT_MAGIC,
  segmentHeader,
} from './format.js';
import { JournalIndex } from './live-index.js';
import { describeIssue, type JournalIssue, replayJournal, type SegmentSummary } from './recovery.js';

export interface VerifyReport {
  readonly dir: string;
  readonly segments: readonly SegmentSummary[];
  readonly records: number;
  readonly ops: number;
  readonly liveMessages: number;
  readonly queues: number;
  readonly durables: number;
  /** Live key/value records (MQTT session state). */
  readonly kv: number;
  /** Prepared XA branches waiting for commit or rollback. */
  readonly preparedXa: number;
  readonly dataBytes: number;
  readonly liveBytes: number;
  readonly issues: readonly JournalIssue[];
  /** No issue stops the broker (torn tails and incomplete new segments it repairs itself). */
  readonly ok: boolean;
  /** A live process holding the journal's lock (the report may be out of date as it writes). */
  readonly lockedBy: number | undefined;
}

export async function verifyJournal(dir: string): Promise<VerifyReport> {
  const index = new JournalIndex();
  const r = await replayJournal(dir, index, { stopAtCorrupt: false });
  return {
    dir,
    segments: r.segments,
    records: r.records,
    ops: r.ops,
    liveMessages: index.liveMessages,
    queues: index.queues.size,
    durables: index.durables.size,
    kv: index.liveKv,
    preparedXa: index.xa.size,
    dataBytes: index.dataBytes,
    liveBytes: index.liveBytes,
    issues: r.issues,
    ok: !r.issues.some((i) => i.kind === 'corrupt' || i.kind === 'unsealed'),
    lockedBy: await lockHolder(dir),
  };
}

export function formatVerifyReport(r: VerifyReport): string[] {
  const lines = [
    `journal ${r.dir}`,
    `  segments: ${r.segments.length}, records: ${r.records}, operations: ${r.ops}`,
    `  live: ${r.liveMessages} messages in ${r.queues} queues, ${r.durables} durable subscriptions, ` +
      `${r.kv} key/value records`,
    `  bytes: ${r.dataBytes} of records, ${r.liveBytes} live`,
  ];
  if (r.lockedBy !== undefined) lines.push(`  note: process ${r.lockedBy} has the journal open`);
  for (const i of r.issues) {
    const severity = i.kind === 'corrupt' || i.kind === 'unsealed' ? 'ERROR' : 'warning';
    const fix = severity === 'ERROR' ? '' : ' (the broker fixes this on start)';
    lines.push(`  ${severity}: ${describeIssue(i)}${fix}`);
  }
  lines.push(r.ok ? 'OK' : `FAILED: ${r.issues.length} issue(s); run \`blazemq store repair\``);
  return lines;
}

export interface RepairReport {
  readonly before: VerifyReport;
  readonly after: VerifyReport;
  /** What was changed, one line each, naming file and offset. */
  readonly actions: readonly string[];
}

export async function repairJournal(dir: string): Promise<RepairReport> {
  const release = await acquireLock(dir);
  try {
    const before = await verifyJournal(dir);
    const actions: string[] = [];
    let report = before;
    let previous: JournalIssue | undefined;
    // Each fix removes one issue; a bound guards against a fix that does not take.
    for (let round = 0; round < 10_000; round++) {
      const issue = report.issues[0];
      if (issue === undefined) break;
      const again = actions.length > 0 && report.issues.length > 0 && sameIssue(issue, previous);
      if (again) throw new Error(`repair could not fix: ${describeIssue(issue)}`);
      previous = issue;
      const last = report.segments.at(-1)?.id === issue.segment || report.segments.length === 0;
      actions.push(await fix(issue, last));
      report = await verifyJournal(dir);
    }
    await fsyncDir(dir);
    return { before, after: report, actions };
  } finally {
    await release();
  }
}

function sameIssue(a: JournalIssue, b: JournalIssue | undefined): boolean {
  return b !== undefined && a.kind === b.kind && a.file === b.file && a.offset === b.offset;
}

async function fix(issue: JournalIssue, last: boolean): Promise<string> {
  const { file, offset } = issue;
  switch (issue.kind) {
    case 'torn-tail':
      await truncate(file, offset);
      return `truncated ${issue.fileSize - offset} bytes of torn tail in ${file} at offset ${offset}`;
    case 'empty-head':
      await rm(file);
      return `removed incomplete segment ${file}`;
    case 'unsealed':
      await truncate(file, offset, true);
      return `sealed ${file} at offset ${offset} (its missing tail cannot be recovered)`;
    case 'corrupt': {
      const next = issue.nextValid;
      if (next !== undefined) {
        const fh = await open(file, 'r+');
        try {
          let from = offset;
          if (offset < SEGMENT_HEADER_SIZE) {
            // The header is damaged but records follow: rewrite it.
            const header = segmentHeader(issue.segment, 0);
            if (next >= SEGMENT_HEADER_SIZE) {
              await writeFully(fh, header, 0);
              from = SEGMENT_HEADER_SIZE;
            } else {
              await writeFully(fh, SEGMENT_MAGIC, 0);
              from = next;
            }
          }
          const gap = next - from;
          if (gap === 0 || gap >= RECORD_HEADER) {
            if (gap > 0)
              await writeFully(
                fh,
                encodeRecord(0, RecordType.pad, new Uint8Array(gap - RECORD_HEADER)),
                from,
              );
            await fh.sync();
            return `skipped ${next - offset} damaged bytes in ${file} at offset ${offset} (${issue.reason}); their operations are lost`;
          }
        } finally {
          await fh.close();
        }
      }
      if (offset < SEGMENT_HEADER_SIZE) {
        await rm(file);
        return `removed ${file}: damaged from offset ${offset} (${issue.reason}) with nothing valid after`;
      }
      await truncate(file, offset, !last);
      return (
        `truncated ${file} at offset ${offset} (${issue.reason}): ${issue.fileSize - offset} bytes lost` +
        (last ? '' : ', segment sealed')
      );
    }
  }
}

async function truncate(file: string, offset: number, seal = false): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    await fh.truncate(offset);
    if (seal) await writeFully(fh, encodeRecord(0, RecordType.seal), offset);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
