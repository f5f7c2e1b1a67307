import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { RdpfixError } from '../errors.js';
import { escapeControl } from '../safe-text.js';
import { CONFIG_KEYS as KEYS } from './keys.js';

/**
 * User settings (~/.config/rdpfix/config.json, or $RDPFIX_CONFIG_DIR; written through conf, config-store.ts). Only
 * these keys exist; secrets have no place here (a password never goes in config: see docs/inventory.md).
 */
export const configSchema = z
  .object({
    stateDir: z.string().min(1).optional(),
    playbookDirs: z.array(z.string().min(1)).optional(),
    processes: z.number().int().min(1).max(16).optional(),
    concurrency: z.number().int().min(1).max(1024).optional(),
    pwsh: z.string().min(1).optional(),
  })
  .strict();
export type Config = z.infer<typeof configSchema>;
export const CONFIG_KEYS = KEYS as readonly (keyof Config)[];
// keys.ts is what help text reads without loading conf; it must list exactly the schema's keys.
if (Object.keys(configSchema.shape).join() !== KEYS.join()) throw new Error('src/config/keys.ts is out of step with the config schema');

/** The folder conf would pick (env-paths' config dir for 'rdpfix'), computed without reading the file. */
export function configDir(env: NodeJS.ProcessEnv): string {
  if (env.RDPFIX_CONFIG_DIR) return path.resolve(env.RDPFIX_CONFIG_DIR);
  const home = homedir();
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Preferences', 'rdpfix');
  if (process.platform === 'win32') return path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'rdpfix', 'Config');
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'rdpfix');
}

/** A settings file's text as conf would hand it over, or why it is not JSON (the file is then never rewritten). */
export function parseConfigText(text: string): { data: unknown } | { corrupt: string } {
  try {
    return { data: JSON.parse(text) as unknown };
  } catch (err) {
    return { corrupt: err instanceof RangeError ? 'it is nested too deeply' : `it is not valid JSON (${escapeControl((err as Error).message).slice(0, 200)})` };
  }
}

/** The error for a settings file that cannot be read at all (a folder, no permission): its code, else its message. */
export const cannotRead = (env: NodeJS.ProcessEnv, err: unknown) =>
  unreadable(env, `it cannot be read (${(err as NodeJS.ErrnoException).code ?? escapeControl((err as Error).message).slice(0, 200)})`);

/** A key `config set` / `unset` was given that is not a setting: a usage error listing the keys. */
export function checkConfigKey(key: string): void {
  if (!(CONFIG_KEYS as string[]).includes(key)) throw new RdpfixError('usage', `Unknown config key '${key}'.`, `Keys: ${CONFIG_KEYS.join(', ')}.`);
}

export const unreadable = (env: NodeJS.ProcessEnv, why: string) =>
  new RdpfixError('config', `The rdpfix config ${configPath(env)} is unusable: ${why}.`, `Fix the file, or delete it (settings return to their defaults) and set them again with \`rdpfix config set\`; keys: ${CONFIG_KEYS.join(', ')}.`);

/** Where the settings live; never reads them, so it works with a broken file too. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(configDir(env), 'config.json');
}

/**
 * The user's settings, validated; a broken file is a config error (exit 3) naming the file and the fix. Read without
 * conf, which only writing needs (config-store.ts), and exactly as conf reads it: the file's JSON, its own properties
 * on a fresh object.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Reading never writes: conf would create the folder of a missing file.
  if (!existsSync(configPath(env))) return {};
  let text: string;
  try {
    text = readFileSync(configPath(env), 'utf8');
  } catch (err) {
    throw cannotRead(env, err);
  }
  const read = parseConfigText(text);
  if ('corrupt' in read) throw unreadable(env, read.corrupt);
  const parsed = configSchema.safeParse(Object.assign(Object.create(null) as object, read.data));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RdpfixError('config', `Config ${configPath(env)}: ${escapeControl(issue.path.join('.')) || '(top level)'}: ${issue.message}.`, `Fix it with \`rdpfix config set\` / \`unset\`; keys: ${CONFIG_KEYS.join(', ')}.`);
  }
  return parsed.data;
}
