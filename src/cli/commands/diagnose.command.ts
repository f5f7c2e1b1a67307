import { Command } from 'commander';
import { Broker } from '../../broker/broker.js';
import { loadInventory } from '../../inventory/inventory.js';
import { diagnoseFleet } from '../../diagnose/diagnose.js';
import { renderTable } from '../table.js';
import { withFleetReadOptions, type FleetReadFlags } from '../options.js';
import { EXIT } from '../exit.js';

export function diagnoseCommand(): Command {
  return withFleetReadOptions(new Command('diagnose')
    .description('name the causes of RDP failure on each host, with evidence and the playbook that fixes each (read-only)')
  ).action(async (o: FleetReadFlags) => {
      const inventory = loadInventory(o.inventory);
      const broker = new Broker({ processes: o.processes });
      try {
        const result = await diagnoseFleet(inventory, broker, { timeoutMs: o.timeout });
        if (o.json) console.log(JSON.stringify({ inventory: inventory.path, hosts: result }, null, 2));
        else {
          const rows = result.flatMap((h) =>
            h.healthy
              ? [[h.host, 'healthy', '', '', '']]
              : h.findings.map((f) => [h.host, f.cause, f.confidence, `${f.playbook ?? '-'}${f.blockedByPolicy ? ' (blocked by policy)' : ''}`, f.evidence.join('; ').slice(0, 140)]),
          );
          console.log(renderTable(['HOST', 'CAUSE', 'CONFIDENCE', 'PLAYBOOK', 'EVIDENCE'], rows));
          const sick = result.filter((h) => !h.healthy).length;
          console.log(`\n${result.length} hosts: ${result.length - sick} healthy, ${sick} with findings.`);
        }
        if (result.some((h) => !h.healthy)) process.exitCode = EXIT.hostsFailed;
      } finally {
        await broker.close();
      }
    });
}
