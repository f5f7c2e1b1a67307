import net from 'node:net';
import { ImportProblem, type ImportedHost } from './imported.js';

/**
 * Turns hosts of other inventory formats into rdpfix host entries (validated afterwards by the same schema as
 * rdpfix's own inventory). Nothing is dropped silently: every variable or column rdpfix does not use is named in
 * a note, and passwords are never read.
 */
export interface Imported {
  entries: Record<string, unknown>[];
  notes: string[];
}

/** Variables that hold secrets. Their values are never read, copied or echoed. */
const SECRET_VARS = /(^|_)(pass|password|passwd|secret|token|key_passphrase)$/i;
const SECRET_HINT = 'rdpfix never takes passwords from files; give the name of an environment variable in rdpfix_password_env (or passwordEnv), or type it when prompted';

/** Ansible's `ansible_winrm_transport` / `ansible_psrp_auth` values → PowerShell's -Authentication. */
const AUTH: Record<string, string> = { ntlm: 'Negotiate', negotiate: 'Negotiate', kerberos: 'Kerberos', credssp: 'CredSSP', basic: 'Basic' };

export function fromAnsible(hosts: ImportedHost[]): Imported {
  const unused = new Map<string, string[]>();
  const secrets = new Map<string, string[]>();
  const notes: string[] = [];
  const renamed: string[] = [];
  const noConnection: string[] = [];
  const entries = hosts.map((h) => {
    const used = new Set<string>();
    const get = (k: string): unknown => {
      used.add(k);
      return h.vars[k];
    };
    const where = `${h.name} (${h.where})`;
    const connection = String(get('ansible_connection') ?? '').toLowerCase();
    if (!connection) noConnection.push(h.name);
    const kind = !connection || connection === 'ssh' ? 'ssh' : connection === 'winrm' || connection === 'psrp' ? 'winrm' : null;
    if (!kind) throw new ImportProblem(`${where}: ansible_connection=${clip(connection)}: rdpfix reaches Windows hosts over winrm, psrp or ssh`);
    const port = optionalInt(get('ansible_port'), 'ansible_port', where, 1, 65535);
    const user = optionalString(get('ansible_user') ?? get('ansible_ssh_user'));
    const passwordEnv = optionalString(get('rdpfix_password_env'));
    const transport: Record<string, unknown> = { kind };
    if (kind === 'winrm') {
      const psrp = connection === 'psrp';
      const scheme = String(get(psrp ? 'ansible_psrp_protocol' : 'ansible_winrm_scheme') ?? '').toLowerCase();
      if (scheme && scheme !== 'http' && scheme !== 'https') throw new ImportProblem(`${where}: ${psrp ? 'ansible_psrp_protocol' : 'ansible_winrm_scheme'}=${clip(scheme)}: use http or https`);
      // Ansible's defaults: port 5986 over HTTPS; HTTP only when asked for, or on port 5985.
      const useSsl = scheme ? scheme === 'https' : port !== 5985;
      transport.useSsl = useSsl;
      transport.port = port ?? (useSsl ? 5986 : 5985);
      const authText = String(get(psrp ? 'ansible_psrp_auth' : 'ansible_winrm_transport') ?? '').toLowerCase();
      if (authText) {
        const choices = authText.split(',').map((a) => a.trim()).filter(Boolean);
        const auth = choices.map((a) => AUTH[a]).find(Boolean);
        if (!auth) throw new ImportProblem(`${where}: authentication ${clip(authText)} is not one rdpfix offers (ntlm, kerberos, credssp, basic; certificate authentication is not supported)`);
        transport.authentication = auth;
      }
      const validation = String(get(psrp ? 'ansible_psrp_cert_validation' : 'ansible_winrm_server_cert_validation') ?? '').toLowerCase();
      if (validation === 'ignore') Object.assign(transport, { skipCACheck: true, skipCNCheck: true });
      else if (validation && validation !== 'validate') throw new ImportProblem(`${where}: certificate validation ${clip(validation)}: use validate or ignore`);
      if (user) transport.user = user;
      if (passwordEnv) transport.passwordEnv = passwordEnv;
    } else {
      if (port !== undefined) transport.port = port;
      if (user) transport.user = user;
      const key = optionalString(get('ansible_ssh_private_key_file') ?? get('ansible_private_key_file'));
      if (key) transport.keyFile = key;
      if (passwordEnv) throw new ImportProblem(`${where}: rdpfix_password_env is for WinRM; the ssh transport authenticates with keys`);
    }
    const entry: Record<string, unknown> = { name: h.name, transport };
    const target = optionalString(get('ansible_host') ?? get('ansible_ssh_host'));
    if (target && net.isIP(target)) entry.address = target;
    else if (target && target.toLowerCase() !== h.name.toLowerCase()) {
      // rdpfix connects to a host by its name: the name Ansible connects to becomes the host's name.
      entry.name = target;
      renamed.push(`${h.name} → ${target}`);
    }
    const address = optionalString(get('rdpfix_address'));
    if (address) entry.address = address;
    const rdpPort = optionalInt(get('rdpfix_rdp_port'), 'rdpfix_rdp_port', where, 1, 65535);
    if (rdpPort !== undefined) entry.rdpPort = rdpPort;
    const tags = get('rdpfix_tags');
    if (tags !== undefined) entry.tags = Array.isArray(tags) ? tags.map(String) : String(tags).split(/[,\s]+/).filter(Boolean);
    if (h.groups.length) entry.groups = h.groups;
    for (const k of Object.keys(h.vars)) {
      if (used.has(k)) continue;
      const bucket = SECRET_VARS.test(k) ? secrets : unused;
      bucket.set(k, [...(bucket.get(k) ?? []), h.name]);
    }
    return entry;
  });
  if (noConnection.length) notes.push(`${count(noConnection)} without ansible_connection use Ansible's default, ssh (${list(noConnection)}); set ansible_connection=winrm for WinRM.`);
  if (renamed.length) notes.push(`Named by ansible_host, which rdpfix connects to: ${list(renamed)}.`);
  for (const [k, names] of secrets) notes.push(`${k} (${count(names)}) is not read: ${SECRET_HINT}.`);
  for (const [k, names] of unused) notes.push(`${k} (${count(names)}: ${list(names)}) is not used by rdpfix.`);
  return { entries, notes };
}

