import { Command } from 'commander';
import path from 'node:path';
import { checkLabInitOptions, inventoryPath, readLabHost, writeLabFleet, MAX_LAB_HOSTS } from '../../lab/fleet.js';
import { SCENARIOS } from '../../lab/scenarios.js';
import { summarizeLabHost } from '../../lab/summary.js';
import { labHostNow } from '../../lab/state.js';
import { loadInventory } from '../../inventory/inventory.js';
import { RdpfixError } from '../../errors.js';
import { renderTable } from '../table.js';
import { list, wholeNumber } from '../options.js';
import { advanceLab, parseDuration } from '../../lab/clock.js';
import { engineFrom, withHostOptions, type HostFlags, narrowHosts } from '../engine-options.js';
import { targetFor } from '../../inventory/inventory.js';

export function labCommand(): Command {
  const lab = new Command('lab').description('a fleet of simulated Windows hosts for demos, tests and benchmarks');

  lab
    .command('init')
    .description('write a lab fleet: one state file per host and DIR/inventory.yaml')
    .argument('<dir>', 'folder for the lab')
    .option('--hosts <n>', `number of hosts (1-${MAX_LAB_HOSTS})`, wholeNumber(1, MAX_LAB_HOSTS), 12)
    .option('--seed <s>', 'seed: the same seed writes the same fleet', wholeNumber(0, 2 ** 31), 1)
    .option('--scenarios <list>', `comma-separated; host i gets scenario i mod k (${SCENARIOS.join(', ')})`, list, [...SCENARIOS])
    .option('--combine <k>', 'add k more seeded faults to every faulty host', wholeNumber(0, 3), 0)
    .option('--force', 'replace a lab already in DIR', false)
    .option('--json', 'print the result as JSON', false)
    .action((dir: string, o: { hosts: number; seed: number; scenarios: string[]; combine: number; force: boolean; json: boolean }) => {
      const options = { hosts: o.hosts, seed: o.seed, scenarios: o.scenarios, combine: o.combine };
      checkLabInitOptions(options);
      const { inventory, hosts } = writeLabFleet(dir, { ...options, force: o.force });
      if (o.json) {
        console.log(JSON.stringify({ inventory: path.resolve(inventory), hosts: hosts.map((h) => ({ name: h.name, scenarios: h.scenarios })) }, null, 2));
        return;
      }
      console.log(`Wrote ${hosts.length} lab hosts to ${dir} (seed ${o.seed}).`);
      console.log(renderTable(['HOST', 'SCENARIOS'], hosts.map((h) => [h.name, h.scenarios.join(', ')])));
      console.log(`\nInventory: ${inventory}`);
    });

  lab
    .command('show')
    .description('print the state of lab hosts')
    .argument('<dir>', 'the lab folder')
    .argument('[host]', 'one host only')
    .option('--json', 'print the full state documents as JSON', false)
    .action((dir: string, hostName: string | undefined, o: { json: boolean }) => {
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
        console.log(JSON.stringify(hostName ? states[0] : states, null, 2));
        return;
      }
      const rows = labHosts.map(({ path: statePath, state: s }) => {
        const x = summarizeLabHost(s, labHostNow(s, statePath));
        return [x.host, x.scenarios.join(','), x.termService, x.rdpEnabled ? 'yes' : 'NO', x.nla ? 'on' : 'off', String(x.securityLayer ?? '-'),
          x.networkCategories.join(' '), x.rdpRulesEnabled, `${x.sessions.active}/${x.sessions.disconnected}`, x.rdpCertificate, String(x.events)];
      });
      console.log(renderTable(['HOST', 'SCENARIOS', 'TERMSERVICE', 'RDP', 'NLA', 'SECLAYER', 'NETWORK', 'RDP RULES', 'SESS A/D', 'RDP CERT', 'EVENTS'], rows));
    });

  withHostOptions(
    lab
      .command('advance')
      .description("let time pass on lab hosts: scheduled tasks due by then fire, and their actions run (e.g. a revert task)")
      .argument('<duration>', 'how much time passes: 90m, 2h, 1d (a plain number is minutes)')
      .requiredOption('-i, --inventory <file>', 'the lab inventory')
      .option('--reboot', 'the hosts also restart: at-startup triggers fire', false),
  ).action(async (duration: string, o: HostFlags & { inventory: string; reboot: boolean }) => {
    const durationMs = parseDuration(duration);
    const inventory = loadInventory(o.inventory);
    const hosts = narrowHosts(o, inventory.hosts, inventory.path);
    const broker = await engineFrom(o).broker(hosts.map((h) => targetFor(h)));
    try {
      const result = await advanceLab(broker, hosts, durationMs, { startup: o.reboot });
      if (o.json) return console.log(JSON.stringify({ movedMs: durationMs, hosts: result }, null, 2));
      const rows = result.flatMap((r) => r.fired.map((f) => [r.host, f.task, f.result === 0 ? 'ok' : `exit ${f.result}`, f.unregistered ? 'removed itself' : 'still registered']));
      const clocks = [...new Set(result.map((r) => r.now.slice(0, 16).replace('T', ' ')))];
      console.log(`Lab clock moved on ${duration}${o.reboot ? ' (and the hosts restarted)' : ''}; host time ${clocks.length === 1 ? clocks[0] : `${clocks[0]} … ${clocks.at(-1)}`} UTC. ${rows.length} task(s) fired.`);
      if (rows.length) console.log(renderTable(['HOST', 'TASK', 'RESULT', 'TASK NOW'], rows));
    } finally {
      await broker.close();
    }
  });

  return lab;
}
