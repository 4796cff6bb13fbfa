/**
 * A cheap walk over the operations of a group record (codec.ts layout) for compaction: it reads only
 * what identifies an operation (code, queue or namespace, message id or key) and steps over the rest,
 * bodies and properties included, without decoding or copying them. Compaction keeps a handful of
 * live records out of a segment of thousands of dead messages; decoding every one of those (a Message
 * object, its properties and a copy of its body each) was most of its cost and much of its garbage.
 * A live operation is then decoded in full from [start, end) with `decodeOp`.
 *
 * Malformed bytes throw JournalDecodeError, as `decodeOp` does, at the same point or earlier: the
 * property tests in test/unit/store/scan.test.ts check that both agree on every operation's extent.
 */
import { internString, StringCache } from '../../util/protobuf-wire.js';
import { type ByteReader, JournalDecodeError } from './bytes.js';
import { OP_CODES } from './codec.js';

const F_OPTIONAL_STRINGS = 0b111_1110;
const T_STRING = 3;
const T_NUMBER = 4;

/** Filled by `scanOp`; one instance is reused for a whole segment. */
export class OpScan {
  /** The operation's code (codec.ts OP_CODES). */
  code = 0;
  /** Byte range of the operation in the reader's buffer. */
  start = 0;
  end = 0;
  /**
   * enqueue, relocate, delivery-count, durable-add: the queue; kv-put: the namespace. Empty for the
   * other operations (their fields are skipped).
   */
  queue = '';
  /** enqueue, relocate, delivery-count: the message id; kv-put: the key. Empty otherwise. */
  id = '';
  /** Queues and namespaces repeat from one operation to the next: the last of each is kept. */
  private readonly queues = new StringCache();
  private readonly namespaces = new StringCache();

  readQueue(r: ByteReader): string {
    return readCached(this.queues, r);
  }

  readNamespace(r: ByteReader): string {
    return readCached(this.namespaces, r);
  }
}

/** A `str` field, reusing the previous string when its bytes are the same (util/protobuf-wire.ts). */
function readCached(cache: StringCache, r: ByteReader): string {
  const n = r.varuint();
  const start = r.pos;
  r.skip(n);
  return internString(cache, r.buf, start, start + n);
}

/** Reads the operation at `r.pos` into `out` and leaves `r` after it. */
export function scanOp(r: ByteReader, out: OpScan): void {
  out.start = r.pos;
  out.queue = '';
  out.id = '';
  const code = r.u8();
  out.code = code;
  switch (code) {
    case OP_CODES.enqueue:
      out.queue = out.readQueue(r);
      out.id = scanMessage(r);
      break;
    case OP_CODES.relocate:
      out.queue = out.readQueue(r);
      r.skip(8); // order
      r.varuint(); // delivery count
      out.id = scanMessage(r);
      break;
    case OP_CODES.dequeue:
      r.skipField();
      r.skipField();
      break;
    case OP_CODES['delivery-count']:
      out.queue = out.readQueue(r);
      out.id = r.str();
      r.varuint();
      break;
    case OP_CODES['durable-add']: {
      out.queue = out.readQueue(r);
      r.skipField(); // client id
      r.skipField(); // name
      r.skipField(); // address
      if (r.u8() & 2) r.skipField(); // selector
      break;
    }
    case OP_CODES['durable-remove']:
      r.skipField();
      break;
    case OP_CODES['kv-put']:
      out.queue = out.readNamespace(r);
      out.id = r.str();
      r.skipField();
      break;
    case OP_CODES['kv-delete']:
      r.skipField();
      r.skipField();
      break;
    case OP_CODES['xa-prepare']: {
      skipXid(r);
      for (let i = count(r); i > 0; i--) {
        r.skipField();
        scanMessage(r);
      }
      for (let i = count(r); i > 0; i--) {
        r.skipField();
        r.skipField();
      }
      break;
    }
    case OP_CODES['xa-forget']:
      skipXid(r);
      break;
    default:
      throw new JournalDecodeError(`unknown operation code ${code}`, r.pos - 1);
  }
  out.end = r.pos;
}

/** Steps over a message (codec.ts `encodeMessage`), returning only its id. */
function scanMessage(r: ByteReader): string {
  const flags = r.u8();
  r.skip(1 + 8 + 8); // priority, expiration, timestamp
  const id = r.str();
  r.skipField(); // address
  for (let bits = flags & F_OPTIONAL_STRINGS; bits !== 0; bits &= bits - 1) r.skipField();
  const props = r.varuint();
  if (props > r.remaining) throw new JournalDecodeError(`property count ${props} too large`, r.pos);
  for (let i = 0; i < props; i++) {
    r.skipField();
    const tag = r.u8();
    if (tag === T_STRING) r.skipField();
    else if (tag === T_NUMBER) r.skip(8);
    else if (tag > T_NUMBER) throw new JournalDecodeError(`unknown property tag ${tag}`, r.pos - 1);
  }
  r.skipField(); // body
  return id;
}

function skipXid(r: ByteReader): void {
  r.skip(4);
  r.skipField();
  r.skipField();
}

function count(r: ByteReader): number {
  const n = r.varuint();
  if (n > r.remaining) throw new JournalDecodeError(`count ${n} too large`, r.pos);
  return n;
}
