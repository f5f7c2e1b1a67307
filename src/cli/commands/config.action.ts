import { versioned } from '../../json-schema.js';
import { CONFIG_KEYS, configPath, loadConfig } from '../../config/config.js';
import { setConfig, unsetConfig } from '../../config/config-store.js';
import { RdpfixError } from '../../errors.js';
import { resolveSettings } from '../../config/settings.js';

// `rdpfix config …`: loaded only when a config command runs (see config.command.ts).

export function configListAction(o: { json: boolean; origin: boolean }): void {
  if (o.origin) {
    const s = resolveSettings();
    const rows = Object.entries(s).map(([k, r]) => ({ key: k, value: r.value ?? null, origin: r.origin, from: r.from }));
    if (o.json) return console.log(JSON.stringify(versioned('settings', { settings: rows }), null, 2));
    for (const r of rows) console.log(`${r.key} = ${r.value === null ? '(found automatically)' : JSON.stringify(r.value)}  (${r.origin}${r.from !== r.origin && r.from !== 'default' ? `: ${r.from}` : ''})`);
    return;
  }
  const c = loadConfig();
  if (o.json) return console.log(JSON.stringify(versioned('config', { config: c }), null, 2));
  for (const k of CONFIG_KEYS) console.log(`${k} = ${c[k] === undefined ? '(unset)' : JSON.stringify(c[k])}`);
}

export function configGetAction(key: string): void {
  const c = loadConfig() as Record<string, unknown>;
  if (!(CONFIG_KEYS as readonly string[]).includes(key)) throw new RdpfixError('usage', `Unknown config key '${key}'.`, `Keys: ${CONFIG_KEYS.join(', ')}.`);
  console.log(c[key] === undefined ? '' : typeof c[key] === 'string' ? c[key] : JSON.stringify(c[key]));
}

export const configSetAction = (key: string, value: string): void => void setConfig(key, value);
export const configUnsetAction = (key: string): void => unsetConfig(key);
export const configPathAction = (): void => console.log(configPath());
