import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { makeLabHost, type LabHostFixture, useLabLocale } from '../helpers/lab.js';
import { engineSetup, labInventory } from '../helpers/engine.js';
import { targetFor } from '../../src/inventory/inventory.js';
import { startRun, rollbackRun } from '../../src/engine/run.js';
import { diagnoseFleet } from '../../src/diagnose/diagnose.js';
import { projectRoot } from '../../src/paths.js';
import { applyScenario } from '../../src/lab/scenarios.js';
import { createRng } from '../../src/lab/rng.js';
import { HKLM } from '../../src/lab/base-host.js';
import type { LabHostState } from '../../src/lab/state.js';

// Every playbook test runs on a non-English host (issue 11): tool text and account names in de-DE.
useLabLocale('de-DE');

// Facts: shared reference section 3; docs/windows-facts/network-firewall-sessions-tasks.md section 1.

const env = engineSetup([path.join(projectRoot(), 'playbooks')]);
afterAll(() => env.broker.close());

const PB = 'network-profile-private';
const publicProfile = (s: LabHostState) => applyScenario(s, 'public-profile', createRng(7), new Date('2026-11-25T12:00:00Z'));
const secondNic = (s: LabHostState, category: 'Public' | 'Private' | 'DomainAuthenticated') =>
  s.netConnectionProfiles.push({ Name: 'corp.example.com', InterfaceAlias: 'Ethernet 2', InterfaceIndex: 21, NetworkCategory: category, IPv4Connectivity: 'Internet', IPv6Connectivity: 'NoTraffic', DomainAuthenticationKind: category === 'DomainAuthenticated' ? 'Ldap' : 'None' });
const NLM = `${HKLM}\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\CurrentVersion\\NetworkList\\Signatures`;
const nlmLocked = (s: LabHostState) => {
  for (const k of ['SOFTWARE\\Policies\\Microsoft\\Windows NT', 'SOFTWARE\\Policies\\Microsoft\\Windows NT\\CurrentVersion', 'SOFTWARE\\Policies\\Microsoft\\Windows NT\\CurrentVersion\\NetworkList']) s.registry[`${HKLM}\\${k}`] ??= {};
  s.registry[NLM] = {};
  // A named network's signature key, "User cannot change location" (Category 0 = Public, CategoryReadOnly 1).
  s.registry[`${NLM}\\010103000F0000F0080000000F0000F0E8982FB31F37E52AF30A6575A4898CE6676E8C2F99C4C5131D84F64BD823E0`] = {
    Category: { kind: 'DWord', data: 0 }, CategoryReadOnly: { kind: 'DWord', data: 1 },
  };
};

const run = (hosts: LabHostFixture[], mode: 'plan' | 'apply', parameters: Record<string, unknown> = {}) =>
  startRun({ mode, inventory: labInventory(hosts), catalogue: env.catalogue, playbookIds: [PB], parameters: { [PB]: parameters }, concurrency: 4, allowIrreversible: false, stateDir: env.stateDir, broker: env.broker });

const audit = (h: LabHostFixture) => {
  const p = h.statePath.replace(/\.json$/, '.audit.jsonl');
  return existsSync(p) ? readFileSync(p, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { command: string }) : [];
};

