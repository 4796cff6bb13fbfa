/** Browse (`CoreConnection.browse`: pending queue messages, not consumed) and CreateTemporary. */
import { ACCEPTED } from '../../../core/store-writer.js';
import { BlazeError } from '../../../util/errors.js';
import { encodeBrowseResult, encodeFrame } from '../codec/encode.js';
import {
  type Browse,
  type CreateTemporary,
  TEMPORARY_KIND_QUEUE,
  TEMPORARY_KIND_TOPIC,
} from '../codec/types.js';
import type { NativeSession } from '../session.js';

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
