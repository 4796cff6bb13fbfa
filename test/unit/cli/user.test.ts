/** `blazemq user` and `--version`. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blazemq, ROOT } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'blazemq-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('blazemq user', () => {
  it('adds (from a flag or stdin), lists and removes users', async () => {
    const data = join(dir, 'users');
    const add = blazemq([
      'user',
      'add',
      'alice',
      '--password',
      'pw',
      '--groups',
      'admins,ops',
      '--data',
      data,
    ]);
    expect(await add.exit).toBe(0);
    expect(add.stdout()).toContain('added user alice');
    const piped = blazemq(['user', 'add', 'bob', '--data', data], 'secret\n');
    expect(await piped.exit).toBe(0);
    const list = blazemq(['user', 'list', '--data', data]);
    expect(await list.exit).toBe(0);
    expect(list.stdout()).toBe('alice\tadmins,ops\nbob\n');
    const file = readFileSync(join(data, 'users.json'), 'utf8');
    expect(file).not.toContain('secret');
    const remove = blazemq(['user', 'remove', 'bob', '--data', data]);
    expect(await remove.exit).toBe(0);
    const again = blazemq(['user', 'remove', 'bob', '--data', data]);
    expect(await again.exit).toBe(1);
    expect(again.stderr()).toMatch(/^blazemq: no user "bob"/);
  });

  it('refuses to add a user without a password', async () => {
    const run = blazemq(['user', 'add', 'carol', '--data', join(dir, 'users2')], '');
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toBe('blazemq: no password on standard input\n');
  });

  it('prints its version', async () => {
    const run = blazemq(['--version']);
    expect(await run.exit).toBe(0);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(run.stdout().trim()).toBe(pkg.version);
  });
});
