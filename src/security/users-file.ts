/**
 * The users file: JSON, written atomically (temp file + rename) with mode 0600 so that a broker reading it
 * concurrently sees the old or the new version, never half of one.
 *
 *   { "version": 1,
 *     "users": [ { "name": "alice", "groups": ["admins"],
 *                  "password": { "algorithm": "scrypt", "N": 32768, "r": 8, "p": 1, "salt": "...", "hash": "..." } } ] }
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BlazeError } from '../util/errors.js';
import { hashPassword, type PasswordHash } from './password.js';

export interface UserRecord {
  name: string;
  groups: string[];
  password: PasswordHash;
}

/** Names are printed in logs and listed by the CLI: no whitespace or control characters, no commas. */
export function checkUserName(name: string): string | undefined {
  if (name.length === 0 || name.length > 256) return 'user names are 1-256 characters';
  if (/[\s,\p{Cc}]/u.test(name)) return 'user names may not contain spaces, commas or control characters';
  return undefined;
}

function bad(file: string, problem: string): BlazeError {
  return new BlazeError('CONFIG', `users file ${file}: ${problem}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseHash(v: unknown, file: string, where: string): PasswordHash {
  if (!isObject(v) || v.algorithm !== 'scrypt') throw bad(file, `${where}.password: expected an scrypt hash`);
  const { N, r, p, salt, hash } = v;
  const posInt = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x > 0;
  if (!posInt(N) || !posInt(r) || !posInt(p) || typeof salt !== 'string' || typeof hash !== 'string') {
    throw bad(file, `${where}.password: expected N, r, p, salt and hash`);
  }
  return { algorithm: 'scrypt', N: N as number, r: r as number, p: p as number, salt, hash };
}

export function parseUsersDocument(text: string, file: string): UserRecord[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw bad(file, `invalid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc) || doc.version !== 1 || !Array.isArray(doc.users)) {
    throw bad(file, 'expected {"version": 1, "users": [...]}');
  }
  const seen = new Set<string>();
  return doc.users.map((u, i) => {
    const where = `users[${i}]`;
    if (!isObject(u) || typeof u.name !== 'string')
      throw bad(file, `${where}: expected an object with a name`);
    const nameProblem = checkUserName(u.name);
    if (nameProblem) throw bad(file, `${where}.name: ${nameProblem}`);
    if (seen.has(u.name)) throw bad(file, `${where}: duplicate user "${u.name}"`);
    seen.add(u.name);
    const groups = u.groups ?? [];
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string' && g.length > 0)) {
      throw bad(file, `${where}.groups: expected a list of group names`);
    }
    return { name: u.name, groups, password: parseHash(u.password, file, where) };
  });
}

/** A missing file means no users. */
export async function readUsersFile(file: string): Promise<UserRecord[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw bad(file, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseUsersDocument(text, file);
}

export async function writeUsersFile(file: string, users: readonly UserRecord[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ version: 1, users }, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

/** Adds the user, or replaces the password and groups of an existing one. */
export async function upsertUser(
  file: string,
  name: string,
  password: string,
  groups: string[],
  /** scrypt cost; the default suits production, tests pass cheaper ones. */
  params?: { N: number; r: number; p: number },
): Promise<'added' | 'updated'> {
  const problem = checkUserName(name);
  if (problem) throw new BlazeError('BAD_REQUEST', problem);
  if (password.length === 0) throw new BlazeError('BAD_REQUEST', 'the password may not be empty');
  const users = await readUsersFile(file);
  const record: UserRecord = { name, groups, password: await hashPassword(password, params) };
  const i = users.findIndex((u) => u.name === name);
  if (i >= 0) users[i] = record;
  else users.push(record);
  await writeUsersFile(file, users);
  return i >= 0 ? 'updated' : 'added';
}

export async function removeUser(file: string, name: string): Promise<boolean> {
  const users = await readUsersFile(file);
  const rest = users.filter((u) => u.name !== name);
  if (rest.length === users.length) return false;
  await writeUsersFile(file, rest);
  return true;
}
