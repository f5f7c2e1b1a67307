import { describe, it, expect } from 'vitest';
import { createActor, fromPromise, toPromise } from 'xstate';
import { createPlaybookMachine, type PlaybookInfo, type PlaybookInput, type PlaybookOutput, type RevertTaskCall, type ScriptCall, type ScriptResult } from '../../machines/playbook.machine.js';
import { reconcileMachine, type ReconcileOutput } from '../../machines/reconcile.machine.js';
import { hostMachine, type HostOutput } from '../../machines/host.machine.js';
import { foldRun } from '../../src/engine/run-state.js';
import type { MachineRecord, RecordBody } from '../../src/journal/records.js';
import { header, hostStarted, journal, playbookStarted } from '../helpers/journal.js';

/**
 * Crash reconciliation and rollback, through fake actors, for every journal prefix a crash can leave.
 * A fake host is a key/value store; each step sets one key. A real run of the playbook machine on it is recorded
 * record by record, with the host as it was at each record *and* just before the next one (an apply or undo the
 * journal never heard of). For each such crash point, resume (reconcile, then the playbook machine going on) must
 * leave the host exactly remediated with no value applied twice in a row, and rollback must leave it exactly as it was.
 */
type Host = Record<string, string>;
const TARGETS: Host = { a: 'A', b: 'B', c: 'C' };
const INITIAL: Host = { a: 'a0', c: 'c0' }; // b is absent before the run: its undo removes it
const info: PlaybookInfo = { id: 'p', steps: ['a', 'b', 'c'].map((id) => ({ id, title: id, irreversible: false, predictable: true, hasCapture: true, revertTask: id === 'b' ? { expires: false } : null })) };

function fakeActors(host: Host, log: { failVerifyOf?: string; records: MachineRecord[]; writes: string[]; onRecord?: (r: MachineRecord) => void; afterRecord?: () => void }) {
  return {
    runScript: fromPromise<ScriptResult, ScriptCall>(async ({ input: { step, phase, checkpoint } }) => {
      switch (phase) {
        case 'check':
          return { compliant: host[step] === TARGETS[step], warnings: [] };
        case 'capture':
          return { state: host[step] ?? null, warnings: [] };
        case 'apply':
          // A double apply: the value already at its target is written again with no undo in between.
          log.writes.push(host[step] === TARGETS[step] ? `DOUBLE ${step}` : `apply ${step}`);
          host[step] = TARGETS[step]!;
          return { changed: true, warnings: [] };
        case 'verify':
          return { ok: host[step] === TARGETS[step] && step !== log.failVerifyOf, warnings: [] };
        case 'undo':
          log.writes.push(`undo ${step}`);
          if (checkpoint === null) delete host[step];
          else host[step] = checkpoint as string;
          return { changed: true, warnings: [] };
      }
    }),
    record: fromPromise<void, MachineRecord>(async ({ input }) => {
      log.onRecord?.(input);
      log.records.push(input);
      log.afterRecord?.();
    }),
    revertTask: fromPromise<void, RevertTaskCall>(async () => {}),
  };
}

async function runPb(host: Host, input: Omit<PlaybookInput, 'playbook'>, log: { records: MachineRecord[]; writes: string[]; failVerifyOf?: string } = { records: [], writes: [] }): Promise<PlaybookOutput> {
  const actor = createActor(createPlaybookMachine(info).provide({ actors: fakeActors(host, log) }), { input: { playbook: info, ...input } });
  actor.start();
  return toPromise(actor);
}

/** Every crash point of one uninterrupted run: the records written so far and the host at that moment. */
async function crashPoints(failVerifyOf?: string): Promise<{ records: MachineRecord[]; host: Host; label: string }[]> {
  const host = { ...INITIAL };
  const points: { records: MachineRecord[]; host: Host; label: string }[] = [{ records: [], host: { ...host }, label: 'before any step record' }];
  const log = {
    records: [] as MachineRecord[], writes: [] as string[], failVerifyOf,
    onRecord: (r: MachineRecord) => {
      // Just before record k+1: effects since record k (an apply) are on the host, the journal does not know them.
      points.push({ records: [...log.records], host: { ...host }, label: `after ${log.records.length} records, just before ${r.type} ${r.step}` });
    },
    // Right after record k, before the remote call it announces (a checkpoint before its apply, undo-started before its undo).
    afterRecord: () => points.push({ records: [...log.records], host: { ...host }, label: `right after ${log.records.at(-1)!.type} ${log.records.at(-1)!.step} (record ${log.records.length})` }),
  };
  await runPb(host, { mode: 'apply' }, log);
  points.push({ records: [...log.records], host: { ...host }, label: 'after every step record' });
  return points;
}

