import { Command } from 'commander';
import { CONFIG_KEYS, configPath, loadConfig, setConfig, unsetConfig } from '../../config/config.js';
import { RdpfixError } from '../../errors.js';
import { resolveSettings } from '../../config/settings.js';

export function configCommand(): Command {
  const config = new Command('config').description(`user settings (${CONFIG_KEYS.join(', ')}); flags and environment variables win over them`);
  config.command('list').description('every setting').option('--json', 'print JSON', false)
    .option('--origin', 'the value each command uses, and where it comes from (flag, environment, config file, default)', false)
    .action((o: { json: boolean; origin: boolean }) => {
    if (o.origin) {
      const s = resolveSettings();
      const rows = Object.entries(s).map(([k, r]) => ({ key: k, value: r.value ?? null, origin: r.origin, from: r.from }));
      if (o.json) return console.log(JSON.stringify(rows, null, 2));
      for (const r of rows) console.log(`${r.key} = ${r.value === null ? '(found automatically)' : JSON.stringify(r.value)}  (${r.origin}${r.from !== r.origin && r.from !== 'default' ? `: ${r.from}` : ''})`);
      return;
    }
    const c = loadConfig();
    if (o.json) return console.log(JSON.stringify(c, null, 2));
    for (const k of CONFIG_KEYS) console.log(`${k} = ${c[k] === undefined ? '(unset)' : JSON.stringify(c[k])}`);
  });
  config.command('get').argument('<key>').action((key: string) => {
    const c = loadConfig() as Record<string, unknown>;
    if (!(CONFIG_KEYS as string[]).includes(key)) throw new RdpfixError('usage', `Unknown config key '${key}'.`, `Keys: ${CONFIG_KEYS.join(', ')}.`);
    console.log(c[key] === undefined ? '' : typeof c[key] === 'string' ? c[key] : JSON.stringify(c[key]));
  });
  config.command('set').argument('<key>').argument('<value>', 'playbookDirs: comma-separated folders').action((key: string, value: string) => void setConfig(key, value));
  config.command('unset').argument('<key>').action((key: string) => unsetConfig(key));
  config.command('path').description('where the settings live').action(() => console.log(configPath()));
  return config;
}
