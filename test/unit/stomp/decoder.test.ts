import { describe, expect, it } from 'vitest';
import {
  StompCodecError,
  StompDecoder,
  type StompFrame,
  type StompLimits,
} from '../../../src/protocol/stomp/index.js';

function decodeAll(
  input: string | Buffer | Buffer[],
  opts: { version?: '1.0' | '1.1' | '1.2'; limits?: Partial<StompLimits> } = {},
): StompFrame[] {
  const d = new StompDecoder(opts);
  const chunks = Array.isArray(input)
    ? input
    : [typeof input === 'string' ? Buffer.from(input, 'utf8') : input];
  const out: StompFrame[] = [];
  for (const c of chunks) {
    d.push(c);
    for (let f = d.next(); f; f = d.next()) out.push(f);
  }
  return out;
}

function codecError(fn: () => unknown): StompCodecError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StompCodecError);
    return e as StompCodecError;
  }
  throw new Error('expected a StompCodecError');
}

describe('StompDecoder: framing', () => {
  it('decodes a frame with headers and a NUL-terminated body', () => {
    const [f] = decodeAll('SEND\ndestination:/queue/a\nx:1\n\nhello\0');
    expect(f!.command).toBe('SEND');
    expect({ ...f!.headers }).toEqual({ destination: '/queue/a', x: '1' });
    expect(f!.body.toString()).toBe('hello');
  });

  it('accepts CRLF line endings (1.2 EOL = [CR] LF)', () => {
    const [f] = decodeAll('SEND\r\ndestination:/queue/a\r\n\r\nbody\0');
    expect(f!.command).toBe('SEND');
    expect(f!.headers['destination']).toBe('/queue/a');
    expect(f!.body.toString()).toBe('body');
  });

  it('skips heart-beat EOLs between frames, LF and CRLF', () => {
    const frames = decodeAll('\n\r\n\nDISCONNECT\n\n\0\n\n\r\nDISCONNECT\nreceipt:7\n\n\0\n');
    expect(frames.map((f) => f.command)).toEqual(['DISCONNECT', 'DISCONNECT']);
    expect(frames[1]!.headers['receipt']).toBe('7');
  });

  it('reads exactly content-length bytes, NULs included, then requires NUL', () => {
    const body = Buffer.from([1, 0, 2, 0, 0, 3]);
    const bytes = Buffer.concat([
      Buffer.from('SEND\ndestination:/queue/a\ncontent-length:6\n\n'),
      body,
      Buffer.from([0]),
    ]);
    const [f] = decodeAll(bytes);
    expect([...f!.body]).toEqual([...body]);
  });

  it('fails when the byte after a content-length body is not NUL', () => {
    const e = codecError(() => decodeAll('SEND\ncontent-length:2\n\nabc\0'));
    expect(e.reason).toBe('missing-nul');
    expect(e.code).toBe('BAD_REQUEST');
  });

  it('handles every possible split point of a two-frame stream', () => {
    const text =
      'MESSAGE\r\nsubscription:s\nmessage-id:m\\c1\ncontent-length:3\n\na\0b\0\n\nRECEIPT\nreceipt-id:77\n\n\0';
    const bytes = Buffer.from(text);
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j += 7) {
        const frames = decodeAll([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]);
        expect(frames.map((f) => f.command)).toEqual(['MESSAGE', 'RECEIPT']);
        expect(frames[0]!.headers['message-id']).toBe('m:1');
        expect([...frames[0]!.body]).toEqual([97, 0, 98]);
        expect(frames[1]!.headers['receipt-id']).toBe('77');
      }
    }
  });

  it('decodes byte by byte', () => {
    const bytes = Buffer.from('SEND\ndestination:/queue/a\n\nxyz\0SEND\ndestination:/queue/b\n\n\0');
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    const frames = decodeAll(chunks);
    expect(frames.map((f) => f.headers['destination'])).toEqual(['/queue/a', '/queue/b']);
    expect(frames[0]!.body.toString()).toBe('xyz');
  });

  it('keeps the first of repeated headers (1.2 "Repeated Header Entries")', () => {
    const [f] = decodeAll('MESSAGE\nfoo:World\nfoo:Hello\n\n\0');
    expect(f!.headers['foo']).toBe('World');
  });

  it('returns a zero-copy body slice when the frame is in one chunk', () => {
    const bytes = Buffer.from('SEND\n\nabcdef\0');
    const [f] = decodeAll(bytes);
    expect(f!.body.buffer).toBe(bytes.buffer);
  });

  it('treats header names such as __proto__ as plain data', () => {
    const [f] = decodeAll('SEND\n__proto__:x\nconstructor:y\n\n\0');
    expect(Object.getOwnPropertyDescriptor(f!.headers, '__proto__')?.value).toBe('x');
    // Nothing is inherited: the record's prototype is an empty object with a null prototype.
    expect(Object.getPrototypeOf(Object.getPrototypeOf(f!.headers))).toBeNull();
    expect(Object.keys(Object.getPrototypeOf(f!.headers) as object)).toEqual([]);
    expect(f!.headers['toString']).toBeUndefined();
    expect('hasOwnProperty' in f!.headers).toBe(false);
    expect(f!.headers['constructor']).toBe('y');
  });

  it('keeps values with colons and surrounding spaces as they are', () => {
    const [f] = decodeAll('SEND\nurl:http://x:80/ \n\n\0', { version: '1.0' });
    expect(f!.headers['url']).toBe('http://x:80/ ');
  });
});

