import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';

interface Diagnosis { host: string; healthy: boolean; findings: { cause: string; playbook: string | null; blockedByPolicy?: boolean }[] }

async function diagnose(args: string[]): Promise<Record<string, Diagnosis>> {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-diag-')), 'lab');
  expect((await runCli(['lab', 'init', dir, ...args])).code).toBe(0);
  const r = await runCli(['diagnose', '-i', path.join(dir, 'inventory.yaml'), '--json']);
  expect(r.code, r.stderr).toBe(1); // some hosts have findings
  return Object.fromEntries((JSON.parse(r.stdout).hosts as Diagnosis[]).map((h) => [h.host, h]));
}

describe('rdpfix diagnose on the lab', () => {
  it('names each seeded scenario as its cause, and nothing on the healthy host', async () => {
    const by = await diagnose(['--hosts', '12', '--seed', '9']);
    const scenarios = ['healthy', 'termservice-stopped', 'termservice-hung', 'stuck-session', 'public-profile', 'firewall-blocked',
      'machinekeys-corrupt', 'profile-corrupt', 'nla-mismatch', 'rdp-disabled', 'session-cap', 'dns-mismatch'];
    scenarios.forEach((scenario, i) => {
      const h = by[`lab-${String(i + 1).padStart(3, '0')}`]!;
      if (scenario === 'healthy') expect(h).toMatchObject({ healthy: true, findings: [] });
      else expect({ scenario, causes: h.findings.map((f) => f.cause) }).toEqual({ scenario, causes: [scenario] });
    });
    expect(by['lab-010']!.findings[0]).toMatchObject({ playbook: 'enable-remote-desktop', blockedByPolicy: false });
    expect(by['lab-012']!.findings[0]!.playbook).toBeNull();
  }, 180_000);

  it('finds every fault on hosts that combine several', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-diag-')), 'lab');
    expect((await runCli(['lab', 'init', dir, '--hosts', '12', '--seed', '4', '--combine', '2'])).code).toBe(0);
    const show = JSON.parse((await runCli(['lab', 'show', dir, '--json'])).stdout) as { name: string; scenarios: string[] }[];
    const r = await runCli(['diagnose', '-i', path.join(dir, 'inventory.yaml'), '--json']);
    const by = Object.fromEntries((JSON.parse(r.stdout).hosts as Diagnosis[]).map((h) => [h.host, h]));
    for (const host of show) {
      const causes = by[host.name]!.findings.map((f) => f.cause);
      for (const scenario of host.scenarios.filter((s) => s !== 'healthy')) expect({ host: host.name, causes }).toEqual({ host: host.name, causes: expect.arrayContaining([scenario]) });
      if (host.scenarios[0] === 'healthy') expect(causes).toEqual([]);
    }
  }, 180_000);
});
