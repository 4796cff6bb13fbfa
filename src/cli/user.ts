/**
 * `blazemq user add|list|remove`: edits the users file that a broker (running or not) reads. A running
 * broker picks the change up at the next login (security/user-directory.ts).
 */
import { loadConfig } from '../config/load.js';
import { usersFilePath } from '../config/schema.js';
import { readUsersFile, removeUser, upsertUser } from '../security/users-file.js';
import { BlazeError } from '../util/errors.js';
import { readNewPassword } from './prompt.js';

export interface UsersFileOptions {
  config?: string;
  data?: string;
  usersFile?: string;
}

export async function resolveUsersFile(options: UsersFileOptions): Promise<string> {
  if (options.usersFile) return options.usersFile;
  const config = await loadConfig({ file: options.config, flags: { data: options.data } });
  return usersFilePath(config);
}

export function parseGroups(text: string | undefined): string[] {
  if (text === undefined) return [];
  const groups = text
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g.length > 0);
  for (const g of groups) {
    if (/[\s\p{Cc}]/u.test(g)) throw new BlazeError('BAD_REQUEST', `invalid group name "${g}"`);
  }
  return [...new Set(groups)];
}

export async function userAdd(
  name: string,
  options: UsersFileOptions & { password?: string; groups?: string },
  out: (line: string) => void,
): Promise<void> {
  const file = await resolveUsersFile(options);
  const groups = parseGroups(options.groups);
  const password = options.password ?? (await readNewPassword());
  const result = await upsertUser(file, name, password, groups);
  out(`${result} user ${name}${groups.length ? ` (groups: ${groups.join(', ')})` : ''} in ${file}`);
}

export async function userList(options: UsersFileOptions, out: (line: string) => void): Promise<void> {
  const users = await readUsersFile(await resolveUsersFile(options));
  for (const u of users) out(u.groups.length ? `${u.name}\t${u.groups.join(',')}` : u.name);
}

export async function userRemove(
  name: string,
  options: UsersFileOptions,
  out: (line: string) => void,
): Promise<void> {
  const file = await resolveUsersFile(options);
  if (!(await removeUser(file, name))) throw new BlazeError('NOT_FOUND', `no user "${name}" in ${file}`);
  out(`removed user ${name} from ${file}`);
}
