#!/usr/bin/env node
// rdpfix apply against what an administrator would write instead: a plain PowerShell RunspacePool fan-out of the
// same step scripts (scripts/fanout-apply.ps1), on the same fresh lab, interleaved round by round. Both must leave
// every host compliant (checked by running the playbook's check scripts afterwards); then it prints wall time, CPU
// time and peak RSS of each process tree, and the ratios. Needs `npm run build` (npm run bench:fanout does it).
//
//   node scripts/bench-vs-powershell.mjs [--hosts 200] [--playbook enable-remote-desktop] [--rounds 3]
//                                        [--throttle 2] [--processes N] [--mode apply|diagnose] [--json]
//                                        [--fanout-pgo default|off]
//
// --mode diagnose compares `rdpfix diagnose` with a fan-out of the same probe script (scripts/fanout-probe.ps1) on a
// lab of mixed scenarios; both must read every host.
//
// --fanout-pgo off runs the fan-out with DOTNET_TieredPGO=0, as rdpfix runs its own PowerShell (docs/performance.md):
// the comparison with an administrator who tuned .NET the same way. The default is PowerShell as it comes.
//
// Wall, CPU and peak RSS of each process tree: scripts/bench-measure.mjs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeLabFleet } from '../dist/src/lab/fleet.js';
import { loadInventory } from '../dist/src/inventory/inventory.js';
import { loadCatalogue, resolveParameters } from '../dist/src/playbooks/manifest.js';
import { labModulePath, projectRoot } from '../dist/src/paths.js';
import { locatePowerShell } from '../dist/src/powershell/locate.js';
import { ensureLabTypesCacheDir } from '../dist/src/lab/types-cache.js';
import { probeHostScript } from '../dist/src/probe/probe.js';
import { measure as measureTree, median, rdpfixCommand } from './bench-measure.mjs';

/** A bad flag: one line on stderr and exit 2, before anything is built or run. */
function usage(message) {
  // parseArgs quotes what it was given as it is: a value with a line break in it stays on the one line.
  process.stderr.write(`bench:fanout: ${message.replace(/[\r\n]+/g, ' ')}\n`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      hosts: { type: 'string', default: '200' },
      playbook: { type: 'string', default: 'enable-remote-desktop' },
      rounds: { type: 'string', default: '3' },
      throttle: { type: 'string', default: '2' },
      processes: { type: 'string' },
      mode: { type: 'string', default: 'apply' },
      json: { type: 'boolean', default: false },
      'fanout-pgo': { type: 'string', default: 'default' },
    },
  }));
} catch (err) {
  usage(err.message);
}
const wholeAtLeastOne = (v) => /^[1-9][0-9]*$/.test(v);
if (!['default', 'off'].includes(args['fanout-pgo'])) usage(`--fanout-pgo is default or off, not ${JSON.stringify(args['fanout-pgo'])}`);
/** The lab scenario each playbook repairs: every host of the bench fleet needs the fix. */
const SCENARIO = {
  'enable-remote-desktop': 'rdp-disabled',
  'session-limits': 'session-cap',
  'restart-termservice': 'termservice-stopped',
  'network-profile-private': 'public-profile',
  'rdp-firewall-rules': 'firewall-blocked',
};
const hosts = Number(args.hosts);
const rounds = Number(args.rounds);
const scenario = SCENARIO[args.playbook];
const diagnoseMode = args.mode === 'diagnose';
if (!['apply', 'diagnose'].includes(args.mode)) usage(`--mode is apply or diagnose, not ${JSON.stringify(args.mode)}`);
if (!Object.hasOwn(SCENARIO, args.playbook)) usage(`--playbook must be one of ${Object.keys(SCENARIO).join(', ')}`);
for (const flag of ['hosts', 'rounds', 'throttle', 'processes']) {
  if (args[flag] !== undefined && !wholeAtLeastOne(args[flag])) usage(`--${flag} takes a whole number ≥ 1, not ${JSON.stringify(args[flag])}`);
}
const root = projectRoot();
const pwsh = locatePowerShell().executable;
const say = (...a) => { if (!args.json) console.log(...a); };

