import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { makeLabHost } from '../helpers/lab.js';
import { labInventory } from '../helpers/engine.js';
import { Broker } from '../../src/broker/broker.js';
import { diagnoseFleet, type HostDiagnosis } from '../../src/diagnose/diagnose.js';
import { renderDiagnosis } from '../../src/cli/commands/diagnose.action.js';
import { createRng } from '../../src/lab/rng.js';
import { applyScenario, type Scenario } from '../../src/lab/scenarios.js';
import { HKLM, MACHINE_KEYS_DIR, MACHINE_KEYS_SDDL, PROFILE_LIST_KEY, RDP_KEY_SDDL, RDP_TCP_KEY } from '../../src/lab/base-host.js';
import type { LabHostState } from '../../src/lab/state.js';

interface Diagnosis { host: string; healthy: boolean; findings: { cause: string; playbook: string | null; blockedByPolicy?: boolean; evidence: string[] }[]; notes: unknown[];
  reach: { address: string; rdpPort: number; remotingPort: number; ports: { port: number; open: boolean; latencyMs: number | null; error?: string }[] } }

/** The cause a scenario shows as, where the names differ (the same mismatch set by group policy). */
const causeOf = (scenario: string) => ({ 'nla-policy': 'nla-mismatch' } as Record<string, string>)[scenario] ?? scenario;

async function diagnose(args: string[]): Promise<{ by: Record<string, Diagnosis>; show: { name: string; scenarios: string[] }[] }> {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-diag-')), 'lab');
  expect((await runCli(['lab', 'init', dir, ...args])).code).toBe(0);
  const show = JSON.parse((await runCli(['lab', 'show', dir, '--json'])).stdout).hosts as { name: string; scenarios: string[] }[];
  const r = await runCli(['diagnose', '-i', path.join(dir, 'inventory.yaml'), '--json']);
  expect(r.code, r.stderr).toBe(1); // some hosts have findings
  return { by: Object.fromEntries((JSON.parse(r.stdout).hosts as Diagnosis[]).map((h) => [h.host, h])), show };
}

describe('rdpfix diagnose on the lab', () => {
  it('names each seeded scenario as its cause, and nothing on the healthy host; shows what the controller sees', async () => {
    const { by, show } = await diagnose(['--hosts', '12', '--seed', '9']);
    expect(show.slice(0, 12).map((h) => h.scenarios[0])).toEqual(['healthy', 'termservice-stopped', 'termservice-hung', 'stuck-session', 'public-profile',
      'firewall-blocked', 'machinekeys-corrupt', 'profile-corrupt', 'nla-mismatch', 'rdp-disabled', 'session-cap', 'dns-mismatch']);
    for (const { name, scenarios: [scenario] } of show) {
      const h = by[name]!;
      if (scenario === 'healthy') expect(h).toMatchObject({ healthy: true, findings: [], notes: [] });
      else expect({ scenario, causes: h.findings.map((f) => f.cause) }).toEqual({ scenario, causes: [causeOf(scenario!)] });
    }
    expect(by['lab-010']!.findings[0]).toMatchObject({ playbook: 'enable-remote-desktop', blockedByPolicy: false });
    expect(by['lab-012']!.findings[0]!.playbook).toBeNull();

    // TCP from the controller (the lab's simulated network), at the inventory's address.
    const ports = (h: string) => Object.fromEntries(by[h]!.reach.ports.map((p) => [p.port, p.open ? 'open' : p.error]));
    expect(by['lab-001']!.reach).toMatchObject({ address: '198.18.0.1', rdpPort: 3389, remotingPort: 5985 });
    expect(ports('lab-001')).toEqual({ 3389: 'open', 5985: 'open', 5986: 'ETIMEDOUT' });
    for (const h of ['lab-002', 'lab-003', 'lab-006']) expect({ h, ports: ports(h) }).toEqual({ h, ports: { 3389: 'ETIMEDOUT', 5985: 'open', 5986: 'ETIMEDOUT' } });
    expect(ports('lab-005')).toEqual({ 3389: 'ETIMEDOUT', 5985: 'open', 5986: 'ETIMEDOUT' }); // WinRM's Public rule admits the local subnet; RDP's does not cover Public
    expect(by['lab-006']!.findings[0]!.evidence.at(-1)).toBe('from the controller: TCP 3389 does not answer; TCP 5985 answers (0 ms), so the host is up: the cause is on the host');
    expect(by['lab-007']!.findings[0]!.evidence.at(-1)).toMatch(/^from the controller: TCP 3389 answers \(0 ms\): the socket opens/);

    const table = renderDiagnosis(Object.values(by) as unknown as HostDiagnosis[]);
    expect(table).toMatch(/^lab-001 +healthy$/m);
    expect(table).toMatch(/^What the controller sees \(TCP connect from here\):\nHOST +ADDRESS +RDP +WINRM 5985 +WINRM 5986 +REMOTING +REACH ERROR$/m);
    expect(table).toMatch(/^lab-006 +198\.18\.0\.6 +3389 no answer +open 0 ms +no answer +-$/m);
    // lab-002 and lab-003 (TermService down): the sessions cannot be read, a note each.
    expect(table).toMatch(/12 hosts: 1 healthy, 11 with findings; 2 notes \(low confidence, no cause by themselves\)\.$/);
  }, 180_000);

  it('finds every fault on hosts that combine several', async () => {
    const { by, show } = await diagnose(['--hosts', '12', '--seed', '4', '--combine', '2']);
    for (const host of show) {
      const causes = by[host.name]!.findings.map((f) => f.cause);
      // With TermService down or hung Windows cannot list sessions (WTS API): session causes are a note, not a finding.
      const tsDown = host.scenarios.some((s) => causeOf(s) === 'termservice-stopped' || causeOf(s) === 'termservice-hung');
      const sessionCause = (c: string) => c === 'stuck-session' || c === 'session-cap';
      for (const scenario of host.scenarios.filter((s) => s !== 'healthy')) {
        if (tsDown && sessionCause(causeOf(scenario))) {
          expect((by[host.name]!.notes as { topic: string }[]).map((n) => n.topic)).toContain('sessions-unknown');
          continue;
        }
        expect({ host: host.name, causes }).toEqual({ host: host.name, causes: expect.arrayContaining([causeOf(scenario)]) });
      }
      if (host.scenarios[0] === 'healthy') expect(causes).toEqual([]);
    }
  }, 180_000);
});

