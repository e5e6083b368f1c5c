import type { Database } from '../storage/database.js';
import { Directory } from './directory.js';
import { hashPassword, type ScryptParams } from './password.js';
import { parseOutboundSpec, type TrunkOutbound } from './trunks.js';
import type { WebRole } from './web-users.js';

/**
 * Demo accounts for a brand-new installation, so that a softphone and a browser can be tried at once.
 * Passwords are public (they are in the README): the server must print a "DEMO ONLY" banner listing
 * them, and operators must replace them. Nothing is created if the directory already has any entry.
 */

export interface DemoSeed {
  realm: string;
  seats: Array<{ extension: string; password: string }>;
  stations: Array<{ extension: string; password: string }>;
  trunks: Array<{
    name: string;
    sources: string[];
    dids: Array<{ did: string; accessNumber: string }>;
    outbound?: TrunkOutbound | null;
  }>;
  webUsers: Array<{ username: string; password: string; role: WebRole; station?: string }>;
}

/** Seats may call each other, merchant stations, and consumers back (mobile, landline with area code). */
const SEAT_PATTERNS = ['8XXX', '3XXX', '1[3-9]XXXXXXXXX', '0ZX.'];
/** A merchant station may only call the hotline's seats back. */
const STATION_PATTERNS = ['8XXX'];

export async function seedDemo(
  db: Database,
  opts: {
    realm?: string;
    accessNumber?: string;
    scrypt?: ScryptParams;
    /** The demo trunk's far end for calls out (e.g. a test UAS); default from OUTBOUND_TRUNK. */
    outbound?: TrunkOutbound | null;
  } = {},
): Promise<DemoSeed | null> {
  const envOut = process.env.OUTBOUND_TRUNK;
  const outbound = opts.outbound !== undefined ? opts.outbound : envOut ? parseOutboundSpec(envOut) : null;
  const realm = opts.realm ?? '12315.local';
  const access = opts.accessNumber ?? '12315';
  const dir = new Directory(db, { scrypt: opts.scrypt });
  if (!dir.isEmpty()) {
    // An installation seeded earlier still follows OUTBOUND_TRUNK for its demo trunk.
    if (outbound && dir.trunks.get('loopback')) dir.trunks.update('loopback', { outbound });
    return null;
  }

  const seed: DemoSeed = {
    realm,
    seats: Array.from({ length: 10 }, (_, i) => {
      const ext = String(8001 + i);
      return { extension: ext, password: `demo${ext}` };
    }),
    stations: [{ extension: '3001', password: 'demo3001' }],
    trunks: [
      { name: 'loopback', sources: ['127.0.0.1', '::1'], dids: [{ did: access, accessNumber: access }], outbound },
    ],
    webUsers: [
      { username: 'admin', password: 'admin12315', role: 'admin' },
      { username: 'lead01', password: 'lead12315', role: 'lead' },
      ...Array.from({ length: 5 }, (_, i) => ({
        username: `agent0${i + 1}`,
        password: 'agent12315',
        role: 'agent' as const,
      })),
      { username: 'm3001', password: 'merchant12315', role: 'merchant', station: '3001' },
    ],
  };
  // scrypt is asynchronous and better-sqlite3 transactions are synchronous: hash first, then write
  // everything in one transaction so a crash never leaves a half-seeded directory.
  const hashes = await Promise.all(seed.webUsers.map((u) => hashPassword(u.password, opts.scrypt)));
  const created = db.transaction(() => {
    // Re-checked inside the transaction: another process may have seeded while we were hashing.
    if (!dir.isEmpty()) return false;
    for (const s of seed.seats) {
      dir.devices.create({
        extension: s.extension,
        kind: 'seat',
        password: s.password,
        realm,
        displayName: `坐席 ${s.extension}`,
        outboundPatterns: SEAT_PATTERNS,
      });
    }
    for (const s of seed.stations) {
      dir.devices.create({
        extension: s.extension,
        kind: 'station',
        password: s.password,
        realm,
        displayName: `商家 ${s.extension}`,
        outboundPatterns: STATION_PATTERNS,
      });
    }
    for (const t of seed.trunks)
      dir.trunks.create({ name: t.name, allowedSources: t.sources, dids: t.dids, outbound: t.outbound ?? null });
    seed.webUsers.forEach((u, i) =>
      dir.webUsers.insertHashed(
        { username: u.username, role: u.role, displayName: u.username, stationExtension: u.station },
        hashes[i]!,
      ),
    );
    return true;
  });
  return created ? seed : null;
}
