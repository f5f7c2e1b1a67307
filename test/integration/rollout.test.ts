import { afterAll, describe, expect, it } from 'vitest';
import { makeLabHost } from '../helpers/lab.js';
import { engineSetup, labInventory } from '../helpers/engine.js';
import { readRun } from '../../src/journal/journal.js';
import { buildReport } from '../../src/report/model.js';
import { recapExitCode, recapRows } from '../../src/cli/recap.js';
import { resumeRun, rollbackRun, startRun } from '../../src/engine/run.js';
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

  describe('Ctrl-C (the abort signal) after the first step of a three-step playbook is verified', () => {
    /** Applies registry-values to one host and aborts as soon as its first step is journaled verified. */
    async function interrupted(name: string) {
      const host = makeLabHost((s) => (s.name = name));
      const ctrlC = new AbortController();
      const r = await startRun({
        mode: 'apply', inventory: labInventory([host]), catalogue: env.catalogue, playbookIds: ['registry-values'], parameters: { 'registry-values': {} },
        concurrency: 1, allowIrreversible: false, stateDir: env.stateDir, broker: env.broker, signal: ctrlC.signal,
        onRecord: (rec) => rec.type === 'step-verified' && rec.step === 'set-alpha' && ctrlC.abort(),
      });
      return { host, r };
    }
    const past = (runId: string) => ({ stateDir: env.stateDir, runId, catalogue: env.catalogue, broker: env.broker, force: false });

    it('stops the host before step 2 with step 1 kept; resume applies steps 2 and 3 only and the host ends compliant', async () => {
      const { host, r } = await interrupted('stop1');
      expect(r.hosts.map((h) => h.outcome)).toEqual(['stopped']);
      expect(r.state.hosts.stop1!.state).toBe('stopped');
      expect(r.state.hosts.stop1!.progress['registry-values']).toMatchObject({ outcome: 'stopped', stoppedBefore: 'set-beta', applied: ['set-alpha'], verified: ['set-alpha'] });
      expect(host.read().registry[TEST_KEY]).toEqual({ Alpha: { kind: 'DWord', data: 1 } });
      expect(r.notes.join('\n')).toMatch(new RegExp(`stop1 stopped between steps.*rdpfix resume ${r.runId}`));
      // The recap tells the truth: stopped, one step changed, nothing failed, and exit 4 (incomplete: resume).
      const recap = recapRows(buildReport(readRun(env.stateDir, r.runId).records, { now: new Date() }), r);
      expect(recap).toEqual([expect.objectContaining({ host: 'stop1', state: 'stopped', changed: 1, failed: 0, undone: 0, detail: expect.stringMatching(/stopped before set-beta/) })]);
      expect(recapExitCode(recap, 'apply')).toBe(4);

      const resumed = await resumeRun({ ...past(r.runId), rollback: false });
      expect(resumed.hosts.map((h) => h.outcome)).toEqual(['succeeded']);
      expect(resumed.state.hosts.stop1!.state).toBe('succeeded');
      expect(host.read().registry[TEST_KEY]).toEqual({ Alpha: { kind: 'DWord', data: 1 }, Beta: { kind: 'DWord', data: 2 }, Gamma: { kind: 'DWord', data: 3 } });
      // Exactly from the next step: after resume-started, set-alpha is neither checked nor applied again.
      const records = readRun(env.stateDir, r.runId).records;
      const after = records.slice(records.findIndex((x) => x.type === 'resume-started'));
      expect(after.filter((x) => x.type === 'step-checkpoint').map((x) => 'step' in x && x.step)).toEqual(['set-beta', 'set-gamma']);
      expect(after.some((x) => 'step' in x && x.step === 'set-alpha')).toBe(false);
    }, 180_000);

    it('rollback of the interrupted run undoes the applied step', async () => {
      const { host, r } = await interrupted('stop2');
      expect(host.read().registry[TEST_KEY]).toEqual({ Alpha: { kind: 'DWord', data: 1 } });
      const back = await rollbackRun(past(r.runId));
      expect(back.hosts.map((h) => h.outcome)).toEqual(['rolledBack']);
      expect(back.state.hosts.stop2!.state).toBe('rolled-back');
      expect(host.read().registry[TEST_KEY]).toBeUndefined();
    }, 180_000);
  });
});
