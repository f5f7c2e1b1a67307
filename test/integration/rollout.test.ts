import { afterAll, describe, expect, it } from 'vitest';
import { makeLabHost } from '../helpers/lab.js';
import { engineSetup, labInventory } from '../helpers/engine.js';
import { startRun } from '../../src/engine/run.js';
import type { Rollout } from '../../src/engine/rollout.js';

const env = engineSetup();
afterAll(() => env.broker.close());
const TEST_KEY = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\RdpfixTest';

/** Six lab hosts h1..h6; those in `failing` refuse the playbook's first registry write (Access is denied). */
function fleet(failing: string[]) {
  return ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((name) => makeLabHost((s) => {
    s.name = name;
    if (failing.includes(name)) s.faults.commands.push({ command: 'New-ItemProperty', nth: 1, mode: 'error', message: 'Access is denied' });
  }));
}

function apply(hosts: ReturnType<typeof fleet>, rollout: Rollout) {
  return startRun({
    mode: 'apply', inventory: labInventory(hosts), catalogue: env.catalogue, playbookIds: ['registry-values'], parameters: { 'registry-values': {} },
    concurrency: 4, allowIrreversible: false, stateDir: env.stateDir, broker: env.broker, rollout,
  });
}

const changed = (h: ReturnType<typeof makeLabHost>) => h.read().registry[TEST_KEY] !== undefined;

describe('rollout safety on the lab', () => {
  it('a wave past --max-fail stops the run: later waves never start; --rollback-wave undoes that wave\'s changed hosts', async () => {
    const hosts = fleet(['h2']);
    let asked: string[] = [];
    const r = await apply(hosts, { canary: 1, serial: { count: 2 }, maxFailPercent: 40, rollbackWave: true, checkCanary: async (names) => {
      asked = names;
      return names.map((host) => ({ host, healthy: true }));
    } });
    expect(asked).toEqual(['h1']);
    // Waves: [h1] [h2 h3] [h4 h5] [h6]; wave 2 has 1 of 2 failed (50% > 40%): h4..h6 never start.
    expect(r.state.rolloutStopped).toEqual({ wave: 2, reason: expect.stringMatching(/^wave 2: 1 of 2 host\(s\) failed \(h2\)/), notStarted: ['h4', 'h5', 'h6'] });
    const states = Object.fromEntries(Object.values(r.state.hosts).map((h) => [h.host, h.state]));
    expect(states).toEqual({ h1: 'succeeded', h2: 'failed-rolled-back', h3: 'rolled-back', h4: 'not-reached', h5: 'not-reached', h6: 'not-reached' });
    expect(hosts.map(changed)).toEqual([true, false, false, false, false, false]);
    expect(r.notes.join('\n')).toMatch(/3 host\(s\) never started \(rdpfix apply --retry \S+ runs them\)/);
  }, 180_000);

  it('a canary that is not healthy by a second look stops the run before any other host starts', async () => {
    const hosts = fleet([]);
    const r = await apply(hosts, { canary: 2, checkCanary: async (names) => names.map((host) => ({ host, healthy: host !== 'h2', why: 'still rdp-disabled' })) });
    expect(r.state.rolloutStopped).toMatchObject({ wave: 1, reason: 'canary: h2 is not healthy (still rdp-disabled)', notStarted: ['h3', 'h4', 'h5', 'h6'] });
    expect(hosts.map(changed)).toEqual([true, true, false, false, false, false]);
  }, 180_000);
});
