import Conf from 'conf';
import { z } from 'zod';
import { RdpfixError } from '../errors.js';

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
export const CONFIG_KEYS = Object.keys(schema.shape) as (keyof Config)[];

function store(env: NodeJS.ProcessEnv = process.env): Conf<Config> {
  return new Conf<Config>({ projectName: 'rdpfix', projectSuffix: '', ...(env.RDPFIX_CONFIG_DIR ? { cwd: env.RDPFIX_CONFIG_DIR } : {}) });
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return store(env).path;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let raw: unknown;
  try {
    raw = store(env).store;
  } catch (err) {
    throw new RdpfixError('config', `Cannot read the rdpfix config: ${(err as Error).message}`, `Fix or delete ${configPath(env)}.`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RdpfixError('config', `Config ${configPath(env)}: ${issue.path.join('.') || '(top level)'}: ${issue.message}.`, `Fix it with \`rdpfix config set\` / \`unset\`; keys: ${CONFIG_KEYS.join(', ')}.`);
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
  store(env).set(key as keyof Config, value as never);
  return next.data;
}

export function unsetConfig(key: string, env: NodeJS.ProcessEnv = process.env): void {
  if (!(CONFIG_KEYS as string[]).includes(key)) throw new RdpfixError('usage', `Unknown config key '${key}'.`, `Keys: ${CONFIG_KEYS.join(', ')}.`);
  store(env).delete(key as keyof Config);
}