const pb = loadCatalogue([path.join(root, 'playbooks')]).get(args.playbook);
const parameters = resolveParameters(pb, {});
const steps = pb.steps.map((s) => ({ id: s.id, ...Object.fromEntries(['check', 'capture', 'apply', 'verify'].map((ph) => [ph, pb.scripts[s[ph]]])) }));

function freshLab() {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-bench-fanout-')), 'lab');
  // Diagnose: the built-in mix of scenarios (every cause the diagnosis names); apply: every host needs the fix.
  writeLabFleet(dir, diagnoseMode ? { hosts, seed: 1, scenarios: ['healthy', 'rdp-disabled', 'termservice-stopped', 'firewall-blocked', 'public-profile', 'session-cap', 'machinekeys-corrupt'], combine: 1, force: false } : { hosts, seed: 1, scenarios: [scenario], combine: 0, force: false });
  return { dir, inventory: path.join(dir, 'inventory.yaml') };
}

function fanoutRequest(lab) {
  const file = path.join(path.dirname(lab.dir), 'fanout.json');
  const inv = loadInventory(lab.inventory);
  writeFileSync(file, JSON.stringify({
    labModule: labModulePath(), throttle: Number(args.throttle), playbook: pb.id, runId: 'bench', parameters, steps,
    hosts: inv.hosts.map((h) => ({ name: h.name, statePath: h.transport.state })),
  }));
  return file;
}

/** Runs a command, measured (scripts/bench-measure.mjs). */
function measure(argv, env = {}) {
  // The fan-out's lab module reuses rdpfix's compiled lab types, as rdpfix's own PowerShell does.
  return measureTree(argv, { env: { RDPFIX_LAB_TYPES_DIR: ensureLabTypesCacheDir().dir ?? '', ...env } });
}
/** The fan-out's environment: PowerShell as it comes, or with .NET's dynamic PGO off as rdpfix's broker has it. */
const fanoutEnv = args['fanout-pgo'] === 'off' ? { DOTNET_TieredPGO: '0' } : {};

function probeRequest(lab) {
  const file = path.join(path.dirname(lab.dir), 'fanout-probe.json');
  const inv = loadInventory(lab.inventory);
  writeFileSync(file, JSON.stringify({
    labModule: labModulePath(), throttle: Number(args.throttle), probe: probeHostScript(),
    hosts: inv.hosts.map((h) => ({ name: h.name, statePath: h.transport.state })),
  }));
  return file;
}

/** Diagnose mode's referee: rdpfix's JSON names every host; the fan-out read every host. */
function allRead(who, r) {
  const out = JSON.parse(who === 'rdpfix' ? r.log.slice(r.log.indexOf('{')) : r.log.trim().split('\n').at(-1));
  if (who === 'rdpfix') return out.hosts?.length === hosts ? null : `diagnosed ${out.hosts?.length} of ${hosts} hosts`;
  return out.hosts === hosts && out.failed === 0 ? null : `read ${out.hosts - out.failed} of ${hosts} hosts: ${out.errors.join('; ')}`;
}

async function compliant(lab) {
  const r = await measure([pwsh, '-NoLogo', '-NoProfile', '-NonInteractive', '-File', path.join(root, 'scripts', 'fanout-apply.ps1'), '-RequestPath', fanoutRequest(lab), '-CheckOnly']);
  const out = JSON.parse(r.log.trim().split('\n').at(-1));
  return out.notCompliant === 0 && out.failed === 0 ? null : `${out.notCompliant} host(s) not compliant, ${out.failed} check failure(s): ${out.errors.join('; ')}`;
}

const runs = { rdpfix: [], fanout: [] };
const rdpfixArgs = (lab, stateDir) => [...rdpfixCommand(root), 'apply', '-i', lab.inventory, '-p', pb.id, '--yes',
  '--state-dir', stateDir, ...(args.processes ? ['--processes', args.processes] : [])];
