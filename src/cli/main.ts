import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { labCommand } from './commands/lab.command.js';
import { probeCommand } from './commands/probe.command.js';
import { applyCommand, planCommand } from './commands/run.command.js';
import { rollbackCommand, resumeCommand } from './commands/past-run.command.js';
import { runsCommand } from './commands/runs.command.js';
import { playbooksCommand } from './commands/playbooks.command.js';
import { configCommand } from './commands/config.command.js';
import { diagnoseCommand } from './commands/diagnose.command.js';
import { inventoryCommand } from './commands/inventory.command.js';
import { conformCommand } from './commands/conform.command.js';
import { describeError, exitCodeFor, EXIT } from './exit.js';

export function buildProgram(): Command {
  const program = new Command('rdpfix')
    .description('Diagnose and repair Remote Desktop failures (0x904 / extended 0x7) across Windows fleets, with reversible playbooks.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.addCommand(labCommand());
  program.addCommand(probeCommand());
  program.addCommand(diagnoseCommand());
  program.addCommand(planCommand());
  program.addCommand(applyCommand());
  program.addCommand(rollbackCommand());
  program.addCommand(resumeCommand());
  program.addCommand(runsCommand());
  program.addCommand(playbooksCommand());
  program.addCommand(configCommand());
  program.addCommand(inventoryCommand());
  program.addCommand(conformCommand());
  for (const c of program.commands) c.exitOverride();
  for (const c of program.commands.flatMap((c) => c.commands)) c.exitOverride();
  return program;
}

/** The only place rdpfix decides its exit code. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; commander has already printed the usage error.
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    console.error(describeError(err));
    process.exitCode = exitCodeFor(err);
  }
}