/** The journal of a run that died after these machine records: header, host and playbook started, then them. */
function stateAfter(records: MachineRecord[]) {
  const bodies: RecordBody[] = [hostStarted('h'), playbookStarted('h'), ...records.map((r) => ({ ...r, host: 'h', playbook: 'p' }) as RecordBody)];
  return foldRun(journal(header(['h']), ...bodies));
}

async function reconcile(host: Host, records: MachineRecord[], log: { records: MachineRecord[]; writes: string[]; failVerifyOf?: string }): Promise<ReconcileOutput> {
  const x = stateAfter(records).hosts.h!.progress.p!;
  const actor = createActor(reconcileMachine.provide({ actors: fakeActors(host, log) }), {
    input: {
      applied: x.applied, verified: x.verified, checkpoints: x.checkpoints,
      revertTasks: Object.fromEntries(Object.entries(x.revertTasks).filter(([, t]) => t.state !== 'disarmed').map(([s, t]) => [s, { kept: t.state === 'kept' }])),
      steps: Object.fromEntries(info.steps.map((s) => [s.id, { hasCapture: true, expires: false }])),
    },
  });
  actor.start();
  return toPromise(actor);
}

describe('resume after a crash at every journal prefix', async () => {
  const points = await crashPoints();
  it('has crash points for every record, with and without the unjournaled effect', () => {
    expect(points.length).toBe(2 * 12 + 2);
  });
  for (const p of points) {
    it(`${p.label}: reconcile, then finish, leaves the host remediated with no double apply`, async () => {
      const host = { ...p.host };
      const log = { records: [] as MachineRecord[], writes: [] as string[] };
      const settled = await reconcile(host, p.records, log);
      expect(settled.failure).toBeNull();
      const x = stateAfter(p.records).hosts.h!.progress.p!;
      const out = await runPb(host, { mode: 'apply', attempted: settled.applied, checkpoints: x.checkpoints }, log);
      expect(out.outcome).toBe('succeeded');
      expect(host).toEqual(TARGETS);
      expect(log.writes.filter((w) => w.startsWith('DOUBLE'))).toEqual([]);
      // A step the crash left applied but unverified is verified, never applied again.
      for (const s of settled.reconciledOk) expect(log.writes).not.toContain(`apply ${s}`);
    });
  }
});

describe('rollback after a crash at every journal prefix', async () => {
  const points = await crashPoints();
  for (const p of points) {
    it(`${p.label}: the host machine in rollback mode restores the host exactly`, async () => {
      const host = { ...p.host };
      const x = stateAfter(p.records).hosts.h!.progress.p!;
      const log = { records: [] as MachineRecord[], writes: [] as string[] };
      const machine = hostMachine.provide({
        actors: {
          rollbackPlaybook: fromPromise(async () => runPb(host, {
            mode: 'rollback', attempted: x.applied, checkpoints: x.checkpoints, checkDrift: true,
            left: Object.fromEntries(Object.entries(x.left).filter(([s]) => x.verified.includes(s))),
          }, log)),
        },
      });
      const actor = createActor(machine, { input: { host: 'h', playbooks: x.applied.length ? ['p'] : [], mode: 'rollback' } });
      actor.start();
      const out: HostOutput = await toPromise(actor);
      expect(out.outcome).toBe('rolledBack');
      expect(host).toEqual(INITIAL);
    });
  }
});

