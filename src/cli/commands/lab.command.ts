import { Command } from 'commander';
import { MAX_LAB_HOSTS } from '../../lab/limits.js';
import { SCENARIOS } from '../../lab/scenarios.js';
import { list, wholeNumber } from '../options.js';
import { withHostOptions } from '../host-options.js';
import type { LabAdvanceFlags, LabInitFlags } from './lab.action.js';

const action = () => import('./lab.action.js');

export function labCommand(): Command {
  const lab = new Command('lab').description('a fleet of simulated Windows hosts for demos, tests and benchmarks');

  lab
    .command('init')
    .description('write a lab fleet: one state file per host and DIR/inventory.yaml')
    .argument('<dir>', 'folder for the lab')
    .option('--hosts <n>', `number of hosts (1-${MAX_LAB_HOSTS})`, wholeNumber(1, MAX_LAB_HOSTS), 12)
    .option('--seed <s>', 'seed: the same seed writes the same fleet', wholeNumber(0, 2 ** 31), 1)
    .option('--scenarios <list>', `comma-separated; host i gets scenario i mod k (${SCENARIOS.join(', ')})`, list, [...SCENARIOS])
    .option('--combine <k>', 'add k more seeded faults to every faulty host', wholeNumber(0, 3), 0)
    .option('--locales <list>', 'display languages, comma-separated; host i speaks locale i mod k (en-US, de-DE, fr-FR, es-ES, ru-RU, ja-JP)', list)
    .option('--force', 'replace a lab already in DIR', false)
    .option('--json', 'print the result as JSON', false)
    .action(async (dir: string, o: LabInitFlags) => (await action()).labInitAction(dir, o));

  lab
    .command('show')
    .description('print the state of lab hosts')
    .argument('<dir>', 'the lab folder')
    .argument('[host]', 'one host only')
    .option('--json', 'print the full state documents as JSON', false)
    .action(async (dir: string, hostName: string | undefined, o: { json: boolean }) => (await action()).labShowAction(dir, hostName, o));

  withHostOptions(
    lab
      .command('advance')
      .description("let time pass on lab hosts: scheduled tasks due by then fire, and their actions run (e.g. a revert task)")
      .argument('<duration>', 'how much time passes: 90m, 2h, 1d (a plain number is minutes)')
      .requiredOption('-i, --inventory <file>', 'the lab inventory')
      .option('--reboot', 'the hosts also restart: at-startup triggers fire', false),
  ).action(async (duration: string, o: LabAdvanceFlags) => (await action()).labAdvanceAction(duration, o));

  return lab;
}
