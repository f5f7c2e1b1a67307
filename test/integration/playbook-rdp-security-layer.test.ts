import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeLabHost, type LabHostFixture, useLabLocale } from '../helpers/lab.js';
import { engineSetup, labInventory } from '../helpers/engine.js';
import { startRun, rollbackRun } from '../../src/engine/run.js';
import { diagnoseFleet } from '../../src/diagnose/diagnose.js';
import { projectRoot } from '../../src/paths.js';
import { applyScenario } from '../../src/lab/scenarios.js';
import { createRng } from '../../src/lab/rng.js';
import { RDP_TCP_KEY, TS_POLICY_KEY } from '../../src/lab/base-host.js';

// Every playbook test runs on a non-English host (issue 11): tool text and account names in de-DE.
useLabLocale('de-DE');

// Only this cause's playbooks and what rdp-security-layer orders itself after (nla-temporary-disable,
// machinekeys-repair): the catalogue is not held hostage by other playbooks of playbooks/.
const own = mkdtempSync(path.join(tmpdir(), 'rdpfix-nla-pb-'));
for (const id of ['nla-temporary-disable', 'rdp-security-layer', 'machinekeys-repair']) symlinkSync(path.join(projectRoot(), 'playbooks', id), path.join(own, id));
const env = engineSetup([own]);
afterAll(() => env.broker.close());

const now = new Date('2026-11-25T12:00:00Z');
const fleet = () => ({
  healthy: makeLabHost((s) => (s.name = 'lab-001'), 1),
  local: makeLabHost((s) => { s.name = 'lab-002'; applyScenario(s, 'nla-mismatch', createRng(2), now); }, 2),
  policy: makeLabHost((s) => { s.name = 'lab-003'; applyScenario(s, 'nla-policy', createRng(3), now); }, 3),
});
type Fleet = ReturnType<typeof fleet>;

const run = (hosts: LabHostFixture[], mode: 'plan' | 'apply', parameters: Record<string, Record<string, unknown>> = {}, ids = ['rdp-security-layer']) =>
  startRun({ mode, inventory: labInventory(hosts), catalogue: env.catalogue, playbookIds: ids, parameters, concurrency: 3, allowIrreversible: false, stateDir: env.stateDir, broker: env.broker });
const snapshot = (f: Fleet) => Object.fromEntries(Object.entries(f).map(([k, h]) => [k, h.read()]));
const audited = (h: LabHostFixture) => existsSync(h.statePath.replace(/\.json$/, '.audit.jsonl'));
const nla = async (hosts: LabHostFixture[]) =>
  Object.fromEntries((await diagnoseFleet(labInventory(hosts), env.broker, { timeoutMs: 60000 })).map((d) => [d.host, d.findings.find((f) => f.cause === 'nla-mismatch') ?? null]));