/** Columns of a CSV inventory, case and '_'/'-' insensitive, → rdpfix fields. */
const CSV_COLUMNS: Record<string, string> = {
  name: 'name', host: 'name', hostname: 'name', computername: 'name',
  address: 'address', ip: 'address', ipaddress: 'address',
  rdpport: 'rdpPort', transport: 'kind', kind: 'kind', connection: 'kind', port: 'port', user: 'user', username: 'user',
  usessl: 'useSsl', ssl: 'useSsl', https: 'useSsl', authentication: 'authentication', auth: 'authentication',
  passwordenv: 'passwordEnv', keyfile: 'keyFile', tags: 'tags', groups: 'groups', group: 'groups',
};

export function fromCsv(csv: { header: string[]; rows: { line: number; cells: string[] }[] }): Imported {
  const notes: string[] = [];
  const fields = csv.header.map((h) => CSV_COLUMNS[h.toLowerCase().replace(/[\s_-]/g, '')]);
  if (!fields.includes('name')) throw new ImportProblem(`line 1: no host name column (name it name, host or hostname; the header is: ${clip(csv.header.join(', '))})`);
  const seen = new Set<string>();
  csv.header.forEach((h, i) => {
    const f = fields[i];
    if (f && seen.has(f)) throw new ImportProblem(`line 1: two columns give ${f} (${clip(h)})`);
    if (f) seen.add(f);
    else if (SECRET_VARS.test(h.replace(/\s/g, '_'))) notes.push(`Column ${clip(h)} is not read: ${SECRET_HINT}.`);
    else notes.push(`Column ${clip(h)} is not used by rdpfix.`);
  });
  const entries = csv.rows.map(({ line, cells }) => {
    if (cells.length > csv.header.length) throw new ImportProblem(`line ${line}: ${cells.length} fields, the header has ${csv.header.length}`);
    const v: Record<string, string> = Object.create(null) as Record<string, string>;
    fields.forEach((f, i) => {
      if (f && cells[i]) v[f] = cells[i]!;
    });
    const where = `line ${line}`;
    if (!v.name) throw new ImportProblem(`${where}: no host name`);
    const kind = (v.kind ?? 'winrm').toLowerCase();
    if (kind !== 'winrm' && kind !== 'ssh') throw new ImportProblem(`${where}: transport ${clip(kind)}: use winrm or ssh`);
    const transport: Record<string, unknown> = { kind };
    const port = optionalInt(v.port, 'port', where, 1, 65535);
    if (port !== undefined) transport.port = port;
    if (v.user) transport.user = v.user;
    if (kind === 'winrm') {
      if (v.useSsl !== undefined) transport.useSsl = bool(v.useSsl, 'useSsl', where);
      if (v.authentication) transport.authentication = AUTH[v.authentication.toLowerCase()] ?? v.authentication;
      if (v.passwordEnv) transport.passwordEnv = v.passwordEnv;
      if (v.keyFile) throw new ImportProblem(`${where}: keyFile is for the ssh transport`);
    } else {
      if (v.keyFile) transport.keyFile = v.keyFile;
      for (const f of ['useSsl', 'authentication', 'passwordEnv'] as const) if (v[f]) throw new ImportProblem(`${where}: ${f} is for the winrm transport`);
    }
    const entry: Record<string, unknown> = { name: v.name, transport };
    if (v.address) entry.address = v.address;
    const rdpPort = optionalInt(v.rdpPort, 'rdpPort', where, 1, 65535);
    if (rdpPort !== undefined) entry.rdpPort = rdpPort;
    if (v.tags) entry.tags = v.tags.split(/[;,\s]+/).filter(Boolean);
    if (v.groups) entry.groups = v.groups.split(/[;,\s]+/).filter(Boolean);
    return entry;
  });
  if (!entries.length) throw new ImportProblem('no hosts under the header row');
  return { entries, notes };
}

