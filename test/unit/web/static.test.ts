/**
 * src/admin/static.ts: the path rules (property-tested: nothing outside the two asset directories is ever
 * named), and the handler over a temporary dist/web on a real HTTP server: types, caching, 304, methods,
 * raw traversal attempts, and the "not built" answer.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cacheControlOf,
  contentTypeOf,
  etagMatches,
  resolveAsset,
  staticAssets,
} from '../../../src/admin/static.js';

describe('resolveAsset', () => {
  it('maps the pages and their files', () => {
    expect(resolveAsset('/')).toEqual({ app: 'console', file: 'index.html' });
    expect(resolveAsset('/console/')).toEqual({ app: 'console', file: 'index.html' });
    expect(resolveAsset('/console/console-0123abcd99.js')).toEqual({
      app: 'console',
      file: 'console-0123abcd99.js',
    });
    expect(resolveAsset('/demo/ticker')).toEqual({ app: 'ticker', file: 'index.html' });
    expect(resolveAsset('/demo/ticker/ticker-aa.css')).toEqual({ app: 'ticker', file: 'ticker-aa.css' });
    expect(resolveAsset('/v1/admin/queues')).toBeUndefined();
    expect(resolveAsset('/consolex')).toBeUndefined();
    expect(resolveAsset('/health')).toBeUndefined();
  });

  it('refuses traversal, hidden files and sub-paths, even percent-encoded', () => {
    for (const p of [
      '/console/../package.json',
      '/console/..%2F..%2Fpackage.json',
      '/console/%2e%2e',
      '/console/.env',
      '/console/a/b.js',
      '/console/a%5Cb.js',
      '/console/a%00.js',
      '/console/%E0%A4%A',
      '/demo/ticker/..',
    ]) {
      expect(resolveAsset(p), p).toEqual({ bad: true });
    }
  });

  it('never names a file outside its directory', () => {
    const segment = fc.oneof(fc.string(), fc.constantFrom('..', '.', '%2e%2e', '%2F', '\\', '%5c', '%00'));
    fc.assert(
      fc.property(
        fc.constantFrom('/console/', '/demo/ticker/', '/'),
        fc.array(segment, { maxLength: 4 }),
        (p, parts) => {
          const r = resolveAsset(p + parts.join('/'));
          if (r && !('bad' in r)) {
            expect(['console', 'ticker']).toContain(r.app);
            expect(r.file).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/);
            expect(r.file).not.toContain('..');
          }
        },
      ),
    );
  });

  it('types, caching and entity tags', () => {
    expect(contentTypeOf('a.js')).toBe('text/javascript; charset=utf-8');
    expect(contentTypeOf('a.CSS')).toBe('text/css; charset=utf-8');
    expect(contentTypeOf('a.bin')).toBe('application/octet-stream');
    expect(cacheControlOf('index.html')).toBe('no-cache');
    expect(cacheControlOf('console-0123abcd99.js')).toContain('immutable');
    expect(cacheControlOf('logo.png')).toBe('public, max-age=300');
    expect(etagMatches('W/"1-2"', 'W/"1-2"')).toBe(true);
    expect(etagMatches('"x", "1-2"', 'W/"1-2"')).toBe(true);
    expect(etagMatches('*', 'W/"1-2"')).toBe(true);
    expect(etagMatches('"1-3"', 'W/"1-2"')).toBe(false);
    expect(etagMatches(undefined, 'W/"1-2"')).toBe(false);
  });
});

describe('staticAssets handler', () => {
  let root: string;
  let server: Server;
  let port: number;
  let fallthrough = 0;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'blazemq-web-'));
    mkdirSync(join(root, 'console'));
    writeFileSync(join(root, 'console/index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(root, 'console/console-0123abcd99.js'), 'console.log(1)');
    writeFileSync(join(root, 'secret.txt'), 'top secret');
    // No ticker/: that app is "not built".
    const handler = staticAssets({ root });
    server = createServer((req, res) => {
      if (handler(req, res)) return;
      fallthrough++;
      res.writeHead(418);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(root, { recursive: true, force: true });
  });

  const get = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${path}`, init);

  /** Sends the request line byte for byte (fetch would normalise `..` away). */
  function raw(path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () =>
        s.write(`GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`),
      );
      let out = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        out += d;
      });
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
  }

  it('serves the console page with its protections, and hashed assets as immutable', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(await page.text()).toContain('<title>console</title>');
    const js = await get('/console/console-0123abcd99.js');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await js.text()).toBe('console.log(1)');
  });

  it('answers 304 to a matching If-None-Match, and HEAD without a body', async () => {
    const first = await get('/console/');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"/);
    const again = await get('/console/', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const head = await get('/console', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String('<!doctype html><title>console</title>'.length));
    expect(await head.text()).toBe('');
  });

  it('404s unknown and unsafe paths, 405s other methods, passes other paths on', async () => {
    expect((await get('/console/nope.js')).status).toBe(404);
    expect((await get('/console/secret.txt')).status).toBe(404);
    expect(await raw('/console/../secret.txt')).toMatch(/^HTTP\/1.1 404/);
    expect(await raw('/console/..%2fsecret.txt')).toMatch(/^HTTP\/1.1 404/);
    expect(await raw('/console/%2e%2e%2fsecret.txt')).toMatch(/^HTTP\/1.1 404/);
    const post = await get('/', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const before = fallthrough;
    expect((await get('/v1/admin/overview')).status).toBe(418);
    expect(fallthrough).toBe(before + 1);
  });

  it('says how to build when the assets are missing', async () => {
    const r = await get('/demo/ticker');
    expect(r.status).toBe(503);
    expect(await r.text()).toContain('npm run build');
  });
});
