/** Disconnect (native.proto "session"): finish in-flight work, answer Ok, close. */
import type { RequestOnly } from '../codec/types.js';
import type { NativeSession } from '../session.js';

export function handleDisconnect(session: NativeSession, f: RequestOnly): void {
  session.disconnect(f.request_id);
}
