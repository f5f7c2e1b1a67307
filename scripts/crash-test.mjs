#!/usr/bin/env node
// Crash test: SIGKILL `rdpfix apply` at random moments on a lab fleet, then prove that
// `rdpfix rollback RUN` restores every host to its pre-run state, or `rdpfix resume RUN` completes
// the run with every host remediated — with zero lost checkpoints and zero double applies.
//
//   node scripts/crash-test.mjs [--trials 50] [--hosts 20] [--seed 1] [--contend 5] [--json]
//
// Trials alternate rollback and resume; every other pair kills that rollback/resume too, then runs it again.
// --contend N adds N trials of two applies started moments apart on one inventory and state dir (host leases).
//
// Needs a build (npm run build) and PowerShell (npm run provision). Exit code 0 only if every trial passed.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'rdpfix.js');
const playbooks = path.join(root, 'test', 'fixtures', 'playbooks');
const { values: args } = parseArgs({
  options: { contend: { type: 'string', default: '0' }, trials: { type: 'string', default: '50' }, hosts: { type: 'string', default: '20' }, seed: { type: 'string', default: '1' }, json: { type: 'boolean', default: false } },
});
const trials = Number(args.trials);
const contend = Number(args.contend);
const hostCount = Number(args.hosts);
let seed = Number(args.seed) >>> 0;
const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 4294967296);
const VALUES = { Alpha: 1, Beta: 2, Gamma: 3 };
const KEY = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\RdpfixTest';
const log = (...a) => { if (!args.json) console.log(...a); };

function rdpfix(argv, stateDir) {
  return spawnSync(process.execPath, [cli, ...argv, '--state-dir', stateDir], { encoding: 'utf8', timeout: 600_000 });
}

const work = mkdtempSync(path.join(tmpdir(), 'rdpfix-crash-'));
const template = path.join(work, 'template');
const init = spawnSync(process.execPath, [cli, 'lab', 'init', template, '--hosts', String(hostCount), '--scenarios', 'healthy', '--seed', '7'], { encoding: 'utf8' });
if (init.status !== 0) throw new Error(`lab init failed: ${init.stderr}`);

function readHosts(dir) {
  const hostsDir = path.join(dir, 'hosts');
  const out = {};
  for (const f of readdirSync(hostsDir).filter((f) => /^lab-\d+\.json$/.test(f))) out[f] = JSON.parse(readFileSync(path.join(hostsDir, f), 'utf8'));
  return out;
}

/** Audit log check: a value set to its target twice with no change in between is a double apply. */
function doubleApplies(dir) {
  const found = [];
  for (const f of readdirSync(path.join(dir, 'hosts')).filter((f) => f.endsWith('.audit.jsonl'))) {
    const isTarget = {};
    for (const line of readFileSync(path.join(dir, 'hosts', f), 'utf8').split('\n').filter(Boolean)) {
      const { command, detail } = JSON.parse(line);
      if (!detail || String(detail.key).toLowerCase() !== KEY.toLowerCase()) continue;
      if (command === 'New-ItemProperty' || command === 'Set-ItemProperty') {
        const target = VALUES[detail.name] !== undefined && detail.value?.kind === 'DWord' && detail.value?.data === VALUES[detail.name];
        if (target && isTarget[detail.name]) found.push(`${f}: ${detail.name}`);
        isTarget[detail.name] = target;
      } else if (command === 'Remove-ItemProperty') isTarget[detail.name] = false;
      else if (command === 'Remove-Item') for (const k of Object.keys(isTarget)) isTarget[k] = false;
    }
  }
  return found;
}

/** Waits until every process of the killed CLI's group (its PowerShell children) has exited. */
async function waitForGroup(pgid) {
  for (let i = 0; i < 600; i++) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(-pgid, 'SIGKILL');
}

