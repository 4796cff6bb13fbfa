#!/usr/bin/env node
/**
 * Bundles the browser front ends into dist/web/ (served by src/admin/static.ts):
 *   web/console/ -> dist/web/console/   the management console, served at / and /console/*
 *   web/ticker/  -> dist/web/ticker/    the live market-data demo, served at /demo/ticker
 *   src/web/js/blazemq.js -> dist/web/js/blazemq.js   the browser API, served at /js/blazemq.js (copied as
 *                            is: the published package ships dist/ but not src/)
 * Scripts and styles get a content hash in their file name so the server can let browsers cache them
 * forever; each index.html (never cached) names the current ones. Usage: node scripts/build-web.mjs [--dev]
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist/web');
const dev = process.argv.includes('--dev');

const APPS = [
  { name: 'console', entry: 'main.tsx' },
  { name: 'ticker', entry: 'main.ts' },
];

const hash = (data) => createHash('sha256').update(data).digest('hex').slice(0, 10);

async function buildApp({ name, entry }) {
  const src = join(ROOT, 'web', name);
  const out = join(OUT, name);
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });

  const result = await build({
    entryPoints: [join(src, entry)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // Browsers with EventSource, ES modules and fetch: everything since 2020.
    target: ['es2020', 'chrome90', 'firefox90', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: !dev,
    sourcemap: dev ? 'inline' : false,
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const js = result.outputFiles[0].contents;
  const script = `${name}-${hash(js)}.js`;
  await writeFile(join(out, script), js);

  const css = await readFile(join(src, 'style.css'));
  const style = `${name}-${hash(css)}.css`;
  await writeFile(join(out, style), css);

  const html = (await readFile(join(src, 'index.html'), 'utf8'))
    .replaceAll('__SCRIPT__', script)
    .replaceAll('__STYLE__', style);
  await writeFile(join(out, 'index.html'), html);
  return { name, script, style, bytes: js.length };
}

/** Plain ES2018, no build step: copied, so that dist/ alone serves it (protocol/http/browser-script.ts). */
async function copyBrowserScript() {
  const out = join(OUT, 'js');
  await mkdir(out, { recursive: true });
  await copyFile(join(ROOT, 'src/web/js/blazemq.js'), join(out, 'blazemq.js'));
  process.stdout.write('web: src/web/js/blazemq.js -> dist/web/js/blazemq.js\n');
}

const built = await Promise.all(APPS.map(buildApp));
await copyBrowserScript();
for (const b of built)
  process.stdout.write(`web: ${b.name} -> dist/web/${b.name}/${b.script} (${b.bytes} B)\n`);
