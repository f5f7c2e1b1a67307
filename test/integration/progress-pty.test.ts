import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';
import { MAX_HOST_ROWS } from '../../src/cli/views/listr.js';
import { runCli } from '../helpers/cli.js';

/** Runs a command in a pseudo-terminal (test/helpers/pty-run.py): stdout and stderr are the terminal. */
function inTerminal(command: string[], env: NodeJS.ProcessEnv) {
  const clean = { ...process.env };
  for (const k of ['CI', 'NO_COLOR', 'FORCE_COLOR', 'GITHUB_ACTIONS']) delete clean[k];
  // A 300-host view redraws often: its transcript, as JSON, can pass spawnSync's 1 MiB default, which kills the child.
  const r = spawnSync('python3', [path.join(projectRoot(), 'test', 'helpers', 'pty-run.py'), '--', ...command], { env: { ...clean, ...env }, encoding: 'utf8', timeout: 170_000, maxBuffer: 64 * 1024 * 1024 });
  expect(r.status, `${r.error?.message ?? ''} ${r.signal ?? ''} ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as { output: string; status: number };
}
const rdpfix = (args: string[]) => [process.execPath, path.join(projectRoot(), 'bin', 'rdpfix.js'), ...args];
const COLOUR = /\x1b\[[\d;]*m/;
const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
/** The screen's last frame: what is left after the renderer's last redraw (log-update erases lines with ESC[2K). */
const lastFrame = (output: string) => output.split('\x1b[G').at(-1)!.replace(/\x1b\[\?25[hl]/g, '');

describe('progress views in a terminal', () => {
  let lab: string;
  let state: string;
  beforeAll(async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'rdpfix-progress-'));
    lab = path.join(work, 'lab');
    state = path.join(work, 'state');
    expect((await runCli(['lab', 'init', lab, '--hosts', '3', '--scenarios', 'rdp-disabled,healthy', '--seed', '4'])).code).toBe(0);
  }, 60_000);
  const apply = (more: string[]) => rdpfix(['apply', '-i', path.join(lab, 'inventory.yaml'), '-p', 'enable-remote-desktop', '--yes', '--processes', '1', '--state-dir', state, ...more]);

  it('shows the listr2 view on a terminal: a counts row over a row per host with how it ended; NO_COLOR leaves colour out', () => {
    const r = inTerminal(apply([]), { NO_COLOR: '1' });
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(SPINNER);
    expect(r.output).toMatch(/✔ apply \d{8}-\d{6}-[0-9a-f]{6}: 3\/3 done · 2 changed · 1 unchanged · 0 failed · 0 rolled back/);
    expect(r.output).toMatch(/✔ lab-00\d: changed · [\d.]+s \(enable-remote-desktop succeeded\)/);
    expect(r.output).toMatch(/✔ lab-00\d: unchanged/);
    expect(r.output).not.toMatch(COLOUR);
    expect(r.output).toMatch(/3 host\(s\): 2 succeeded, 1 unchanged\./); // then the recap
  }, 180_000);

  it('prints plain lines in CI, and nothing but the result with --quiet', () => {
    const ci = inTerminal(apply([]), { CI: 'true' });
    expect(ci.output).toMatch(COLOUR); // plain lines colour their outcomes on a terminal (unless NO_COLOR)
    ci.output = ci.output.replace(new RegExp(COLOUR.source, 'g'), '');
    expect(ci.output).not.toMatch(SPINNER);
    expect(ci.output).toMatch(/^ +\+[\d.]+s {2}apply run \d{8}-\d{6}-[0-9a-f]{6} on 3 host\(s\)\r?$/m);
    expect(ci.output).toMatch(/^ +\+[\d.]+s {2}lab-001: succeeded {2}\[\d\/3 done/m);
    const quiet = inTerminal(apply(['--quiet']), {});
    expect(quiet.output).not.toMatch(SPINNER);
    expect(quiet.output).not.toMatch(/\+[\d.]+s {2}/);
    expect(quiet.output).toMatch(/^HOST +STATE/m);
  }, 180_000);

  it('keeps a 300-host run readable: the running hosts in a few rows, finished ones folded into the counts', () => {
    const run = (env: NodeJS.ProcessEnv) => inTerminal([process.execPath, path.join(projectRoot(), 'test', 'helpers', 'listr-fleet.mjs')], { HOSTS: '300', ...env });
    const r = run({ NO_COLOR: '1' });
    expect(r.output).toContain('VIEW CLOSED');
    const frames = r.output.split('\x1b[G').slice(1, -1);
    expect(frames.length).toBeGreaterThan(0);
    // Every frame, however many hosts: the counts row, "+N more running", "not succeeded: …", and MAX_HOST_ROWS lanes,
    // each a host line and its one output line (playbook › step: phase), when the renderer catches it with one; the
    // text after a frame's last newline is the erase sequence, hence + 1.
    for (const f of frames) expect(f.split('\n').length).toBeLessThanOrEqual(3 + 2 * MAX_HOST_ROWS + 1);
    const end = lastFrame(r.output);
    expect(end).toMatch(/✔ apply 20310506-070809-abcdef: 300\/300 done · 270 changed · 0 unchanged · 0 failed · 30 rolled back/);
    expect(end).toMatch(/not succeeded: host-010, host-020, .*, \+10 more/);
    expect(r.output).not.toMatch(COLOUR);
    expect(run({}).output).toMatch(COLOUR); // the same view colours a terminal when NO_COLOR is not set
  }, 60_000);
});
