/**
 * Just enough SDDL to judge a file's DACL the way Windows evaluates it: who gets which rights, and whether
 * two DACLs hold the same entries. Pure. Rights and SID aliases: Microsoft's SDDL string format
 * (ACE strings, SID strings); generic rights map to the file ones (FILE_GENERIC_READ etc.).
 */

export interface Ace {
  type: string; // 'A' allow, 'D' deny (others are kept but never grant)
  flags: string[]; // 'OI', 'CI', 'NP', 'IO', 'ID'
  mask: number;
  sid: string; // always the S-1-... form
}

export interface SecurityDescriptor {
  owner: string | null;
  dacl: Ace[] | null; // null: no DACL part in the string
  protected: boolean;
}

const SID_ALIASES: Record<string, string> = {
  SY: 'S-1-5-18', LS: 'S-1-5-19', NS: 'S-1-5-20', BA: 'S-1-5-32-544', BU: 'S-1-5-32-545', WD: 'S-1-1-0',
  AU: 'S-1-5-11', SU: 'S-1-5-6', IU: 'S-1-5-4', NU: 'S-1-5-2', CO: 'S-1-3-0', CG: 'S-1-3-1', OW: 'S-1-3-4',
  PU: 'S-1-5-32-547', BG: 'S-1-5-32-546', AN: 'S-1-5-7', RD: 'S-1-5-32-555', RU: 'S-1-5-32-554',
};

const RIGHTS: Record<string, number> = {
  FA: 0x1f01ff, FR: 0x120089, FW: 0x120116, FX: 0x1200a0,
  GA: 0x10000000, GX: 0x20000000, GW: 0x40000000, GR: 0x80000000,
  RC: 0x20000, SD: 0x10000, WD: 0x40000, WO: 0x80000,
  CC: 0x1, DC: 0x2, LC: 0x4, SW: 0x8, RP: 0x10, WP: 0x20, DT: 0x40, LO: 0x80, CR: 0x100,
};

/** Rights a file ACE grants once generic rights are mapped (GENERIC_READ → FILE_GENERIC_READ...). */
function fileMask(mask: number): number {
  let m = mask & 0x0fffffff;
  if (mask & 0x10000000) m |= RIGHTS.FA!;
  if (mask & 0x20000000) m |= RIGHTS.FX!;
  if (mask & 0x40000000) m |= RIGHTS.FW!;
  if (mask & 0x80000000) m |= RIGHTS.FR!;
  return m >>> 0;
}

export const FILE_READ = RIGHTS.FR!;
export const FILE_ALL = RIGHTS.FA!;

export const sidOf = (s: string): string => SID_ALIASES[s.toUpperCase()] ?? s.toUpperCase();

function parseRights(text: string): number | null {
  if (/^0x[0-9a-f]+$/i.test(text)) return parseInt(text.slice(2), 16) >>> 0;
  if (/^\d+$/.test(text)) return Number(text) >>> 0;
  let m = 0;
  for (let i = 0; i < text.length; i += 2) {
    const r = RIGHTS[text.slice(i, i + 2).toUpperCase()];
    if (r === undefined) return null;
    m = (m | r) >>> 0;
  }
  return m;
}

/** Parses the owner and DACL of an SDDL string; null when it is not SDDL we can read. */
export function parseSddl(sddl: string): SecurityDescriptor | null {
  const owner = /O:(S-1-[0-9-]+|[A-Z]{2})/.exec(sddl)?.[1];
  const d = /D:([A-Z_]*)((?:\([^)]*\))*)/.exec(sddl);
  if (!d) return { owner: owner ? sidOf(owner) : null, dacl: null, protected: false };
  const aces: Ace[] = [];
  for (const m of d[2]!.matchAll(/\(([^)]*)\)/g)) {
    const parts = m[1]!.split(';');
    if (parts.length < 6) return null;
    const mask = parseRights(parts[2]!);
    if (mask === null) return null;
    aces.push({ type: parts[0]!.toUpperCase(), flags: parts[1]!.match(/../g) ?? [], mask, sid: sidOf(parts[5]!) });
  }
  if (d[1] === 'NO_ACCESS_CONTROL') return { owner: owner ? sidOf(owner) : null, dacl: null, protected: false };
  return { owner: owner ? sidOf(owner) : null, dacl: aces, protected: d[1]!.includes('P') };
}

/** Token groups of the service accounts that use the RDP key (the same the lab uses; standard service tokens). */
export const TOKENS = {
  system: ['S-1-5-18', 'S-1-5-32-544', 'S-1-1-0', 'S-1-5-11'],
  networkService: ['S-1-5-20', 'S-1-1-0', 'S-1-5-11', 'S-1-5-6', 'S-1-5-32-545'],
  /** The probe's and the playbooks' remoting session: an administrator (its own user SID aside). */
  administrator: ['S-1-5-32-544', 'S-1-1-0', 'S-1-5-11', 'S-1-5-32-545'],
};

/** Rights a token with these SIDs gets on the object (deny entries first, as in a canonical DACL). */
export function effectiveRights(sd: SecurityDescriptor, sids: string[]): number {
  if (!sd.dacl) return FILE_ALL; // no DACL: everyone has full access
  let granted = 0;
  let denied = 0;
  for (const ace of sd.dacl) {
    if (ace.flags.includes('IO') || !sids.includes(ace.sid)) continue;
    const m = fileMask(ace.mask);
    if (ace.type === 'D') denied = (denied | (m & ~granted)) >>> 0;
    else if (ace.type === 'A') granted = (granted | (m & ~denied)) >>> 0;
  }
  return granted >>> 0;
}

export const has = (rights: number, wanted: number) => ((rights & wanted) >>> 0) === wanted;

/** Whether two DACLs hold the same entries (order and spelling aside: FA = 0x1f01ff, BA = S-1-5-32-544). */
export function sameDacl(a: SecurityDescriptor, b: SecurityDescriptor): boolean {
  const key = (x: Ace) => `${x.type};${[...x.flags].sort().join('')};${fileMask(x.mask)};${x.sid}`;
  const ka = (a.dacl ?? []).map(key).sort();
  const kb = (b.dacl ?? []).map(key).sort();
  return a.protected === b.protected && ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}
