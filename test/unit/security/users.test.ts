import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../../src/security/authenticator.js';
import { hashPassword, verifyPassword } from '../../../src/security/password.js';
import { UserDirectory } from '../../../src/security/user-directory.js';
import { readUsersFile, removeUser, upsertUser } from '../../../src/security/users-file.js';
import { isBlazeError } from '../../../src/util/errors.js';
import { silentLogger } from '../../../src/util/logger.js';

/** Production cost is 2^15; these tests check behaviour, not cost. */
const cheap = { N: 1024, r: 8, p: 1 };
const dir = mkdtempSync(join(tmpdir(), 'blazemq-users-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scrypt passwords', () => {
  it('verifies the right password only, with a random salt each time', async () => {
    const a = await hashPassword('s3cret', cheap);
    const b = await hashPassword('s3cret', cheap);
    expect(a).toMatchObject({ algorithm: 'scrypt', N: 1024, r: 8, p: 1 });
    expect(Buffer.from(a.salt, 'base64')).toHaveLength(16);
    expect(a.salt).not.toBe(b.salt);
    expect(a.hash).not.toBe(b.hash);
    expect(await verifyPassword('s3cret', a)).toBe(true);
    expect(await verifyPassword('s3cret!', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('uses the parameters stored with the hash', async () => {
    const h = await hashPassword('pw', { N: 2048, r: 4, p: 2 });
    expect(await verifyPassword('pw', h)).toBe(true);
    expect(await verifyPassword('pw', { ...h, N: 1024 })).toBe(false);
  });
});

describe('users file', () => {
  it('adds, updates and removes users; file is private', async () => {
    const file = join(dir, 'a', 'users.json');
    expect(await readUsersFile(file)).toEqual([]);
    expect(await upsertUser(file, 'alice', 'pw1', ['admins'], cheap)).toBe('added');
    expect(await upsertUser(file, 'bob', 'pw2', [], cheap)).toBe('added');
    expect(await upsertUser(file, 'alice', 'pw3', ['ops'], cheap)).toBe('updated');
    const users = await readUsersFile(file);
    expect(users.map((u) => [u.name, u.groups])).toEqual([
      ['alice', ['ops']],
      ['bob', []],
    ]);
    expect(JSON.stringify(users)).not.toContain('pw3');
    expect(await verifyPassword('pw3', users[0]!.password)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await removeUser(file, 'bob')).toBe(true);
    expect(await removeUser(file, 'bob')).toBe(false);
    expect((await readUsersFile(file)).map((u) => u.name)).toEqual(['alice']);
  });

  it('rejects bad names and empty passwords', async () => {
    const file = join(dir, 'b.json');
    await expect(upsertUser(file, 'a b', 'pw', [], cheap)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(upsertUser(file, '', 'pw', [], cheap)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(upsertUser(file, 'x', '', [], cheap)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it.each([
    ['not json', '{', 'invalid JSON'],
    ['wrong shape', '{"users":{}}', 'expected {"version": 1'],
    [
      'missing hash',
      '{"version":1,"users":[{"name":"a","password":{"algorithm":"scrypt"}}]}',
      'users[0].password',
    ],
    ['duplicate', '{"version":1,"users":[{"name":"a","password":null},{"name":"a"}]}', 'users[0].password'],
  ])('reports a broken file (%s) as CONFIG', async (_n, text, expected) => {
    const file = join(dir, `broken-${_n.replace(/ /g, '-')}.json`);
    writeFileSync(file, text);
    const err = await readUsersFile(file).catch((e: unknown) => e);
    expect(isBlazeError(err) && err.code).toBe('CONFIG');
    expect((err as Error).message).toContain(expected);
  });
});

describe('authenticator', () => {
  it('is not required and yields anonymous without users', async () => {
    const auth = createAuthenticator(await UserDirectory.open(join(dir, 'none.json'), silentLogger));
    expect(auth.required).toBe(false);
    expect(await auth.authenticate(undefined, undefined)).toEqual({ user: 'anonymous', anonymous: true });
    expect(await auth.authenticate('x', 'y')).toEqual({ user: 'anonymous', anonymous: true });
  });

  it('checks passwords once a user exists, and sees users added later', async () => {
    const file = join(dir, 'auth.json');
    await upsertUser(file, 'alice', 'right', [], cheap);
    const directory = await UserDirectory.open(file, silentLogger);
    const auth = createAuthenticator(directory);
    expect(auth.required).toBe(true);
    expect(await auth.authenticate('alice', 'right')).toEqual({ user: 'alice', anonymous: false });
    expect(await auth.authenticate('alice', 'wrong')).toBeNull();
    expect(await auth.authenticate('nobody', 'right')).toBeNull();
    expect(await auth.authenticate('alice', undefined)).toBeNull();
    expect(await auth.authenticate(undefined, undefined)).toBeNull();

    await upsertUser(file, 'bob', 'pw', ['admins'], cheap);
    expect(await auth.authenticate('bob', 'pw')).toEqual({ user: 'bob', anonymous: false });
    expect(directory.get('bob')?.groups).toEqual(['admins']);
  });

  it('keeps the last good users when the file is broken while running', async () => {
    const file = join(dir, 'flaky.json');
    await upsertUser(file, 'alice', 'pw', [], cheap);
    const auth = createAuthenticator(await UserDirectory.open(file, silentLogger));
    writeFileSync(file, '{ broken');
    expect(await auth.authenticate('alice', 'pw')).toEqual({ user: 'alice', anonymous: false });
    expect(readFileSync(file, 'utf8')).toBe('{ broken');
  });

  it('fails fast on a broken file at start-up', async () => {
    const file = join(dir, 'broken-at-start.json');
    writeFileSync(file, '[]');
    await expect(UserDirectory.open(file, silentLogger)).rejects.toMatchObject({ code: 'CONFIG' });
  });
});
