import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';

/** Runs rdpfix in a pseudo-terminal (test/helpers/pty-run.py), answering prompts as they appear. */
function inTerminal(args: string[], answers: [RegExp | string, string][], env: NodeJS.ProcessEnv) {
  const pairs = answers.flatMap(([re, a]) => [typeof re === 'string' ? re : re.source, a]);
  const r = spawnSync('python3', [path.join(projectRoot(), 'test', 'helpers', 'pty-run.py'), ...pairs, '--', process.execPath, path.join(projectRoot(), 'bin', 'rdpfix.js'), ...args],
    { env: { ...process.env, ...env, NO_COLOR: '1', COLUMNS: '120' }, encoding: 'utf8', timeout: 170_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { output: string; status: number; unanswered: number };
}

describe('confirmation on a terminal', () => {
  it('shows only the hosts that would change, as per-field changes, and ignores an answer typed before the question', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'rdpfix-confirm-'));
    const lab = path.join(work, 'lab');
    const init = await runCli(['lab', 'init', lab, '--hosts', '3', '--scenarios', 'rdp-disabled,healthy', '--seed', '4', '--json']);
    expect(init.code, init.stderr).toBe(0);
    const hosts = JSON.parse(init.stdout).hosts as { name: string; scenarios: string[] }[];
    const disabled = hosts.filter((h) => h.scenarios.includes('rdp-disabled')).map((h) => h.name);
    const stateBefore = readFileSync(path.join(lab, 'hosts', `${disabled[0]}.json`), 'utf8');
    const env = { RDPFIX_STATE_DIR: path.join(work, 'state') };
    // 'y' + Enter typed at once, long before the question: it must be thrown away; the real answer is 'n'.
    const run = inTerminal(['apply', '-i', path.join(lab, 'inventory.yaml'), '-p', 'enable-remote-desktop', '--processes', '1'], [['^', 'y'], ['Apply to \\d+ host', 'n']], env);
    expect(run.unanswered).toBe(0);
    expect(run.output).toMatch(new RegExp(`Apply to ${disabled.length} host\\(s\\): ${disabled.join(', ')}\\? \\[y/N\\]`));
    expect(run.output).toMatch(/would change\s+fDenyTSConnections: 1 → 0/);
    expect(run.output).toMatch(/Compliant already: \d+ step\(s\); nothing to do on \d+ host\(s\)/);
    for (const line of run.output.split(/\r?\n/)) expect(line.length).toBeLessThanOrEqual(120);
    expect(run.output).toContain('Nothing changed.');
    expect(readFileSync(path.join(lab, 'hosts', `${disabled[0]}.json`), 'utf8')).toBe(stateBefore);
  }, 180_000);
});
