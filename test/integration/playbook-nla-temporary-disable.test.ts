import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdtempSync, symlinkSync } from 'node:fs';
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

// Every playbook test runs on a non-English host (issue 11): tool text and account names in ja-JP.
useLabLocale('ja-JP');

// Only this cause's playbooks and what rdp-security-layer orders itself after (nla-temporary-disable,
// machinekeys-repair): the catalogue is not held hostage by other playbooks of playbooks/.
const own = mkdtempSync(path.join(tmpdir(), 'rdpfix-nla-pb-'));
for (const id of ['nla-temporary-disable', 'rdp-security-layer', 'machinekeys-repair']) symlinkSync(path.join(projectRoot(), 'playbooks', id), path.join(own, id));
const env = engineSetup([own]);
afterAll(() => env.broker.close());

const fleet = () => ({
  healthy: makeLabHost((s) => (s.name = 'lab-001'), 1),
  off: makeLabHost((s) => { s.name = 'lab-002'; s.registry[RDP_TCP_KEY]!.UserAuthentication = { kind: 'DWord', data: 0 }; }, 2),
  policy: makeLabHost((s) => { s.name = 'lab-003'; s.registry[TS_POLICY_KEY]!.UserAuthentication = { kind: 'DWord', data: 1 }; }, 3),
  absent: makeLabHost((s) => { s.name = 'lab-004'; delete s.registry[RDP_TCP_KEY]!.UserAuthentication; }, 4),
  mismatch: makeLabHost((s) => { s.name = 'lab-005'; applyScenario(s, 'nla-mismatch', createRng(5), new Date('2026-11-25T12:00:00Z')); }, 5),
});
type Fleet = ReturnType<typeof fleet>;

const run = (f: Fleet, mode: 'plan' | 'apply', parameters: Record<string, unknown> = {}) =>
  startRun({ mode, inventory: labInventory(Object.values(f)), catalogue: env.catalogue, playbookIds: ['nla-temporary-disable'], parameters: { 'nla-temporary-disable': parameters }, concurrency: 5, allowIrreversible: false, stateDir: env.stateDir, broker: env.broker });
const snapshot = (f: Fleet) => Object.fromEntries(Object.entries(f).map(([k, h]) => [k, h.read()]));
const audited = (h: LabHostFixture) => existsSync(h.statePath.replace(/\.json$/, '.audit.jsonl'));

