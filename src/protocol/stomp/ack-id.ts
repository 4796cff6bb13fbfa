/**
 * The 1.2 MESSAGE `ack` header: an opaque id the client echoes in ACK/NACK `id`. We make it the
 * (subscription index, delivery tag) pair in base 36, e.g. `3-1z`, so that an ACK needs no lookup table.
 */
export function encodeAckId(subscriptionIndex: number, tag: number): string {
  return subscriptionIndex.toString(36) + '-' + tag.toString(36);
}

/** Up to 11 base-36 digits on each side: 36^11 > 2^53, so they cover every safe integer tag. */
const MAX_DIGITS = 11;

/**
 * Parses `<index>-<tag>` as produced by encodeAckId: the index, or -1 for anything else. Hand-written because
 * every ACK goes through it. The tag is returned through `tagOut[0]` rather than in a new object.
 */
export function parseAckIndex(id: string, tagOut: number[]): number {
  const dash = id.indexOf('-');
  if (dash < 1 || dash > MAX_DIGITS || id.length - dash - 1 < 1 || id.length - dash - 1 > MAX_DIGITS)
    return -1;
  const index = base36(id, 0, dash);
  const tag = base36(id, dash + 1, id.length);
  if (index < 0 || tag < 0) return -1;
  tagOut[0] = tag;
  return index;
}

export function decodeAckId(id: string): { subscriptionIndex: number; tag: number } | null {
  const tag = [0];
  const index = parseAckIndex(id, tag);
  return index < 0 ? null : { subscriptionIndex: index, tag: tag[0]! };
}

/** Lower-case base-36 digits of s[start, end), or -1. */
function base36(s: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x7a) d = c - 0x57;
    else return -1;
    n = n * 36 + d;
  }
  return n;
}
