export { type AddressPattern, parseAddressPattern, patternCovers } from './address-pattern.js';
export { ANONYMOUS, createAuthenticator } from './authenticator.js';
export { ADMIN_GROUP, createAuthorizer } from './authorizer.js';
export { DEFAULT_SCRYPT, hashPassword, type PasswordHash, verifyPassword } from './password.js';
export { UserDirectory } from './user-directory.js';
export {
  checkUserName,
  readUsersFile,
  removeUser,
  type UserRecord,
  upsertUser,
  writeUsersFile,
} from './users-file.js';
