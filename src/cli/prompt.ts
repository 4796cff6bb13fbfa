/**
 * Reading a password: without echo from a terminal, or one line from a pipe (`echo pw | blazemq user add`).
 */
import type { Readable, Writable } from 'node:stream';
import { BlazeError } from '../util/errors.js';

interface TtyInput extends Readable {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

/** Reads up to the first newline (without it, nor a trailing CR); rejects when the input ends empty. */
export function readLine(input: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (line: string | undefined) => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      input.pause();
      if (line === undefined) reject(new BlazeError('BAD_REQUEST', 'no password on standard input'));
      else resolve(line.replace(/\r$/, ''));
    };
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      const nl = text.indexOf('\n');
      if (nl >= 0) finish(text.slice(0, nl));
    };
    const onEnd = () => finish(text.length > 0 ? text : undefined);
    const onError = (err: Error) => {
      input.off('data', onData);
      input.off('end', onEnd);
      reject(err);
    };
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
    input.resume();
  });
}

/** Prompts on `output` and reads a line from a terminal in raw mode, echoing nothing. */
export function promptHidden(question: string, input: TtyInput, output: Writable): Promise<string> {
  return new Promise((resolve, reject) => {
    output.write(question);
    let text = '';
    const done = (err?: Error) => {
      input.off('data', onData);
      input.setRawMode?.(false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new BlazeError('BAD_REQUEST', 'interrupted'));
        if (ch === '\u0004') {
          if (text.length === 0) return done(new BlazeError('BAD_REQUEST', 'no password given'));
          return done();
        }
        if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else text += ch;
      }
    };
    input.setRawMode?.(true);
    input.on('data', onData);
    input.resume();
  });
}

/** The password for `user add`: prompted twice on a terminal, else one line of standard input. */
export async function readNewPassword(
  input: TtyInput = process.stdin,
  output: Writable = process.stderr,
): Promise<string> {
  if (!input.isTTY) return readLine(input);
  const first = await promptHidden('Password: ', input, output);
  const second = await promptHidden('Repeat password: ', input, output);
  if (first !== second) throw new BlazeError('BAD_REQUEST', 'the passwords do not match');
  return first;
}
