import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RdpfixError } from '../errors.js';
import { YAML_READ_OPTIONS, duplicatesOf, excerpt, quoteValues, yamlNestingProblem, yamlProblem } from '../safe-text.js';
import type { TransportTarget } from '../transport/targets.js';
import { checkLabStatePath, labStatePathProblem } from './lab-state-path.js';
import { readSmallTextFile, readStdinText } from '../read-file.js';
import { ImportProblem, type InventoryFormat } from './imports/imported.js';
import { importInventory, sniffInventory, type SniffedInventory } from './imports/load.js';
import { SSH_OPTION_HELP, sshOptions } from './ssh-options.js';
import { profileKey, typedPassword } from './secrets.js';

/**
 * The inventory: the hosts rdpfix works on and how to reach each. YAML (or JSON, which is YAML).
 * Secrets never appear here: a WinRM credential names the environment variable that holds the password.
 */
const hostName = z.string().min(1).max(253).regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, 'must be a host name (letters, digits, dots, hyphens)');

/** A path inside the inventory's folder (checked on disk by loadInventory, before any lab host is locked). */
const labStatePath = z.string().min(1).superRefine((p, ctx) => {
  const problem = labStatePathProblem(p);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const labTransport = z.object({ kind: z.literal('lab'), state: labStatePath }).strict();
/** Passed to ssh as arguments of their own: nothing that ssh would read as an option, nothing unprintable. */
const sshArgument = (what: string) => z.string().min(1).max(4096).regex(/^[^-\u0000-\u001f\u007f][^\u0000-\u001f\u007f]*$/, `must be a ${what} (not starting with '-', no control characters)`);
const winrmTransport = z
  .object({
    kind: z.literal('winrm'),
    port: z.number().int().min(1).max(65535).optional(),
    useSsl: z.boolean().optional(),
    authentication: z.enum(['Default', 'Negotiate', 'Kerberos', 'CredSSP', 'Basic']).optional(),
    user: z.string().min(1).optional(),
    passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
    skipCACheck: z.boolean().optional(),
    skipCNCheck: z.boolean().optional(),
    skipRevocationCheck: z.boolean().optional(),
    /** Kerberos: ask for the SPN HTTP/host:port (New-PSSessionOption -IncludePortInSPN), for services on other ports. */
    includePortInSPN: z.boolean().optional(),
    connectTimeoutMs: z.number().int().positive().optional(),
  })
  .strict();
const sshTransport = z
  .object({
    kind: z.literal('ssh'),
    user: z.string().min(1).max(256).regex(/^[A-Za-z0-9_][A-Za-z0-9._@\\-]*$/, "must be a user name (letters, digits, '.', '_', '-', '@', '\\')").optional(),
    port: z.number().int().min(1).max(65535).optional(),
    keyFile: sshArgument('file path').optional(),
    /** ssh -o options (New-PSSession -Options): only the allowlisted ones (./ssh-options.ts); none can run a command. */
    sshOptions,
    connectTimeoutMs: z.number().int().positive().optional(),
  })
  .strict();
const transport = z.discriminatedUnion('kind', [labTransport, winrmTransport, sshTransport]);

const hostEntry = z
  .object({
    name: hostName,
    /** The address the host should resolve to (diagnosis compares DNS with it). */
    address: z.string().ip().optional(),
    rdpPort: z.number().int().min(1).max(65535).optional(),
    transport: transport.optional(),
    tags: z.array(z.string()).optional(),
    /** Groups the host belongs to (Ansible inventories bring theirs); usable to select hosts. */
    groups: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, "must be a group name (letters, digits, '_', '-')")).optional(),
  })
  .strict();

const inventoryFile = z
  .object({
    version: z.literal(1),
    defaults: z.object({ transport: transport.optional() }).strict().optional(),
    hosts: z.array(hostEntry).min(1, 'must list at least one host'),
  })
  .strict();

export type InventoryTransport = z.infer<typeof transport>;

export interface InventoryHost {
  name: string;
  address?: string;
  rdpPort: number;
  transport: InventoryTransport;
  tags: string[];
  groups: string[];
}

export interface Inventory {
  path: string;
  /** The format it was read in: rdpfix's own YAML/JSON, or an import (src/inventory/imports/). */
  format: InventoryFormat;
  hosts: InventoryHost[];
  /** What an import did not use (variables, columns) or did on the user's behalf; empty for rdpfix's own format. */
  notes: string[];
}