// Calibrate: how long an uninterrupted apply takes on this fleet, and how long until its run exists (PowerShell
// starts and the controller is checked before the journal is created).
const calDir = path.join(work, 'calibrate');
const calState = path.join(work, 'cal-state');
cpSync(template, calDir, { recursive: true });
const t0 = Date.now();
let startMs = null;
const cal = await new Promise((resolve) => {
  const c = spawn(process.execPath, [cli, 'apply', '-i', path.join(calDir, 'inventory.yaml'), '-p', 'registry-values', '--playbooks', playbooks, '--yes', '--json', '--concurrency', '8', '--state-dir', calState], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  c.stderr.on('data', (d) => (stderr += d));
  const poll = setInterval(() => {
    if (startMs === null && existsSync(path.join(calState, 'runs')) && readdirSync(path.join(calState, 'runs')).some((d) => /^\d{8}-/.test(d))) startMs = Date.now() - t0;
  }, 25);
  c.on('close', (status) => {
    clearInterval(poll);
    resolve({ status, stderr });
  });
});
if (cal.status !== 0) throw new Error(`calibration apply failed: ${cal.stderr}`);
const fullMs = Date.now() - t0;
startMs ??= 0;
// Most kills land while hosts are being worked on; some before the run exists (nothing may change then).
const killWindow = (r) => Math.floor(r < 0.1 ? r * 10 * startMs : startMs + (r - 0.1) / 0.9 * (fullMs - startMs) * 0.9);
log(`calibration: a full apply on ${hostCount} hosts takes ${fullMs} ms, its run exists after ${startMs} ms; killing at random points in [0, ${killWindow(0.999)}] ms`);

/** Starts the CLI in its own process group and SIGKILLs the group (CLI and PowerShell at once) after `killAt` ms. */
async function runAndKill(argv, stateDir, killAt) {
  const child = spawn(process.execPath, [cli, ...argv, '--state-dir', stateDir], { detached: true, stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, killAt));
  const killed = child.exitCode === null;
  if (killed) process.kill(-child.pid, 'SIGKILL');
  await waitForGroup(child.pid);
  return killed;
}

const remediated = (state) => {
  const expected = structuredClone(state);
  expected.registry[KEY] = Object.fromEntries(Object.entries(VALUES).map(([n, v]) => [n, { kind: 'DWord', data: v }]));
  return expected;
};

/** The summary of a run command's --json: the last line (the lines before it are its events, NDJSON). */
const summaryOf = (stdout) => JSON.parse(stdout.trim().split('\n').at(-1));

/** Host failures in a rollback/resume JSON result, in one line each. */
function failures(stdout) {
  try {
    return summaryOf(stdout).hosts.filter((h) => !['rolled-back', 'succeeded', 'unchanged', 'not-reached'].includes(h.state))
      .map((h) => `${h.host} ${h.state}: ${Object.values(h.results).map((r) => r.undoFailure?.message ?? r.failure?.message ?? r.drift?.step ?? '').join(' ')}`.slice(0, 160));
  } catch {
    return [stdout.slice(0, 200)];
  }
}

const runIds = (stateDir) => (existsSync(path.join(stateDir, 'runs')) ? readdirSync(path.join(stateDir, 'runs')).filter((d) => /^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$/.test(d)) : []);
const applyArgs = (dir) => ['apply', '-i', path.join(dir, 'inventory.yaml'), '-p', 'registry-values', '--playbooks', playbooks, '--yes', '--json', '--concurrency', '8'];

// Trials: kill apply at a random moment; then (by trial mod 4) rollback, resume, or a rollback / resume that is
// itself killed at a random moment and then run again to its end.
const results = [];
for (let trial = 1; trial <= trials; trial++) {
  const dir = path.join(work, `t${trial}`);
  const stateDir = path.join(work, `t${trial}-state`);
  cpSync(template, dir, { recursive: true });
  const pre = readHosts(dir);
  const killAt = killWindow(random());
  const killed = await runAndKill(applyArgs(dir), stateDir, killAt);
  // Run folders only: a run that died before its header was on disk leaves a hidden `.new-…` folder, and no run.
  const runs = runIds(stateDir);
  const action = trial % 2 ? 'rollback' : 'resume';
  const killSecond = trial % 4 === 3 || trial % 4 === 0;
  const problems = [];
  let secondKilled = false;
  if (runs.length === 0) {
    // Killed before the journal existed: nothing may have changed.
    if (!isDeepStrictEqual(readHosts(dir), pre)) problems.push('hosts changed although no run was journaled (a lost checkpoint)');
  } else {
    const run = runs[0];
    const argv = action === 'rollback' ? ['rollback', run, '--playbooks', playbooks, '--json'] : ['resume', run, '--playbooks', playbooks, '--json'];
    if (killSecond) secondKilled = await runAndKill(argv, stateDir, killWindow(random()) * 0.7);
    const r = rdpfix(argv, stateDir);
    if (r.status !== 0 && r.status !== 1) problems.push(`${action} exited ${r.status}: ${r.stderr.slice(0, 300)}`);
    for (const [file, state] of Object.entries(readHosts(dir))) {
      if (action === 'rollback' && !isDeepStrictEqual(state, pre[file])) problems.push(`${file}: not restored to its pre-run state`);
      if (action === 'resume' && !isDeepStrictEqual(state, remediated(pre[file]))) problems.push(`${file}: not remediated exactly`);
    }
    if (r.status === 1) problems.push(`${action} reported failed hosts: ${failures(r.stdout).join('; ')}`);
  }
  const doubles = doubleApplies(dir);
  if (doubles.length) problems.push(`double applies: ${doubles.join(', ')}`);
  results.push({ trial, killAtMs: killAt, killed, run: runs[0] ?? null, action, secondKilled, ok: problems.length === 0, problems });
  log(`trial ${String(trial).padStart(3)}: kill at ${String(killAt).padStart(5)} ms${killed ? '' : ' (already finished)'}, ${runs.length ? `${action}${secondKilled ? ' (killed, then again)' : ''}` : 'no run yet'}: ${problems.length ? `FAIL ${problems.join('; ')}` : 'ok'}`);
  rmSync(dir, { recursive: true, force: true });
  rmSync(stateDir, { recursive: true, force: true });
}

// Contention: two applies on one inventory and one state dir, started moments apart. Host leases must keep them
// apart: no value written twice, every host remediated exactly, a refused host named with its holder.
const contention = [];
for (let k = 1; k <= contend; k++) {
  const dir = path.join(work, `c${k}`);
  const stateDir = path.join(work, `c${k}-state`);
  cpSync(template, dir, { recursive: true });
  const pre = readHosts(dir);
  const spawnApply = () => new Promise((resolve) => {
    const c = spawn(process.execPath, [cli, ...applyArgs(dir), '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => resolve({ code, out, err }));
  });
  const first = spawnApply();
  await new Promise((r) => setTimeout(r, Math.floor(random() * 3000)));
  const [a, b] = await Promise.all([first, spawnApply()]);
  const problems = [];
  for (const r of [a, b]) if (![0, 1, 2].includes(r.code)) problems.push(`apply exited ${r.code}: ${r.err.slice(0, 200)}`);
  // A host the other run held is refused with who holds it; one run that came after the other finished finds every host compliant.
  const hostsOf = (r) => (r.code === 2 ? [] : summaryOf(r.out).hosts.map((h) => h.host));
  const refusedOf = (r) => (r.code === 2 ? Object.keys(pre).length : summaryOf(r.out).refused.length);
  for (const r of [a, b]) if (r.code === 2 && !/in use by another run/.test(r.err)) problems.push(`exit 2 without naming the holder: ${r.err.slice(0, 200)}`);
  if (hostsOf(a).length + hostsOf(b).length < Object.keys(pre).length) problems.push(`hosts worked on: ${hostsOf(a).length} + ${hostsOf(b).length} of ${Object.keys(pre).length}`);
  for (const [file, state] of Object.entries(readHosts(dir))) if (!isDeepStrictEqual(state, remediated(pre[file]))) problems.push(`${file}: not remediated exactly`);
  const doubles = doubleApplies(dir);
  if (doubles.length) problems.push(`double applies: ${doubles.join(', ')}`);
  contention.push({ trial: k, codes: [a.code, b.code], refused: [refusedOf(a), refusedOf(b)], ok: problems.length === 0, problems });
  log(`contention ${k}: exits ${a.code}/${b.code}, hosts ${hostsOf(a).length}/${hostsOf(b).length}, refused ${refusedOf(a)}/${refusedOf(b)}: ${problems.length ? `FAIL ${problems.join('; ')}` : 'ok'}`);
  rmSync(dir, { recursive: true, force: true });
  rmSync(stateDir, { recursive: true, force: true });
}

const failed = [...results, ...contention].filter((r) => !r.ok);
const summary = { contention: contention.length, secondKilled: results.filter((r) => r.secondKilled).length, trials: results.length, hosts: hostCount, killedMidRun: results.filter((r) => r.killed).length, rollbacks: results.filter((r) => r.action === 'rollback' && r.run).length, resumes: results.filter((r) => r.action === 'resume' && r.run).length, failed: failed.length, fullApplyMs: fullMs };
if (args.json) console.log(JSON.stringify({ summary, results, contention }, null, 2));
else log(`\n${summary.trials} trials (${summary.killedMidRun} killed mid-run; ${summary.rollbacks} rollbacks, ${summary.resumes} resumes, ${summary.secondKilled} of them killed once too) and ${summary.contention} contention trials: ${summary.failed} failed.`);
rmSync(work, { recursive: true, force: true });
process.exit(failed.length ? 1 : 0);
