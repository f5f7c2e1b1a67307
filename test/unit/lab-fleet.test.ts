import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildLabFleet, checkLabInitOptions, writeLabFleet } from '../../src/lab/fleet.js';
import { SCENARIOS } from '../../src/lab/scenarios.js';
import { loadInventory } from '../../src/inventory/inventory.js';
import { summarizeLabHost } from '../../src/lab/summary.js';
import { CREDSSP_POLICY_KEY, RDP_TCP_KEY, TS_POLICY_KEY } from '../../src/lab/base-host.js';

const now = new Date('2026-11-25T12:00:00Z');
const all = { seed: 7, scenarios: [...SCENARIOS], combine: 0, force: false, now };

describe('lab fleet', () => {
  it('gives host i locale i mod k, English by default, and refuses a language the lab does not speak', () => {
    const base = { hosts: 5, seed: 1, scenarios: ['healthy' as const], combine: 0, force: false };
    expect(buildLabFleet(base).map((h) => h.locale)).toEqual(['en-US', 'en-US', 'en-US', 'en-US', 'en-US']);
    expect(buildLabFleet({ ...base, locales: ['de-DE', 'ja-JP'] }).map((h) => h.locale)).toEqual(['de-DE', 'ja-JP', 'de-DE', 'ja-JP', 'de-DE']);
    expect(() => checkLabInitOptions({ ...base, locales: ['de-DE', 'pt-BR'] })).toThrow(/--locales: the lab has no model of 'pt-BR'\./);
    expect(() => checkLabInitOptions({ ...base, locales: [] })).toThrow(/--locales is empty/);
  });

  it('gives host i scenario i mod k: as many hosts as scenarios give one each', () => {
    const fleet = buildLabFleet({ ...all, hosts: SCENARIOS.length });
    expect(fleet.map((h) => h.scenarios)).toEqual(SCENARIOS.map((s) => [s]));
    const two = buildLabFleet({ ...all, hosts: 5, scenarios: ['healthy', 'rdp-disabled'] });
    expect(two.map((h) => h.scenarios[0])).toEqual(['healthy', 'rdp-disabled', 'healthy', 'rdp-disabled', 'healthy']);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    expect(buildLabFleet({ ...all, hosts: 3 })).toEqual(buildLabFleet({ ...all, hosts: 3 }));
    expect(buildLabFleet({ ...all, hosts: 3 })[0]!.machineGuid).not.toBe(buildLabFleet({ ...all, hosts: 3, seed: 8 })[0]!.machineGuid);
  });

  it('combines seeded extra faults on faulty hosts, never on healthy ones', () => {
    const fleet = buildLabFleet({ ...all, hosts: 24, combine: 2 });
    for (const h of fleet) {
      if (h.scenarios[0] === 'healthy') expect(h.scenarios).toEqual(['healthy']);
      else expect(new Set(h.scenarios).size).toBe(3);
      expect(h.scenarios.includes('nla-mismatch') && h.scenarios.includes('nla-policy')).toBe(false); // one SecurityLayer story per host
    }
  });

  it('seeds each scenario as its summary shows', () => {
    const fleet = buildLabFleet({ ...all, hosts: SCENARIOS.length });
    const by = Object.fromEntries(fleet.map((h) => [h.scenarios[0], summarizeLabHost(h, now)]));
    expect(by.healthy).toMatchObject({ termService: 'Running', rdpEnabled: true, nla: true, securityLayer: 2, networkCategories: ['Ethernet:Private'] });
    expect(by['termservice-stopped']!.termService).toBe('Stopped');
    expect(by['termservice-hung']!.termService).toBe('StartPending');
    expect(by['stuck-session']!.sessions.disconnected).toBe(2);
    expect(by['public-profile']!.networkCategories).toEqual(['Ethernet:Public']);
    expect(by['public-profile']!.rdpRulesEnabled).toContain('(Domain, Private)');
    expect(by['firewall-blocked']!.rdpRulesEnabled).toMatch(/^0\/2/);
    expect(by['rdp-disabled']!.rdpEnabled).toBe(false);
    expect(by['nla-mismatch']).toMatchObject({ nla: true, securityLayer: 0 });
    expect(by['nla-policy']).toMatchObject({ nla: true, securityLayer: 0 });
    const local = fleet.find((h) => h.scenarios[0] === 'nla-mismatch')!.registry;
    const policyHost = fleet.find((h) => h.scenarios[0] === 'nla-policy')!.registry;
    // The common local misconfiguration (what ResetRDPCert.ps1 leaves): nothing set by policy, so a playbook can fix it.
    expect([local[RDP_TCP_KEY]!.SecurityLayer, local[RDP_TCP_KEY]!.MinEncryptionLevel]).toEqual([{ kind: 'DWord', data: 0 }, { kind: 'DWord', data: 1 }]);
    expect(local[TS_POLICY_KEY]).toEqual({});
    expect(local[CREDSSP_POLICY_KEY]).toBeUndefined();
    expect(policyHost[TS_POLICY_KEY]!.SecurityLayer).toEqual({ kind: 'DWord', data: 0 });
    expect(policyHost[CREDSSP_POLICY_KEY]!.AllowEncryptionOracle).toEqual({ kind: 'DWord', data: 0 });
    expect(by['machinekeys-corrupt']!.events).toBe(4);
    expect(by['profile-corrupt']!.events).toBe(2);
    const dns = fleet[11]!;
    expect(dns.network.dnsAddress).not.toBe(dns.network.address);
  });

  it('writes state files and an inventory that loads, and refuses to overwrite without --force', () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-fleet-')), 'lab');
    const { inventory } = writeLabFleet(dir, { ...all, hosts: 3 });
    const inv = loadInventory(inventory);
    expect(inv.hosts.map((h) => h.name)).toEqual(['lab-001', 'lab-002', 'lab-003']);
    for (const h of inv.hosts) expect(h.transport.kind === 'lab' && existsSync(h.transport.state)).toBe(true);
    const before = readFileSync(inventory, 'utf8');
    expect(() => writeLabFleet(dir, { ...all, hosts: 5 })).toThrow(/already holds a lab/);
    expect(readFileSync(inventory, 'utf8')).toBe(before);
    writeLabFleet(dir, { ...all, hosts: 5, force: true });
    expect(loadInventory(inventory).hosts).toHaveLength(5);
  });

  it.each([
    [{ hosts: 0, seed: 1, scenarios: ['healthy'], combine: 0 }, /--hosts must be/],
    [{ hosts: 2, seed: -1, scenarios: ['healthy'], combine: 0 }, /--seed must be/],
    [{ hosts: 2, seed: 1, scenarios: ['healthy', 'nope'], combine: 0 }, /Unknown scenario: nope/],
    [{ hosts: 2, seed: 1, scenarios: [], combine: 0 }, /--scenarios is empty/],
    [{ hosts: 2, seed: 1, scenarios: ['healthy'], combine: 9 }, /--combine must be/],
  ])('rejects bad options %#', (o, pattern) => {
    expect(() => checkLabInitOptions(o)).toThrow(pattern);
  });
});