describe('diagnoseFleet: repaired hosts, notes, ports', () => {
  const NOW = new Date('2026-11-25T12:00:00Z');
  const host = (name: string, scenarios: Scenario[], mutate?: (s: LabHostState) => void) =>
    makeLabHost((s) => {
      s.name = name;
      for (const sc of scenarios) applyScenario(s, sc, createRng(7), NOW);
      mutate?.(s);
    });

  it('key events are found even when another provider logs many more events with the same IDs', async () => {
    // mk-repaired's Schannel 36870 events are its only evidence of history; Group Policy's own 1058 ("processing of
    // Group Policy failed") shares an ID with TermService's 1058 and fills the System log on many hosts.
    const crowded = host('gp-noise', ['machinekeys-corrupt'], (s) => {
      s.files[MACHINE_KEYS_DIR]!.sddl = MACHINE_KEYS_SDDL;
      const key = Object.keys(s.files).find((p) => p.startsWith(`${MACHINE_KEYS_DIR}\\f686aace`))!;
      s.files[key]!.sddl = RDP_KEY_SDDL;
      const last = Math.max(...s.events.map((e) => e.RecordId));
      for (let i = 0; i < 80; i++) {
        s.events.push({ LogName: 'System', ProviderName: 'Microsoft-Windows-GroupPolicy', Id: 1058, Level: 2, RecordId: last + 1 + i,
          TimeCreated: new Date(NOW.getTime() - i * 2_000).toISOString(), Message: 'The processing of Group Policy failed.' });
      }
    });
    const broker = new Broker({ processes: 1 });
    try {
      const [d] = await diagnoseFleet(labInventory([crowded]), broker, { timeoutMs: 60_000 });
      expect(d).toMatchObject({ healthy: true, findings: [], notes: [{ topic: 'event-history' }] });
      expect(d!.notes[0]!.evidence.join(' ')).toMatch(/Schannel 36870 ×3/);
    } finally {
      await broker.close();
    }
  });

  it('old events on a repaired host are history; a pending restart is a note; the port in use and the reach decide', async () => {
    const hosts = [
      // machinekeys-corrupt, then repaired (ACLs back to Windows' defaults): the 1057/36870 events stay in the log.
      host('mk-repaired', ['machinekeys-corrupt'], (s) => {
        s.files[MACHINE_KEYS_DIR]!.sddl = MACHINE_KEYS_SDDL;
        const key = Object.keys(s.files).find((p) => p.startsWith(`${MACHINE_KEYS_DIR}\\f686aace`))!;
        s.files[key]!.sddl = RDP_KEY_SDDL;
      }),
      // profile-corrupt, then repaired (KB947215: .bak renamed back): the 1511/1515 events stay.
      host('profile-repaired', ['profile-corrupt'], (s) => {
        const bak = Object.keys(s.registry).find((k) => k.startsWith(PROFILE_LIST_KEY) && k.endsWith('.bak'))!;
        s.registry[bak.slice(0, -4)] = { ...s.registry[bak]!, State: { kind: 'DWord', data: 0 }, RefCount: { kind: 'DWord', data: 0 } };
        delete s.registry[bak];
      }),
      host('reboot-pending', [], (s) => {
        for (const k of ['WindowsUpdate', 'WindowsUpdate\\Auto Update', 'WindowsUpdate\\Auto Update\\RebootRequired']) s.registry[`${HKLM}\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\${k}`] = {};
      }),
      // PortNumber changed to 3390, no rule admits it.
      host('custom-port', [], (s) => { s.registry[RDP_TCP_KEY]!.PortNumber = { kind: 'DWord', data: 3390 }; }),
      host('powered-off', [], (s) => { s.network.reachable = false; }),
      host('wrong-port', []),
    ];
    const inventory = labInventory(hosts);
    inventory.hosts[5]!.rdpPort = 3391; // the inventory says clients dial 3391; the host listens on 3389
    const broker = new Broker({ processes: 1 });
    try {
      const by = Object.fromEntries((await diagnoseFleet(inventory, broker, { timeoutMs: 60_000 })).map((d) => [d.host, d]));
      expect(by['mk-repaired']).toMatchObject({ healthy: true, findings: [], notes: [{ topic: 'event-history', confidence: 'low' }] });
      expect(by['mk-repaired']!.notes[0]!.evidence.join(' ')).toMatch(/Schannel 36870 ×3/);
      expect(by['profile-repaired']).toMatchObject({ healthy: true, findings: [], notes: [{ topic: 'event-history' }] });
      expect(by['reboot-pending']).toMatchObject({ healthy: true, findings: [],
        notes: [{ topic: 'pending-reboot', confidence: 'low', evidence: ['WindowsUpdate\\Auto Update\\RebootRequired'] }] });

      expect(by['custom-port']!.findings.map((f) => [f.cause, f.playbook])).toEqual([['firewall-blocked', 'rdp-firewall-rules']]);
      expect(by['custom-port']!.findings[0]!.evidence).toContain('PortNumber is 3390: the built-in rule RemoteDesktop-UserMode-In-TCP admits 3389 only');
      expect(by['custom-port']!.reach.ports.map((p) => [p.port, p.open])).toEqual([[3389, false], [5985, true], [5986, false], [3390, false]]);
      expect(by['custom-port']!.notes).toEqual([expect.objectContaining({ topic: 'rdp-port', text: "the host's RDP port (PortNumber) is 3390; the inventory says clients dial 3389" })]);

      expect(by['powered-off']).toMatchObject({ healthy: false, error: expect.anything(), findings: [{ cause: 'unreachable', confidence: 'high', playbook: null }] });
      expect(by['powered-off']!.findings[0]!.evidence[1]).toMatch(/TCP 3389 does not answer; TCP 5985 does not answer; TCP 5986 does not answer: the host is down/);

      expect(by['wrong-port']!.findings).toEqual([expect.objectContaining({ cause: 'unreachable', confidence: 'high', playbook: null })]);
      expect(by['wrong-port']!.findings[0]!.evidence[1]).toMatch(/TCP 3389 answers \(0 ms\): Remote Desktop listens on 3389 \(PortNumber\); clients and the inventory's rdpPort must use host:3389/);

      const table = renderDiagnosis(Object.values(by));
      expect(table).toMatch(/^reboot-pending +healthy$/m);
      expect(table).toMatch(/^reboot-pending +note: pending-reboot +low +- +a restart is pending/m);
      expect(table).toMatch(/^custom-port +custom-port +3389 no answer; 3390 no answer +open 0 ms +no answer +-$/m);
      expect(table).toMatch(/6 hosts: 3 healthy, 3 with findings; 4 notes \(low confidence, no cause by themselves\)\.$/);
    } finally {
      await broker.close();
    }
  }, 180_000);
});
