import type { Database } from '../storage/database.js';
import { SipDeviceRepository } from './devices.js';
import type { ScryptParams } from './password.js';
import { directoryMigrations } from './schema.js';
import { TrunkRepository } from './trunks.js';
import { WebUserRepository } from './web-users.js';

/** The directory's repositories over one database. Constructing it brings the schema up to date. */
export class Directory {
  readonly devices: SipDeviceRepository;
  readonly trunks: TrunkRepository;
  readonly webUsers: WebUserRepository;

  constructor(
    readonly db: Database,
    opts: { scrypt?: ScryptParams } = {},
  ) {
    db.migrate('directory', directoryMigrations);
    this.devices = new SipDeviceRepository(db);
    this.trunks = new TrunkRepository(db);
    this.webUsers = new WebUserRepository(db, opts.scrypt);
  }

  /** True when no device, trunk or web user exists yet. */
  isEmpty(): boolean {
    const n = this.db.sqlite
      .prepare(
        `SELECT (SELECT COUNT(*) FROM sip_devices) + (SELECT COUNT(*) FROM trunks) + (SELECT COUNT(*) FROM web_users)`,
      )
      .pluck()
      .get() as number;
    return n === 0;
  }
}
