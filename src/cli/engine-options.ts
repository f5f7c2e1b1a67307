import path from 'node:path';
import { loadCatalogue } from '../playbooks/manifest.js';
import { projectRoot } from '../paths.js';
import { resolveSettings, type Settings } from '../config/settings.js';
import { startBroker } from '../powershell/environment.js';
import type { TransportTarget } from '../transport/targets.js';
import { list } from './options.js';
import type { HostFlags } from './host-options.js';
import { RdpfixError } from '../errors.js';
import { loadInventory, selectHosts, targetFor, type Inventory } from '../inventory/inventory.js';
import type { Broker } from '../broker/broker.js';
import type { FleetReadFlags } from './options.js';
import { askForMissingPasswords } from './password-prompt.js';
import { warnInventoryNotes } from './commands/inventory.action.js';
import { selectByLimit, type Selectable } from '../inventory/limit.js';

export const builtInPlaybooks = () => path.join(projectRoot(), 'playbooks');

/**
 * The hosts `--hosts` and `--limit` select (all without them), as names every later stage filters by: the flags'
 * `hosts` is set to the selection, so the engine, the diagnosis and the journal see one list.
 */
export function narrowHosts<T extends Selectable>(flags: { hosts?: string[]; limit?: string }, hosts: T[], source: string): T[] {
  let out = selectHosts(hosts, flags.hosts, (missing) => new RdpfixError('usage', `--hosts: not in ${source}: ${missing}.`, 'Name hosts as the inventory lists them, or select with --limit.'));
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

// The option builders live in host-options.ts (light, for --help); re-exported for the actions.
export { withHostOptions, parseParam, type HostFlags } from './host-options.js';
export { list };

/**
 * What every read-only command that reaches hosts starts with: the inventory (its notes warned about), narrowed to
 * `--hosts`/`--limit`, passwords asked for on a terminal, and a broker for exactly those hosts. The caller closes it.
 */
export async function openFleet(flags: FleetReadFlags): Promise<{ inventory: Inventory; broker: Broker }> {
  const whole = loadInventory(flags.inventory);
  warnInventoryNotes(whole);
  const inventory = { ...whole, hosts: narrowHosts(flags, whole.hosts, whole.path) };
  await askForMissingPasswords(inventory.hosts);
  const broker = await engineFrom(flags).broker(inventory.hosts.map((h) => targetFor(h)));
  return { inventory, broker };
}