describe('playbook rdp-security-layer on the lab', () => {
  it('plans: healthy skipped, the local mismatch raised to TLS (Low raised first), the policy one blocked', async () => {
    const plan = await run(Object.values(fleet()), 'plan');
    const p = Object.fromEntries(plan.hosts.map((h) => [h.host, h.results['rdp-security-layer']!.plan]));
    expect(p['lab-001']!.map((e) => e.action)).toEqual(['skip', 'skip', 'skip']);
    expect(p['lab-002']![0]).toMatchObject({ step: 'min-encryption-level', action: 'apply', before: { MinEncryptionLevel: 1, policy: null }, after: { MinEncryptionLevel: 2, policy: null } });
    expect(p['lab-002']![0]!.warnings.join(' ')).toMatch(/not valid with MinEncryptionLevel 1 \(Low\)/);
    expect(p['lab-002']![1]).toMatchObject({ step: 'raise-security-layer', action: 'apply', before: { SecurityLayer: 0, name: 'RDP Security Layer', policy: null }, after: { SecurityLayer: 2, name: 'SSL/TLS', policy: null } });
    expect(p['lab-002']![1]!.warnings).toEqual([]); // hardening: no expiry
    expect(p['lab-002']![2]).toMatchObject({ step: 'lower-security-layer', action: 'skip' });
    expect(p['lab-003']!.map((e) => e.action)).toEqual(['skip', 'blocked', 'skip']);
    expect(p['lab-003']![1]).toMatchObject({ before: { SecurityLayer: 2, name: 'RDP Security Layer', policy: 0 } });
    expect(p['lab-003']![1]!.reason).toMatch(/^blocked by policy: group policy sets SecurityLayer=0 /);
  });

  it('fixes the local mismatch (healthy for the cause by a second diagnosis), leaves the policy host untouched, rolls back exactly', async () => {
    const f = fleet();
    const pre = snapshot(f);
    const before = await nla([f.local, f.policy]);
    expect(before['lab-002']).toMatchObject({ playbook: 'rdp-security-layer', blockedByPolicy: false });
    expect(before['lab-003']).toMatchObject({ playbook: 'rdp-security-layer', blockedByPolicy: true });

    const r = await run(Object.values(f), 'apply');
    expect(Object.fromEntries(r.hosts.map((h) => [h.host, h.outcome]))).toEqual({ 'lab-001': 'succeeded', 'lab-002': 'succeeded', 'lab-003': 'rolledBack' });
    expect(r.hosts.find((h) => h.host === 'lab-003')!.results['rdp-security-layer']!.failure).toMatchObject({ phase: 'blocked', message: expect.stringMatching(/^blocked by policy/) });
    const local = f.local.read().registry[RDP_TCP_KEY]!;
    expect([local.SecurityLayer, local.MinEncryptionLevel, local.UserAuthentication]).toEqual([{ kind: 'DWord', data: 2 }, { kind: 'DWord', data: 2 }, { kind: 'DWord', data: 1 }]);
    expect(f.policy.read()).toEqual(pre.policy);
    expect(audited(f.policy)).toBe(false); // not one write on the policy host
    expect(f.healthy.read()).toEqual(pre.healthy);
    expect(audited(f.healthy)).toBe(false);
    expect((await nla([f.local]))['lab-002']).toBeNull();

    const back = await rollbackRun({ stateDir: env.stateDir, runId: r.runId, catalogue: env.catalogue, broker: env.broker, force: false });
    expect(back.hosts.map((h) => h.outcome)).toEqual(['rolledBack', 'rolledBack', 'rolledBack']);
    expect(f.local.read()).toEqual(pre.local);
    expect(f.healthy.read()).toEqual(pre.healthy);
    expect(f.policy.read()).toEqual(pre.policy);
  });

  it('negotiate also fixes it; minEncryptionLevel=keep refuses TLS over Low; explicit levels are set exactly', async () => {
    const local = () => [makeLabHost((s) => { s.name = 'lab-002'; applyScenario(s, 'nla-mismatch', createRng(2), now); }, 2)];
    const neg = (await run(local(), 'plan', { 'rdp-security-layer': { securityLayer: 'negotiate' } })).hosts[0]!.results['rdp-security-layer']!.plan;
    expect(neg.map((e) => [e.action, e.after])).toEqual([
      ['skip', { MinEncryptionLevel: 1, policy: null }], ['apply', { SecurityLayer: 1, name: 'Negotiate', policy: null }], ['skip', { SecurityLayer: 0, name: 'RDP Security Layer', policy: null }]]);
    const down = (await run([makeLabHost((s) => (s.name = 'lab-001'), 1)], 'plan', { 'rdp-security-layer': { securityLayer: 'negotiate' } })).hosts[0]!.results['rdp-security-layer']!.plan;
    expect(down.map((e) => e.action)).toEqual(['skip', 'skip', 'apply']); // TLS → Negotiate lowers: it expires
    expect(down[2]!.after).toEqual({ SecurityLayer: 1, name: 'Negotiate', policy: null, revertsAfterMinutes: 60 });
    expect(down[2]!.warnings.join(' ')).toMatch(/Negotiate weakens security.*reverts by itself after 60 minutes/);
    const keep = (await run(local(), 'plan', { 'rdp-security-layer': { minEncryptionLevel: 'keep' } })).hosts[0]!.results['rdp-security-layer']!.plan;
    expect(keep[1]).toMatchObject({ action: 'blocked', reason: expect.stringMatching(/^refused: SecurityLayer 2 \(SSL\/TLS\) is not valid while MinEncryptionLevel is 1/) });
    const hosts = local();
    const pre = hosts[0]!.read();
    const r = await run(hosts, 'apply', { 'rdp-security-layer': { minEncryptionLevel: 'high' } });
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    expect(hosts[0]!.read().registry[RDP_TCP_KEY]!.MinEncryptionLevel).toEqual({ kind: 'DWord', data: 3 });
    await rollbackRun({ stateDir: env.stateDir, runId: r.runId, catalogue: env.catalogue, broker: env.broker, force: false });
    expect(hosts[0]!.read()).toEqual(pre);
  });

  it('the RDP Security Layer (old clients) is refused while NLA is required; after nla-temporary-disable it applies with its TTL', async () => {
    const alone = (await run([makeLabHost((s) => (s.name = 'lab-001'), 1)], 'plan', { 'rdp-security-layer': { securityLayer: 'rdp' } })).hosts[0]!.results['rdp-security-layer']!.plan;
    expect(alone.map((e) => e.action)).toEqual(['skip', 'skip', 'blocked']);
    expect(alone[2]).toMatchObject({ reason: expect.stringMatching(/^refused: NLA is required \(UserAuthentication=1\)/) });

    const host = makeLabHost((s) => (s.name = 'lab-001'), 1);
    const pre = host.read();
    const r = await run([host], 'apply', { 'rdp-security-layer': { securityLayer: 'rdp', ttlMinutes: 30 }, 'nla-temporary-disable': { ttlMinutes: 30 } }, ['rdp-security-layer', 'nla-temporary-disable']);
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    const layer = r.hosts[0]!.results['rdp-security-layer']!;
    expect(layer.completed).toEqual(['lower-security-layer']);
    const rdpTcp = host.read().registry[RDP_TCP_KEY]!;
    expect([rdpTcp.UserAuthentication!.data, rdpTcp.SecurityLayer!.data]).toEqual([0, 0]);
    // The journal holds the check that ran (after NLA went off): its warnings say it weakens security and when it reverts.
    const journal = readFileSync(path.join(env.stateDir, 'runs', r.runId, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l.split('\t')[0]!));
    const checked = journal.find((x) => x.type === 'step-checked' && x.playbook === 'rdp-security-layer' && x.step === 'lower-security-layer');
    expect(checked.result.after).toEqual({ SecurityLayer: 0, name: 'RDP Security Layer', policy: null, revertsAfterMinutes: 30 });
    expect(checked.result.warnings.join(' ')).toMatch(/weakens security.*reverts by itself after 30 minutes/);
    const back = await rollbackRun({ stateDir: env.stateDir, runId: r.runId, catalogue: env.catalogue, broker: env.broker, force: false });
    expect(back.hosts[0]!.outcome).toBe('rolledBack');
    expect(host.read()).toEqual(pre);
  });

  it('a lowered layer that would outlast NLA coming back is refused at plan time, before any host is touched', async () => {
    const host = makeLabHost((s) => (s.name = 'lab-001'), 1);
    const params = { 'rdp-security-layer': { securityLayer: 'rdp', ttlMinutes: 60 }, 'nla-temporary-disable': { ttlMinutes: 30 } };
    for (const mode of ['plan', 'apply'] as const) {
      await expect(run([host], mode, params, ['rdp-security-layer', 'nla-temporary-disable']))
        .rejects.toThrow(/Host lab-001: rdp-security-layer\.ttlMinutes \(60\) outlasts nla-temporary-disable\.ttlMinutes \(30\)/);
    }
    expect(audited(host)).toBe(false);
  });

  it('undo runs from the checkpoint alone, restores absence, and a second run changes nothing', async () => {
    const host = makeLabHost((s) => { delete s.registry[RDP_TCP_KEY]!.SecurityLayer; });
    const pre = host.read();
    // The script as the engine sends it (with the shared prelude), one for every phase.
    const script = (_phase: string) => env.catalogue.get('rdp-security-layer')!.scripts['rdp-security-layer.ps1']!;
    const input = (x: object) => JSON.stringify({ runId: 't', host: 'lab-001', playbook: 'rdp-security-layer', step: 'raise-security-layer', parameters: { securityLayer: 'tls', minEncryptionLevel: 'auto', ttlMinutes: 60 }, checkpoint: null, ...x });
    const target = { kind: 'lab' as const, host: host.state.name, statePath: host.statePath };
    const call = (phase: string, json: string) => env.broker.invoke(target, script(phase), [json], { timeoutMs: 60000 });
    const one = async (phase: string, json: string) => {
      const e = await call(phase, json);
      if (!e.ok) throw new Error(e.error.message);
      return JSON.parse(String(e.data.output.at(-1)));
    };
    const cp = (await one('capture', input({ phase: 'capture' }))).state;
    expect(cp).toEqual({ key: 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp', name: 'SecurityLayer', exists: false, kind: null, data: null });
    expect(await one('apply', input({ phase: 'apply' }))).toMatchObject({ changed: true });
    expect(host.read().registry[RDP_TCP_KEY]!.SecurityLayer).toEqual({ kind: 'DWord', data: 2 });
    const bare = JSON.stringify({ step: 'raise-security-layer', phase: 'undo', checkpoint: cp }); // what an unattended revert needs: the checkpoint, no parameters
    expect(await one('undo', bare)).toEqual({ changed: true, warnings: [] });
    expect(await one('undo', bare)).toEqual({ changed: false, warnings: [] });
    expect(host.read()).toEqual(pre);
    const forged = JSON.stringify({ step: 'raise-security-layer', phase: 'undo', checkpoint: { ...cp, name: 'PortNumber' } });
    const refused = await call('undo', forged);
    expect(!refused.ok && refused.error.message).toMatch(/checkpoint is for 'PortNumber', not SecurityLayer/);
    expect(host.read()).toEqual(pre);
  });

  it('rejects bad parameters before touching any host', async () => {
    const f = fleet();
    const pre = snapshot(f);
    for (const [params, msg] of [
      [{ securityLayer: 'ssl' }, /rdp-security-layer\.securityLayer must be one of tls, negotiate, rdp/],
      [{ minEncryptionLevel: 'low' }, /rdp-security-layer\.minEncryptionLevel must be one of auto, keep, client-compatible, high, fips/],
      [{ ttlMinutes: 4 }, /rdp-security-layer\.ttlMinutes must be at least 5/],
      [{ ttlMinutes: 1441 }, /rdp-security-layer\.ttlMinutes must be at most 1440/],
    ] as const) {
      await expect(run(Object.values(f), 'apply', { 'rdp-security-layer': params })).rejects.toThrow(msg);
    }
    expect(snapshot(f)).toEqual(pre);
    expect(Object.values(f).some(audited)).toBe(false);
    expect(f.policy.read().registry[TS_POLICY_KEY]!.SecurityLayer).toEqual({ kind: 'DWord', data: 0 });
  });
});
