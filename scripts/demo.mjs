#!/usr/bin/env node
// The main job on the built-in lab fleet: a 12-host simulated Windows fleet (one fault scenario per host),
// probed read-only, then the enable-remote-desktop playbook planned, applied, and rolled back — all through
// real PowerShell. Run with `npm run demo` (which provisions PowerShell and builds first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'rdpfix.js');
const work = mkdtempSync(path.join(tmpdir(), 'rdpfix-demo-'));
const dir = process.argv[2] ?? path.join(work, 'lab');
const stateDir = path.join(work, 'state');
const inventory = path.join(dir, 'inventory.yaml');

function step(title, args, { allowFailure = false, capture = false } = {}) {
  console.log(`\n$ rdpfix ${args.join(' ')}\n# ${title}`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: capture ? ['inherit', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8', env: { ...process.env, RDPFIX_STATE_DIR: stateDir } });
  if (r.status !== 0 && !(allowFailure && r.status === 1)) process.exit(r.status ?? 1);
  return r.stdout;
}

step('a lab fleet: 12 simulated Windows hosts, one fault scenario each', ['lab', 'init', dir, '--hosts', '12', '--seed', '1', '--force']);
step('what the lab seeded, read straight from the state files', ['lab', 'show', dir]);
step('read-only RDP probe of every host through the PowerShell broker and the lab Windows commands', ['probe', '-i', inventory], { allowFailure: true });
step('dry run: what enable-remote-desktop would change, host by host (changes nothing)', ['plan', '-i', inventory, '-p', 'enable-remote-desktop']);
const applied = JSON.parse(step('apply it (checkpoint → apply → verify on each host; a failure rolls the host back)', ['apply', '-i', inventory, '-p', 'enable-remote-desktop', '--yes', '--json'], { allowFailure: true, capture: true }));
console.log(applied.hosts.map((h) => `  ${h.host}: ${h.outcome}`).join('\n'));
step('lab-010 (rdp-disabled) now allows connections', ['lab', 'show', dir, 'lab-010']);
step('the run, as its journal records it', ['runs', 'show', applied.runId]);
step('undo the run: every applied step, newest first, from its checkpoint', ['rollback', applied.runId]);
step('lab-010 is back as it was (RDP disabled)', ['lab', 'show', dir, 'lab-010']);
console.log(`\nThe lab is in ${dir}; run journals in ${stateDir}.`);
