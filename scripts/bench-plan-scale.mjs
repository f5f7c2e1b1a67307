#!/usr/bin/env node
// `rdpfix plan` at fleet scale: a lab of N hosts per size (default 1000 and 5000), a mix of hosts that need a fix
// and hosts that do not, planned with two playbooks. Prints wall time, CPU time and peak RSS of the process tree
// (node and its PowerShell children; scripts/bench-measure.mjs), and the peak RSS ratio of the largest size to the
// smallest. Each run must plan every host as its scenario says (the summary's hosts and recap, and the JSON report),
// or the bench fails. Needs `npm run build` (npm run bench:plan does it).
//
//   node scripts/bench-plan-scale.mjs [--sizes 1000,5000] [--rounds 1] [--concurrency N] [--processes N] [--json]
//
// Targets (the scale issue): 1000 hosts within 30 s; the largest size's peak RSS within 10 % of the smallest's.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeLabFleet } from '../dist/src/lab/fleet.js';
import { projectRoot } from '../dist/src/paths.js';
import { measure, median, rdpfixCommand } from './bench-measure.mjs';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,5000' },
    rounds: { type: 'string', default: '1' },
    concurrency: { type: 'string' },
    processes: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const sizes = args.sizes.split(',').map(Number);
const rounds = Number(args.rounds);
if (!sizes.length || sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(rounds) || rounds < 1) throw new Error('--sizes takes whole numbers ≥ 1, --rounds a whole number ≥ 1');
const say = (...a) => { if (!args.json) console.log(...a); };
const root = projectRoot();

const PLAYBOOKS = ['enable-remote-desktop', 'rdp-firewall-rules'];
// Host i gets SCENARIOS[i mod 4]: half need one of the two playbooks, half are compliant already.
const SCENARIOS = ['rdp-disabled', 'healthy', 'firewall-blocked', 'healthy'];
/** The playbook each scenario's host would change with (null: nothing to change). */
const NEEDS = { 'rdp-disabled': 'enable-remote-desktop', 'firewall-blocked': 'rdp-firewall-rules', healthy: null };

