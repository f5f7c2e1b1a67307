import { Command } from 'commander';
import { rollbackRun, resumeRun, type RunResult } from '../../engine/run.js';
import { engineFrom, list, withEngineOptions, type EngineFlags } from '../engine-options.js';
import { renderOutcomes, resultJson } from '../render.js';
import { EXIT } from '../exit.js';
import { progressPrinter } from '../progress.js';

interface PastFlags extends EngineFlags {
  hosts?: string[];
  host?: string[];
  force: boolean;
  rollback?: boolean;
}

async function runPast(kind: 'rollback' | 'resume', runId: string, flags: PastFlags): Promise<void> {
  const engine = engineFrom(flags);
  const broker = engine.broker();
  try {
    const options = {
      stateDir: engine.stateDir, runId, catalogue: engine.catalogue(), broker, force: flags.force,
      hostFilter: flags.host ?? flags.hosts, onRecord: flags.json ? undefined : progressPrinter(),
    };
    const result: RunResult = kind === 'rollback' ? await rollbackRun(options) : await resumeRun({ ...options, rollback: !!flags.rollback });
    if (flags.json) console.log(JSON.stringify(resultJson(result), null, 2));
    else console.log(renderOutcomes(result));
    const good = result.mode === 'rollback' ? 'rolledBack' : 'succeeded';
    if (result.hosts.some((h) => h.outcome !== good)) process.exitCode = EXIT.hostsFailed;
  } finally {
    await broker.close();
  }
}

export function rollbackCommand(): Command {
  const cmd = new Command('rollback')
    .description('undo the applied steps of a past run, newest first; a step whose state drifted since is refused unless --force')
    .argument('<run>', 'run id (rdpfix runs list)')
    .option('--host <name...>', 'only these hosts')
    .option('--force', 'undo even where the host changed since the run', false);
  withEngineOptions(cmd);
  return cmd.action((runId: string, flags: PastFlags) => runPast('rollback', runId, flags));
}

export function resumeCommand(): Command {
  const cmd = new Command('resume')
    .description('finish a run whose controller died: reconcile in-doubt steps (never re-applied blindly), then continue')
    .argument('<run>', 'run id (rdpfix runs list)')
    .option('--rollback', 'roll the run back instead of finishing it', false)
    .option('--hosts <list>', 'only these hosts', list)
    .option('--force', 'with --rollback: undo even where the host changed since the run', false);
  withEngineOptions(cmd);
  return cmd.action((runId: string, flags: PastFlags) => runPast('resume', runId, flags));
}