const FORMAT_NAMES: Record<InventoryFormat, string> = { rdpfix: 'rdpfix inventory', list: 'host list', csv: 'CSV', 'ansible-ini': 'Ansible INI', 'ansible-yaml': 'Ansible YAML' };
const FORMAT_FIX: Record<InventoryFormat, string> = {
  rdpfix: 'See docs/inventory.md for the format.',
  list: 'One host name per line; # starts a comment (docs/inventory.md).',
  csv: 'A header row (name, address, transport, port, user, useSsl, authentication, passwordEnv, keyFile, rdpPort, tags, groups), then one host per row (docs/inventory.md).',
  'ansible-ini': 'See docs/inventory.md for the Ansible variables rdpfix maps (ansible_host, ansible_port, ansible_user, ansible_connection, ansible_winrm_*).',
  'ansible-yaml': 'See docs/inventory.md for the Ansible variables rdpfix maps (ansible_host, ansible_port, ansible_user, ansible_connection, ansible_winrm_*).',
};

/**
 * Reads and checks an inventory (`-` reads standard input) in any format rdpfix knows; a lab host's state file must
 * exist inside the inventory's folder.
 */
export function loadInventory(file: string): Inventory {
  const text = file === '-'
    ? readStdinText('inventory', 'Pipe an inventory (a host list, CSV, Ansible INI/YAML or rdpfix YAML) into -i -.')
    : readSmallTextFile(file, 'inventory', 'Check the path given with -i/--inventory.');
  const inventory = parseInventory(text, file);
  inventory.hosts.forEach((h, i) => {
    if (h.transport.kind === 'lab') checkLabStatePath(file, `hosts.${i}.transport.state`, h.transport.state);
  });
  return inventory;
}

export function parseInventory(text: string, file: string, sniffed: SniffedInventory = sniffInventory(text, file)): Inventory {
  if (sniffed.format !== 'rdpfix') return parseImported(text, file, sniffed.format, sniffed.doc);
  let raw: unknown = sniffed.doc;
  if (raw === undefined) {
    const tooDeep = yamlNestingProblem(text);
    if (tooDeep) throw new RdpfixError('input', `Inventory ${file} is not valid YAML: ${tooDeep}.`, 'An inventory needs a few levels; see docs/inventory.md.');
    try {
      raw = parseYaml(text, YAML_READ_OPTIONS);
    } catch (err) {
      throw new RdpfixError('input', `Inventory ${file} is not valid YAML: ${yamlProblem(err)}.`, 'Fix the syntax at the line shown.');
    }
  }
  const parsed = safeParse(inventoryFile, raw);
  if (!parsed.success) {
    // Every problem at once (up to a screenful), so one fix-and-retry round covers them all.
    const issues = parsed.error.issues;
    // zod echoes received values (file content): quoted cut short, escaped and redacted.
    const text = issues.slice(0, 10).map((issue) => `${issue.path.length ? excerpt(issue.path.join('.'), 120) : '(top level)'}: ${excerpt(issue.message, 400)}`).join('; ');
    const more = issues.length > 10 ? `; and ${issues.length - 10} more` : '';
    throw new RdpfixError('input', `Inventory ${file}: ${text}${more}.`, inventoryFix(issues[0]!.path));
  }
  return { path: file, format: 'rdpfix', hosts: resolveHosts(parsed.data, file), notes: [] };
}

/** Another format: imported into rdpfix host entries, then checked by the same schema as rdpfix's own. */
function parseImported(text: string, file: string, format: Exclude<InventoryFormat, 'rdpfix'>, doc: unknown): Inventory {
  const label = `Inventory ${file} (${FORMAT_NAMES[format]})`;
  let imported: ReturnType<typeof importInventory>;
  try {
    imported = importInventory(text, file, format, doc);
  } catch (err) {
    if (err instanceof ImportProblem) throw new RdpfixError('input', `${label}: ${excerpt(err.message, 600)}.`, FORMAT_FIX[format]);
    throw err;
  }
  const parsed = safeParse(inventoryFile, { version: 1, hosts: imported.entries });
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const where = (p: (string | number)[]) => {
      const entry = typeof p[1] === 'number' ? imported.entries[p[1]] : undefined;
      const field = p.slice(2).join('.');
      return entry ? `host ${excerpt(String(entry.name), 80)}${field ? ` ${field}` : ''}` : excerpt(p.join('.'), 120) || '(top level)';
    };
    const text = issues.slice(0, 10).map((issue) => `${where(issue.path)}: ${excerpt(issue.message, 400)}`).join('; ');
    const more = issues.length > 10 ? `; and ${issues.length - 10} more` : '';
    throw new RdpfixError('input', `${label}: ${text}${more}.`, FORMAT_FIX[format]);
  }
  if (parsed.data.hosts.some((h) => h.transport?.kind === 'lab')) throw new RdpfixError('input', `${label}: lab hosts live only in rdpfix's own inventory format.`, 'Use the inventory `rdpfix lab init` writes.');
  return { path: file, format, hosts: resolveHosts(parsed.data, file), notes: imported.notes };
}

