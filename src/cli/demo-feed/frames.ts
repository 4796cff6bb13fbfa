/**
 * The few STOMP 1.2 frames the demo feed needs, as a client: encoding CONNECT, SEND and DISCONNECT, and
 * decoding what a server answers (CONNECTED, RECEIPT, ERROR, heart-beat EOLs). Deliberately independent of
 * the broker's own STOMP codec (src/protocol/stomp/codec): the feed is a client written from the
 * specification, so it also checks the broker's side. Pure: no I/O.
 *
 * STOMP 1.2 "Augmented BNF": frame = command EOL *(header EOL) EOL *OCTET NULL *(EOL), EOL = [CR] LF.
 */

export interface Frame {
  command: string;
  /** First occurrence wins (STOMP 1.2 "Repeated Header Entries"). */
  headers: Record<string, string>;
  body: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** STOMP 1.2 "Value Encoding": `\` `:` LF CR are escaped in every frame but CONNECT and CONNECTED. */
export function escapeHeader(value: string): string {
  return value.replace(/[\\:\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === ':' ? '\\c' : c === '\n' ? '\\n' : '\\r',
  );
}

/** The inverse of escapeHeader; an undefined escape is a fatal protocol error (STOMP 1.2). */
export function unescapeHeader(value: string): string {
  return value.replace(/\\(.?)/g, (_, c: string) => {
    switch (c) {
      case '\\':
        return '\\';
      case 'c':
        return ':';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      default:
        throw new Error(`undefined header escape "\\${c}"`);
    }
  });
}

export function encodeFrame(
  command: string,
  headers: Record<string, string>,
  body: Uint8Array | string = '',
): Uint8Array {
  const bytes = typeof body === 'string' ? enc.encode(body) : body;
  const raw = command === 'CONNECT' || command === 'STOMP';
  let head = `${command}\n`;
  for (const [name, value] of Object.entries(headers)) {
    head += raw ? `${name}:${value}\n` : `${escapeHeader(name)}:${escapeHeader(value)}\n`;
  }
  // content-length lets the body hold NUL octets and spares the server a scan for the terminator.
  if (bytes.length > 0) head += `content-length:${bytes.length}\n`;
  head += '\n';
  const h = enc.encode(head);
  const out = new Uint8Array(h.length + bytes.length + 1);
  out.set(h, 0);
  out.set(bytes, h.length);
  out[out.length - 1] = 0;
  return out;
}

/**
 * Incremental decoder: push() bytes as they arrive, get the frames completed so far. Throws on a malformed
 * frame or one larger than `maxFrameSize` (checked before buffering more of it).
 */
export class FrameDecoder {
  private buf = new Uint8Array(0);

  constructor(private readonly maxFrameSize = 1024 * 1024) {}

  push(chunk: Uint8Array): Frame[] {
    const joined = new Uint8Array(this.buf.length + chunk.length);
    joined.set(this.buf, 0);
    joined.set(chunk, this.buf.length);
    this.buf = joined;
    const frames: Frame[] = [];
    for (;;) {
      // Heart-beats and the optional EOLs after a frame's NUL.
      let start = 0;
      while (start < this.buf.length && (this.buf[start] === 0x0a || this.buf[start] === 0x0d)) start++;
      if (start > 0) this.buf = this.buf.subarray(start);
      const frame = this.next();
      if (!frame) break;
      frames.push(frame);
    }
    if (this.buf.length > this.maxFrameSize) throw new Error(`frame larger than ${this.maxFrameSize} bytes`);
    return frames;
  }

  private next(): Frame | undefined {
    const b = this.buf;
    // The head ends at the first blank line: LF LF or LF CR LF.
    let headEnd = -1;
    let bodyStart = -1;
    for (let i = 0; i < b.length; i++) {
      if (b[i] !== 0x0a) continue;
      if (b[i + 1] === 0x0a) {
        headEnd = i;
        bodyStart = i + 2;
        break;
      }
      if (b[i + 1] === 0x0d && b[i + 2] === 0x0a) {
        headEnd = i;
        bodyStart = i + 3;
        break;
      }
    }
    if (headEnd < 0) return undefined;
    const lines = dec
      .decode(b.subarray(0, headEnd))
      .split('\n')
      .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    const command = lines[0]!;
    if (!/^[A-Z]+$/.test(command)) throw new Error(`malformed frame command "${command.slice(0, 40)}"`);
    const escaped = command !== 'CONNECTED';
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon < 0) throw new Error(`malformed header line "${line.slice(0, 40)}"`);
      const name = escaped ? unescapeHeader(line.slice(0, colon)) : line.slice(0, colon);
      const value = escaped ? unescapeHeader(line.slice(colon + 1)) : line.slice(colon + 1);
      if (!Object.hasOwn(headers, name)) headers[name] = value;
    }
    let bodyEnd: number;
    const length = headers['content-length'];
    if (length !== undefined) {
      if (!/^\d+$/.test(length)) throw new Error(`bad content-length "${length}"`);
      const n = Number(length);
      if (n > this.maxFrameSize) throw new Error(`frame larger than ${this.maxFrameSize} bytes`);
      if (b.length < bodyStart + n + 1) return undefined;
      if (b[bodyStart + n] !== 0) throw new Error('frame body not followed by NUL');
      bodyEnd = bodyStart + n;
    } else {
      bodyEnd = b.indexOf(0, bodyStart);
      if (bodyEnd < 0) return undefined;
    }
    const body = b.slice(bodyStart, bodyEnd);
    this.buf = b.subarray(bodyEnd + 1);
    return { command, headers, body };
  }
}

export function bodyText(f: Frame): string {
  return dec.decode(f.body);
}
