import Conf from 'conf';
import { RdpfixError } from '../errors.js';
import { cannotRead, checkConfigKey, configDir, configSchema, loadConfig, parseConfigText, unreadable, type Config } from './config.js';

/**
 * Writing the settings file, through conf (atomic writes, the file's folder and mode). Reading needs none of it
 * (config.ts), so only `rdpfix config set` / `unset` load conf and its JSON-schema validator (ajv): about 50 ms and
 * a 17 MB transient at start that every other command no longer pays.
 */

/**
 * The settings file. conf reads it in its constructor; a file that is not JSON is recorded here instead of
 * thrown (and never rewritten), so that every command can name the file and the fix.
 */
function store(env: NodeJS.ProcessEnv): { conf: Conf<Config>; corrupt?: string } {
  let corrupt: string | undefined;
  const deserialize = (text: string): Config => {
    const read = parseConfigText(text);
    if ('corrupt' in read) {
      corrupt = read.corrupt;
      return {};
    }
    return read.data as Config;
  };
  try {
    const conf = new Conf<Config>({ projectName: 'rdpfix', projectSuffix: '', cwd: configDir(env), deserialize });
    return { conf, corrupt };
  } catch (err) {
    throw cannotRead(env, err);
  }
}

/** Sets one key from its command-line text (numbers and lists parsed), validated before it is written. */
export function setConfig(key: string, text: string, env: NodeJS.ProcessEnv = process.env): Config {
  checkConfigKey(key);
  const current = loadConfig(env);
  const value = key === 'playbookDirs' ? text.split(',').map((s) => s.trim()).filter(Boolean) : key === 'processes' || key === 'concurrency' ? Number(text) : text;
  const next = configSchema.safeParse({ ...current, [key]: value });
  if (!next.success) throw new RdpfixError('usage', `Config ${key}: ${next.error.issues[0]!.message} (got '${text}').`);
  store(env).conf.set(key as keyof Config, value as never);
  return next.data;
}

export function unsetConfig(key: string, env: NodeJS.ProcessEnv = process.env): void {
  checkConfigKey(key);
  const { conf, corrupt } = store(env);
  if (corrupt) throw unreadable(env, corrupt); // reported, never silently rewritten
  conf.delete(key as keyof Config);
}
