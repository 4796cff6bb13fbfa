/**
 * `Connected.store_id`: an identity of the broker's store, so that a failover client can tell a restart
 * or a takeover of the same data (same id) from a different broker. Created once, kept in the store
 * itself (a key/value record), so every broker that opens the same store reports the same id. Without a
 * durable store the id lives as long as the process.
 */
import { randomUUID } from 'node:crypto';
import type { KeyValueNamespace } from '../../core/kv.js';

export const NATIVE_STORE_NAMESPACE = 'native-store';
const KEY = 'store-id';

export function storeIdentity(kv: KeyValueNamespace): string {
  const recovered = kv.takeRecovered().get(KEY);
  if (recovered !== undefined && recovered.length > 0) return new TextDecoder().decode(recovered);
  const id = randomUUID();
  kv.put(KEY, new TextEncoder().encode(id));
  return id;
}