describe('playbook network-profile-private on the lab', () => {
  it('plans: a Private host is skipped; a Public one shows before → after per interface', async () => {
    const healthy = makeLabHost((s) => (s.name = 'lab-001'), 1);
    const pub = makeLabHost((s) => { s.name = 'lab-002'; publicProfile(s); secondNic(s, 'Private'); }, 2);
    const plan = await run([healthy, pub], 'plan');
    const entry = (h: string) => plan.hosts.find((x) => x.host === h)!.results[PB]!.plan[0]!;
    const idx = pub.state.netConnectionProfiles[0]!.InterfaceIndex;
    expect(entry('lab-001')).toMatchObject({ action: 'skip', predictable: true });
    expect(entry('lab-002')).toMatchObject({
      action: 'apply',
      before: { interfaces: [{ interfaceIndex: idx, interfaceAlias: 'Ethernet', category: 'Public' }, { interfaceIndex: 21, interfaceAlias: 'Ethernet 2', category: 'Private' }] },
      after: { interfaces: [{ interfaceIndex: idx, interfaceAlias: 'Ethernet', category: 'Private' }, { interfaceIndex: 21, interfaceAlias: 'Ethernet 2', category: 'Private' }] },
    });
    expect(audit(pub)).toEqual([]);
  });

  it('fixes the public-profile scenario (a second diagnosis finds no public-profile cause) and rolls back exactly', async () => {
    const healthy = makeLabHost((s) => (s.name = 'lab-001'), 1);
    const pub = makeLabHost((s) => { s.name = 'lab-002'; publicProfile(s); secondNic(s, 'Public'); }, 2);
    const pre = { healthy: healthy.read(), pub: pub.read() };
    const first = await diagnoseFleet(labInventory([pub]), env.broker, { timeoutMs: 60000 });
    expect(first[0]!.findings.map((f) => [f.cause, f.playbook])).toContainEqual(['public-profile', PB]);

    const r = await run([healthy, pub], 'apply');
    expect(Object.fromEntries(r.hosts.map((h) => [h.host, h.outcome]))).toEqual({ 'lab-001': 'succeeded', 'lab-002': 'succeeded' });
    expect(r.hosts.find((h) => h.host === 'lab-001')!.results[PB]!.skipped).toEqual(['set-private']);
    expect(healthy.read()).toEqual(pre.healthy);
    expect(pub.read().netConnectionProfiles.map((p) => p.NetworkCategory)).toEqual(['Private', 'Private']);

    const second = await diagnoseFleet(labInventory([pub]), env.broker, { timeoutMs: 60000 });
    expect(second[0]!.findings.map((f) => f.cause)).not.toContain('public-profile');
    expect(second[0]!.healthy).toBe(true);

    const back = await rollbackRun({ stateDir: env.stateDir, runId: r.runId, catalogue: env.catalogue, broker: env.broker, force: false });
    expect(back.hosts.map((h) => h.outcome)).toEqual(['rolledBack', 'rolledBack']);
    expect(pub.read()).toEqual(pre.pub);
    expect(healthy.read()).toEqual(pre.healthy);
  }, 180_000);

  it('changes only the named interfaces (by alias or index)', async () => {
    const pub = makeLabHost((s) => { publicProfile(s); secondNic(s, 'Public'); }, 3);
    const r = await run([pub], 'apply', { interfaces: ['21'] });
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    expect(pub.read().netConnectionProfiles.map((p) => [p.InterfaceAlias, p.NetworkCategory])).toEqual([['Ethernet', 'Public'], ['Ethernet 2', 'Private']]);
  });

  it('undo is self-contained and idempotent: run unattended twice from the checkpoint alone, it restores the host once', async () => {
    const host = makeLabHost((s) => { publicProfile(s); secondNic(s, 'Public'); }, 9);
    const pre = host.read();
    const r = await run([host], 'apply');
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    const pb = env.catalogue.get(PB)!;
    const input = JSON.stringify({ runId: r.runId, host: host.state.name, playbook: PB, step: 'set-private', phase: 'undo', parameters: {}, checkpoint: r.hosts[0]!.results[PB]!.checkpoints['set-private'] });
    const undo = async () => {
      const e = await env.broker.invoke(targetFor(labInventory([host]).hosts[0]!), pb.scripts['network-profile-private.ps1']!, [input], { timeoutMs: 60000 });
      if (!e.ok) throw new Error(e.error.message);
      return JSON.parse(e.data.output.find((o) => typeof o === 'string' && o.startsWith('{')) as string) as { changed: boolean };
    };
    expect([(await undo()).changed, (await undo()).changed]).toEqual([true, false]);
    expect(host.read()).toEqual(pre);
  });

  it('refuses a DomainAuthenticated interface with the reason and the real fix, changing nothing', async () => {
    const host = makeLabHost((s) => { publicProfile(s); secondNic(s, 'DomainAuthenticated'); }, 4);
    const pre = host.read();
    const r = await run([host], 'apply', { interfaces: ['Ethernet', 'Ethernet 2'] });
    const out = r.hosts[0]!.results[PB]!;
    expect(r.hosts[0]!.outcome).toBe('rolledBack');
    expect(out.failure).toMatchObject({ step: 'set-private', phase: 'blocked' });
    expect(out.failure!.message).toMatch(/^refused: interface 'Ethernet 2' \(index 21\) is DomainAuthenticated\./);
    expect(out.failure!.message).toMatch(/domain controller/);
    expect(out.failure!.message).toMatch(/Network Location Awareness service \(NlaSvc\), not the category/);
    expect(host.read()).toEqual(pre);
    expect(audit(host)).toEqual([]);
  });

  it('fails in check, clearly, for an interface that does not exist', async () => {
    const host = makeLabHost(publicProfile, 5);
    const pre = host.read();
    const r = await run([host], 'apply', { interfaces: ['Wi-Fi'] });
    const failure = r.hosts[0]!.results[PB]!.failure!;
    expect(failure).toMatchObject({ step: 'set-private', phase: 'check' });
    expect(failure.message).toMatch(/No connected network interface matches 'Wi-Fi' \(parameter interfaces\)\. Connected interfaces with a connection profile: 'Ethernet' \(index \d+, Public\)/);
    expect(host.read()).toEqual(pre);
  });

  it('a Network List Manager policy: the plan warns, Windows refuses, the reason names the policy and nothing stays changed', async () => {
    const host = makeLabHost((s) => { publicProfile(s); nlmLocked(s); }, 6);
    const pre = host.read();
    const plan = await run([host], 'plan');
    const entry = plan.hosts[0]!.results[PB]!.plan[0]!;
    expect(entry).toMatchObject({ action: 'apply', predictable: false });
    expect(entry.warnings.join('\n')).toMatch(/Network List Manager policy forbids changing the network location .*CategoryReadOnly=1/);
    const r = await run([host], 'apply');
    const failure = r.hosts[0]!.results[PB]!.failure!;
    expect(r.hosts[0]!.outcome).toBe('rolledBack');
    expect(failure.phase).toBe('apply');
    expect(failure.message).toMatch(/^Windows refused to make interface 'Ethernet' \(index \d+\) Private\..*Network List Manager Policies.*\(Windows: Unable to set the NetworkCategory due to one of the following possible reasons/s);
    expect(host.read()).toEqual(pre);
  });

  it('a network still being identified: the reason says so on a de-DE host (judged by the error id, not the localized text)', async () => {
    const host = makeLabHost((s) => { publicProfile(s); s.netConnectionProfiles[0]!.identifying = true; }, 10);
    const pre = host.read();
    const r = await run([host], 'apply');
    const failure = r.hosts[0]!.results[PB]!.failure!;
    expect(failure.phase).toBe('apply');
    expect(failure.message).toMatch(/^Windows is still identifying the network on interface 'Ethernet' \(index \d+\).*\(Windows: NetworkCategory kann für ein als/s);
    expect(host.read()).toEqual(pre);
  });

  it('rejects bad parameters before touching any host', async () => {
    const host = makeLabHost(publicProfile, 8);
    await expect(run([host], 'apply', { interfaces: [' Ethernet'] })).rejects.toThrow(/network-profile-private\.interfaces item ' Ethernet' must match/);
    await expect(run([host], 'apply', { interfaces: 'Ethernet' })).rejects.toThrow(/must be a list of strings/);
    expect(audit(host)).toEqual([]);
  });
});
