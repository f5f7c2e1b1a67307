import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { healthyHost } from '../../src/lab/base-host.js';
import { createRng } from '../../src/lab/rng.js';
import type { LabHostState } from '../../src/lab/state.js';
import type { LabLocale } from '../../src/lab/locales.js';
import { locatePowerShell } from '../../src/powershell/locate.js';
import { labModulePath, projectRoot } from '../../src/paths.js';
import { ensureLabTypesCacheDir } from '../../src/lab/types-cache.js';

export interface LabHostFixture {
  dir: string;
  statePath: string;
  state: LabHostState;
  /** The state document as it is on disk now. */
  read(): LabHostState;
}

/** The fixed time lab hosts are seeded at: their own clocks read it (and run on from it) on any date. */
export const LAB_SEEDED_AT = new Date('2026-11-25T12:00:00Z');

let defaultLocale: LabLocale = 'en-US';
/** The display language of the hosts makeLabHost writes from now on in this test file (each file has its own
 *  module instance): the playbook tests run on non-English hosts (issue 11). A mutate may still set its own. */
export function useLabLocale(locale: LabLocale): void { defaultLocale = locale; }

/** Writes one healthy lab host (optionally changed by `mutate`) into a fresh temp folder. */
export function makeLabHost(mutate?: (s: LabHostState) => void, seed = 1, now = LAB_SEEDED_AT): LabHostFixture {
  const dir = mkdtempSync(path.join(tmpdir(), 'rdpfix-lab-'));
  const state = healthyHost(0, createRng(seed), now);
  state.locale = defaultLocale;
  mutate?.(state);
  const statePath = path.join(dir, `${state.name}.json`);
  writeFileSync(statePath, JSON.stringify(state, null, 2));
  return { dir, statePath, state, read: () => JSON.parse(readFileSync(statePath, 'utf8')) as LabHostState };
}

export interface LabRunResult {
  output: unknown[];
  /** The terminating error, if the script threw. */
  error: { message: string; fqid: string; category: string; exceptionType: string } | null;
  warnings: string[];
  /** Non-terminating errors written while the script ran. */
  errors: { message: string; fqid: string; category: string }[];
}

/** Runs a script on a lab host in a real pwsh, with the lab module loaded, and returns what it produced. */
export function runLab(statePath: string, script: string, args: unknown[] = []): Promise<LabRunResult> {
  const request = Buffer.from(JSON.stringify({ labModule: labModulePath(), statePath, script, args })).toString('base64');
  const pwsh = locatePowerShell().executable;
  return new Promise((resolve, reject) => {
    const child = spawn(pwsh, ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', path.join(projectRoot(), 'test', 'helpers', 'run-lab.ps1')], {
      env: { ...process.env, RDPFIX_TEST_REQUEST: request, RDPFIX_LAB_TYPES_DIR: ensureLabTypesCacheDir().dir ?? '' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 || !out) return reject(new Error(`run-lab.ps1 exited ${code}: ${err}`));
      resolve(JSON.parse(Buffer.from(out, 'base64').toString('utf8')) as LabRunResult);
    });
  });
}
