import type { MerchantRepository } from './repository.js';

/** What call control needs to ring a station (issue 7). The call-control engineer consumes exactly this. */
export interface ResolvedStation {
  id: string;
  name: string;
  /** A registered SIP device of the station. */
  extension?: string;
  /** A number outside, reached through `trunk` when the station has no device. */
  externalNumber?: string;
  trunk?: string;
}

export interface StationResolver {
  resolve(id: string): ResolvedStation | null;
}

/**
 * Resolves the station id the desktop sends (the directory's numeric id). A bare extension of a station
 * in the directory is accepted as well, so scripts and the earlier default resolver (id = extension)
 * keep working. Disabled stations do not resolve: a lead who switched one off means it.
 */
export class MerchantStationResolver implements StationResolver {
  constructor(private readonly repo: MerchantRepository) {}

  resolve(id: string): ResolvedStation | null {
    const key = id.trim();
    if (!/^\d{1,10}$/.test(key)) return null;
    const s = this.repo.get(Number(key)) ?? this.repo.byExtension(key);
    if (!s || !s.enabled) return null;
    return {
      id: String(s.id),
      name: s.name,
      ...(s.extension !== null ? { extension: s.extension } : {}),
      ...(s.externalNumber !== null ? { externalNumber: s.externalNumber } : {}),
      ...(s.trunk !== null ? { trunk: s.trunk } : {}),
    };
  }
}