/** A plain list: one host name per line; `#` starts a comment. Each host is reached over WinRM's defaults. */
export function fromList(text: string): Imported {
  const entries: Record<string, unknown>[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    if (/\s/.test(line)) throw new ImportProblem(`line ${i + 1}: one host name per line ('${clip(line)}' has several words; for more per host use CSV or YAML)`);
    entries.push({ name: line, transport: { kind: 'winrm' } });
  });
  if (!entries.length) throw new ImportProblem('no host names (one per line; # starts a comment)');
  return { entries, notes: [] };
}

function optionalString(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return String(v);
}

function optionalInt(v: unknown, name: string, where: string, min: number, max: number): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : /^\d+$/.test(String(v).trim()) ? Number(String(v).trim()) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new ImportProblem(`${where}: ${name}=${clip(String(v))} is not a number from ${min} to ${max}`);
  return n;
}

function bool(v: string, name: string, where: string): boolean {
  const t = v.toLowerCase();
  if (['true', 'yes', '1', 'y'].includes(t)) return true;
  if (['false', 'no', '0', 'n'].includes(t)) return false;
  throw new ImportProblem(`${where}: ${name}=${clip(v)}: use true or false`);
}

const clip = (s: string) => (s.length > 60 ? `${s.slice(0, 60)}…` : s).replace(/[\u0000-\u001f\u007f]/g, '?');
const count = (names: string[]) => `${names.length} host${names.length === 1 ? '' : 's'}`;
const list = (names: string[]) => (names.length > 5 ? `${names.slice(0, 5).join(', ')}, …` : names.join(', '));
