import { Command } from 'commander';

export function inventoryCommand(): Command {
  const inv = new Command('inventory').description('the inventory as rdpfix understands it');
  inv.command('show')
    .description('what rdpfix read from an inventory (rdpfix YAML/JSON, a host list, CSV, Ansible INI or YAML; - reads standard input): hosts, transports, groups, and what it did not use')
    .requiredOption('-i, --inventory <file>', 'inventory file, or - for standard input')
    .option('--json', 'print JSON', false)
    .action(async (o: { inventory: string; json: boolean }) => (await import('./inventory.action.js')).inventoryShowAction(o));
  return inv;
}
