#!/usr/bin/env node
// The main job on the built-in lab fleet: writes a 12-host lab (one host per fault scenario), shows it,
// then probes every host through the broker, read-only. Run with `npm run demo` (provisions PowerShell first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'rdpfix.js');
const dir = process.argv[2] ?? path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-demo-')), 'lab');

function step(title, args, { allowFailure = false } = {}) {
  console.log(`\n$ rdpfix ${args.join(' ')}    # ${title}`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
  if (r.status !== 0 && !(allowFailure && r.status === 1)) process.exit(r.status ?? 1);
}

step('a lab fleet: 12 simulated Windows hosts, one fault scenario each', ['lab', 'init', dir, '--hosts', '12', '--seed', '1', '--force']);
step('what the lab seeded, read straight from the state files', ['lab', 'show', dir]);
step('read-only RDP probe of every host through the PowerShell broker (unreachable hosts fail)', ['probe', '-i', path.join(dir, 'inventory.yaml')], { allowFailure: true });
console.log(`\nThe lab is in ${dir}.`);
