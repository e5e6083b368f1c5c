import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Web-user passwords: scrypt (RFC 7914) with a random salt. The stored string carries its own
 * parameters, `scrypt$N$r$p$salt$hash` (base64), so the cost can be raised later without breaking
 * existing hashes (`needsRehash`).
 */

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** 32 MiB and roughly 50–100 ms per hash on the 2-core target: a login is rare, a guess is expensive. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LEN = 32;
const SALT_LEN = 16;

function derive(password: string, salt: Buffer, params: ScryptParams, keyLen: number): Promise<Buffer> {
  const opts: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_LEN);
  const key = await derive(password, salt, params, KEY_LEN);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function parse(stored: string): { params: ScryptParams; salt: Buffer; key: Buffer } | null {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return null;
  const params = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  // Bounds stop a tampered row from making one login allocate gigabytes.
  if (params.N < 2 || params.N > 2 ** 20 || (params.N & (params.N - 1)) !== 0) return null;
  if (params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16) return null;
  const key = Buffer.from(m[5]!, 'base64');
  if (key.length < 16) return null;
  return { params, salt: Buffer.from(m[4]!, 'base64'), key };
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const s = parse(stored);
  if (!s) return false;
  const key = await derive(password, s.salt, s.params, s.key.length);
  return timingSafeEqual(key, s.key);
}

export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const s = parse(stored);
  return !s || s.params.N < params.N || s.params.r < params.r || s.params.p < params.p;
}
