import os from 'node:os';
import path from 'node:path';
import { RdpfixError } from '../errors.js';
import { defaultStateDir } from '../journal/journal.js';
import { configPath, loadConfig, type Config } from './config.js';

/**
 * The one option resolver: every command gets its settings here, each from the first place that has it —
 * command-line flag, then environment variable, then the user's config file, then the default — and knows
 * where it came from (`rdpfix config list --origin`). Playbook folders add up instead: built-in, config,
 * environment, then flags, in that order.
 */
export type Origin = 'flag' | 'env' | 'config' | 'default';

export interface Resolved<T> {
  value: T;
  origin: Origin;
  /** The flag, variable or file it came from. */
  from: string;
}

export interface SettingFlags {
  stateDir?: string;
  pwsh?: string;
  processes?: number;
  concurrency?: number;
  playbooks?: string[];
}

export interface Settings {
  stateDir: Resolved<string>;
  /** Unset: PowerShell is found automatically (src/powershell/locate.ts). */
  pwsh: Resolved<string | undefined>;
  processes: Resolved<number>;
  concurrency: Resolved<number>;
  playbookDirs: Resolved<string[]>;
}

export const ENV_VARS = {
  stateDir: 'RDPFIX_STATE_DIR',
  pwsh: 'RDPFIX_PWSH',
  processes: 'RDPFIX_PROCESSES',
  concurrency: 'RDPFIX_CONCURRENCY',
  playbookDirs: 'RDPFIX_PLAYBOOKS',
} as const;

const FLAGS = { stateDir: '--state-dir', pwsh: '--pwsh', processes: '--processes', concurrency: '--concurrency', playbookDirs: '--playbooks' } as const;

function envNumber(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new RdpfixError('config', `${name}=${JSON.stringify(text)} is not a whole number from ${min} to ${max}.`, `Set ${name} to a number from ${min} to ${max}, or unset it.`);
  }
  return Number(text);
}

/**
 * PowerShell processes when nothing says otherwise: one per core but one, which the controller needs (its event loop
 * drives every host; the journal's syncs and the lab's own scripts want CPU too), at least 1 and at most 4 (each
 * process is a whole PowerShell runtime and already multiplexes 8–32 runspaces; beyond a few, processes only
 * contend). Measured on a 2-core controller, a 200-host lab apply took 28 s with 1 process and 33–38 s with 2, the
 * constant this replaces.
 */
export function defaultProcesses(cores = os.availableParallelism()): number {
  return Math.min(4, Math.max(1, cores - 1));
}

function pick<T>(key: keyof typeof FLAGS, flag: T | undefined, envValue: T | undefined, config: T | undefined, fallback: T, configFile: () => string): Resolved<T> {
  if (flag !== undefined) return { value: flag, origin: 'flag', from: FLAGS[key] };
  if (envValue !== undefined) return { value: envValue, origin: 'env', from: ENV_VARS[key] };
  if (config !== undefined) return { value: config, origin: 'config', from: configFile() };
  return { value: fallback, origin: 'default', from: 'default' };
}

export function resolveSettings(flags: SettingFlags = {}, env: NodeJS.ProcessEnv = process.env, config: Config = loadConfig(env)): Settings {
  const file = () => configPath(env);
  const envDirs = env[ENV_VARS.playbookDirs] ? env[ENV_VARS.playbookDirs]!.split(path.delimiter).filter(Boolean) : [];
  const dirs = [...(config.playbookDirs ?? []), ...envDirs, ...(flags.playbooks ?? [])];
  const dirsFrom = [config.playbookDirs?.length ? file() : '', envDirs.length ? ENV_VARS.playbookDirs : '', flags.playbooks?.length ? FLAGS.playbookDirs : ''].filter(Boolean);
  return {
    stateDir: pick('stateDir', flags.stateDir, env[ENV_VARS.stateDir] || undefined, config.stateDir, defaultStateDir(env), file),
    pwsh: pick<string | undefined>('pwsh', flags.pwsh, env[ENV_VARS.pwsh] || undefined, config.pwsh, undefined, file),
    processes: pick('processes', flags.processes, envNumber(env, ENV_VARS.processes, 1, 16), config.processes, defaultProcesses(), file),
    concurrency: pick('concurrency', flags.concurrency, envNumber(env, ENV_VARS.concurrency, 1, 1024), config.concurrency, 32, file),
    playbookDirs: {
      value: dirs,
      origin: flags.playbooks?.length ? 'flag' : envDirs.length ? 'env' : config.playbookDirs?.length ? 'config' : 'default',
      from: dirsFrom.join(' + ') || 'default',
    },
  };
}

/** Plain values, for code that does not care where they came from. */
export function settingValues(s: Settings) {
  return { stateDir: s.stateDir.value, pwsh: s.pwsh.value, processes: s.processes.value, concurrency: s.concurrency.value, playbookDirs: s.playbookDirs.value };
}
