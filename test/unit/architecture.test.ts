/**
 * The layer boundaries of docs/ARCHITECTURE.md, enforced: every relative and `node:` import in src/ is
 * checked against the rules below, so a layer crossing fails the build instead of rotting the design.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../../src/', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

interface Import {
  from: string; // file, relative to src/
  target: string; // resolved path relative to src/, or the bare specifier (node:fs, protobufjs)
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const out: Import[] = [];
  for (const m of text.matchAll(
    /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
  )) {
    const spec = (m[1] ?? m[2])!;
    const target = spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)) : spec;
    out.push({ from: relative(SRC, file), target });
  }
  return out;
}

const all = files(SRC).flatMap(importsOf);
const CORE_CONTRACT = ['core/store.js', 'core/api.js', 'core/message.js'];
const layer = (path: string) => path.split('/')[0]!;
const NODE_IO = /^node:(net|fs|fs\/promises|dgram|http|https|tls|child_process|worker_threads)$/;

function violations(rule: (i: Import) => string | undefined): string[] {
  return all.map((i) => rule(i)).filter((v): v is string => v !== undefined);
}

describe('import rules', () => {
  it('core imports only core and util, and no Node I/O', () => {
    expect(
      violations((i) => {
        if (layer(i.from) !== 'core') return undefined;
        if (NODE_IO.test(i.target)) return `${i.from} -> ${i.target}`;
        // Other bare specifiers (npm packages, harmless node: modules) are allowed.
        if (!i.target.endsWith('.js')) return undefined;
        const l = layer(i.target);
        return l === 'core' || l === 'util' ? undefined : `${i.from} -> ${i.target}`;
      }),
    ).toEqual([]);
  });

  it('a protocol imports core, util and the net transport contract, never another protocol', () => {
    expect(
      violations((i) => {
        if (layer(i.from) !== 'protocol' || !i.target.endsWith('.js')) return undefined;
        const own = i.from.split('/')[1];
        const [l, sub] = i.target.split('/');
        if (l === 'protocol' && sub !== own) return `${i.from} -> ${i.target}`;
        if (l === 'net' && i.target !== 'net/transport.js') return `${i.from} -> ${i.target}`;
        return ['core', 'util', 'protocol', 'net'].includes(l!) ? undefined : `${i.from} -> ${i.target}`;
      }),
    ).toEqual([]);
  });

  it('group imports none of the broker', () => {
    expect(
      violations((i) => {
        if (layer(i.from) !== 'group' || !i.target.endsWith('.js')) return undefined;
        return ['group', 'util'].includes(layer(i.target)) ? undefined : `${i.from} -> ${i.target}`;
      }),
    ).toEqual([]);
  });

  it('store implementations import only the core contract and util', () => {
    expect(
      violations((i) => {
        if (layer(i.from) !== 'store' || !i.target.endsWith('.js')) return undefined;
        // From the core only the contract: the store interface, the api types and the message.
        if (layer(i.target) === 'core') {
          return CORE_CONTRACT.includes(i.target) ? undefined : `${i.from} -> ${i.target}`;
        }
        return ['store', 'util'].includes(layer(i.target)) ? undefined : `${i.from} -> ${i.target}`;
      }),
    ).toEqual([]);
  });

  it('the client imports none of the broker (it runs in browsers; test/unit/client/isomorphic.test.ts)', () => {
    expect(
      violations((i) => {
        if (layer(i.from) !== 'client' || !i.target.endsWith('.js')) return undefined;
        // protobufjs/light: the only package the client needs (its codec), browser-safe.
        return ['client', 'util', 'protobufjs'].includes(layer(i.target))
          ? undefined
          : `${i.from} -> ${i.target}`;
      }),
    ).toEqual([]);
  });

  it('the rules see the imports (a sanity check that the scanner works)', () => {
    expect(all.some((i) => i.from.startsWith('protocol/stomp') && i.target.startsWith('core/'))).toBe(true);
    expect(all.length).toBeGreaterThan(100);
  });
});
