import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';

describe('plan / apply --from-diagnosis on a mixed lab fleet', () => {
  it('gives each host only the playbooks it needs, leaves those hosts healthy, and rolls back per host', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'rdpfix-fd-'));
    const lab = path.join(root, 'lab');
    const inv = path.join(lab, 'inventory.yaml');
    const state = ['--state-dir', path.join(root, 'state')];
    expect((await runCli(['lab', 'init', lab, '--hosts', '12', '--seed', '8'])).code).toBe(0);
    const before10 = readFileSync(path.join(lab, 'hosts', 'lab-010.json'), 'utf8');

    const plan = JSON.parse((await runCli(['plan', '-i', inv, '--from-diagnosis', '--json', ...state])).stdout);
    const chosen = Object.fromEntries(plan.diagnosis.map((c: { host: string; playbooks: string[] }) => [c.host, c.playbooks]));
    expect(chosen).toMatchObject({ 'lab-001': [], 'lab-004': ['reset-stuck-sessions'], 'lab-010': ['enable-remote-desktop'], 'lab-011': ['session-limits'], 'lab-012': [] });
    expect(plan.hosts.map((h: { host: string }) => h.host).sort()).toEqual(['lab-004', 'lab-010', 'lab-011']);
    expect(plan.diagnosis.find((c: { host: string }) => c.host === 'lab-009').unfixable[0].why).toMatch(/blocked by policy/);

    const apply = await runCli(['apply', '-i', inv, '--from-diagnosis', '--yes', '--allow-irreversible', '--json', ...state]);
    expect(apply.code, apply.stderr).toBe(0);
    const run = JSON.parse(apply.stdout);
    expect(run.hosts.map((h: { outcome: string }) => h.outcome)).toEqual(['succeeded', 'succeeded', 'succeeded']);

    const after = JSON.parse((await runCli(['diagnose', '-i', inv, '--json'])).stdout);
    const healthy = after.hosts.filter((h: { healthy: boolean }) => h.healthy).map((h: { host: string }) => h.host);
    expect(healthy).toEqual(['lab-001', 'lab-004', 'lab-010', 'lab-011']);

    const back = await runCli(['rollback', run.runId, '--json', ...state]);
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path.join(lab, 'hosts', 'lab-010.json'), 'utf8'))).toEqual(JSON.parse(before10));
    const again = JSON.parse((await runCli(['diagnose', '-i', inv, '--json'])).stdout);
    const causes = Object.fromEntries(again.hosts.map((h: { host: string; findings: { cause: string }[] }) => [h.host, h.findings.map((f) => f.cause)]));
    expect(causes['lab-010']).toEqual(['rdp-disabled']);
    expect(causes['lab-011']).toEqual(['session-cap']);
    expect(causes['lab-004']).toEqual([]); // logging off is irreversible: the rollback skipped it
  }, 240_000);

  it('without -p or --from-diagnosis there is nothing to run', async () => {
    const lab = path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-fd-')), 'lab');
    expect((await runCli(['lab', 'init', lab, '--hosts', '1'])).code).toBe(0);
    const r = await runCli(['plan', '-i', path.join(lab, 'inventory.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/No playbook chosen\.\n  Fix: Pass --playbook ID… or --from-diagnosis/);
  });
});
