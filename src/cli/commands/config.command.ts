import { Command } from 'commander';
import { CONFIG_KEYS } from '../../config/keys.js';

const action = () => import('./config.action.js');

export function configCommand(): Command {
  const config = new Command('config').description(`user settings (${CONFIG_KEYS.join(', ')}); flags and environment variables win over them`);
  config.command('list').description('every setting').option('--json', 'print JSON', false)
    .option('--origin', 'the value each command uses, and where it comes from (flag, environment, config file, default)', false)
    .action(async (o: { json: boolean; origin: boolean }) => (await action()).configListAction(o));
  config.command('get').argument('<key>').action(async (key: string) => (await action()).configGetAction(key));
  config.command('set').argument('<key>').argument('<value>', 'playbookDirs: comma-separated folders').action(async (key: string, value: string) => (await action()).configSetAction(key, value));
  config.command('unset').argument('<key>').action(async (key: string) => (await action()).configUnsetAction(key));
  config.command('path').description('where the settings live').action(async () => (await action()).configPathAction());
  return config;
}
