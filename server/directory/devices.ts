import type BetterSqlite3 from 'better-sqlite3';
import { computeHa1, type DigestAlgorithm, type Ha1Lookup } from '../sip/auth/digest.js';
import type { Database } from '../storage/database.js';
import { compileDialPattern, mayDial } from './patterns.js';

/**
 * SIP devices that register to us: agent seats (8001…) and merchant stations (3001…). Only digest
 * HA1 values are stored, one per algorithm we offer (RFC 8760), never the password. HA1 binds the
 * realm, so changing the realm requires setting every password again.
 */

export type DeviceKind = 'seat' | 'station';

export interface SipDevice {
  id: number;
  extension: string;
  kind: DeviceKind;
  displayName: string;
  realm: string;
  enabled: boolean;
  /** Dial patterns (see patterns.ts) this device may call outside the hotline's own numbers. */
  outboundPatterns: string[];
  createdAt: string;
  updatedAt: string;
}

export interface NewDevice {
  extension: string;
  kind: DeviceKind;
  password: string;
  realm: string;
  displayName?: string;
  enabled?: boolean;
  outboundPatterns?: string[];
}

interface Row {
  id: number;
  extension: string;
  kind: DeviceKind;
  display_name: string;
  realm: string;
  ha1_md5: string;
  ha1_sha256: string;
  enabled: number;
  outbound_patterns: string;
  created_at: string;
  updated_at: string;
}

function toDevice(r: Row): SipDevice {
  return {
    id: r.id,
    extension: r.extension,
    kind: r.kind,
    displayName: r.display_name,
    realm: r.realm,
    enabled: r.enabled === 1,
    outboundPatterns: JSON.parse(r.outbound_patterns) as string[],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function checkPatterns(patterns: readonly string[]): string {
  for (const p of patterns) compileDialPattern(p);
  return JSON.stringify(patterns);
}

function checkPassword(password: string): void {
  // Registration passwords are brute-forced by scanners on the open internet within hours.
  if (password.length < 8) throw new Error('SIP password must have at least 8 characters');
}

export class SipDeviceRepository {
  private readonly s: BetterSqlite3.Database;
  private readonly byExt: BetterSqlite3.Statement<[string], Row>;

  constructor(db: Database) {
    this.s = db.sqlite;
    this.byExt = this.s.prepare<[string], Row>('SELECT * FROM sip_devices WHERE extension = ?');
  }

  create(d: NewDevice): SipDevice {
    checkPassword(d.password);
    const now = new Date().toISOString();
    const info = this.s
      .prepare(
        `INSERT INTO sip_devices (extension, kind, display_name, realm, ha1_md5, ha1_sha256, enabled,
           outbound_patterns, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        d.extension,
        d.kind,
        d.displayName ?? '',
        d.realm,
        computeHa1('MD5', d.extension, d.realm, d.password),
        computeHa1('SHA-256', d.extension, d.realm, d.password),
        d.enabled === false ? 0 : 1,
        checkPatterns(d.outboundPatterns ?? []),
        now,
        now,
      );
    return this.getById(Number(info.lastInsertRowid))!;
  }

  get(extension: string): SipDevice | null {
    const r = this.byExt.get(extension);
    return r ? toDevice(r) : null;
  }

  getById(id: number): SipDevice | null {
    const r = this.s.prepare<[number], Row>('SELECT * FROM sip_devices WHERE id = ?').get(id);
    return r ? toDevice(r) : null;
  }

  list(kind?: DeviceKind): SipDevice[] {
    const rows = kind
      ? this.s.prepare<[string], Row>('SELECT * FROM sip_devices WHERE kind = ? ORDER BY extension').all(kind)
      : this.s.prepare<[], Row>('SELECT * FROM sip_devices ORDER BY extension').all();
    return rows.map(toDevice);
  }

  /** Sets a new password (and optionally moves the device to another realm). */
  setPassword(extension: string, password: string, realm?: string): boolean {
    checkPassword(password);
    const cur = this.get(extension);
    if (!cur) return false;
    const r = realm ?? cur.realm;
    this.s
      .prepare('UPDATE sip_devices SET realm = ?, ha1_md5 = ?, ha1_sha256 = ?, updated_at = ? WHERE extension = ?')
      .run(
        r,
        computeHa1('MD5', extension, r, password),
        computeHa1('SHA-256', extension, r, password),
        new Date().toISOString(),
        extension,
      );
    return true;
  }

  update(
    extension: string,
    patch: { displayName?: string; enabled?: boolean; outboundPatterns?: string[] },
  ): SipDevice | null {
    const cur = this.get(extension);
    if (!cur) return null;
    this.s
      .prepare(
        'UPDATE sip_devices SET display_name = ?, enabled = ?, outbound_patterns = ?, updated_at = ? WHERE id = ?',
      )
      .run(
        patch.displayName ?? cur.displayName,
        (patch.enabled ?? cur.enabled) ? 1 : 0,
        checkPatterns(patch.outboundPatterns ?? cur.outboundPatterns),
        new Date().toISOString(),
        cur.id,
      );
    return this.getById(cur.id);
  }

  /** Fails (FOREIGN KEY) while a merchant web user is linked to the station. */
  remove(extension: string): boolean {
    return this.s.prepare('DELETE FROM sip_devices WHERE extension = ?').run(extension).changes > 0;
  }

  /** The stored HA1, or null when the device is unknown, disabled, or registered under another realm. */
  lookupHa1(extension: string, algorithm: DigestAlgorithm, realm: string): string | null {
    const r = this.byExt.get(extension);
    if (!r || r.enabled !== 1 || r.realm !== realm) return null;
    return algorithm === 'MD5' ? r.ha1_md5 : r.ha1_sha256;
  }

  /** Adapter for DigestAuthenticator.verify. */
  ha1Lookup(realm: string): Ha1Lookup {
    return (user, algorithm) => this.lookupHa1(user, algorithm, realm);
  }

  /** Whether the device may call `number` according to its outbound patterns. */
  mayDial(device: SipDevice, number: string): boolean {
    return device.enabled && mayDial(device.outboundPatterns, number);
  }
}
