import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import type { LabHostState } from '../../src/lab/state.js';

/**
 * `rdpfix conform` against lab hosts built to differ from the lab's own model, as real hosts would: the comparison
 * must find each difference, and nothing on the host that was left alone.
 */
describe('rdpfix conform', () => {
  it('finds where hosts deviate from the lab model and nothing where they do not; read-only', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rdpfix-conform-'));
    const init = await runCli(['lab', 'init', path.join(dir, 'lab'), '--hosts', '4']);
    expect(init.code, init.stderr).toBe(0);
    const statePath = (i: number) => path.join(dir, 'lab', 'hosts', `lab-00${i}.json`);
    const edit = (i: number, change: (s: LabHostState) => void) => {
      const s = JSON.parse(readFileSync(statePath(i), 'utf8')) as LabHostState;
      change(s);
      writeFileSync(statePath(i), JSON.stringify(s));
    };
    // 2: a renamed firewall group resource and an extra ACE on the RDP key; 3: a Japanese host (compared with the lab's
    // Japanese host: its localized names and tool text must match);
    // 4: Get-NetConnectionProfile fails on the host.
    edit(2, (s) => {
      s.firewall.rules.find((r) => r.Name === 'RemoteDesktop-UserMode-In-UDP')!.Group = '@FirewallAPI.dll,-28753';
      const key = Object.keys(s.files).find((f) => /f686aace6942fb7f7ceb231212eef4a4_/.test(f))!;
      s.files[key]!.sddl += '(A;;FR;;;BA)';
    });
    edit(3, (s) => { (s as { locale: string }).locale = 'ja-JP'; });
    edit(4, (s) => { s.faults.commands.push({ command: 'Get-NetConnectionProfile', nth: 1, mode: 'error' }); });
    const before = [1, 2, 3, 4].map((i) => JSON.parse(readFileSync(statePath(i), 'utf8')) as LabHostState);

    const r = await runCli(['conform', '-i', path.join(dir, 'lab', 'inventory.yaml'), '--json']);
    expect(r.code, r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout) as { schema: string; hosts: { host: string; error: unknown; comparedWith: unknown; differences: { aspect: string; item: string; host: unknown; lab: unknown }[] }[] };
    expect(doc.schema).toBe('rdpfix.conform/1');
    const found = Object.fromEntries(doc.hosts.map((h) => [h.host, h.differences.map((d) => `${d.aspect}: ${d.item}`)]));
    // The lab's own host still differs where the lab knowingly is not Windows PowerShell 5.1 (jsonShapes), if at all.
    const baseline = found['lab-001']!;
    expect(baseline.filter((d) => !d.startsWith('jsonShapes') && !d.startsWith('os: PowerShell'))).toEqual([]);
    const extra = (host: string) => found[host]!.filter((d) => !baseline.includes(d));
    expect(extra('lab-002')).toEqual(['keyAcls: rdpKeySddl', 'firewallRules: RemoteDesktop-UserMode-In-UDP group']);
    expect(extra('lab-003')).toEqual([]);
    expect(doc.hosts.find((h) => h.host === 'lab-003')).toMatchObject({ comparedWith: { locale: 'ja-JP' } });
    expect(extra('lab-004')).toEqual(['enums: (read)']);
    expect(doc.hosts.find((h) => h.host === 'lab-002')!.differences.find((d) => d.aspect === 'firewallRules')).toMatchObject({ host: '@FirewallAPI.dll,-28753', lab: '@FirewallAPI.dll,-28752' });

    // Read-only: only the fault counter of host 4 may have moved.
    [1, 2, 3].forEach((i) => expect(JSON.parse(readFileSync(statePath(i), 'utf8'))).toEqual(before[i - 1]));
    const table = await runCli(['conform', '-i', path.join(dir, 'lab', 'inventory.yaml'), '--limit', 'lab-002']);
    expect(table.stdout).toMatch(/lab-002\s+firewallRules: RemoteDesktop-UserMode-In-UDP group\s+@FirewallAPI\.dll,-28753\s+@FirewallAPI\.dll,-28752/);
    expect(table.stdout).toContain('1 hosts: 1 differ from the lab, 0 could not be read.');
  });
});
