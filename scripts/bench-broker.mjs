#!/usr/bin/env node
// Broker benchmark: per-call round trip, calls/s across 50 concurrent lab hosts, memory per PowerShell
// process, and a fleet-sized engine run. Needs `npm run build` (npm run bench does it).
//
//   node scripts/bench-broker.mjs [--hosts 50] [--calls 10] [--fleet 200] [--json]
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Broker } from '../dist/src/broker/broker.js';
import { writeLabFleet } from '../dist/src/lab/fleet.js';
import { loadInventory } from '../dist/src/inventory/inventory.js';
import { loadCatalogue } from '../dist/src/playbooks/manifest.js';
import { startRun } from '../dist/src/engine/run.js';
import { projectRoot } from '../dist/src/paths.js';

const { values: args } = parseArgs({ options: { hosts: { type: 'string', default: '50' }, calls: { type: 'string', default: '10' }, fleet: { type: 'string', default: '200' }, json: { type: 'boolean', default: false } } });
const hostCount = Number(args.hosts);
const callsPerHost = Number(args.calls);
const out = {};
const say = (...a) => { if (!args.json) console.log(...a); };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];
const rssMiB = (pid) => {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
    return Math.round(kb / 1024);
  } catch {
    return null;
  }
};
function ok(e) {
  if (!e.ok) throw new Error(`${e.error.category}: ${e.error.message}`);
  return e.data;
}

const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-bench-')), 'lab');
writeLabFleet(dir, { hosts: Math.max(hostCount, Number(args.fleet)), seed: 1, scenarios: ['healthy'], combine: 0, force: false });
const inventory = loadInventory(path.join(dir, 'inventory.yaml'));
const labTarget = (h) => ({ kind: 'lab', host: h.name, statePath: h.transport.state });

// 1. Round trip of one call at a time.
{
  const broker = new Broker({ processes: 1 });
  let t = Date.now();
  await broker.start();
  out.processStartMs = Date.now() - t;
  const local = { kind: 'local', host: 'controller' };
  ok(await broker.invoke(local, '1'));
  const localTimes = [];
  for (let i = 0; i < 200; i++) {
    t = performance.now();
    ok(await broker.invoke(local, 'param($x) $x', [i]));
    localTimes.push(performance.now() - t);
  }
  const lab = labTarget(inventory.hosts[0]);
  t = Date.now();
  ok(await broker.invoke(lab, '1'));
  out.firstLabCallMs = Date.now() - t;
  const labTimes = [];
  for (let i = 0; i < 100; i++) {
    t = performance.now();
    ok(await broker.invoke(lab, "(Get-Service -Name TermService).Status.ToString()"));
    labTimes.push(performance.now() - t);
  }
  out.roundTrip = {
    local: { medianMs: +median(localTimes).toFixed(2), p95Ms: +p95(localTimes).toFixed(2) },
    labGetService: { medianMs: +median(labTimes).toFixed(2), p95Ms: +p95(labTimes).toFixed(2) },
  };
  out.rssIdleMiB = rssMiB(broker.pids[0]);
  await broker.close();
  say(`process start ${out.processStartMs} ms; first lab call ${out.firstLabCallMs} ms`);
  say(`round trip, one call at a time: local ${out.roundTrip.local.medianMs} ms median (p95 ${out.roundTrip.local.p95Ms}); lab Get-Service ${out.roundTrip.labGetService.medianMs} ms median (p95 ${out.roundTrip.labGetService.p95Ms})`);
}

// 2. Throughput: hostCount lab hosts at once, callsPerHost calls each (calls to one host are sequential).
for (const processes of [1, 2]) {
  const broker = new Broker({ processes });
  await broker.start();
  const hosts = inventory.hosts.slice(0, hostCount).map(labTarget);
  await Promise.all(hosts.map((h) => broker.invoke(h, '1'))); // warm the pools
  const script = "$s = Get-Service -Name TermService; $v = Get-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server' -Name fDenyTSConnections; '{0} {1}' -f $s.Status, $v.fDenyTSConnections";
  const t = Date.now();
  await Promise.all(hosts.map(async (h) => {
    for (let i = 0; i < callsPerHost; i++) ok(await broker.invoke(h, script));
  }));
  const ms = Date.now() - t;
  const calls = hosts.length * callsPerHost;
  out[`throughput${processes}p`] = { hosts: hosts.length, calls, ms, callsPerSecond: +(calls / (ms / 1000)).toFixed(1), rssMiB: broker.pids.map(rssMiB) };
  say(`${hosts.length} concurrent lab hosts, ${processes} process(es): ${calls} calls in ${ms} ms = ${out[`throughput${processes}p`].callsPerSecond} calls/s; RSS per process ${out[`throughput${processes}p`].rssMiB.join(', ')} MiB`);
  await broker.close();
}

// 3. The engine on a fleet: plan then apply of the 3-step test playbook.
{
  const fleet = { ...inventory, hosts: inventory.hosts.slice(0, Number(args.fleet)) };
  const catalogue = loadCatalogue([path.join(projectRoot(), 'test', 'fixtures', 'playbooks')]);
  const broker = new Broker({ processes: 2 });
  const stateDir = mkdtempSync(path.join(tmpdir(), 'rdpfix-bench-state-'));
  const base = { inventory: fleet, catalogue, playbookIds: ['registry-values'], parameters: {}, concurrency: 32, allowIrreversible: false, stateDir, broker };
  let t = Date.now();
  const plan = await startRun({ ...base, mode: 'plan' });
  const planMs = Date.now() - t;
  t = Date.now();
  const apply = await startRun({ ...base, mode: 'apply' });
  const applyMs = Date.now() - t;
  const succeeded = apply.hosts.filter((h) => h.outcome === 'succeeded').length;
  out.engine = { hosts: fleet.hosts.length, planMs, applyMs, succeeded, planned: plan.hosts.length, remoteCallsPerHostApply: 3 * 6 };
  say(`engine on ${fleet.hosts.length} lab hosts (concurrency 32, 2 processes): plan ${planMs} ms, apply ${applyMs} ms (${succeeded} succeeded; 18 remote calls per host)`);
  await broker.close();
}

if (args.json) console.log(JSON.stringify(out, null, 2));
