import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Directory } from '../../server/directory/directory.js';
import { directoryMigrations } from '../../server/directory/schema.js';
import { parseOutboundSpec } from '../../server/directory/trunks.js';
import { openDatabase } from '../../server/storage/database.js';
import { FAST_SCRYPT, tempDb } from './helpers.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const REALM = '12315.local';

let t: ReturnType<typeof tempDb>;
let dir: Directory;
beforeEach(() => {
  t = tempDb();
  dir = new Directory(t.db, { scrypt: FAST_SCRYPT });
});
afterEach(() => t.cleanup());

describe('SIP devices', () => {
  it('stores HA1 for both algorithms, never the password', () => {
    const d = dir.devices.create({ extension: '8001', kind: 'seat', password: 'secret-8001', realm: REALM });
    expect(d).toMatchObject({ extension: '8001', kind: 'seat', enabled: true, realm: REALM, outboundPatterns: [] });
    expect(dir.devices.lookupHa1('8001', 'MD5', REALM)).toBe(md5('8001:12315.local:secret-8001'));
    expect(dir.devices.lookupHa1('8001', 'SHA-256', REALM)).toBe(sha('8001:12315.local:secret-8001'));
    const dump = JSON.stringify(t.db.sqlite.prepare('SELECT * FROM sip_devices').all());
    expect(dump).not.toContain('secret-8001');
  });

  it('gives no HA1 for unknown, disabled or other-realm devices; setPassword changes it', () => {
    dir.devices.create({ extension: '3001', kind: 'station', password: 'secret-3001', realm: REALM });
    const lookup = dir.devices.ha1Lookup(REALM);
    expect(lookup('3001', 'MD5')).toBe(md5('3001:12315.local:secret-3001'));
    expect(lookup('3002', 'MD5')).toBeNull();
    expect(dir.devices.lookupHa1('3001', 'MD5', 'other.realm')).toBeNull();
    dir.devices.update('3001', { enabled: false });
    expect(lookup('3001', 'MD5')).toBeNull();
    dir.devices.update('3001', { enabled: true });
    expect(dir.devices.setPassword('3001', 'another-pw')).toBe(true);
    expect(lookup('3001', 'SHA-256')).toBe(sha('3001:12315.local:another-pw'));
    expect(dir.devices.setPassword('3999', 'another-pw')).toBe(false);
  });

  it('validates extension, kind, password length and patterns', () => {
    const base = { kind: 'seat' as const, password: 'long-enough', realm: REALM };
    expect(() => dir.devices.create({ ...base, extension: '80a1' })).toThrow();
    expect(() => dir.devices.create({ ...base, extension: '8001', password: 'short' })).toThrow(/8 characters/);
    expect(() => dir.devices.create({ ...base, extension: '8001', outboundPatterns: ['8X.X'] })).toThrow();
    expect(() => dir.devices.create({ ...base, extension: '8001', kind: 'phone' as 'seat' })).toThrow();
    dir.devices.create({ ...base, extension: '8001' });
    expect(() => dir.devices.create({ ...base, extension: '8001' })).toThrow(/UNIQUE/);
  });

  it('lists by kind, applies outbound patterns, removes', () => {
    const base = { password: 'long-enough', realm: REALM };
    dir.devices.create({ ...base, extension: '8002', kind: 'seat', outboundPatterns: ['1[3-9]XXXXXXXXX'] });
    dir.devices.create({ ...base, extension: '8001', kind: 'seat' });
    dir.devices.create({ ...base, extension: '3001', kind: 'station' });
    expect(dir.devices.list('seat').map((d) => d.extension)).toEqual(['8001', '8002']);
    expect(dir.devices.list().length).toBe(3);
    const d = dir.devices.get('8002')!;
    expect(dir.devices.mayDial(d, '13800000000')).toBe(true);
    expect(dir.devices.mayDial(d, '02100000000')).toBe(false);
    expect(dir.devices.mayDial(dir.devices.update('8002', { enabled: false })!, '13800000000')).toBe(false);
    expect(dir.devices.remove('8001')).toBe(true);
    expect(dir.devices.remove('8001')).toBe(false);
  });
});

