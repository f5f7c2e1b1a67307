import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { Broker } from '../broker/broker.js';
import { defaultStateDir } from '../journal/journal.js';
import { loadCatalogue } from '../playbooks/manifest.js';
import { projectRoot } from '../paths.js';
import { loadConfig } from '../config/config.js';
import { wholeNumber, list } from './options.js';

/** Options every command that touches hosts or runs shares. */
export interface EngineFlags {
  stateDir?: string;
  playbooks: string[];
  processes?: number;
  pwsh?: string;
  json: boolean;
}

export const builtInPlaybooks = () => path.join(projectRoot(), 'playbooks');

export function withEngineOptions(cmd: Command): Command {
  return cmd
    .option('--state-dir <dir>', 'where run journals live (default: $RDPFIX_STATE_DIR or ~/.local/state/rdpfix)')
    .option('--playbooks <dir>', 'an extra folder of playbooks (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--processes <n>', 'PowerShell processes to use (default 2, or config processes)', wholeNumber(1, 16))
    .option('--pwsh <path>', 'PowerShell executable (default: found automatically)')
    .option('--json', 'print one JSON document', false);
}

/** Playbook folders: built-in, then the config's, then --playbooks. */
export function playbookDirs(extra: string[]): string[] {
  return [builtInPlaybooks(), ...(loadConfig().playbookDirs ?? []), ...extra];
}

/** Flags win over environment variables, which win over the user's config, which wins over defaults. */
export function engineFrom(flags: EngineFlags) {
  const config = loadConfig();
  return {
    stateDir: flags.stateDir ?? process.env.RDPFIX_STATE_DIR ?? config.stateDir ?? defaultStateDir(),
    catalogue: () => loadCatalogue(playbookDirs(flags.playbooks)),
    broker: () => new Broker({ processes: flags.processes ?? config.processes ?? 2, executable: flags.pwsh ?? (process.env.RDPFIX_PWSH ? undefined : config.pwsh) }),
    concurrency: config.concurrency,
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
