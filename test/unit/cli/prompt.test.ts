import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { promptHidden, readLine, readNewPassword } from '../../../src/cli/prompt.js';

/** A fake terminal: records raw-mode switches, and what was echoed. */
function tty() {
  const input = Object.assign(new PassThrough(), {
    isTTY: true,
    raw: [] as boolean[],
    setRawMode(mode: boolean) {
      this.raw.push(mode);
      return this;
    },
  });
  const output = new PassThrough();
  let echoed = '';
  output.on('data', (d) => {
    echoed += d;
  });
  return { input, output, echoed: () => echoed };
}

describe('readLine', () => {
  it('returns the first line without its line ending', async () => {
    const input = new PassThrough();
    const line = readLine(input);
    input.write('pass');
    input.write('word\r\nnext line\n');
    expect(await line).toBe('password');
  });

  it('accepts a last line without newline and rejects empty input', async () => {
    const a = new PassThrough();
    const line = readLine(a);
    a.end('pw');
    expect(await line).toBe('pw');
    const b = new PassThrough();
    const none = readLine(b);
    b.end();
    await expect(none).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});

describe('promptHidden', () => {
  it('reads in raw mode without echoing, with backspace', async () => {
    const t = tty();
    const answer = promptHidden('Password: ', t.input, t.output);
    t.input.write('secrx\u007fet\r');
    expect(await answer).toBe('secret');
    expect(t.input.raw).toEqual([true, false]);
    expect(t.echoed()).toBe('Password: \n');
  });

  it('aborts on Ctrl-C', async () => {
    const t = tty();
    const answer = promptHidden('Password: ', t.input, t.output);
    t.input.write('abc\u0003');
    await expect(answer).rejects.toThrow('interrupted');
    expect(t.input.raw).toEqual([true, false]);
  });

  it('asks twice on a terminal and insists on the same answer', async () => {
    const ok = tty();
    const p = readNewPassword(ok.input, ok.output);
    ok.input.write('pw\r');
    await new Promise((r) => setImmediate(r));
    ok.input.write('pw\r');
    expect(await p).toBe('pw');
    expect(ok.echoed()).toBe('Password: \nRepeat password: \n');

    const bad = tty();
    const q = readNewPassword(bad.input, bad.output);
    bad.input.write('pw\r');
    await new Promise((r) => setImmediate(r));
    bad.input.write('px\r');
    await expect(q).rejects.toThrow('the passwords do not match');
  });
});
