/**
 * `GET /js/blazemq.js`: the browser API (src/web/js/blazemq.js, plain ES2018, no build step). Read once
 * and kept in memory with a strong ETag, so browsers revalidate with `If-None-Match` and get a 304.
 * The file is looked up in the package: `dist/web/js/` (if the web build copied it) then `src/web/js/`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './reply.js';

export const SCRIPT_PATH = '/js/blazemq.js';
/** Package root from this file: src/protocol/http/ (tsx) and dist/protocol/http/ (built) are alike. */
const ROOT = new URL('../../../', import.meta.url);
const CANDIDATES = ['dist/web/js/blazemq.js', 'src/web/js/blazemq.js'];

interface Script {
  body: Buffer;
  etag: string;
}

function scriptOf(body: Buffer): Script {
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

function load(): Script | undefined {
  for (const c of CANDIDATES) {
    try {
      return scriptOf(readFileSync(new URL(c, ROOT)));
    } catch {
      // Try the next place.
    }
  }
  return undefined;
}

/** The handler; `script` overrides the file (tests). */
export function browserScript(script?: Buffer): (req: IncomingMessage, res: ServerResponse) => boolean {
  let cached = script === undefined ? undefined : scriptOf(script);
  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== SCRIPT_PATH) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'method not allowed', code: 'BAD_REQUEST' }, { allow: 'GET, HEAD' });
      return true;
    }
    cached ??= load();
    if (!cached) {
      sendJson(res, 404, { error: 'blazemq.js is not installed with this broker', code: 'NOT_FOUND' });
      return true;
    }
    const headers = {
      etag: cached.etag,
      // Revalidate every time (cheap: a 304), so a broker upgrade is picked up at once.
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    };
    if (req.headers['if-none-match'] === cached.etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/javascript; charset=utf-8',
      'content-length': cached.body.length,
    });
    res.end(req.method === 'HEAD' ? undefined : cached.body);
    return true;
  };
}
