import { describe, it, expect, afterAll } from 'vitest';
import path from 'node:path';
import { makeLabHost, useLabLocale } from '../helpers/lab.js';
import { engineSetup, labInventory } from '../helpers/engine.js';
import { startRun, rollbackRun } from '../../src/engine/run.js';
import { projectRoot } from '../../src/paths.js';
import { TS_KEY, TS_POLICY_KEY } from '../../src/lab/base-host.js';

// Every playbook test runs on a non-English host (issue 11): tool text and account names in de-DE.
useLabLocale('de-DE');

const env = engineSetup([path.join(projectRoot(), 'playbooks')]);
afterAll(() => env.broker.close());

const hosts = () => ({
  healthy: makeLabHost((s) => (s.name = 'lab-001'), 1),
  disabled: makeLabHost((s) => { s.name = 'lab-002'; s.registry[TS_KEY]!.fDenyTSConnections = { kind: 'DWord', data: 1 }; }, 2),
  policy: makeLabHost((s) => { s.name = 'lab-003'; s.registry[TS_POLICY_KEY]!.fDenyTSConnections = { kind: 'DWord', data: 1 }; }, 3),
  missing: makeLabHost((s) => { s.name = 'lab-004'; delete s.registry[TS_KEY]!.fDenyTSConnections; s.registry[TS_POLICY_KEY]!.fDenyTSConnections = { kind: 'DWord', data: 0 }; }, 4),
});

const run = (fleet: ReturnType<typeof hosts>, mode: 'plan' | 'apply') =>
  startRun({ mode, inventory: labInventory(Object.values(fleet)), catalogue: env.catalogue, playbookIds: ['enable-remote-desktop'], parameters: {}, concurrency: 4, allowIrreversible: false, stateDir: env.stateDir, broker: env.broker });

describe('playbook enable-remote-desktop on the lab', () => {
  it('plans per host: compliant, would change, blocked by policy', async () => {
    const fleet = hosts();
    const plan = await run(fleet, 'plan');
    const entries = Object.fromEntries(plan.hosts.map((h) => [h.host, h.results['enable-remote-desktop']!.plan[0]!]));
    expect(entries['lab-001']).toMatchObject({ action: 'skip' });
    expect(entries['lab-002']).toMatchObject({ action: 'apply', before: { fDenyTSConnections: 1, policy: null }, after: { fDenyTSConnections: 0, policy: null } });
    expect(entries['lab-003']!.action).toBe('blocked');
    expect(entries['lab-003']!.reason).toMatch(/^blocked by policy: group policy sets fDenyTSConnections=1/);
    expect(entries['lab-004']).toMatchObject({ action: 'skip', before: { fDenyTSConnections: null, policy: 0 } });
  });

  it('apply fixes the disabled host, changes nothing where policy decides, and rollback restores it exactly', async () => {
    const fleet = hosts();
    const pre = Object.fromEntries(Object.entries(fleet).map(([k, h]) => [k, h.read()]));
    const result = await run(fleet, 'apply');
    const outcome = Object.fromEntries(result.hosts.map((h) => [h.host, h.outcome]));
    expect(outcome).toEqual({ 'lab-001': 'succeeded', 'lab-002': 'succeeded', 'lab-003': 'rolledBack', 'lab-004': 'succeeded' });
    expect(fleet.disabled.read().registry[TS_KEY]!.fDenyTSConnections).toEqual({ kind: 'DWord', data: 0 });
    expect(fleet.policy.read()).toEqual(pre.policy);
    expect(fleet.healthy.read()).toEqual(pre.healthy);

    const again = await run(fleet, 'apply'); // idempotent: nothing left to change
    expect(again.hosts.find((h) => h.host === 'lab-002')!.results['enable-remote-desktop']!.skipped).toEqual(['allow-connections']);

    const back = await rollbackRun({ stateDir: env.stateDir, runId: result.runId, catalogue: env.catalogue, broker: env.broker, force: false });
    expect(back.hosts.every((h) => h.outcome === 'rolledBack')).toBe(true);
    expect(fleet.disabled.read()).toEqual(pre.disabled);
  });

  // (Timeouts are exercised with the test playbook, whose steps time out in 8 s rather than 60.)
  for (const [what, mode] of [['an apply error', 'error']] as const) {
    it(`after ${what}, the host is exactly as it was`, async () => {
      const host = makeLabHost((s) => {
        s.registry[TS_KEY]!.fDenyTSConnections = { kind: 'DWord', data: 1 };
        s.faults.commands.push({ command: 'New-ItemProperty', nth: 1, mode, message: 'Requested registry access is not allowed.' });
      });
      const pre = host.read();
      const r = await startRun({ mode: 'apply', inventory: labInventory([host]), catalogue: env.catalogue, playbookIds: ['enable-remote-desktop'], parameters: {}, concurrency: 1, allowIrreversible: false, stateDir: env.stateDir, broker: env.broker });
      expect(r.hosts[0]!.outcome).toBe('rolledBack');
      expect(r.hosts[0]!.results['enable-remote-desktop']!.failure).toMatchObject({ phase: 'apply', category: 'script' });
      expect(host.read()).toEqual(pre);
    }, 120_000);
  }
});