describe('StompDecoder: escaping per version', () => {
  const frame = 'SEND\na\\cb:1\\n2\\c3\\\\4\\r\n\n\0';

  it('1.2 unescapes \\r \\n \\c \\\\', () => {
    const [f] = decodeAll(frame, { version: '1.2' });
    expect(f!.headers['a:b']).toBe('1\n2:3\\4\r');
  });

  it('1.1 unescapes \\n \\c \\\\', () => {
    const [f] = decodeAll('SEND\nk:1\\n2\\c3\\\\4\n\n\0', { version: '1.1' });
    expect(f!.headers['k']).toBe('1\n2:3\\4');
  });

  it('1.0 does not unescape', () => {
    const [f] = decodeAll('SEND\nk:1\\n2\n\n\0', { version: '1.0' });
    expect(f!.headers['k']).toBe('1\\n2');
  });

  it('never unescapes CONNECT / STOMP / CONNECTED', () => {
    for (const command of ['CONNECT', 'STOMP', 'CONNECTED']) {
      const [f] = decodeAll(`${command}\npasscode:a\\cb\\t\n\n\0`, { version: '1.2' });
      expect(f!.headers['passcode']).toBe('a\\cb\\t');
    }
  });

  it('refuses an undefined escape sequence (1.2 "Value Encoding")', () => {
    expect(codecError(() => decodeAll('SEND\nk:a\\tb\n\n\0')).reason).toBe('invalid-escape');
    expect(codecError(() => decodeAll('SEND\nk:ab\\\n\n\0')).reason).toBe('invalid-escape');
  });
});

describe('StompDecoder: limits and malformed input', () => {
  it('refuses a content-length above maxBodySize before the body arrives', () => {
    const d = new StompDecoder({ limits: { maxBodySize: 100 } });
    d.push(Buffer.from('SEND\ncontent-length:101\n\n'));
    const e = codecError(() => d.next());
    expect(e.reason).toBe('body-too-large');
    expect(e.code).toBe('LIMIT_EXCEEDED');
  });

  it('refuses a NUL-terminated body that grows past maxBodySize without waiting for its end', () => {
    const d = new StompDecoder({ limits: { maxBodySize: 10 } });
    d.push(Buffer.from('SEND\n\n0123456789'));
    expect(d.next()).toBeNull();
    d.push(Buffer.from('x'));
    expect(codecError(() => d.next()).reason).toBe('body-too-large');
  });

  it('enforces maxFrameSize over headers plus body', () => {
    const e = codecError(() =>
      decodeAll('SEND\nk:0123456789\n\n0123456789\0', { limits: { maxFrameSize: 20 } }),
    );
    expect(e.reason).toBe('frame-too-large');
  });

  it('enforces maxFrameSize with content-length as soon as the header is read', () => {
    const d = new StompDecoder({ limits: { maxFrameSize: 50 } });
    d.push(Buffer.from('SEND\ncontent-length:45\n'));
    expect(codecError(() => d.next()).reason).toBe('frame-too-large');
  });

  it('enforces maxHeaderLineLength on a line that has not ended yet', () => {
    const d = new StompDecoder({ limits: { maxHeaderLineLength: 16 } });
    d.push(Buffer.from('SEND\nk:0123456789'));
    expect(d.next()).toBeNull();
    d.push(Buffer.from('0123456789'));
    expect(codecError(() => d.next()).reason).toBe('header-line-too-long');
  });

  it('accepts a header line of exactly maxHeaderLineLength, with CRLF', () => {
    const [f] = decodeAll('SEND\r\nk:0123456789abcd\r\n\r\n\0', { limits: { maxHeaderLineLength: 16 } });
    expect(f!.headers['k']).toBe('0123456789abcd');
  });

  it('enforces maxHeaders', () => {
    const headers = Array.from({ length: 4 }, (_, i) => `h${i}:v`).join('\n');
    expect(codecError(() => decodeAll(`SEND\n${headers}\n\n\0`, { limits: { maxHeaders: 3 } })).reason).toBe(
      'too-many-headers',
    );
    expect(decodeAll(`SEND\n${headers}\n\n\0`, { limits: { maxHeaders: 4 } })).toHaveLength(1);
  });

  it('enforces maxCommandLength', () => {
    expect(codecError(() => decodeAll('ABCDEFGHIJK', { limits: { maxCommandLength: 8 } })).reason).toBe(
      'command-too-long',
    );
  });

  it('refuses a header line without a colon', () => {
    expect(codecError(() => decodeAll('SEND\nnocolon\n\n\0')).reason).toBe('malformed-header');
  });

  it('refuses a non-numeric content-length', () => {
    expect(codecError(() => decodeAll('SEND\ncontent-length:12a\n\n\0')).reason).toBe(
      'invalid-content-length',
    );
    expect(codecError(() => decodeAll('SEND\ncontent-length:-1\n\n\0')).reason).toBe(
      'invalid-content-length',
    );
  });

  it('refuses a frame starting with NUL', () => {
    expect(codecError(() => decodeAll('\n\0')).reason).toBe('empty-command');
  });

  it('stays failed after an error', () => {
    const d = new StompDecoder();
    d.push(Buffer.from('SEND\nbad\n\n\0'));
    codecError(() => d.next());
    d.push(Buffer.from('SEND\n\n\0'));
    expect(codecError(() => d.next()).reason).toBe('malformed-header');
  });

  it('switches escaping rules between frames when the version changes', () => {
    const d = new StompDecoder({ version: '1.0' });
    d.push(Buffer.from('SEND\nk:a\\cb\n\n\0SEND\nk:a\\cb\n\n\0'));
    expect(d.next()!.headers['k']).toBe('a\\cb');
    d.version = '1.2';
    expect(d.next()!.headers['k']).toBe('a:b');
  });
});
