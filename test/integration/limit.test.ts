import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('--limit on a lab fleet', () => {
  it('diagnoses only the hosts the pattern selects; a pattern that selects nothing changes nothing and exits 2', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-limit-')), 'lab');
    const init = await runCli(['lab', 'init', dir, '--hosts', '3', '--scenarios', 'healthy', '--seed', '3']);
    expect(init.code, init.stderr).toBe(0);
    const inventory = path.join(dir, 'inventory.yaml');
    const r = await runCli(['diagnose', '-i', inventory, '--limit', 'lab-00*:!lab-002', '--json', '--processes', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout).hosts as { host: string }[]).map((h) => h.host)).toEqual(['lab-001', 'lab-003']);
    const none = await runCli(['plan', '-i', inventory, '-p', 'enable-remote-desktop', '--limit', 'lab-01*', '--processes', '1']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--limit lab-01\* selects no host in .*inventory\.yaml/);
    const typo = await runCli(['probe', '-i', inventory, '--limit', 'lab-0001', '--processes', '1']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/'lab-0001' matches no host, group or tag/);
  }, 180_000);
});
