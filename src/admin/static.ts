/**
 * The broker's own web assets, built by scripts/build-web.mjs into dist/web/:
 *
 *   GET /, /console, /console/       the console's index.html            (dist/web/console/index.html)
 *   GET /console/<file>              its scripts and styles               (dist/web/console/<file>)
 *   GET /demo/ticker, /demo/ticker/  the live ticker page                 (dist/web/ticker/index.html)
 *   GET /demo/ticker/<file>          its scripts and styles               (dist/web/ticker/<file>)
 *
 * Public (no authentication): the pages hold no data; the console signs in against the management API.
 * Path traversal is impossible by construction: a file is one path segment of a fixed character set
 * (no `/`, `\`, `..`, NUL, even once percent-decoded), looked up in one of two fixed directories.
 * Caching: hashed file names (`name-0123456789.js`) are immutable for a year; everything else is
 * revalidated with an ETag (RFC 9110 §8.8.3, §13.1.2: If-None-Match -> 304).
 */
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../util/logger.js';

/** Same relative path from src/admin/ (tsx) and dist/admin/ (built): <package>/dist/web. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

export type App = 'console' | 'ticker';

export type AssetRequest = { app: App; file: string } | { bad: true } | undefined;

const FILE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const HASHED = /-[0-9a-f]{8,}\.[a-z0-9]+$/;

const PREFIXES: ReadonlyArray<[string, App]> = [
  ['/console', 'console'],
  ['/demo/ticker', 'ticker'],
];

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Which asset a request path names: undefined when the path is not ours (other handlers may own it),
 * `{bad}` when it is under our prefixes but not a plain file name. Pure.
 */
export function resolveAsset(path: string): AssetRequest {
  if (path === '/' || path === '/index.html') return { app: 'console', file: 'index.html' };
  for (const [prefix, app] of PREFIXES) {
    if (path === prefix || path === `${prefix}/`) return { app, file: 'index.html' };
    if (!path.startsWith(`${prefix}/`)) continue;
    let file: string;
    try {
      file = decodeURIComponent(path.slice(prefix.length + 1));
    } catch {
      return { bad: true };
    }
    // One segment of safe characters, not starting with a dot: no traversal, no hidden files.
    if (!FILE.test(file) || file.includes('..')) return { bad: true };
    return { app, file };
  }
  return undefined;
}

export function contentTypeOf(file: string): string {
  return TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export function cacheControlOf(file: string): string {
  if (file.endsWith('.html')) return 'no-cache';
  return HASHED.test(file) ? 'public, max-age=31536000, immutable' : 'public, max-age=300';
}

/** RFC 9110 §13.1.2: `*` or a list of entity tags, weak comparison. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === bare);
}

/**
 * The pages' protections: no framing (the console has destructive buttons: clickjacking), scripts and
 * connections only from the broker itself. Styles allow inline for the charts' colours.
 */
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export interface StaticOptions {
  /** Directory holding console/ and ticker/ (default: the package's dist/web). */
  root?: string;
  logger?: Logger;
}

function plain(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  asset: { app: App; file: string },
): Promise<void> {
  const file = join(root, asset.app, asset.file);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
    if (!info.isFile()) throw new Error('not a file');
  } catch {
    if (asset.file === 'index.html') {
      // Running from a checkout that ran `tsc` but not the web build.
      plain(res, 503, `The ${asset.app} is not built: run \`npm run build\` (dist/web is missing).\n`);
    } else plain(res, 404, 'not found\n');
    return;
  }
  const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers: Record<string, string> = {
    'content-type': contentTypeOf(asset.file),
    'cache-control': cacheControlOf(asset.file),
    etag,
    'last-modified': info.mtime.toUTCString(),
    'x-content-type-options': 'nosniff',
    ...(asset.file.endsWith('.html') ? PAGE_HEADERS : {}),
  };
  if (etagMatches(req.headers['if-none-match'], etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const body = req.method === 'HEAD' ? undefined : await readFile(file);
  res.writeHead(200, { ...headers, 'content-length': info.size });
  res.end(body);
}

/** A handler for admin/http.ts: mount it last, since `/` would otherwise shadow nothing but the 404. */
export function staticAssets(
  options: StaticOptions = {},
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const root = options.root ?? DEFAULT_WEB_ROOT;
  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const asset = resolveAsset(path);
    if (asset === undefined) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      plain(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
      return true;
    }
    if ('bad' in asset) {
      plain(res, 404, 'not found\n');
      return true;
    }
    serve(req, res, root, asset).catch((err: unknown) => {
      options.logger?.error({ err, path }, 'static asset failed');
      if (!res.headersSent) plain(res, 500, 'internal error\n');
      else res.destroy();
    });
    return true;
  };
}
