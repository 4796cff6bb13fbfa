/**
 * The 1.2 MESSAGE `ack` header: an opaque id the client echoes in ACK/NACK `id`. We make it the
 * (subscription index, delivery tag) pair in base 36, e.g. `3-1z`, so that an ACK needs no lookup table.
 */
const ACK_ID = /^([0-9a-z]{1,11})-([0-9a-z]{1,11})$/;

export function encodeAckId(subscriptionIndex: number, tag: number): string {
  return subscriptionIndex.toString(36) + '-' + tag.toString(36);
}

export function decodeAckId(id: string): { subscriptionIndex: number; tag: number } | null {
  const m = ACK_ID.exec(id);
  if (!m) return null;
  return { subscriptionIndex: Number.parseInt(m[1]!, 36), tag: Number.parseInt(m[2]!, 36) };
}
