import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('the recap at the end of apply', () => {
  it('keeps healthy hosts and hosts with findings no playbook fixes in the table, and exits 1 for the unfixed one', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'rdpfix-recap-'));
    const lab = path.join(work, 'lab');
    const init = await runCli(['lab', 'init', lab, '--hosts', '3', '--scenarios', 'rdp-disabled,dns-mismatch,healthy', '--seed', '2']);
    expect(init.code, init.stderr).toBe(0);
    const scenario = Object.fromEntries((JSON.parse((await runCli(['lab', 'init', path.join(work, 'again'), '--hosts', '3', '--scenarios', 'rdp-disabled,dns-mismatch,healthy', '--seed', '2', '--json'])).stdout).hosts as { name: string; scenarios: string[] }[]).map((h) => [h.scenarios[0], h.name]));
    const r = await runCli(['apply', '-i', path.join(lab, 'inventory.yaml'), '--yes', '--processes', '1', '--state-dir', path.join(work, 'state')], { timeoutMs: 170_000 });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const row = (host: string) => r.stdout.split('\n').find((l) => l.startsWith(`${host} `)) ?? '';
    expect(row(scenario['rdp-disabled']!)).toMatch(/^\S+\s+succeeded\s+1\s+0\s+0\s+0/);
    expect(row(scenario['dns-mismatch']!)).toMatch(/\s+unfixed\s+0\s+0\s+0\s+0\s+left unfixed: dns-mismatch/);
    expect(row(scenario.healthy!)).toMatch(/\s+healthy\s+0\s+0\s+0\s+0/);
    expect(r.stdout).toMatch(/3 host\(s\): 1 succeeded, 1 unfixed, 1 healthy\./);
  }, 180_000);
});