describe('trunks', () => {
  it('finds the trunk by source address, CIDR, IPv6 and IPv4-mapped IPv6', () => {
    dir.trunks.create({
      name: 'carrier',
      allowedSources: ['198.51.100.0/24', '2001:db8::/32'],
      dids: [{ did: '02112315', accessNumber: '12315' }],
      inbandDtmf: true,
    });
    dir.trunks.create({ name: 'loop', allowedSources: ['127.0.0.1'] });
    expect(dir.trunks.findBySource('198.51.100.77')?.name).toBe('carrier');
    expect(dir.trunks.findBySource('198.51.101.1')).toBeNull();
    expect(dir.trunks.findBySource('2001:db8:1::5')?.name).toBe('carrier');
    expect(dir.trunks.findBySource('::ffff:127.0.0.1')?.name).toBe('loop');
    expect(dir.trunks.findBySource('127.0.0.2')).toBeNull();
    expect(dir.trunks.findBySource('not-an-ip')).toBeNull();
    const c = dir.trunks.get('carrier')!;
    expect(c.inbandDtmf).toBe(true);
    expect(dir.trunks.accessNumberFor(c, '02112315')).toBe('12315');
    expect(dir.trunks.accessNumberFor(c, '+02112315')).toBe('12315');
    expect(dir.trunks.accessNumberFor(c, '12345')).toBeNull();
  });

  it('stops matching a disabled or removed trunk and picks up updates', () => {
    dir.trunks.create({ name: 'loop', allowedSources: ['127.0.0.1'] });
    expect(dir.trunks.findBySource('127.0.0.1')).not.toBeNull();
    dir.trunks.update('loop', { enabled: false });
    expect(dir.trunks.findBySource('127.0.0.1')).toBeNull();
    dir.trunks.update('loop', {
      enabled: true,
      allowedSources: ['10.0.0.0/8'],
      dids: [{ did: '1', accessNumber: '12315' }],
    });
    expect(dir.trunks.findBySource('10.1.2.3')?.dids).toEqual([{ did: '1', accessNumber: '12315' }]);
    expect(dir.trunks.remove('loop')).toBe(true);
    expect(dir.trunks.findBySource('10.1.2.3')).toBeNull();
    expect(t.db.sqlite.prepare('SELECT COUNT(*) FROM trunk_dids').pluck().get()).toBe(0);
  });

  it('validates sources, DIDs and registration; stores registration credentials', () => {
    expect(() => dir.trunks.create({ name: 'x', allowedSources: ['300.1.1.1'] })).toThrow();
    expect(() => dir.trunks.create({ name: 'x', allowedSources: ['10.0.0.0/33'] })).toThrow();
    expect(() => dir.trunks.create({ name: 'x', allowedSources: ['10.0.0.0/8/1'] })).toThrow();
    expect(() =>
      dir.trunks.create({ name: 'x', allowedSources: [], dids: [{ did: 'abc', accessNumber: '12315' }] }),
    ).toThrow();
    const reg = { registrar: 'sip:reg.example.net', username: 'acct', password: 'pw', expires: 600 };
    expect(() => dir.trunks.create({ name: 'x', allowedSources: [], registration: { ...reg, expires: 5 } })).toThrow();
    expect(dir.trunks.create({ name: 'x', allowedSources: [], registration: reg }).registration).toEqual(reg);
    expect(dir.trunks.list().map((x) => x.name)).toEqual(['x']);
  });

  it('an outbound side (address, transport, caller id, prefix) is stored, validated and chosen', () => {
    expect(dir.trunks.outboundTrunk()).toBeNull();
    const inOnly = dir.trunks.create({ name: 'a-in', allowedSources: ['10.0.0.1'] });
    expect(inOnly.outbound).toBeNull();
    const out = { host: '192.0.2.10', port: 5080, transport: 'TCP' as const, callerId: '12315', prefix: '0' };
    dir.trunks.create({ name: 'b-out', allowedSources: ['192.0.2.10'], outbound: out });
    expect(dir.trunks.get('b-out')!.outbound).toEqual(out);
    expect(dir.trunks.outboundTrunk()?.name).toBe('b-out');
    // Disabled trunks send nothing; removing the outbound side makes the trunk inbound-only again.
    dir.trunks.update('b-out', { enabled: false });
    expect(dir.trunks.outboundTrunk()).toBeNull();
    dir.trunks.update('b-out', { enabled: true });
    expect(dir.trunks.update('b-out', { inbandDtmf: true })!.outbound).toEqual(out);
    expect(dir.trunks.update('b-out', { outbound: null })!.outbound).toBeNull();
    expect(dir.trunks.outboundTrunk()).toBeNull();
    for (const bad of [
      { ...out, host: 'carrier.example' },
      { ...out, port: 0 },
      { ...out, transport: 'WS' as 'UDP' },
      { ...out, callerId: 'hotline' },
      { ...out, prefix: '9x' },
    ]) {
      expect(() => dir.trunks.create({ name: 'bad', allowedSources: [], outbound: bad })).toThrow();
    }
    expect(dir.trunks.get('bad')).toBeNull();
  });

  it('parses OUTBOUND_TRUNK specs', () => {
    expect(parseOutboundSpec('127.0.0.1:5090')).toEqual({
      host: '127.0.0.1',
      port: 5090,
      transport: 'UDP',
      callerId: null,
      prefix: '',
    });
    expect(parseOutboundSpec('[::1]:5061;transport=tls;callerid=12315;prefix=0')).toEqual({
      host: '::1',
      port: 5061,
      transport: 'TLS',
      callerId: '12315',
      prefix: '0',
    });
    expect(() => parseOutboundSpec('127.0.0.1')).toThrow(/host:port/);
    expect(() => parseOutboundSpec('gw.example:5060')).toThrow(/IP/);
    expect(() => parseOutboundSpec('127.0.0.1:5060;color=red')).toThrow(/unknown/);
  });
});

