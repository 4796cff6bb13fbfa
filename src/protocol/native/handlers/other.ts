/**
 * Browse (`CoreConnection.browse`: pending queue messages, not consumed), CreateTemporary and
 * DeleteTemporary (version 2).
 */
import { ACCEPTED } from '../../../core/store-writer.js';
import { BlazeError, isBlazeError } from '../../../util/errors.js';
import { encodeBrowseResult, encodeFrame } from '../codec/encode.js';
import {
  type Browse,
  type CreateTemporary,
  type DeleteTemporary,
  TEMPORARY_KIND_QUEUE,
  TEMPORARY_KIND_TOPIC,
} from '../codec/types.js';
import type { NativeSession } from '../session.js';
import { WireCodeError } from './transaction.js';

export function handleBrowse(session: NativeSession, f: Browse): void {
  if (f.address === '') throw new BlazeError('INVALID_ADDRESS', 'Browse without an address');
  const limit = session.settings.limits.maxBrowse;
  const max = f.max_messages === 0 ? limit : Math.min(f.max_messages, limit);
  const options: { selector?: string; max?: number } = { max };
  if (f.selector.trim() !== '') options.selector = f.selector;
  const messages = session.conn.browse(f.address, options);
  session.track(f.request_id, ACCEPTED, () => encodeBrowseResult(f.request_id, messages));
}

export function handleCreateTemporary(session: NativeSession, f: CreateTemporary): void {
  if (f.kind !== TEMPORARY_KIND_QUEUE && f.kind !== TEMPORARY_KIND_TOPIC) {
    throw new BlazeError('BAD_REQUEST', `unknown temporary kind ${f.kind}`);
  }
  const max = session.settings.limits.maxTemporaries;
  if (session.temporaries >= max) {
    throw new BlazeError('LIMIT_EXCEEDED', `at most ${max} temporary destinations per connection`);
  }
  const address = session.conn.createTemporary(f.kind === TEMPORARY_KIND_QUEUE ? 'queue' : 'topic');
  session.temporaries++;
  session.track(f.request_id, ACCEPTED, () =>
    encodeFrame('temporary_created', { request_id: f.request_id, address }),
  );
}

/**
 * native.proto DeleteTemporary. The core refuses a destination that still has consumers with CONFLICT
 * (JMS 1.1 section 4.4.3); on the wire that is TEMPORARY_IN_USE, so that a client can tell it apart from
 * the other CONFLICTs and raise the JMS IllegalStateException.
 */
export function handleDeleteTemporary(session: NativeSession, f: DeleteTemporary): void {
  const conn = session.conn;
  if (conn.deleteTemporary === undefined) {
    throw new BlazeError('NOT_SUPPORTED', 'this broker cannot delete temporary destinations');
  }
  try {
    conn.deleteTemporary(f.address);
  } catch (e) {
    if (!isBlazeError(e) || e.code !== 'CONFLICT') throw e;
    // Answered through the replies, not thrown: the session takes any non-BlazeError thrown as fatal.
    session.replies.fail(f.request_id, new WireCodeError('TEMPORARY_IN_USE', e.message));
    return;
  }
  // maxTemporaries counts live destinations: the connection may create another in its place.
  session.temporaries = Math.max(0, session.temporaries - 1);
  session.ok(f.request_id);
}
