import { Command } from 'commander';
import { withHostOptions, withProgressOptions } from '../host-options.js';
import { withFleetReadOptions, type FleetReadFlags } from '../options.js';

export function diagnoseCommand(): Command {
  return withFleetReadOptions(new Command('diagnose')
    .description('name the causes of RDP failure on each host, with evidence and the playbook that fixes each (read-only)')
  , (c) => withProgressOptions(withHostOptions(c))).action(async (o: FleetReadFlags) => (await import('./diagnose.action.js')).diagnoseAction(o));
}
