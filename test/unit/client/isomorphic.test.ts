/**
 * The client bundles for browsers: only transport/node-tcp.ts touches Node modules, it is reached through
 * a computed dynamic import, and an esbuild browser bundle of the entry point holds no node: import.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const CLIENT = new URL('../../../src/client/', import.meta.url).pathname;
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

/**
 * A module of src/util the client may run: it imports nothing (no Node module, no package) but other such
 * util modules, so it is as browser-safe as the client's own code.
 */
function isPureUtil(jsPath: string, seen = new Set<string>()): boolean {
  const ts = jsPath.replace(/\.js$/, '.ts');
  if (relative(join(CLIENT, '..', 'util'), ts).startsWith('..')) return false;
  if (seen.has(ts)) return true;
  seen.add(ts);
  for (const m of readFileSync(ts, 'utf8').matchAll(
    /^(import|export)\s+(?!type\s)[^'"]*?from\s+['"]([^'"]+)['"]/gm,
  )) {
    const spec = m[2]!;
    if (!spec.startsWith('./') || !isPureUtil(join(ts, '..', spec), seen)) return false;
  }
  return true;
}

describe('isomorphic client', () => {
  it('imports Node modules only in transport/node-tcp.ts, and nothing of the broker but types and import-free util modules', () => {
    const offenders: string[] = [];
    for (const f of files(CLIENT)) {
      const rel = relative(CLIENT, f);
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
        const spec = m[3]!;
        const typeOnly = Boolean(m[2]);
        if (spec.startsWith('node:') && rel !== 'transport/node-tcp.ts') offenders.push(`${rel} -> ${spec}`);
        if (spec.startsWith('../') && !typeOnly) {
          const target = relative(CLIENT, join(f, '..', spec));
          if (target.startsWith('..') && !isPureUtil(join(f, '..', spec)))
            offenders.push(`${rel} -> ${spec}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('bundles for the browser with esbuild, without node: modules or the ws package', async () => {
    const out = await build({
      entryPoints: [join(CLIENT, 'index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    const code = out.outputFiles[0]!.text;
    expect(code).not.toMatch(/from ["']node:|require\(["']node:/);
    expect(code).not.toContain('node_modules/ws/');
    expect(code).toContain('blazemq.v1'); // the WebSocket subprotocol made it in
  });
});