describe('web users', () => {
  it('creates, authenticates with scrypt, and hides whether the user exists', async () => {
    const u = await dir.webUsers.create({ username: 'lead01', password: 'lead12315', role: 'lead', displayName: 'L' });
    expect(u).toMatchObject({ username: 'lead01', role: 'lead', stationId: null, enabled: true });
    expect((await dir.webUsers.authenticate('lead01', 'lead12315'))?.id).toBe(u.id);
    expect((await dir.webUsers.authenticate('LEAD01', 'lead12315'))?.id).toBe(u.id);
    expect(await dir.webUsers.authenticate('lead01', 'wrong-pass')).toBeNull();
    expect(await dir.webUsers.authenticate('ghost', 'lead12315')).toBeNull();
    const row = t.db.sqlite.prepare('SELECT password_hash FROM web_users').pluck().get() as string;
    expect(row).toMatch(/^scrypt\$/);
    expect(row).not.toContain('lead12315');
    dir.webUsers.update('lead01', { enabled: false });
    expect(await dir.webUsers.authenticate('lead01', 'lead12315')).toBeNull();
  });

  it('links merchants to a station and refuses the link for other roles', async () => {
    dir.devices.create({ extension: '3001', kind: 'station', password: 'long-enough', realm: REALM });
    dir.devices.create({ extension: '8001', kind: 'seat', password: 'long-enough', realm: REALM });
    const m = await dir.webUsers.create({
      username: 'm3001',
      password: 'merchant12315',
      role: 'merchant',
      stationExtension: '3001',
    });
    expect(m.stationExtension).toBe('3001');
    await expect(dir.webUsers.create({ username: 'm2', password: 'merchant12315', role: 'merchant' })).rejects.toThrow(
      /station/,
    );
    await expect(
      dir.webUsers.create({ username: 'm3', password: 'merchant12315', role: 'merchant', stationExtension: '8001' }),
    ).rejects.toThrow(/station/);
    await expect(
      dir.webUsers.create({ username: 'a1', password: 'agent12315', role: 'agent', stationExtension: '3001' }),
    ).rejects.toThrow(/only merchants/);
    // The station cannot disappear under its merchant.
    expect(() => dir.devices.remove('3001')).toThrow(/FOREIGN KEY/);
    expect(dir.webUsers.update('m3001', { role: 'agent', stationExtension: null })?.stationId).toBeNull();
    expect(dir.devices.remove('3001')).toBe(true);
  });

  it('validates username, role and password, and changes passwords', async () => {
    await expect(dir.webUsers.create({ username: 'a b', password: 'agent12315', role: 'agent' })).rejects.toThrow();
    await expect(dir.webUsers.create({ username: 'ab', password: 'short', role: 'agent' })).rejects.toThrow();
    await expect(
      dir.webUsers.create({ username: 'ab', password: 'agent12315', role: 'root' as 'agent' }),
    ).rejects.toThrow();
    await dir.webUsers.create({ username: 'agent01', password: 'agent12315', role: 'agent' });
    await expect(dir.webUsers.create({ username: 'AGENT01', password: 'agent12315', role: 'agent' })).rejects.toThrow(
      /UNIQUE/,
    );
    expect(await dir.webUsers.setPassword('agent01', 'new-password')).toBe(true);
    expect(await dir.webUsers.authenticate('agent01', 'agent12315')).toBeNull();
    expect(await dir.webUsers.authenticate('agent01', 'new-password')).not.toBeNull();
    expect(dir.webUsers.list('agent').length).toBe(1);
    expect(dir.webUsers.remove('agent01')).toBe(true);
  });

  it('upgrades a hash made with weaker parameters on login', async () => {
    await dir.webUsers.create({ username: 'old', password: 'old-password', role: 'agent' });
    const before = t.db.sqlite.prepare('SELECT password_hash FROM web_users').pluck().get() as string;
    const stronger = new Directory(t.db, { scrypt: { N: 2048, r: 8, p: 1 } });
    expect(await stronger.webUsers.authenticate('old', 'old-password')).not.toBeNull();
    const after = t.db.sqlite.prepare('SELECT password_hash FROM web_users').pluck().get() as string;
    expect(after).not.toBe(before);
    expect(after).toMatch(/^scrypt\$2048\$/);
  });
});

describe('Directory', () => {
  it('survives reopening the file (migrations run once)', async () => {
    dir.devices.create({ extension: '8001', kind: 'seat', password: 'long-enough', realm: REALM });
    t.db.close();
    const db2 = openDatabase(t.file);
    const d2 = new Directory(db2);
    expect(d2.devices.get('8001')?.kind).toBe('seat');
    expect(db2.version('directory')).toBe(directoryMigrations.length);
    db2.close();
  });
});
