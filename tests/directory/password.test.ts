import { describe, expect, it } from 'vitest';
import { DEFAULT_SCRYPT, hashPassword, needsRehash, verifyPassword } from '../../server/directory/password.js';
import { FAST_SCRYPT } from './helpers.js';

describe('scrypt passwords', () => {
  it('stores parameters and salt, verifies, and differs per hash', async () => {
    const a = await hashPassword('admin12315');
    const b = await hashPassword('admin12315');
    expect(a).toMatch(new RegExp(`^scrypt\\$${DEFAULT_SCRYPT.N}\\$8\\$1\\$`));
    expect(a).not.toBe(b);
    expect(a).not.toContain('admin12315');
    expect(await verifyPassword('admin12315', a)).toBe(true);
    expect(await verifyPassword('admin12316', a)).toBe(false);
    expect(needsRehash(a)).toBe(false);
  });

  it('verifies hashes made with other parameters and flags weak ones for rehash', async () => {
    const weak = await hashPassword('pw-123456', FAST_SCRYPT);
    expect(await verifyPassword('pw-123456', weak)).toBe(true);
    expect(needsRehash(weak)).toBe(true);
  });

  it('refuses garbage and abusive parameters without throwing', async () => {
    expect(await verifyPassword('x', 'plain')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$1048577$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$4194304$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toBe(false);
    expect(needsRehash('plain')).toBe(true);
  });
});
