import { Command } from 'commander';
import type { RunsFlags } from './runs.action.js';

const action = () => import('./runs.action.js');

export function runsCommand(now: () => Date = () => new Date()): Command {
  const runs = new Command('runs').description('past runs, from their journals');
  runs
    .command('list')
    .description('every run in the state directory (a damaged journal is listed as damaged)')
    .option('--state-dir <dir>', 'where run journals live (default: $RDPFIX_STATE_DIR, config stateDir, or ~/.local/state/rdpfix)')
    .option('--json', 'print JSON', false)
    .action(async (flags: RunsFlags) => (await action()).runsListAction(flags, now));
  runs
    .command('show')
    .description('one run: hosts, playbooks and steps as the journal records them')
    .argument('<run>', 'run id')
    .option('--state-dir <dir>', 'where run journals live (default: $RDPFIX_STATE_DIR, config stateDir, or ~/.local/state/rdpfix)')
    .option('--json', 'print JSON (every record)', false)
    .option('--report <file>', 'also write a report: .html, .md, .json or .xml (JUnit), by extension (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action(async (runId: string, flags: RunsFlags & { report: string[] }) => (await action()).runsShowAction(runId, flags, now));
  return runs;
}
