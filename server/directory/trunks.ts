import net from 'node:net';
import type BetterSqlite3 from 'better-sqlite3';
import type { Database } from '../storage/database.js';

/**
 * Carrier trunks. A trunk is recognised by the source address of its INVITEs (IP allow-list; carriers
 * in China rarely register or authenticate towards us), and maps the dialled DID to one of our access
 * numbers (e.g. 02112315 → 12315). Optional registration credentials are for the trunks where *we*
 * register to the carrier: the client side of digest needs the password itself (the carrier's realm
 * is only known from its challenge), so it is stored as given; protect the database file.
 */

export interface TrunkDid {
  did: string;
  accessNumber: string;
}

export interface TrunkRegistration {
  /** SIP URI of the carrier registrar, e.g. sip:reg.carrier.example:5060 */
  registrar: string;
  username: string;
  password: string;
  /** Requested registration lifetime in seconds. */
  expires: number;
}

/**
 * Where calls to consumers leave (callbacks, agents dialling out). The address is an IP: trunks are
 * provisioned by address and we do no DNS on the call path.
 */
export interface TrunkOutbound {
  host: string;
  port: number;
  transport: 'UDP' | 'TCP' | 'TLS';
  /** Number presented to the consumer (From user), e.g. the hotline's 12315; null: the calling seat's. */
  callerId: string | null;
  /** Put in front of every dialled number (carrier routing prefix, e.g. 0 for an outside line). */
  prefix: string;
}

/** `OUTBOUND_TRUNK=host:port[;transport=tcp][;callerid=12315][;prefix=0]`, IPv6 as `[::1]:5060`. */
export function parseOutboundSpec(spec: string): TrunkOutbound {
  const [addr = '', ...params] = spec.trim().split(';');
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(addr.trim());
  if (!m) throw new Error(`outbound trunk must be host:port, got "${spec}"`);
  const out: TrunkOutbound = { host: m[1] ?? m[2]!, port: Number(m[3]), transport: 'UDP', callerId: null, prefix: '' };
  for (const p of params) {
    const [k = '', v = ''] = p.split('=').map((x) => x.trim());
    if (k === 'transport') out.transport = v.toUpperCase() as TrunkOutbound['transport'];
    else if (k === 'callerid') out.callerId = v;
    else if (k === 'prefix') out.prefix = v;
    else throw new Error(`unknown outbound trunk parameter "${k}"`);
  }
  return checkOutbound(out);
}

