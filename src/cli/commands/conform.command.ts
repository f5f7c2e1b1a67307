import { Command } from 'commander';
import { withHostOptions } from '../host-options.js';
import { withFleetReadOptions, type FleetReadFlags } from '../options.js';

export function conformCommand(): Command {
  return withFleetReadOptions(new Command('conform')
    .description('compare real hosts with the lab\'s model of their build and language (read-only; see docs/conform.md)')
  , withHostOptions).action(async (o: FleetReadFlags) => (await import('./conform.action.js')).conformAction(o));
}
