import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { loadCatalogue } from '../playbooks/manifest.js';
import { projectRoot } from '../paths.js';
import { resolveSettings, type Settings } from '../config/settings.js';
import { startBroker } from '../powershell/environment.js';
import type { TransportTarget } from '../transport/targets.js';
import { wholeNumber, list } from './options.js';
import { RdpfixError } from '../errors.js';
import { selectHosts } from '../inventory/inventory.js';
import { selectByLimit, type Selectable } from '../inventory/limit.js';

/** The options every command that reaches hosts shares (probe, diagnose, plan, apply, rollback, resume, lab advance). */
export interface HostFlags {
  stateDir?: string;
  playbooks: string[];
  processes?: number;
  pwsh?: string;
  hosts?: string[];
  limit?: string;
  waitLock?: number;
  json: boolean;
}

export const builtInPlaybooks = () => path.join(projectRoot(), 'playbooks');

export function withHostOptions(cmd: Command, o: { waitLock?: boolean } = {}): Command {
  cmd
    .option('--state-dir <dir>', 'where run journals and host leases live (default: $RDPFIX_STATE_DIR, config stateDir, or ~/.local/state/rdpfix)')
    .option('--playbooks <dir>', 'an extra folder of playbooks (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--processes <n>', 'PowerShell processes to use (default: $RDPFIX_PROCESSES, config processes, or cores − 1, from 1 to 4)', wholeNumber(1, 16))
    .option('--pwsh <path>', 'PowerShell executable (default: $RDPFIX_PWSH, config pwsh, or found automatically)')
    .option('--hosts <list>', 'only these hosts (comma-separated names)', list)
    .option('-l, --limit <pattern>', "only the hosts a pattern selects: names, groups, globs (web*), tag:NAME, @FILE of names, &intersect, !exclude (e.g. 'windows:&prod:!web03')")
    .option('--json', 'print one JSON document', false);
  if (o.waitLock) cmd.option('--wait-lock <seconds>', 'wait up to this long for hosts another run holds (default: refuse them at once)', wholeNumber(0, 86_400));
  return cmd;
}

/**
 * The hosts `--hosts` and `--limit` select (all without them), as names every later stage filters by: the flags'
 * `hosts` is set to the selection, so the engine, the diagnosis and the journal see one list.
 */
export function narrowHosts<T extends Selectable>(flags: { hosts?: string[]; limit?: string }, hosts: T[], source: string): T[] {
  let out = selectHosts(hosts, flags.hosts, (missing) => new RdpfixError('usage', `Not in ${source}: ${missing.join(', ')}.`, 'Name hosts as the inventory lists them, or select with --limit.'));
  if (flags.limit !== undefined) out = selectByLimit(out, flags.limit, source);
  if (flags.hosts?.length || flags.limit !== undefined) flags.hosts = out.map((h) => h.name);
  return out;
}

/** Playbook folders: built-in first, then the resolved ones. */
export function playbookDirs(settings: Settings): string[] {
  return [builtInPlaybooks(), ...settings.playbookDirs.value];
}

/** Everything a command needs from its flags, through the one resolver (src/config/settings.ts). */
export function engineFrom(flags: Partial<HostFlags> & { concurrency?: number }) {
  const settings = resolveSettings({ stateDir: flags.stateDir, pwsh: flags.pwsh, processes: flags.processes, concurrency: flags.concurrency, playbooks: flags.playbooks });
  return {
    settings,
    stateDir: settings.stateDir.value,
    concurrency: settings.concurrency.value,
    catalogue: () => loadCatalogue(playbookDirs(settings)),
    /** Starts PowerShell, checking the controller's environment for these targets first (exit 3 on a problem). */
    broker: (targets: TransportTarget[]) => startBroker({ pwsh: settings.pwsh.value, processes: settings.processes.value, targets }),
  };
}

/** `--param id.name=value`: the value is JSON when it parses as JSON (numbers, booleans, lists), else text. */
export function parseParam(value: string, prev: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  const m = /^([a-z][a-z0-9-]*)\.([A-Za-z][A-Za-z0-9]*)=(.*)$/s.exec(value);
  if (!m) throw new InvalidArgumentError('expected PLAYBOOK.NAME=VALUE, e.g. --param session-limits.maxInstances=4');
  let parsed: unknown = m[3];
  try {
    parsed = JSON.parse(m[3]!);
  } catch {
    // plain text
  }
  return { ...prev, [m[1]!]: { ...(prev[m[1]!] ?? {}), [m[2]!]: parsed } };
}

export { list };