describe('playbook nla-temporary-disable on the lab', () => {
  it('plans before → after with the TTL and says it weakens security; skips where NLA is off; blocked where policy decides', async () => {
    const plan = await run(fleet(), 'plan', { ttlMinutes: 90 });
    const p = Object.fromEntries(plan.hosts.map((h) => [h.host, h.results['nla-temporary-disable']!.plan[0]!]));
    expect(p['lab-001']).toMatchObject({ action: 'apply', before: { UserAuthentication: 1, policy: null }, after: { UserAuthentication: 0, policy: null, revertsAfterMinutes: 90 } });
    expect(p['lab-001']!.warnings.join(' ')).toMatch(/weakens security.*reverts by itself after 90 minutes \(ttlMinutes\)/);
    expect(p['lab-002']).toMatchObject({ action: 'skip', before: { UserAuthentication: 0, policy: null }, warnings: [] });
    expect(p['lab-003']).toMatchObject({ action: 'blocked', before: { UserAuthentication: 1, policy: 1 } });
    expect(p['lab-003']!.reason).toMatch(/^blocked by policy: group policy sets UserAuthentication=1 /);
    expect(p['lab-004']).toMatchObject({ action: 'apply', before: { UserAuthentication: null, policy: null } }); // absent is not "off"
  });

  it('applies and verifies, touches nothing where it skips or is blocked, and rolls back to the exact prior state', async () => {
    const f = fleet();
    const pre = snapshot(f);
    const r = await run(f, 'apply');
    expect(Object.fromEntries(r.hosts.map((h) => [h.host, h.outcome]))).toEqual({
      'lab-001': 'succeeded', 'lab-002': 'succeeded', 'lab-003': 'rolledBack', 'lab-004': 'succeeded', 'lab-005': 'succeeded' });
    for (const h of [f.healthy, f.absent, f.mismatch]) expect(h.read().registry[RDP_TCP_KEY]!.UserAuthentication).toEqual({ kind: 'DWord', data: 0 });
    expect(r.hosts.find((h) => h.host === 'lab-002')!.results['nla-temporary-disable']!.skipped).toEqual(['disable-nla']);
    for (const k of ['off', 'policy'] as const) {
      expect(f[k].read()).toEqual(pre[k]);
      expect(audited(f[k])).toBe(false);
    }
    // With NLA off, the local mismatch no longer refuses clients (for the TTL): the diagnosis finds no nla-mismatch.
    const after = await diagnoseFleet(labInventory([f.mismatch]), env.broker, { timeoutMs: 60000 });
    expect(after[0]!.findings.map((x) => x.cause)).not.toContain('nla-mismatch');

    const back = await rollbackRun({ stateDir: env.stateDir, runId: r.runId, catalogue: env.catalogue, broker: env.broker, force: false });
    expect(back.hosts.map((h) => h.outcome)).toEqual(['rolledBack', 'rolledBack', 'rolledBack', 'rolledBack', 'rolledBack']);
    expect(snapshot(f)).toEqual(pre); // lab-004's value is deleted again, not left at 1
  });

  it('undo runs from the checkpoint alone (as the revert task does), and a second run changes nothing', async () => {
    const host = makeLabHost();
    const pre = host.read();
    // The script as the engine sends it (with the shared prelude), one for every phase.
    const script = (_phase: string) => env.catalogue.get('nla-temporary-disable')!.scripts['nla-temporary-disable.ps1']!;
    const input = (phase: string) => JSON.stringify({ runId: 't', host: 'lab-001', playbook: 'nla-temporary-disable', step: 'disable-nla', phase, parameters: { ttlMinutes: 60 }, checkpoint: null });
    const target = { kind: 'lab' as const, host: host.state.name, statePath: host.statePath };
    const call = (phase: string, json: string) => env.broker.invoke(target, script(phase), [json], { timeoutMs: 60000 });
    const one = async (phase: string, json: string) => {
      const e = await call(phase, json);
      if (!e.ok) throw new Error(e.error.message);
      return JSON.parse(String(e.data.output.at(-1)));
    };
    const cp = (await one('capture', input('capture'))).state;
    expect(cp).toEqual({ key: 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp', name: 'UserAuthentication', exists: true, kind: 'DWord', data: 1 });
    expect(await one('apply', input('apply'))).toMatchObject({ changed: true, warnings: ['NLA is off on this host until the revert task restores it after 60 minutes.'] });
    expect(await one('verify', input('verify'))).toMatchObject({ ok: true });
    const bare = JSON.stringify({ step: 'disable-nla', phase: 'undo', checkpoint: cp });
    expect(await one('undo', bare)).toEqual({ changed: true, warnings: [] });
    expect(await one('undo', bare)).toEqual({ changed: false, warnings: [] });
    expect(host.read()).toEqual(pre);
    const wrong = await call('undo', JSON.stringify({ step: 'disable-nla', phase: 'undo', checkpoint: { ...cp, name: 'SecurityLayer' } }));
    expect(!wrong.ok && wrong.error.message).toMatch(/checkpoint is for 'SecurityLayer', not UserAuthentication/);
    expect(host.read()).toEqual(pre);
  });

  it('rejects bad parameters before touching any host', async () => {
    const f = fleet();
    const pre = snapshot(f);
    for (const [ttl, msg] of [[4, /nla-temporary-disable\.ttlMinutes must be at least 5/], [1441, /must be at most 1440/], [2.5, /must be a whole number/], ['60', /must be a whole number/]] as const) {
      await expect(run(f, 'apply', { ttlMinutes: ttl })).rejects.toThrow(msg);
    }
    await expect(run(f, 'apply', { ttl: 60 })).rejects.toThrow(/Playbook nla-temporary-disable has no parameter 'ttl'/);
    expect(snapshot(f)).toEqual(pre);
    expect(Object.values(f).some(audited)).toBe(false);
  });
});
