import { versioned } from '../../json-schema.js';
import path from 'node:path';
import { checkLabInitOptions, inventoryPath, readLabHost, writeLabFleet } from '../../lab/fleet.js';
import { summarizeLabHost } from '../../lab/summary.js';
import { labHostNow } from '../../lab/state.js';
import { loadInventory } from '../../inventory/inventory.js';
import { RdpfixError } from '../../errors.js';
import { renderTable } from '../table.js';
import { advanceLab, parseDuration } from '../../lab/clock.js';
import { engineFrom, type HostFlags, narrowHosts } from '../engine-options.js';
import { targetFor } from '../../inventory/inventory.js';

// `rdpfix lab …`: loaded only when a lab command runs (see lab.command.ts).

export interface LabInitFlags { hosts: number; seed: number; scenarios: string[]; combine: number; locales?: string[]; force: boolean; json: boolean }
export type LabAdvanceFlags = HostFlags & { inventory: string; reboot: boolean };

export function labInitAction(dir: string, o: LabInitFlags): void {
  const options = { hosts: o.hosts, seed: o.seed, scenarios: o.scenarios, combine: o.combine, ...(o.locales ? { locales: o.locales } : {}) };
  checkLabInitOptions(options);
  const { inventory, hosts } = writeLabFleet(dir, { ...options, force: o.force });
  if (o.json) {
    console.log(JSON.stringify(versioned('lab-init', { inventory: path.resolve(inventory), hosts: hosts.map((h) => ({ name: h.name, scenarios: h.scenarios, locale: h.locale })) }), null, 2));
    return;
  }
  console.log(`Wrote ${hosts.length} lab hosts to ${dir} (seed ${o.seed}).`);
  console.log(renderTable(['HOST', 'SCENARIOS'], hosts.map((h) => [h.name, h.scenarios.join(', ')])));
  console.log(`\nInventory: ${inventory}`);
}

export function labShowAction(dir: string, hostName: string | undefined, o: { json: boolean }): void {
  const inventory = loadInventory(inventoryPath(dir));
  let hosts = inventory.hosts;
  if (hostName) {
    hosts = hosts.filter((h) => h.name.toLowerCase() === hostName.toLowerCase());
    if (!hosts.length) throw new RdpfixError('usage', `No host '${hostName}' in ${inventory.path}.`, `Hosts: ${inventory.hosts.slice(0, 10).map((h) => h.name).join(', ')}${inventory.hosts.length > 10 ? ', …' : ''}`);
  }
  const labHosts = hosts.map((h) => {
    if (h.transport.kind !== 'lab') throw new RdpfixError('input', `Host ${h.name} in ${inventory.path} is not a lab host.`);
    return { path: h.transport.state, state: readLabHost(h.transport.state) };
  });
  const states = labHosts.map((h) => h.state);
  if (o.json) {
    console.log(JSON.stringify(hostName ? versioned('lab-host', { host: states[0] }) : versioned('lab-hosts', { hosts: states }), null, 2));
    return;
  }
  const rows = labHosts.map(({ path: statePath, state: s }) => {
    const x = summarizeLabHost(s, labHostNow(s, statePath));
    return [x.host, x.scenarios.join(','), x.termService, x.rdpEnabled ? 'yes' : 'NO', x.nla ? 'on' : 'off', String(x.securityLayer ?? '-'),
      x.networkCategories.join(' '), x.rdpRulesEnabled, `${x.sessions.active}/${x.sessions.disconnected}`, x.rdpCertificate, String(x.events)];
  });
  console.log(renderTable(['HOST', 'SCENARIOS', 'TERMSERVICE', 'RDP', 'NLA', 'SECLAYER', 'NETWORK', 'RDP RULES', 'SESS A/D', 'RDP CERT', 'EVENTS'], rows));
}

export async function labAdvanceAction(duration: string, o: LabAdvanceFlags): Promise<void> {
  const durationMs = parseDuration(duration);
  const inventory = loadInventory(o.inventory);
  const hosts = narrowHosts(o, inventory.hosts, inventory.path);
  const broker = await engineFrom(o).broker(hosts.map((h) => targetFor(h)));
  try {
    const result = await advanceLab(broker, hosts, durationMs, { startup: o.reboot });
    if (o.json) return console.log(JSON.stringify(versioned('lab-advance', { movedMs: durationMs, hosts: result }), null, 2));
    const rows = result.flatMap((r) => r.fired.map((f) => [r.host, f.task, f.result === 0 ? 'ok' : `exit ${f.result}`, f.unregistered ? 'removed itself' : 'still registered']));
    const clocks = [...new Set(result.map((r) => r.now.slice(0, 16).replace('T', ' ')))];
    console.log(`Lab clock moved on ${duration}${o.reboot ? ' (and the hosts restarted)' : ''}; host time ${clocks.length === 1 ? clocks[0] : `${clocks[0]} … ${clocks.at(-1)}`} UTC. ${rows.length} task(s) fired.`);
    if (rows.length) console.log(renderTable(['HOST', 'TASK', 'RESULT', 'TASK NOW'], rows));
  } finally {
    await broker.close();
  }
}
