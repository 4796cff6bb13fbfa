/**
 * Wildcard matching of `.`-separated names against ActiveMQ patterns (`*` = one level, `>` = the
 * remaining levels, zero or more). `TopicIndex` is a trie keyed by pattern level so that routing a
 * publish walks at most the pattern prefixes of the name instead of testing every subscription; results
 * are cached per name until the set of subscriptions changes.
 */
import { ANY_DESCENDANTS, ANY_LEVEL, levels } from './address.js';

/** Reference matcher over levels; used for policies (rarely) and as the specification of the trie. */
export function matchLevels(pattern: readonly string[], name: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === ANY_DESCENDANTS) return true;
    if (i >= name.length) return false;
    if (p !== ANY_LEVEL && p !== name[i]) return false;
  }
  return pattern.length === name.length;
}

export function matchPattern(pattern: string, name: string): boolean {
  return matchLevels(levels(pattern), levels(name));
}

interface TrieNode<T> {
  readonly children: Map<string, TrieNode<T>>;
  star: TrieNode<T> | undefined;
  /** Items whose pattern ends exactly here. */
  readonly exact: Set<T>;
  /** Items whose pattern is this prefix followed by `>`. */
  readonly rest: Set<T>;
}

function node<T>(): TrieNode<T> {
  return { children: new Map(), star: undefined, exact: new Set(), rest: new Set() };
}

function isEmpty<T>(n: TrieNode<T>): boolean {
  return n.children.size === 0 && n.star === undefined && n.exact.size === 0 && n.rest.size === 0;
}

const EMPTY: readonly never[] = Object.freeze([]);

export class TopicIndex<T> {
  private readonly root: TrieNode<T> = node();
  private readonly cache = new Map<string, readonly T[]>();
  private count = 0;

  /** `maxCached` bounds the per-name result cache (MQTT users publish to very many names). */
  constructor(private readonly maxCached = 10_000) {}

  get size(): number {
    return this.count;
  }

  add(pattern: string, item: T): void {
    const ls = levels(pattern);
    let n = this.root;
    for (let i = 0; i < ls.length; i++) {
      const l = ls[i]!;
      if (l === ANY_DESCENDANTS) {
        if (!n.rest.has(item)) this.count++;
        n.rest.add(item);
        this.cache.clear();
        return;
      }
      let next: TrieNode<T> | undefined;
      if (l === ANY_LEVEL) {
        next = n.star;
        if (next === undefined) n.star = next = node();
      } else {
        next = n.children.get(l);
        if (next === undefined) {
          next = node();
          n.children.set(l, next);
        }
      }
      n = next;
    }
    if (!n.exact.has(item)) this.count++;
    n.exact.add(item);
    this.cache.clear();
  }

  /** Removes one registration; prunes nodes left empty so a churn of names does not leak. */
  remove(pattern: string, item: T): boolean {
    const ls = levels(pattern);
    const path: Array<[TrieNode<T>, string]> = [];
    let n: TrieNode<T> | undefined = this.root;
    let removed = false;
    for (let i = 0; i < ls.length && n !== undefined; i++) {
      const l = ls[i]!;
      if (l === ANY_DESCENDANTS) {
        removed = n.rest.delete(item);
        break;
      }
      path.push([n, l]);
      n = l === ANY_LEVEL ? n.star : n.children.get(l);
      if (i === ls.length - 1 && n !== undefined) removed = n.exact.delete(item);
    }
    if (!removed) return false;
    this.count--;
    this.cache.clear();
    // Prune from the deepest node up.
    for (let i = path.length - 1; i >= 0; i--) {
      const [parent, l] = path[i]!;
      const child = l === ANY_LEVEL ? parent.star : parent.children.get(l);
      if (child === undefined || !isEmpty(child)) break;
      if (l === ANY_LEVEL) parent.star = undefined;
      else parent.children.delete(l);
    }
    return true;
  }

  /** Every item whose pattern matches `name` (no duplicates: each item sits on one trie path). */
  match(name: string): readonly T[] {
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    if (this.count === 0) return EMPTY;
    const out: T[] = [];
    collect(this.root, levels(name), 0, out);
    if (this.cache.size >= this.maxCached) this.cache.clear();
    this.cache.set(name, out);
    return out;
  }
}

function collect<T>(n: TrieNode<T>, ls: readonly string[], i: number, out: T[]): void {
  for (const item of n.rest) out.push(item);
  if (i === ls.length) {
    for (const item of n.exact) out.push(item);
    return;
  }
  const child = n.children.get(ls[i]!);
  if (child !== undefined) collect(child, ls, i + 1, out);
  if (n.star !== undefined) collect(n.star, ls, i + 1, out);
}