function resolveHosts(data: z.infer<typeof inventoryFile>, file: string): InventoryHost[] {
  const seen = new Set<string>();
  return data.hosts.map((h, i) => {
    const key = h.name.toLowerCase();
    if (seen.has(key)) throw new RdpfixError('input', `Inventory ${file}: hosts.${i}.name: '${h.name}' is listed twice.`, 'Give every host one entry.');
    seen.add(key);
    const t = h.transport ?? data.defaults?.transport;
    if (!t) throw new RdpfixError('input', `Inventory ${file}: hosts.${i}.transport: no transport for '${h.name}' and no defaults.transport.`, 'Add transport: { kind: winrm | ssh | lab, ... } to the host or to defaults.');
    const resolved = t.kind === 'lab' ? { ...t, state: path.resolve(path.dirname(file), t.state) } : t;
    return { name: h.name, address: h.address, rdpPort: h.rdpPort ?? 3389, transport: resolved, tags: h.tags ?? [], groups: h.groups ?? [] };
  });
}

/** zod walks nested input recursively: a document nested deeper than the stack is bad input, not a crash. */
function safeParse<T extends z.ZodTypeAny>(schema: T, raw: unknown): z.SafeParseReturnType<unknown, z.infer<T>> {
  try {
    return schema.safeParse(raw);
  } catch (err) {
    if (err instanceof RangeError) return { success: false, error: new z.ZodError([{ code: 'custom', path: [], message: 'nested too deeply' }]) };
    throw err;
  }
}

function inventoryFix(where: (string | number)[]): string {
  if (where.includes('sshOptions')) return `ssh options rdpfix passes on: ${Object.keys(SSH_OPTION_HELP).join(', ')}. Others (ProxyCommand, LocalCommand, ...) can run commands on this machine and are refused; put them in the operator's own ~/.ssh/config if really needed.`;
  if (where.includes('state')) return 'A lab host\'s state is a file inside the inventory\'s folder, given relative to it (e.g. hosts/lab-001.json), as `rdpfix lab init` writes it.';
  if (where.includes('transport')) return 'A transport is { kind: winrm, port?, useSsl?, authentication?, user?, passwordEnv? }, { kind: ssh, user?, port?, keyFile? } or { kind: lab, state }.';
  if (where[0] === 'version') return 'Start the file with `version: 1`.';
  return 'See docs/inventory.md for the format.';
}

/** The transport target for a host, with its secret read from the environment at the last moment. */
export function targetFor(host: InventoryHost, env: NodeJS.ProcessEnv = process.env): TransportTarget {
  const t = host.transport;
  switch (t.kind) {
    case 'lab':
      return { kind: 'lab', host: host.name, statePath: t.state };
    case 'ssh':
      return { kind: 'ssh', host: host.name, user: t.user, port: t.port, keyFile: t.keyFile, sshOptions: t.sshOptions, connectTimeoutMs: t.connectTimeoutMs };
    case 'winrm': {
      let credential: { user: string; password: string } | undefined;
      if (t.user) {
        const password = (t.passwordEnv ? env[t.passwordEnv] : undefined) ?? typedPassword(profileKey(t.user, t.passwordEnv));
        if (password === undefined) {
          throw new RdpfixError('config', `Host ${host.name}: the WinRM user '${t.user}' needs a password, and ${t.passwordEnv ? `$${t.passwordEnv} is not set` : 'no passwordEnv is given'}.`,
            'Run rdpfix in a terminal to be asked for it (once per user), or set passwordEnv in the inventory to the name of an environment variable and set that variable (never the password itself in the file).');
        }
        credential = { user: t.user, password };
      }
      const { kind: _kind, passwordEnv: _passwordEnv, user: _user, ...rest } = t;
      return { kind: 'winrm', host: host.name, ...rest, ...(credential ? { credential } : {}) };
    }
  }
}

/** The hosts named by `filter` (all when empty), case-insensitively; a name not among them is an error. */
export function selectHosts<T extends { name: string }>(all: T[], filter: string[] | undefined, notFound: (missing: string) => RdpfixError): T[] {
  if (filter === undefined) return all;
  // An empty --hosts (`--hosts ''`, `--hosts ,`) must not mean "every host".
  if (filter.length === 0) throw new RdpfixError('usage', '--hosts is empty: it names no host.', 'Name hosts comma-separated as the inventory lists them, or leave --hosts out for all of them.');
  const twice = duplicatesOf(filter, (h) => h.toLowerCase());
  if (twice.length) throw new RdpfixError('usage', `--hosts names ${quoteValues(twice)} more than once (host names ignore case).`, 'Name each host once.');
  const hosts = all.filter((h) => filter.some((f) => f.toLowerCase() === h.name.toLowerCase()));
  const missing = filter.filter((f) => !hosts.some((h) => h.name.toLowerCase() === f.toLowerCase()));
  if (missing.length) throw notFound(quoteValues(missing));
  return hosts;
}
