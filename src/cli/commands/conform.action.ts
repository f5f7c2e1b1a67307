import { openFleet } from '../engine-options.js';
import { conformFleet } from '../../conform/conform.js';
import { versioned } from '../../json-schema.js';
import { renderTable } from '../table.js';
import type { FleetReadFlags } from '../options.js';
import { EXIT } from '../exit.js';

const cell = (v: unknown) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 48 ? `${s.slice(0, 45)}...` : s;
};

/** `rdpfix conform`: loaded only when the command runs (see conform.command.ts). */
export async function conformAction(o: FleetReadFlags): Promise<void> {
  const { inventory, broker } = await openFleet(o);
  try {
    const { model, hosts: result } = await conformFleet(inventory, broker, { timeoutMs: o.timeout });
    if (o.json) {
      console.log(JSON.stringify(versioned('conform', { inventory: inventory.path, model, hosts: result }), null, 2));
    } else {
      const rows = result.flatMap((h) => (h.error
        ? [[h.host, 'not read', '', `${h.error.category}: ${h.error.message}`, '']]
        : h.differences.length
          ? h.differences.map((d) => [h.host, `${d.aspect}: ${d.item}`, cell(d.host), cell(d.lab), d.note])
          : [[h.host, 'conforms', '', '', `compared with the lab's ${h.comparedWith?.locale} host of build ${h.comparedWith?.build}`]]));
      console.log(renderTable(['HOST', 'WHAT', 'HOST SAYS', 'LAB SAYS', 'WHY IT MATTERS'], rows));
      const differing = result.filter((h) => h.differences.length).length;
      console.log(`\n${result.length} hosts: ${differing} differ from the lab, ${result.filter((h) => h.error).length} could not be read. Send the --json output with an issue (docs/conform.md).`);
    }
    if (result.some((h) => h.error || h.differences.length)) process.exitCode = EXIT.hostsFailed;
  } finally {
    await broker.close();
  }
}
