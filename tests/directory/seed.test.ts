import { createHash } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Directory } from '../../server/directory/directory.js';
import { seedDemo } from '../../server/directory/seed.js';
import { FAST_SCRYPT, tempDb } from './helpers.js';

let t: ReturnType<typeof tempDb>;
beforeEach(() => {
  t = tempDb();
});
afterEach(() => t.cleanup());

it('seeds the demo accounts on a new database, and only there', async () => {
  const seed = await seedDemo(t.db, { scrypt: FAST_SCRYPT });
  expect(seed).not.toBeNull();
  expect(seed!.seats.map((s) => s.extension)).toEqual([
    '8001',
    '8002',
    '8003',
    '8004',
    '8005',
    '8006',
    '8007',
    '8008',
    '8009',
    '8010',
  ]);
  expect(seed!.webUsers.map((u) => `${u.username}:${u.role}`)).toEqual([
    'admin:admin',
    'lead01:lead',
    'agent01:agent',
    'agent02:agent',
    'agent03:agent',
    'agent04:agent',
    'agent05:agent',
    'm3001:merchant',
  ]);

  const dir = new Directory(t.db, { scrypt: FAST_SCRYPT });
  const ha1 = createHash('md5').update('8007:12315.local:demo8007').digest('hex');
  expect(dir.devices.lookupHa1('8007', 'MD5', '12315.local')).toBe(ha1);
  expect(dir.devices.get('3001')?.kind).toBe('station');
  expect(dir.devices.lookupHa1('3001', 'SHA-256', '12315.local')).toBe(
    createHash('sha256').update('3001:12315.local:demo3001').digest('hex'),
  );
  const loop = dir.trunks.findBySource('127.0.0.1');
  expect(loop?.name).toBe('loopback');
  expect(dir.trunks.accessNumberFor(loop!, '12315')).toBe('12315');
  expect((await dir.webUsers.authenticate('admin', 'admin12315'))?.role).toBe('admin');
  expect((await dir.webUsers.authenticate('agent05', 'agent12315'))?.role).toBe('agent');
  expect((await dir.webUsers.authenticate('lead01', 'lead12315'))?.role).toBe('lead');
  const m = await dir.webUsers.authenticate('m3001', 'merchant12315');
  expect(m?.stationExtension).toBe('3001');
  expect(dir.devices.mayDial(dir.devices.get('8001')!, '13812345678')).toBe(true);
  expect(dir.devices.mayDial(dir.devices.get('3001')!, '13812345678')).toBe(false);

  expect(await seedDemo(t.db, { scrypt: FAST_SCRYPT })).toBeNull();
  expect(dir.devices.list().length).toBe(11);
});

it('does not seed a directory that already has an entry', async () => {
  const dir = new Directory(t.db, { scrypt: FAST_SCRYPT });
  dir.trunks.create({ name: 'real-carrier', allowedSources: ['192.0.2.1'] });
  expect(await seedDemo(t.db, { scrypt: FAST_SCRYPT })).toBeNull();
  expect(dir.devices.list()).toEqual([]);
});

it('honours the configured realm', async () => {
  const seed = await seedDemo(t.db, { realm: 'hotline.example', scrypt: FAST_SCRYPT });
  expect(seed?.realm).toBe('hotline.example');
  const dir = new Directory(t.db);
  expect(dir.devices.lookupHa1('8001', 'MD5', 'hotline.example')).toBe(
    createHash('md5').update('8001:hotline.example:demo8001').digest('hex'),
  );
});

it('points the demo trunk at OUTBOUND_TRUNK, also on an installation seeded before', async () => {
  const dir = new Directory(t.db, { scrypt: FAST_SCRYPT });
  await seedDemo(t.db, { scrypt: FAST_SCRYPT, outbound: null });
  expect(dir.trunks.outboundTrunk()).toBeNull();
  const before = process.env.OUTBOUND_TRUNK;
  process.env.OUTBOUND_TRUNK = '127.0.0.1:5090;callerid=12315';
  try {
    expect(await seedDemo(t.db, { scrypt: FAST_SCRYPT })).toBeNull();
  } finally {
    if (before === undefined) delete process.env.OUTBOUND_TRUNK;
    else process.env.OUTBOUND_TRUNK = before;
  }
  expect(dir.trunks.outboundTrunk()).toMatchObject({
    name: 'loopback',
    outbound: { host: '127.0.0.1', port: 5090, transport: 'UDP', callerId: '12315', prefix: '' },
  });
});
