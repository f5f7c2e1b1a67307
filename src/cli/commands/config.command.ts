import { Command } from 'commander';
import { CONFIG_KEYS, configPath, loadConfig, setConfig, unsetConfig } from '../../config/config.js';
import { RdpfixError } from '../../errors.js';

export function configCommand(): Command {
  const config = new Command('config').description(`user settings (${CONFIG_KEYS.join(', ')}); flags and environment variables win over them`);
  config.command('list').description('every setting').option('--json', 'print JSON', false).action((o: { json: boolean }) => {
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
