#!/usr/bin/env node
// The main job on the built-in lab fleet: a 13-host simulated Windows fleet (one fault scenario per host),
// diagnosed, then the playbooks each host needs planned, applied, checked by a second diagnosis and rolled
// back; then a temporary, security-weakening change that reverts itself on the host — all through real PowerShell. Run with `npm run demo` (which provisions PowerShell and builds first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'rdpfix.js');
const work = mkdtempSync(path.join(tmpdir(), 'rdpfix-demo-'));
const dir = process.argv[2] ?? path.join(work, 'lab');
const stateDir = path.join(work, 'state');
const inventory = path.join(dir, 'inventory.yaml');

/** The summary of a run command's --json: its last line (the lines before it are the run's events). */
const summaryOf = (stdout) => JSON.parse(stdout.trim().split('\n').at(-1));

function step(title, args, { allowFailure = false, capture = false } = {}) {
  console.log(`\n$ rdpfix ${args.join(' ')}\n# ${title}`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: capture ? ['inherit', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8', env: { ...process.env, RDPFIX_STATE_DIR: stateDir } });
  if (r.status !== 0 && !(allowFailure && r.status === 1)) process.exit(r.status ?? 1);
  return r.stdout;
}

step('a lab fleet: 13 simulated Windows hosts, one fault scenario each, in five display languages', ['lab', 'init', dir, '--hosts', '13', '--seed', '1', '--locales', 'en-US,de-DE,fr-FR,ja-JP,ru-RU', '--force']);
step('what the lab seeded, read straight from the state files', ['lab', 'show', dir]);
step('diagnose: the cause of "0x904 / extended 0x7" on each host, with evidence and the playbook that fixes it', ['diagnose', '-i', inventory], { allowFailure: true });
step('dry run: each host gets only the playbooks its findings need (changes nothing); hosts no playbook can fix stay in the recap (exit 1)', ['plan', '-i', inventory, '--from-diagnosis'], { allowFailure: true });
// No --json here: in a terminal the apply draws its live view (listr2: hosts, steps, waits, warnings, counts);
// piped or in CI it prints plain lines. The run id comes from the JSON report written next to the HTML one.
const html = path.join(work, 'report.html');
const jsonReport = path.join(work, 'report.json');
step('apply them (checkpoint → apply → verify per step; a failure rolls the host back). Logging off stuck sessions is irreversible, hence the explicit consent',
  ['apply', '-i', inventory, '--from-diagnosis', '--allow-irreversible', '--yes', '--report', html, '--report', jsonReport], { allowFailure: true });
const applied = JSON.parse(readFileSync(jsonReport, 'utf8'));
console.log(`\n  HTML report (open it in a browser): ${html}`);
step('diagnose again: every host a playbook could fix is healthy; what is left needs a fix outside the host (DNS) or a GPO change', ['diagnose', '-i', inventory], { allowFailure: true });
step('the run, as its journal records it', ['runs', 'show', applied.runId]);
step('undo the run: every applied step, newest first, from its checkpoint (irreversible steps are skipped, with a note)', ['rollback', applied.runId]);
step('lab-010 is back as it was (RDP disabled)', ['lab', 'show', dir, 'lab-010']);
const nla = summaryOf(step('NLA off for 30 minutes on lab-001, for an old client: a SYSTEM task on the host is armed first and stays armed',
  ['apply', '-i', inventory, '-p', 'nla-temporary-disable', '--hosts', 'lab-001', '--param', 'nla-temporary-disable.ttlMinutes=30', '--yes', '--json'], { capture: true }));
step('the run shows the revert task still on the host, and when it fires', ['runs', 'show', nla.runId]);
step('let 31 minutes pass on the lab (no controller involved): the task restores NLA by itself', ['lab', 'advance', '31m', '-i', inventory, '--hosts', 'lab-001']);
step('lab-001: NLA is on again', ['lab', 'show', dir, 'lab-001']);
console.log(`\nThe lab is in ${dir}; run journals in ${stateDir}.`);
