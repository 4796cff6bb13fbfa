/**
 * Reads a request body with a size limit that is checked before buffering: a declared `content-length`
 * over the limit is refused at once, and a chunked body is counted as it arrives and refused (413) the
 * moment it passes the limit (STYLE: limits checked before allocation).
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, `body over the limit of ${limit} bytes`);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | undefined) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      if (err) {
        // Stop reading: the rest is drained (and dropped) by the server so the 413 can still be sent.
        req.resume();
        reject(err);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) finish(tooLarge());
      else chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => finish(undefined));
    req.once('error', (err) => finish(new HttpError(400, `request body: ${err.message}`)));
    req.once('close', () => finish(new HttpError(400, 'request closed before its body ended')));
  });
}
