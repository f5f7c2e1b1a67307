import { Command, Option } from 'commander';
import { withHostOptions, withProgressOptions } from '../host-options.js';
import type { PastFlags } from './past-run.action.js';

const runPast = async (kind: 'rollback' | 'resume', runId: string, flags: PastFlags) => (await import('./past-run.action.js')).runPast(kind, runId, flags);

export function rollbackCommand(): Command {
  const cmd = new Command('rollback')
    .description('undo the applied steps of a past run, newest first; a step whose state drifted since is refused unless --force')
    .argument('<run>', 'run id (rdpfix runs list)')
    .addOption(new Option('--host <name...>', 'only these hosts (same as --hosts)').hideHelp())
    .option('--force', 'undo even where the host changed since the run', false)
    .option('-y, --yes', 'do not ask on a terminal before undoing', false);
  withHostOptions(cmd, { waitLock: true });
  withProgressOptions(cmd, { events: true });
  withReport(cmd);
  return cmd.action((runId: string, flags: PastFlags) => runPast('rollback', runId, flags));
}

export function resumeCommand(): Command {
  const cmd = new Command('resume')
    .description('finish a run whose controller died: reconcile in-doubt steps (never re-applied blindly), then continue')
    .argument('<run>', 'run id (rdpfix runs list)')
    .option('--rollback', 'roll the run back instead of finishing it', false)
    .option('--force', 'with --rollback: undo even where the host changed since the run', false);
  withHostOptions(cmd, { waitLock: true });
  withProgressOptions(cmd, { events: true });
  withReport(cmd);
  return cmd.action((runId: string, flags: PastFlags) => runPast('resume', runId, flags));
}

const withReport = (cmd: Command) => cmd.option('--report <file>', 'write a report when done: .html, .md, .json or .xml (JUnit), by extension (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[]);
