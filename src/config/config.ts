import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import Conf from 'conf';
import { z } from 'zod';
import { RdpfixError } from '../errors.js';
import { escapeControl } from '../safe-text.js';
import { CONFIG_KEYS as KEYS } from './keys.js';

/**
 * User settings (conf: ~/.config/rdpfix/config.json, or $RDPFIX_CONFIG_DIR). Only these keys exist;
 * secrets have no place here (a password never goes in config: see docs/inventory.md).
 */
const schema = z
  .object({
    stateDir: z.string().min(1).optional(),
    playbookDirs: z.array(z.string().min(1)).optional(),
    processes: z.number().int().min(1).max(16).optional(),
    concurrency: z.number().int().min(1).max(1024).optional(),
    pwsh: z.string().min(1).optional(),
  })
  .strict();
export type Config = z.infer<typeof schema>;
export const CONFIG_KEYS = KEYS as readonly (keyof Config)[];
// keys.ts is what help text reads without loading conf; it must list exactly the schema's keys.
if (Object.keys(schema.shape).join() !== KEYS.join()) throw new Error('src/config/keys.ts is out of step with the config schema');

/** The folder conf would pick (env-paths' config dir for 'rdpfix'), computed without reading the file. */
function configDir(env: NodeJS.ProcessEnv): string {
  if (env.RDPFIX_CONFIG_DIR) return path.resolve(env.RDPFIX_CONFIG_DIR);
  const home = homedir();
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Preferences', 'rdpfix');
  if (process.platform === 'win32') return path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'rdpfix', 'Config');
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'rdpfix');
}

/**
 * The settings file. conf reads it in its constructor; a file that is not JSON is recorded here instead of
 * thrown (and never rewritten), so that every command can name the file and the fix.
 */
function store(env: NodeJS.ProcessEnv = process.env): { conf: Conf<Config>; corrupt?: string } {
  let corrupt: string | undefined;
  const deserialize = (text: string): Config => {
    try {
      return JSON.parse(text) as Config;
    } catch (err) {
      corrupt = err instanceof RangeError ? 'it is nested too deeply' : `it is not valid JSON (${escapeControl((err as Error).message).slice(0, 200)})`;
      return {};
    }
  };
  try {
    const conf = new Conf<Config>({ projectName: 'rdpfix', projectSuffix: '', cwd: configDir(env), deserialize });
    return { conf, corrupt };
  } catch (err) {
    throw unreadable(env, `it cannot be read (${(err as NodeJS.ErrnoException).code ?? escapeControl((err as Error).message).slice(0, 200)})`);
  }
}

const unreadable = (env: NodeJS.ProcessEnv, why: string) =>
  new RdpfixError('config', `The rdpfix config ${configPath(env)} is unusable: ${why}.`, `Fix the file, or delete it (settings return to their defaults) and set them again with \`rdpfix config set\`; keys: ${CONFIG_KEYS.join(', ')}.`);

/** Where the settings live; never reads them, so it works with a broken file too. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(configDir(env), 'config.json');
}

/** The user's settings, validated; a broken file is a config error (exit 3) naming the file and the fix. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Reading never writes: conf would create the folder of a missing file.
  if (!existsSync(configPath(env))) return {};
  const { conf, corrupt } = store(env);
  if (corrupt) throw unreadable(env, corrupt);
  const parsed = schema.safeParse(conf.store);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RdpfixError('config', `Config ${configPath(env)}: ${escapeControl(issue.path.join('.')) || '(top level)'}: ${issue.message}.`, `Fix it with \`rdpfix config set\` / \`unset\`; keys: ${CONFIG_KEYS.join(', ')}.`);
  }
  return parsed.data;
}

/** Sets one key from its command-line text (numbers and lists parsed), validated before it is written. */
export function setConfig(key: string, text: string, env: NodeJS.ProcessEnv = process.env): Config {
  if (!(CONFIG_KEYS as string[]).includes(key)) throw new RdpfixError('usage', `Unknown config key '${key}'.`, `Keys: ${CONFIG_KEYS.join(', ')}.`);
  const current = loadConfig(env);
  const value = key === 'playbookDirs' ? text.split(',').map((s) => s.trim()).filter(Boolean) : key === 'processes' || key === 'concurrency' ? Number(text) : text;
  const next = schema.safeParse({ ...current, [key]: value });
  if (!next.success) throw new RdpfixError('usage', `Config ${key}: ${next.error.issues[0]!.message} (got '${text}').`);
  store(env).conf.set(key as keyof Config, value as never);
  return next.data;
}

export function unsetConfig(key: string, env: NodeJS.ProcessEnv = process.env): void {
  if (!(CONFIG_KEYS as string[]).includes(key)) throw new RdpfixError('usage', `Unknown config key '${key}'.`, `Keys: ${CONFIG_KEYS.join(', ')}.`);
  const { conf, corrupt } = store(env);
  if (corrupt) throw unreadable(env, corrupt); // reported, never silently rewritten
  conf.delete(key as keyof Config);
}
