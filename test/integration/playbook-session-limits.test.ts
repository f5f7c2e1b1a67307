import { describe, it, expect, afterAll } from 'vitest';
import path from 'node:path';
import { makeLabHost, useLabLocale } from '../helpers/lab.js';
import { engineSetup, labInventory } from '../helpers/engine.js';
import { startRun, rollbackRun } from '../../src/engine/run.js';
import { projectRoot } from '../../src/paths.js';
import { RDP_TCP_KEY, TS_KEY, TS_POLICY_KEY } from '../../src/lab/base-host.js';

// Every playbook test runs on a non-English host (issue 11): tool text and account names in ru-RU.
useLabLocale('ru-RU');

const env = engineSetup([path.join(projectRoot(), 'playbooks')]);
afterAll(() => env.broker.close());

const fleet = () => ({
  healthy: makeLabHost((s) => (s.name = 'lab-001'), 1),
  capped: makeLabHost((s) => { s.name = 'lab-002'; s.registry[RDP_TCP_KEY]!.MaxInstanceCount = { kind: 'DWord', data: 2 }; }, 2),
  policy: makeLabHost((s) => { s.name = 'lab-003'; s.registry[TS_POLICY_KEY]!.MaxInstanceCount = { kind: 'DWord', data: 1 }; }, 3),
});

const run = (f: ReturnType<typeof fleet>, mode: 'plan' | 'apply', parameters: Record<string, unknown> = {}) =>
  startRun({ mode, inventory: labInventory(Object.values(f)), catalogue: env.catalogue, playbookIds: ['session-limits'], parameters: { 'session-limits': parameters }, concurrency: 3, allowIrreversible: false, stateDir: env.stateDir, broker: env.broker });

describe('playbook session-limits on the lab', () => {
  it('plans: unlimited already, 2 → 4294967295, blocked by policy; single-session left alone by default', async () => {
    const plan = await run(fleet(), 'plan');
    const p = Object.fromEntries(plan.hosts.map((h) => [h.host, h.results['session-limits']!.plan]));
    expect(p['lab-001']!.map((e) => e.action)).toEqual(['skip', 'skip']);
    expect(p['lab-001']![0]!.before).toEqual({ name: 'MaxInstanceCount', local: 4294967295, policy: null });
    expect(p['lab-002']![0]).toMatchObject({ action: 'apply', before: { local: 2 }, after: { local: 4294967295 } });
    expect(p['lab-003']![0]!.action).toBe('blocked');
  });

  it('applies, verifies, and rolls back to the exact prior state', async () => {
    const f = fleet();
    const pre = Object.fromEntries(Object.entries(f).map(([k, h]) => [k, h.read()]));
    const r = await run(f, 'apply', { singleSessionPerUser: 'off' });
    expect(Object.fromEntries(r.hosts.map((h) => [h.host, h.outcome]))).toEqual({ 'lab-001': 'succeeded', 'lab-002': 'succeeded', 'lab-003': 'rolledBack' });
    const capped = f.capped.read();
    expect(capped.registry[TS_KEY]!.fSingleSessionPerUser).toEqual({ kind: 'DWord', data: 0 });
    expect([4294967295, -1]).toContain(capped.registry[RDP_TCP_KEY]!.MaxInstanceCount!.data);
    expect(f.policy.read()).toEqual(pre.policy);
    const back = await rollbackRun({ stateDir: env.stateDir, runId: r.runId, catalogue: env.catalogue, broker: env.broker, force: false });
    expect(back.hosts.map((h) => h.outcome)).toEqual(['rolledBack', 'rolledBack', 'rolledBack']);
    expect(f.capped.read()).toEqual(pre.capped);
    expect(f.healthy.read()).toEqual(pre.healthy);
  });

  it('rejects a bad parameter before touching any host', async () => {
    await expect(run(fleet(), 'apply', { singleSessionPerUser: 'maybe' })).rejects.toThrow(/session-limits\.singleSessionPerUser must be one of keep, on, off/);
  });
});
