/**
 * The coordinator's decision record. In presumed-abort two-phase commit the only thing a transaction
 * manager must remember is "this global transaction commits" (written after every branch voted
 * prepared, before the first commit is sent); a prepared branch with no such record is rolled back by
 * recovery. The record names the resources that took part, so that it is forgotten only once each of
 * them has been seen to hold no prepared branch of it.
 *
 * On-disk form (FileDecisionLog), one record per line, append only:
 *
 *   <json>\t<crc32 of the json's UTF-8 bytes, 8 lowercase hex digits>\n
 *   json = {"c":"<gtrid>","r":["<resource>",...]}   commit decision
 *        | {"f":"<gtrid>"}                           forgotten
 *
 * JSON escapes tab and newline, so the framing cannot be confused by names. A line that is incomplete or
 * fails its CRC ends the valid log: only the last record can be torn (records are appended in order and
 * a decision counts only once fsync returned), and the file is cut back to the valid prefix on open so
 * later appends are not hidden behind garbage.
 */

export interface Decision {
  readonly gtrid: string;
  readonly resources: readonly string[];
}

export interface DecisionLog {
  /** The commit point: resolves only once the decision is durable. */
  commit(decision: Decision): Promise<void>;
  /** Need not be durable: a lost forget only makes recovery look for branches that are already gone. */
  forget(gtrid: string): Promise<void>;
  /** Decisions not forgotten, oldest first. */
  pending(): Promise<Decision[]>;
  close(): Promise<void>;
}

export type LogRecord = { c: string; r: string[] } | { f: string };

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export function encodeRecord(record: LogRecord): Uint8Array {
  const json = utf8.encode(JSON.stringify(record));
  const tail = utf8.encode(`\t${crc32(json).toString(16).padStart(8, '0')}\n`);
  const out = new Uint8Array(json.length + tail.length);
  out.set(json);
  out.set(tail, json.length);
  return out;
}

/** Decisions after replaying the valid prefix of a log, and that prefix's length in bytes. */
export function decodeLog(bytes: Uint8Array): { decisions: Map<string, Decision>; validBytes: number } {
  const decisions = new Map<string, Decision>();
  let pos = 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) break;
    const record = decodeLine(bytes.subarray(pos, nl));
    if (record === undefined) break;
    if ('c' in record) decisions.set(record.c, { gtrid: record.c, resources: record.r });
    else decisions.delete(record.f);
    pos = nl + 1;
  }
  return { decisions, validBytes: pos };
}

function decodeLine(line: Uint8Array): LogRecord | undefined {
  const tab = line.lastIndexOf(0x09);
  if (tab < 0 || line.length - tab !== 9) return undefined;
  const json = line.subarray(0, tab);
  const crc = utf8Decoder.decode(line.subarray(tab + 1));
  if (!/^[0-9a-f]{8}$/.test(crc) || Number.parseInt(crc, 16) !== crc32(json)) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(utf8Decoder.decode(json));
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o['c'] === 'string' && Array.isArray(o['r']) && o['r'].every((x) => typeof x === 'string')) {
    return { c: o['c'], r: o['r'] as string[] };
  }
  if (typeof o['f'] === 'string') return { f: o['f'] };
  return undefined;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib's crc32). */
export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * In memory: for tests, and for browsers where there is no durable place. A coordinator crash loses its
 * decisions, so recovery rolls back transactions that had committed in some branch: not atomic across
 * a crash of the coordinator, only across failures of the resources.
 */
export class MemoryDecisionLog implements DecisionLog {
  private readonly decisions = new Map<string, Decision>();

  async commit(decision: Decision): Promise<void> {
    this.decisions.set(decision.gtrid, { gtrid: decision.gtrid, resources: [...decision.resources] });
  }

  async forget(gtrid: string): Promise<void> {
    this.decisions.delete(gtrid);
  }

  async pending(): Promise<Decision[]> {
    return [...this.decisions.values()];
  }

  async close(): Promise<void> {}
}
