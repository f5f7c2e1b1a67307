import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { makeLabHost } from '../helpers/lab.js';
import { engineSetup, labInventory } from '../helpers/engine.js';
import { startRun } from '../../src/engine/run.js';
import { readRun } from '../../src/journal/journal.js';
import type { LabHostState } from '../../src/lab/state.js';

const env = engineSetup();
afterAll(() => env.broker.close());

const TEST_KEY = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\RdpfixTest';

function run(host: ReturnType<typeof makeLabHost>, mode: 'apply' | 'plan', parameters: Record<string, unknown> = {}) {
  return startRun({
    mode, inventory: labInventory([host]), catalogue: env.catalogue, playbookIds: ['registry-values'],
    parameters: { 'registry-values': parameters }, concurrency: 4, allowIrreversible: false, stateDir: env.stateDir, broker: env.broker,
  });
}

/** The whole lab state document, as JSON values. */
const snapshot = (h: ReturnType<typeof makeLabHost>): LabHostState => h.read();

describe('engine on the lab', () => {
  it('applies every step, journals it, and is idempotent', async () => {
    const host = makeLabHost();
    const r = await run(host, 'apply');
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    const values = host.read().registry[TEST_KEY]!;
    expect(values).toEqual({ Alpha: { kind: 'DWord', data: 1 }, Beta: { kind: 'DWord', data: 2 }, Gamma: { kind: 'DWord', data: 3 } });
    const types = readRun(env.stateDir, r.runId).records.map((x) => x.type);
    expect(types[0]).toBe('run-started');
    expect(types.filter((t) => t === 'step-checkpoint')).toHaveLength(3);
    expect(types.at(-1)).toBe('run-finished');

    const again = await run(host, 'apply');
    expect(again.hosts[0]!.results['registry-values']!.skipped).toEqual(['set-alpha', 'set-beta', 'set-gamma']);
  });

  it('two applies on one host at once: the second is refused by the host lease (main: both ran, writing twice)', async () => {
    const host = makeLabHost();
    // Either may take the lease first (leases are written concurrently, off the event loop): exactly one runs.
    const both = await Promise.allSettled([run(host, 'apply'), run(host, 'apply')]);
    const ran = both.filter((r) => r.status === 'fulfilled');
    const refused = both.filter((r) => r.status === 'rejected');
    expect(ran).toHaveLength(1);
    expect(ran[0]).toMatchObject({ status: 'fulfilled', value: { hosts: [{ outcome: 'succeeded' }] } });
    expect(refused[0]).toMatchObject({ status: 'rejected', reason: { kind: 'usage', message: expect.stringMatching(/in use by another run: lab-001 \(process \d+ on /) } });
    const audit = readFileSync(host.statePath.replace(/\.json$/, '.audit.jsonl'), 'utf8').split('\n').filter((l) => l.includes('New-ItemProperty'));
    expect(audit).toHaveLength(3);
    // The lease is given back: the next run takes the host again.
    expect((await run(host, 'apply')).hosts[0]!.outcome).toBe('succeeded');
  });

  it('plan changes nothing: state byte-identical, no write command issued', async () => {
    const host = makeLabHost();
    const before = readFileSync(host.statePath, 'utf8');
    const r = await run(host, 'plan');
    expect(r.hosts[0]!.outcome).toBe('planned');
    expect(r.hosts[0]!.results['registry-values']!.plan.map((p) => [p.step, p.action, p.before, p.after])).toEqual([
      ['set-alpha', 'apply', null, 1], ['set-beta', 'apply', null, 2], ['set-gamma', 'apply', null, 3]]);
    expect(readFileSync(host.statePath, 'utf8')).toBe(before);
    expect(existsSync(host.statePath.replace(/\.json$/, '.audit.jsonl'))).toBe(false);
  });

  const failures: [string, (step: number) => { mutate?: (s: LabHostState) => void; parameters?: Record<string, unknown> }][] = [
    ['an apply error', (n) => ({ mutate: (s) => s.faults.commands.push({ command: 'New-ItemProperty', nth: n, mode: 'error', message: 'Access is denied' }) })],
    ['a verify mismatch', (n) => ({ parameters: { mismatchStep: ['set-alpha', 'set-beta', 'set-gamma'][n - 1] } })],
    ['a timeout', (n) => ({ mutate: (s) => s.faults.commands.push({ command: 'New-ItemProperty', nth: n, mode: 'hang' }) })],
  ];
  for (const [what, make] of failures) {
    for (const n of [1, 2, 3]) {
      it(`after ${what} on step ${n}, automatic rollback leaves the host exactly as it was`, async () => {
        const { mutate, parameters } = make(n);
        const host = makeLabHost((s) => {
          mutate?.(s);
          // An existing value that step 2 overwrites: undo must restore it, kind included.
          s.registry[TEST_KEY] = { Beta: { kind: 'String', data: 'old' } };
        });
        const pre = snapshot(host);
        const r = await run(host, 'apply', parameters);
        const out = r.hosts[0]!;
        expect(out.outcome).toBe('rolledBack');
        const pb = out.results['registry-values']!;
        expect(pb.failure?.step).toBe(['set-alpha', 'set-beta', 'set-gamma'][n - 1]);
        expect(pb.undone).toEqual(['set-alpha', 'set-beta', 'set-gamma'].slice(0, n).reverse());
        expect(snapshot(host)).toEqual(pre);
      });
    }
  }
});
