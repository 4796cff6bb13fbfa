import type { Digest } from '../reliable/types.js';
import type { SeqEntry } from '../wire.js';

export function digestToEntries(d: Digest): SeqEntry[] {
  return [...d].map(([sender, seq]) => ({ sender, seq }));
}

export function entriesToDigest(entries: readonly SeqEntry[]): Digest {
  const d: Digest = new Map();
  for (const e of entries) d.set(e.sender, Math.max(d.get(e.sender) ?? 0, e.seq));
  return d;
}

/**
 * The cut of a flush: per sender, the most any survivor delivered (for a survivor itself, all it sent).
 * Whatever one survivor delivered, every survivor delivers before the new view: that is the agreement.
 */
export function maxDigest(digests: Iterable<Digest>): Digest {
  const out: Digest = new Map();
  for (const d of digests) for (const [s, v] of d) if (v > (out.get(s) ?? -1)) out.set(s, v);
  return out;
}
