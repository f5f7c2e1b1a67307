import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RdpfixError } from '../errors.js';
import type { TransportTarget } from '../transport/targets.js';

/**
 * The inventory: the hosts rdpfix works on and how to reach each. YAML (or JSON, which is YAML).
 * Secrets never appear here: a WinRM credential names the environment variable that holds the password.
 */
const hostName = z.string().min(1).max(253).regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, 'must be a host name (letters, digits, dots, hyphens)');

const labTransport = z.object({ kind: z.literal('lab'), state: z.string().min(1) }).strict();
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
    connectTimeoutMs: z.number().int().positive().optional(),
  })
  .strict();
const sshTransport = z
  .object({
    kind: z.literal('ssh'),
    user: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    keyFile: z.string().min(1).optional(),
    /** ssh -o options (New-PSSession -Options), e.g. { UserKnownHostsFile: ..., StrictHostKeyChecking: 'yes' }. */
    sshOptions: z.record(z.string().regex(/^[A-Za-z]+$/, 'ssh option names are letters'), z.string()).optional(),
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
}

export interface Inventory {
  path: string;
  hosts: InventoryHost[];
}

export function loadInventory(file: string): Inventory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RdpfixError('input', `Cannot read inventory ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, 'Check the path given with -i/--inventory.');
  }
  return parseInventory(text, file);
}

export function parseInventory(text: string, file: string): Inventory {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new RdpfixError('input', `Inventory ${file} is not valid YAML: ${(err as Error).message}`, 'Fix the syntax at the line shown.');
  }
  const parsed = inventoryFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new RdpfixError('input', `Inventory ${file}: ${where}: ${issue.message}.`, inventoryFix(issue.path));
  }
  const seen = new Set<string>();
  const hosts = parsed.data.hosts.map((h, i) => {
    const key = h.name.toLowerCase();
    if (seen.has(key)) throw new RdpfixError('input', `Inventory ${file}: hosts.${i}.name: '${h.name}' is listed twice.`, 'Give every host one entry.');
    seen.add(key);
    const t = h.transport ?? parsed.data.defaults?.transport;
    if (!t) throw new RdpfixError('input', `Inventory ${file}: hosts.${i}.transport: no transport for '${h.name}' and no defaults.transport.`, 'Add transport: { kind: winrm | ssh | lab, ... } to the host or to defaults.');
    const resolved = t.kind === 'lab' ? { ...t, state: path.resolve(path.dirname(file), t.state) } : t;
    return { name: h.name, address: h.address, rdpPort: h.rdpPort ?? 3389, transport: resolved, tags: h.tags ?? [] };
  });
  return { path: file, hosts };
}

function inventoryFix(where: (string | number)[]): string {
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
        const password = t.passwordEnv ? env[t.passwordEnv] : undefined;
        if (password === undefined) {
          throw new RdpfixError('config', `Host ${host.name}: the WinRM user '${t.user}' needs a password, and ${t.passwordEnv ? `$${t.passwordEnv} is not set` : 'no passwordEnv is given'}.`,
            'Set passwordEnv in the inventory to the name of an environment variable, and set that variable (never the password itself in the file).');
        }
        credential = { user: t.user, password };
      }
      const { kind: _kind, passwordEnv: _passwordEnv, user: _user, ...rest } = t;
      return { kind: 'winrm', host: host.name, ...rest, ...(credential ? { credential } : {}) };
    }
  }
}

/** The hosts named by `filter` (all when empty), case-insensitively; a name not among them is an error. */
export function selectHosts(all: InventoryHost[], filter: string[] | undefined, notFound: (missing: string[]) => RdpfixError): InventoryHost[] {
  if (!filter?.length) return all;
  const wanted = new Set(filter.map((h) => h.toLowerCase()));
  const hosts = all.filter((h) => wanted.has(h.name.toLowerCase()));
  const missing = [...wanted].filter((w) => !hosts.some((h) => h.name.toLowerCase() === w));
  if (missing.length) throw notFound(missing);
  return hosts;
}