function checkOutbound(o: TrunkOutbound): TrunkOutbound {
  if (net.isIP(o.host) === 0) throw new Error(`outbound trunk host must be an IP address: ${o.host}`);
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new Error(`bad outbound port: ${o.port}`);
  if (!['UDP', 'TCP', 'TLS'].includes(o.transport)) throw new Error(`bad outbound transport: ${o.transport}`);
  if (o.callerId !== null && !/^\+?[0-9]{3,20}$/.test(o.callerId)) throw new Error(`bad caller id: ${o.callerId}`);
  if (!/^[0-9*#]{0,8}$/.test(o.prefix)) throw new Error(`bad number prefix: ${o.prefix}`);
  return o;
}

export interface Trunk {
  id: number;
  name: string;
  /** IPv4/IPv6 addresses or CIDR blocks. */
  allowedSources: string[];
  dids: TrunkDid[];
  /** The carrier sends DTMF as audio tones instead of RFC 4733 events: the media layer must detect them. */
  inbandDtmf: boolean;
  enabled: boolean;
  registration: TrunkRegistration | null;
  /** Null: this trunk only brings calls in. */
  outbound: TrunkOutbound | null;
  createdAt: string;
  updatedAt: string;
}

export interface NewTrunk {
  name: string;
  allowedSources: string[];
  dids?: TrunkDid[];
  inbandDtmf?: boolean;
  enabled?: boolean;
  registration?: TrunkRegistration | null;
  outbound?: TrunkOutbound | null;
}

interface Row {
  id: number;
  name: string;
  allowed_sources: string;
  inband_dtmf: number;
  enabled: number;
  reg_registrar: string | null;
  reg_username: string | null;
  reg_password: string | null;
  reg_expires: number | null;
  out_host: string | null;
  out_port: number | null;
  out_transport: TrunkOutbound['transport'] | null;
  out_caller_id: string | null;
  out_prefix: string;
  created_at: string;
  updated_at: string;
}

/** Parses "10.0.0.1", "10.0.0.0/8", "2001:db8::/32"; throws on anything else. */
export function parseSource(src: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address = '', pfx, extra] = src.trim().split('/');
  const v = net.isIP(address);
  if (v === 0 || extra !== undefined) throw new Error(`not an IP address or CIDR: ${src}`);
  const max = v === 4 ? 32 : 128;
  const prefix = pfx === undefined ? max : Number(pfx);
  if (!/^\d+$/.test(pfx ?? String(max)) || prefix < 0 || prefix > max) throw new Error(`bad prefix length: ${src}`);
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

function normalizeSources(sources: readonly string[]): string[] {
  return sources.map((x) => {
    parseSource(x);
    return x.trim();
  });
}

function checkDid(d: TrunkDid): void {
  if (!/^\+?[0-9]{1,20}$/.test(d.did)) throw new Error(`bad DID: ${d.did}`);
  if (!/^[0-9]{3,20}$/.test(d.accessNumber)) throw new Error(`bad access number: ${d.accessNumber}`);
}

export class TrunkRepository {
  private readonly s: BetterSqlite3.Database;
  /** Compiled allow-lists of enabled trunks; rebuilt after any write. */
  private matchers: Array<{ trunkId: number; list: net.BlockList; trunk: Trunk }> | null = null;

  constructor(db: Database) {
    this.s = db.sqlite;
  }

  create(t: NewTrunk): Trunk {
    const sources = normalizeSources(t.allowedSources);
    for (const d of t.dids ?? []) checkDid(d);
    const reg = t.registration ?? null;
    if (reg && (!Number.isInteger(reg.expires) || reg.expires < 60)) throw new Error('registration expires < 60 s');
    const out = t.outbound ? checkOutbound({ ...t.outbound }) : null;
    const now = new Date().toISOString();
    const id = this.s.transaction(() => {
      const info = this.s
        .prepare(
          `INSERT INTO trunks (name, allowed_sources, inband_dtmf, enabled, reg_registrar, reg_username,
             reg_password, reg_expires, out_host, out_port, out_transport, out_caller_id, out_prefix,
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          t.name,
          JSON.stringify(sources),
          t.inbandDtmf ? 1 : 0,
          t.enabled === false ? 0 : 1,
          reg?.registrar ?? null,
          reg?.username ?? null,
          reg?.password ?? null,
          reg?.expires ?? null,
          out?.host ?? null,
          out?.port ?? null,
          out?.transport ?? null,
          out?.callerId ?? null,
          out?.prefix ?? '',
          now,
          now,
        );
      const tid = Number(info.lastInsertRowid);
      const ins = this.s.prepare('INSERT INTO trunk_dids (trunk_id, did, access_number) VALUES (?, ?, ?)');
      for (const d of t.dids ?? []) ins.run(tid, d.did, d.accessNumber);
      return tid;
    })();
    this.matchers = null;
    return this.getById(id)!;
  }

  get(name: string): Trunk | null {
    const r = this.s.prepare<[string], Row>('SELECT * FROM trunks WHERE name = ?').get(name);
    return r ? this.toTrunk(r) : null;
  }

  getById(id: number): Trunk | null {
    const r = this.s.prepare<[number], Row>('SELECT * FROM trunks WHERE id = ?').get(id);
    return r ? this.toTrunk(r) : null;
  }

  list(): Trunk[] {
    return this.s
      .prepare<[], Row>('SELECT * FROM trunks ORDER BY name')
      .all()
      .map((r) => this.toTrunk(r));
  }

  update(
    name: string,
    patch: {
      allowedSources?: string[];
      dids?: TrunkDid[];
      inbandDtmf?: boolean;
      enabled?: boolean;
      /** null removes the outbound side. */
      outbound?: TrunkOutbound | null;
    },
  ): Trunk | null {
    const cur = this.get(name);
    if (!cur) return null;
    const sources = normalizeSources(patch.allowedSources ?? cur.allowedSources);
    for (const d of patch.dids ?? []) checkDid(d);
    const out = patch.outbound === undefined ? cur.outbound : patch.outbound && checkOutbound({ ...patch.outbound });
    this.s.transaction(() => {
      this.s
        .prepare(
          `UPDATE trunks SET allowed_sources = ?, inband_dtmf = ?, enabled = ?, out_host = ?, out_port = ?,
             out_transport = ?, out_caller_id = ?, out_prefix = ?, updated_at = ? WHERE id = ?`,
        )
        .run(
          JSON.stringify(sources),
          (patch.inbandDtmf ?? cur.inbandDtmf) ? 1 : 0,
          (patch.enabled ?? cur.enabled) ? 1 : 0,
          out?.host ?? null,
          out?.port ?? null,
          out?.transport ?? null,
          out?.callerId ?? null,
          out?.prefix ?? '',
          new Date().toISOString(),
          cur.id,
        );
      if (patch.dids) {
        this.s.prepare('DELETE FROM trunk_dids WHERE trunk_id = ?').run(cur.id);
        const ins = this.s.prepare('INSERT INTO trunk_dids (trunk_id, did, access_number) VALUES (?, ?, ?)');
        for (const d of patch.dids) ins.run(cur.id, d.did, d.accessNumber);
      }
    })();
    this.matchers = null;
    return this.getById(cur.id);
  }

  remove(name: string): boolean {
    const n = this.s.prepare('DELETE FROM trunks WHERE name = ?').run(name).changes;
    this.matchers = null;
    return n > 0;
  }

  /**
   * The enabled trunk whose allow-list contains `address` (IPv4-mapped IPv6 addresses match IPv4
   * entries), or null. When several trunks overlap, the one created first wins.
   */
  findBySource(address: string): Trunk | null {
    const fam = net.isIP(address);
    if (fam === 0) return null;
    this.matchers ??= this.s
      .prepare<[], Row>('SELECT * FROM trunks WHERE enabled = 1 ORDER BY id')
      .all()
      .map((r) => {
        const list = new net.BlockList();
        for (const src of JSON.parse(r.allowed_sources) as string[]) {
          const p = parseSource(src);
          list.addSubnet(p.address, p.prefix, p.family);
        }
        // Built once per change of the trunk table: findBySource runs for every INVITE.
        return { trunkId: r.id, list, trunk: this.toTrunk(r) };
      });
    for (const m of this.matchers) {
      if (m.list.check(address, fam === 4 ? 'ipv4' : 'ipv6')) return m.trunk;
    }
    return null;
  }

  /** The trunk calls to consumers leave by: the first enabled trunk (by id) with an outbound address. */
  outboundTrunk(): Trunk | null {
    const r = this.s
      .prepare<[], Row>('SELECT * FROM trunks WHERE enabled = 1 AND out_host IS NOT NULL ORDER BY id LIMIT 1')
      .get();
    return r ? this.toTrunk(r) : null;
  }

  /** The access number a DID maps to on this trunk (a leading + is ignored when matching). */
  accessNumberFor(trunk: Trunk, did: string): string | null {
    const bare = did.replace(/^\+/, '');
    return trunk.dids.find((d) => d.did.replace(/^\+/, '') === bare)?.accessNumber ?? null;
  }

  private toTrunk(r: Row): Trunk {
    const dids = this.s
      .prepare<[number], { did: string; access_number: string }>(
        'SELECT did, access_number FROM trunk_dids WHERE trunk_id = ? ORDER BY did',
      )
      .all(r.id)
      .map((d) => ({ did: d.did, accessNumber: d.access_number }));
    return {
      id: r.id,
      name: r.name,
      allowedSources: JSON.parse(r.allowed_sources) as string[],
      dids,
      inbandDtmf: r.inband_dtmf === 1,
      enabled: r.enabled === 1,
      registration:
        r.reg_registrar !== null && r.reg_username !== null
          ? {
              registrar: r.reg_registrar,
              username: r.reg_username,
              password: r.reg_password ?? '',
              expires: r.reg_expires ?? 3600,
            }
          : null,
      outbound:
        r.out_host !== null && r.out_port !== null
          ? {
              host: r.out_host,
              port: r.out_port,
              transport: r.out_transport ?? 'UDP',
              callerId: r.out_caller_id,
              prefix: r.out_prefix,
            }
          : null,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }
}
