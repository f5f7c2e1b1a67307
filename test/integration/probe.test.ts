import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';

interface Section { [k: string]: unknown }

describe('rdpfix probe on a lab fleet of every scenario', () => {
  it('reads each host through the broker with the Windows commands, read-only', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-probe-')), 'lab');
    expect((await runCli(['lab', 'init', dir, '--hosts', '12', '--seed', '5'])).code).toBe(0);
    const r = await runCli(['probe', '-i', path.join(dir, 'inventory.yaml'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.failed).toBe(0);
    const by: Record<string, { sections: Record<string, unknown>; errors: Record<string, unknown>; computerName: string }> = Object.fromEntries(
      doc.results.map((x: { host: string; data: unknown }) => [x.host, x.data]),
    );
    const ts = (h: string) => (by[h]!.sections.services as Section[]).find((s) => s.name === 'TermService')!.status;
    const rdp = (h: string) => by[h]!.sections.rdp as Section;
    expect(by['lab-001']!.computerName).toBe('LAB-001');
    for (const h of Object.keys(by)) expect(by[h]!.errors).toEqual({});
    expect(ts('lab-001')).toBe('Running');
    expect(ts('lab-002')).toBe('Stopped');
    expect(ts('lab-003')).toBe('StartPending');
    expect((by['lab-005']!.sections.networkProfiles as Section[])[0]!.category).toBe('Public');
    expect((by['lab-006']!.sections.firewall as Section[]).map((f) => f.enabled)).toEqual([false, false]);
    expect(rdp('lab-009')).toMatchObject({ userAuthentication: 1, policySecurityLayer: 0 });
    expect(rdp('lab-010').fDenyTSConnections).toBe(1);
    expect(rdp('lab-001')).toMatchObject({ fDenyTSConnections: 0, portNumber: 3389, maxInstanceCount: -1 }); // REG_DWORD 4294967295 reads as Int32 -1
    expect(rdp('lab-011').maxInstanceCount).toBe(2);
    const quser = (h: string) => (by[h]!.sections.sessions as { lines: string[] }).lines;
    expect(quser('lab-004').filter((l) => /\bDisc\b/.test(l))).toHaveLength(2);
    expect(quser('lab-001')[0]).toMatch(/^ USERNAME\s+SESSIONNAME\s+ID\s+STATE\s+IDLE TIME\s+LOGON TIME$/);
    expect((by['lab-001']!.sections.certificate as Section[])).toHaveLength(1);
  }, 180_000);
});
