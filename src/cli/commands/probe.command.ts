import { Command } from 'commander';
import { withHostOptions } from '../host-options.js';
import { withFleetReadOptions, type FleetReadFlags } from '../options.js';

export function probeCommand(): Command {
  return withFleetReadOptions(new Command('probe')
    .description('read-only RDP health probe of every host in an inventory (changes nothing)')
  , withHostOptions).action(async (o: FleetReadFlags) => (await import('./probe.action.js')).probeAction(o));
}