describe('a crash during the automatic rollback of a failing playbook (c never verifies), at every prefix', async () => {
  const points = await crashPoints('c');
  it('the run itself undid everything', () => {
    expect(points.at(-1)!.host).toEqual(INITIAL);
    expect(points.at(-1)!.records.map((r) => r.type)).toContain('step-failed');
  });
  for (const p of points) {
    it(`${p.label}: resume ends rolled back and the host as it was; rollback restores it too`, async () => {
      const host = { ...p.host };
      const log = { records: [] as MachineRecord[], writes: [] as string[], failVerifyOf: 'c' };
      const settled = await reconcile(host, p.records, log);
      const x = stateAfter(p.records).hosts.h!.progress.p!;
      const out = await runPb(host, { mode: 'apply', attempted: settled.applied, checkpoints: x.checkpoints }, log);
      expect(out.outcome).toBe('rolledBack');
      expect(host).toEqual(INITIAL);
      expect(log.writes.filter((w) => w.startsWith('DOUBLE'))).toEqual([]);
      const again = { ...p.host };
      const back = await runPb(again, { mode: 'rollback', attempted: x.applied, checkpoints: x.checkpoints, checkDrift: true, left: Object.fromEntries(Object.entries(x.left).filter(([s]) => x.verified.includes(s))) });
      expect(back.outcome).toBe('rolledBack');
      expect(again).toEqual(INITIAL);
    });
  }
});

describe('reconcile decisions', () => {
  it('a step whose apply never happened is undone (a no-op) and runs again from its check; an undo failure is journaled', async () => {
    const host = { ...INITIAL };
    const log = { records: [] as MachineRecord[], writes: [] as string[] };
    const out = await reconcile(host, [{ type: 'step-checked', step: 'a', result: { compliant: false, warnings: [] } }, { type: 'step-checkpoint', step: 'a', state: 'a0' }], log);
    expect(out).toMatchObject({ applied: [], undone: ['a'], reconciledOk: [] });
    expect(log.records.map((r) => r.type)).toEqual(['undo-started', 'step-undone']);

    const failing = { records: [] as MachineRecord[], writes: [] as string[] };
    const actors = fakeActors(host, failing);
    const broken = reconcileMachine.provide({ actors: { ...actors, runScript: fromPromise<ScriptResult, ScriptCall>(async ({ input }) => { if (input.phase === 'undo') throw { category: 'unreachable', message: 'gone' }; return { ok: false, warnings: [] }; }) } });
    const actor = createActor(broken, { input: { applied: ['a'], verified: [], checkpoints: { a: 'a0' }, revertTasks: {}, steps: { a: { hasCapture: true, expires: false } } } });
    actor.start();
    const res = await toPromise(actor);
    expect(res.failure).toEqual({ step: 'a', category: 'unreachable', message: 'gone' });
    expect(failing.records.map((r) => r.type)).toEqual(['undo-started', 'undo-failed']);
  });

  it('a revert task of a step that took is confirmed, then disarmed; if confirmation fails the step is undone first', async () => {
    const calls: string[] = [];
    const run = async (confirmFails: boolean) => {
      const host: Host = { ...INITIAL, b: 'B' };
      const actors = fakeActors(host, { records: [], writes: [] });
      const m = reconcileMachine.provide({
        actors: {
          ...actors,
          revertTask: fromPromise<void, RevertTaskCall>(async ({ input }) => {
            calls.push(`${input.action}:${input.step}`);
            if (input.action === 'confirm' && confirmFails) throw { category: 'lockout', message: 'no' };
          }),
        },
      });
      const actor = createActor(m, { input: { applied: ['b'], verified: ['b'], checkpoints: { b: null }, revertTasks: { b: { kept: false } }, steps: { b: { hasCapture: true, expires: false } } } });
      actor.start();
      return { out: await toPromise(actor), host };
    };
    expect((await run(false)).out).toMatchObject({ applied: ['b'], undone: [] });
    expect(calls.splice(0)).toEqual(['confirm:b', 'disarm:b']);
    const failed = await run(true);
    expect(failed.out).toMatchObject({ applied: [], undone: ['b'] });
    expect(failed.host.b).toBeUndefined();
    expect(calls).toEqual(['confirm:b', 'disarm:b']);
  });
});
