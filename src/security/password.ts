/**
 * Password hashing with scrypt (RFC 7914) from node:crypto. The parameters are stored with each hash so
 * that they can be raised later without invalidating existing users.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface PasswordHash {
  algorithm: 'scrypt';
  /** CPU/memory cost (power of two), block size, parallelism. */
  N: number;
  r: number;
  p: number;
  /** base64 */
  salt: string;
  /** base64; its length is the derived key length. */
  hash: string;
}

/** N=2^15, r=8 -> 32 MiB and a few tens of ms per attempt: slow enough to hurt guessing, fine for logins. */
export const DEFAULT_SCRYPT = { N: 1 << 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function derive(
  password: string,
  salt: Buffer,
  N: number,
  r: number,
  p: number,
  keylen: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must exceed 128*N*r or node refuses; leave headroom.
    scrypt(password, salt, keylen, { N, r, p, maxmem: 256 * N * r }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(
  password: string,
  params: { N: number; r: number; p: number } = DEFAULT_SCRYPT,
): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params.N, params.r, params.p, KEY_LENGTH);
  return {
    algorithm: 'scrypt',
    N: params.N,
    r: params.r,
    p: params.p,
    salt: salt.toString('base64'),
    hash: key.toString('base64'),
  };
}

export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const key = await derive(
    password,
    Buffer.from(stored.salt, 'base64'),
    stored.N,
    stored.r,
    stored.p,
    expected.length,
  );
  return timingSafeEqual(key, expected);
}