/** The summary is the last line of stdout's NDJSON (the log also has stderr, which plan --json leaves empty on success). */
async function lastSummary(logFile) {
  let summary = null;
  let events = 0;
  const lines = createInterface({ input: createReadStream(logFile, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.startsWith('{')) continue;
    const doc = JSON.parse(line);
    if (doc.schema === 'rdpfix.run-summary/1') summary = doc;
    else if (doc.schema === 'rdpfix.event/1') events++;
  }
  return { summary, events };
}

/** Every host planned, and planned right: a host whose scenario needs a playbook would change with exactly it. */
function checkPlan(n, summary, report) {
  const problems = [];
  if (!summary) return ['no rdpfix.run-summary/1 line'];
  if (summary.mode !== 'plan' || summary.status !== 'finished') problems.push(`mode ${summary.mode}, status ${summary.status}`);
  if (summary.hosts.length !== n) problems.push(`summary has ${summary.hosts.length} of ${n} hosts`);
  if (summary.recap.length !== n || summary.recap.some((r) => r.state !== 'planned')) problems.push(`recap: ${summary.recap.filter((r) => r.state === 'planned').length} of ${n} hosts planned`);
  const names = new Set();
  for (const h of summary.hosts) {
    names.add(h.host);
    const i = Number(/(\d+)$/.exec(h.host)?.[1]) - 1;
    const wants = NEEDS[SCENARIOS[i % SCENARIOS.length]];
    const changing = Object.entries(h.results).filter(([, out]) => out.plan.some((p) => p.action === 'apply')).map(([pb]) => pb);
    if (h.outcome !== 'planned' || h.state !== 'planned') problems.push(`${h.host}: ${h.outcome}/${h.state}`);
    else if (Object.keys(h.results).length !== PLAYBOOKS.length) problems.push(`${h.host}: ${Object.keys(h.results).length} playbooks planned`);
    else if (changing.join() !== (wants ?? '')) problems.push(`${h.host}: would change ${changing.join(', ') || 'nothing'}, expected ${wants ?? 'nothing'}`);
    if (problems.length > 5) break;
  }
  if (names.size !== n) problems.push(`${names.size} distinct hosts`);
  if (report.hosts.length !== n || report.totals.planned !== n) problems.push(`report: ${report.hosts.length} hosts, ${report.totals.planned} planned`);
  return problems;
}

const runs = new Map(sizes.map((n) => [n, []]));
for (let round = 1; round <= rounds; round++) {
  for (const n of sizes) {
    const base = mkdtempSync(path.join(tmpdir(), 'rdpfix-bench-plan-'));
    const lab = path.join(base, 'lab');
    writeLabFleet(lab, { hosts: n, seed: 1, scenarios: SCENARIOS, combine: 0, force: false });
    const reportFile = path.join(base, 'report.json');
    const argv = [...rdpfixCommand(root), 'plan', '-i', path.join(lab, 'inventory.yaml'), ...PLAYBOOKS.flatMap((p) => ['-p', p]),
      '--json', '--report', reportFile, '--state-dir', path.join(base, 'state'),
      ...(args.concurrency ? ['--concurrency', args.concurrency] : []), ...(args.processes ? ['--processes', args.processes] : [])];
    const load = loadavg()[0];
    const r = await measure(argv, { logFile: path.join(base, 'out.log'), keepLog: true });
    if (r.code !== 0) throw new Error(`plan on ${n} hosts exited ${r.code}:\n${readFileSync(r.logFile, 'utf8').slice(-3000)}`);
    const { summary, events } = await lastSummary(r.logFile);
    const problems = checkPlan(n, summary, JSON.parse(readFileSync(reportFile, 'utf8')));
    if (problems.length) throw new Error(`plan on ${n} hosts is wrong: ${problems.slice(0, 6).join('; ')}`);
    runs.get(n).push({ ...r, load, loadAfter: loadavg()[0], events });
    say(`round ${round} ${String(n).padStart(5)} hosts  wall ${r.wall.toFixed(1)} s  cpu ${r.cpu.toFixed(1)} s  peak ${r.peakMiB.toFixed(0)} MiB (node ${r.rootPeakMiB.toFixed(0)}, pwsh ${r.childrenPeakMiB.toFixed(0)})  (${events} events; load ${load.toFixed(2)} → ${loadavg()[0].toFixed(2)})`);
    rmSync(base, { recursive: true, force: true });
  }
}

const result = {
  playbooks: PLAYBOOKS, scenarios: SCENARIOS, rounds, concurrency: args.concurrency ?? 'default', processes: args.processes ?? 'default',
  sizes: Object.fromEntries(sizes.map((n) => {
    const rs = runs.get(n);
    const range = (k) => [Math.min(...rs.map((r) => r[k])), Math.max(...rs.map((r) => r[k]))].map((x) => +x.toFixed(1));
    return [n, { wallS: +median(rs.map((r) => r.wall)).toFixed(1), cpuS: +median(rs.map((r) => r.cpu)).toFixed(1), peakMiB: Math.round(median(rs.map((r) => r.peakMiB))),
      nodePeakMiB: Math.round(median(rs.map((r) => r.rootPeakMiB))), pwshPeakMiB: Math.round(median(rs.map((r) => r.childrenPeakMiB))),
      wallRange: range('wall'), cpuRange: range('cpu'), peakRange: range('peakMiB'), load1: rs.map((r) => +r.load.toFixed(2)) }];
  })),
};
const small = Math.min(...sizes);
const large = Math.max(...sizes);
if (large !== small) result.peakRatio = +(result.sizes[large].peakMiB / result.sizes[small].peakMiB).toFixed(3);
if (args.json) console.log(JSON.stringify(result));
else {
  say(`\nrdpfix plan -p ${PLAYBOOKS.join(' -p ')}, scenarios ${SCENARIOS.join(',')}; median of ${rounds} round(s) [min–max]`);
  for (const n of sizes) {
    const s = result.sizes[n];
    say(`${String(n).padStart(5)} hosts  wall ${s.wallS} s [${s.wallRange.join('–')}]  cpu ${s.cpuS} s [${s.cpuRange.join('–')}]  peak ${s.peakMiB} MiB [${s.peakRange.join('–')}] (node ${s.nodePeakMiB}, pwsh ${s.pwshPeakMiB})  load ${s.load1.join(', ')}`);
  }
  if (result.peakRatio !== undefined) say(`peak RSS ${large}/${small}: ${result.peakRatio}×  (targets: ${small === 1000 ? '1000 hosts ≤ 30 s; ' : ''}ratio ≤ 1.10)`);
}