// Only the JSON on stdout: the log file gets stdout and stderr, and diagnose writes nothing else on success.
const diagnoseArgs = (lab, stateDir) => [...rdpfixCommand(root), 'diagnose', '-i', lab.inventory, '--json',
  '--state-dir', stateDir, ...(args.processes ? ['--processes', args.processes] : [])];
for (let round = 1; round <= rounds; round++) {
  // Interleaved, the order alternating per round, so that drift in the machine's load hits both alike.
  const order = round % 2 ? ['rdpfix', 'fanout'] : ['fanout', 'rdpfix'];
  for (const who of order) {
    const lab = freshLab();
    const stateDir = mkdtempSync(path.join(tmpdir(), 'rdpfix-bench-state-'));
    const script = diagnoseMode ? ['fanout-probe.ps1', probeRequest(lab)] : ['fanout-apply.ps1', fanoutRequest(lab)];
    const r = who === 'rdpfix'
      ? await measure(diagnoseMode ? diagnoseArgs(lab, stateDir) : rdpfixArgs(lab, stateDir))
      : await measure([pwsh, '-NoLogo', '-NoProfile', '-NonInteractive', '-File', path.join(root, 'scripts', script[0]), '-RequestPath', script[1]], fanoutEnv);
    // diagnose exits 1 when some host has findings, as the mixed lab's do.
    if (r.code !== 0 && !(diagnoseMode && who === 'rdpfix' && r.code === 1)) throw new Error(`${who} exited ${r.code}:\n${r.log.slice(-2000)}`);
    const problem = diagnoseMode ? allRead(who, r) : await compliant(lab);
    if (problem) throw new Error(`${who} left hosts unfixed: ${problem}`);
    runs[who].push(r);
    say(`round ${round} ${who.padEnd(6)} wall ${r.wall.toFixed(1)} s  cpu ${r.cpu.toFixed(1)} s  peak ${r.peakMiB.toFixed(0)} MiB`);
    rmSync(path.dirname(lab.dir), { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const summary = {};
for (const who of ['rdpfix', 'fanout']) {
  summary[who] = { wallS: +median(runs[who].map((r) => r.wall)).toFixed(2), cpuS: +median(runs[who].map((r) => r.cpu)).toFixed(2), peakMiB: Math.round(median(runs[who].map((r) => r.peakMiB))) };
}
const ratio = (k) => +(summary.rdpfix[k] / summary.fanout[k]).toFixed(2);
const result = { hosts, mode: args.mode, playbook: diagnoseMode ? null : pb.id, rounds, throttle: Number(args.throttle), processes: args.processes ?? 'default', fanoutPgo: args['fanout-pgo'], ...summary, ratio: { wall: ratio('wallS'), cpu: ratio('cpuS'), peakRss: ratio('peakMiB') } };
if (args.json) console.log(JSON.stringify(result));
else {
  say(`\n${hosts} hosts, ${diagnoseMode ? 'diagnose' : pb.id}, median of ${rounds} rounds`);
  say(`rdpfix  wall ${summary.rdpfix.wallS} s  cpu ${summary.rdpfix.cpuS} s  peak ${summary.rdpfix.peakMiB} MiB`);
  say(`fan-out wall ${summary.fanout.wallS} s  cpu ${summary.fanout.cpuS} s  peak ${summary.fanout.peakMiB} MiB (throttle ${args.throttle}${args['fanout-pgo'] === 'off' ? ', DOTNET_TieredPGO=0' : ''})`);
  say(`ratio   wall ${result.ratio.wall}×  cpu ${result.ratio.cpu}×  peak RSS ${result.ratio.peakRss}×  (targets: ${diagnoseMode ? 'wall ≤ 1.5' : '≤ 1.3, ≤ 1.5, ≤ 1.3'})`);
}
