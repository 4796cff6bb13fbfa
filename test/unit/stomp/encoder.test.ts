import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameAllocator, StompDecoder } from '../../../src/protocol/stomp/index.js';

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

describe('encodeFrame: golden bytes', () => {
  it('RECEIPT', () => {
    expect(text(encodeFrame({ command: 'RECEIPT', headers: { 'receipt-id': 'r1' } }, '1.2'))).toBe(
      'RECEIPT\nreceipt-id:r1\n\n\0',
    );
  });

  it('adds content-length when there is a body', () => {
    const out = encodeFrame({ command: 'ERROR', headers: { message: 'bad' }, body: 'détails' }, '1.2');
    expect(text(out)).toBe(
      `ERROR\nmessage:bad\ncontent-length:8\n\n${Buffer.from('détails').toString('latin1')}\0`,
    );
  });

  it('keeps a caller-provided content-length and header order, repeats included', () => {
    const out = encodeFrame(
      {
        command: 'SEND',
        headers: [
          ['a', '1'],
          ['content-length', '2'],
          ['a', '2'],
        ],
        body: 'hi',
      },
      '1.1',
    );
    expect(text(out)).toBe('SEND\na:1\ncontent-length:2\na:2\n\nhi\0');
  });

  it('escapes per version', () => {
    const headers = { 'k:1': 'a\nb:c\\d\re' };
    expect(text(encodeFrame({ command: 'MESSAGE', headers }, '1.2'))).toBe(
      'MESSAGE\nk\\c1:a\\nb\\cc\\\\d\\re\n\n\0',
    );
    expect(text(encodeFrame({ command: 'MESSAGE', headers }, '1.1'))).toBe(
      'MESSAGE\nk\\c1:a\\nb\\cc\\\\d\re\n\n\0',
    );
    // 1.0 cannot carry LF/CR in a value nor ':' in a name: replaced rather than breaking the frame.
    expect(text(encodeFrame({ command: 'MESSAGE', headers }, '1.0'))).toBe('MESSAGE\nk_1:a b:c\\d e\n\n\0');
  });

  it('never escapes CONNECTED', () => {
    const out = encodeFrame({ command: 'CONNECTED', headers: { server: 'Blaze:1\\x' } }, '1.2');
    expect(text(out)).toBe('CONNECTED\nserver:Blaze:1\\x\n\n\0');
  });

  it('writes binary bodies unchanged', () => {
    const body = new Uint8Array([0, 255, 0, 10]);
    const out = encodeFrame({ command: 'MESSAGE', body }, '1.2');
    const d = new StompDecoder();
    d.push(out);
    expect([...d.next()!.body]).toEqual([...body]);
  });
});

describe('FrameAllocator', () => {
  it('writes head + body + NUL, in separate regions for successive frames', () => {
    const a = new FrameAllocator();
    const f1 = a.frame('MESSAGE\nx:é\n\n', Buffer.from('one'));
    const f2 = a.frame('MESSAGE\n\n', Buffer.from('two'));
    expect(f1.toString('utf8')).toBe('MESSAGE\nx:é\n\none\0');
    expect(f2.toString('utf8')).toBe('MESSAGE\n\ntwo\0');
  });

  it('gives large frames their own buffer', () => {
    const a = new FrameAllocator();
    const body = Buffer.alloc(100_000, 7);
    const f = a.frame('MESSAGE\n\n', body);
    expect(f.length).toBe(9 + 100_000 + 1);
    expect(f[f.length - 1]).toBe(0);
    expect(f[9]).toBe(7);
  });

  it('rolls over to a new slab without corrupting earlier frames', () => {
    const a = new FrameAllocator();
    const frames: Buffer[] = [];
    for (let i = 0; i < 200; i++) frames.push(a.frame(`MESSAGE\nn:${i}\n\n`, Buffer.alloc(1000, i & 0xff)));
    frames.forEach((f, i) => {
      const head = `MESSAGE\nn:${i}\n\n`;
      expect(f.subarray(0, head.length).toString()).toBe(head);
      expect(f[head.length + 999]).toBe(i & 0xff);
      expect(f.length).toBe(head.length + 1001);
    });
  });
});
