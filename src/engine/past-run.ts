import { createActor, fromPromise, toPromise } from 'xstate';
import { hostMachine, type HostOutput } from '../../machines/host.machine.js';
import type { PlaybookOutput } from '../../machines/playbook.machine.js';
import { reconcileMachine, type ReconcileInput, type ReconcileOutput } from '../../machines/reconcile.machine.js';
import type { Playbook } from '../playbooks/manifest.js';
import type { RevertTaskMemo } from '../revert/revert-task.js';
import { note, type EngineContext, type HostJob } from './context.js';
import { playbookActors, playbookWorlds, runHost, runPlaybook, worldOf, type AnyActorSystem } from './runner.js';
import { recordedRevertTasks, type HostProgress, type PlaybookProgress, type RunState } from './run-state.js';

/**
 * rollback and resume of a past run, one host at a time: the decisions are the machines' (the host machine in
 * rollback mode, the reconcile machine); this module only feeds them what the journal says and wires their actors.
 */

// The machines are given their actors once; each run finds its world through its actor system (runner.ts, worldOf).
interface RollbackWorld {
  ctx: EngineContext;
  job: HostJob;
  progress: HostProgress;
  force: boolean;
  byId: Map<string, Playbook>;
}
const rollbackWorlds = new WeakMap<AnyActorSystem, RollbackWorld>();

const rollbackMachine = hostMachine.provide({
  actors: {
    rollbackPlaybook: fromPromise(async ({ input, system }) => {
      const { ctx, job, progress, force, byId } = worldOf(rollbackWorlds, system);
      const pb = byId.get(input.playbook)!;
      const x = progress.progress[pb.id]!;
      const out = await runPlaybook(ctx, job, pb, {
        mode: 'rollback', attempted: x.applied, checkpoints: x.checkpoints, checkDrift: true, force,
        // Drift is judged only against what a verified step left.
        left: Object.fromEntries(Object.entries(x.left).filter(([s]) => x.verified.includes(s))),
      });
      const reversible = x.applied.filter((s) => !pb.steps.find((st) => st.id === s)?.irreversible);
      await note(ctx, { type: 'playbook-rolled-back', host: job.host, playbook: pb.id, outcome: out.outcome, drift: out.drift, undoFailure: out.undoFailure, leftUndone: out.leftUndone, reversible });
      return out;
    }),
  },
});

/** Rolls back one host of a past run: its playbooks with applied steps, newest first; drift or a failure stops it there. */
export async function rollbackHost(ctx: EngineContext, job: HostJob, progress: HostProgress | undefined, force: boolean): Promise<HostOutput> {
  const withChanges = (progress?.playbooks ?? []).filter((id) => (progress!.progress[id]?.applied.length ?? 0) > 0);
  const actor = createActor(rollbackMachine, { input: { host: job.host, playbooks: withChanges, mode: 'rollback' } });
  // With no playbook to roll back, the machine finishes without asking for its world.
  if (progress) rollbackWorlds.set(actor.system, { ctx, job, progress, force, byId: new Map(job.playbooks.map((p) => [p.id, p])) });
  actor.start();
  const out = await toPromise(actor);
  await note(ctx, { type: 'host-rolled-back', host: job.host, outcome: out.outcome });
  await ctx.broker.closeSession(job.target);
  return out;
}

/** What the reconcile machine needs of one playbook's journal progress. */
export function reconcileInput(pb: Pick<Playbook, 'steps'>, x: PlaybookProgress): ReconcileInput {
  return {
    applied: x.applied,
    verified: x.verified,
    checkpoints: x.checkpoints,
    revertTasks: Object.fromEntries(recordedRevertTasks(x).map((s) => [s, { kept: x.revertTasks[s]!.state === 'kept' }])),
    steps: Object.fromEntries(pb.steps.map((s) => [s.id, { hasCapture: !!s.capture, expires: !!s.revertTask?.expires }])),
  };
}

// The reconcile machine works one playbook on one host, as the playbook machine does: the same actors and world.
const reconcileMachineWithActors = reconcileMachine.provide({ actors: playbookActors });

/** Settles what a crash left of one playbook on one host (machines/reconcile.machine.ts). */
export function reconcilePlaybook(ctx: EngineContext, job: HostJob, pb: Playbook, x: PlaybookProgress): Promise<ReconcileOutput> {
  const memo: RevertTaskMemo = new Map(Object.entries(x.revertTasks).map(([s, t]) => [s, { rdpOpenBefore: t.rdpOpenBefore, remotingOpenBefore: t.remotingOpenBefore, dueUtc: t.dueUtc }]));
  const actor = createActor(reconcileMachineWithActors, { input: reconcileInput(pb, x) });
  playbookWorlds.set(actor.system, { ctx, job, pb, memo });
  actor.start();
  return toPromise(actor);
}

/**
 * Finishes one host of a run whose controller died, or that Ctrl-C stopped between steps: each unfinished playbook
 * is reconciled first, then the host machine goes on from what is applied. Playbooks that finished are not run
 * again, nor are the steps a stopped playbook completed.
 */
export async function resumeHost(ctx: EngineContext, job: HostJob, state: RunState): Promise<HostOutput> {
  const progress = state.hosts[job.host];
  const done: Record<string, PlaybookOutput['outcome']> = {};
  const prior: NonNullable<Parameters<typeof runHost>[2]['prior']> = {};
  for (const pb of job.playbooks) {
    const x = progress?.progress[pb.id];
    if (!x) continue;
    if (x.outcome === 'stopped') {
      // Stopped by Ctrl-C between steps: every applied step is verified (nothing in doubt); go on from the next step.
      prior[pb.id] = { attempted: x.applied, checkpoints: x.checkpoints, completed: x.verified.filter((s) => x.applied.includes(s)) };
      continue;
    }
    if (x.outcome) {
      done[pb.id] = x.outcome;
      continue;
    }
    const settled = await reconcilePlaybook(ctx, job, pb, x);
    if (settled.failure) {
      // The host cannot be brought to a known state: report it, touch nothing more.
      const outcomes = { ...done, [pb.id]: 'rollbackFailed' as const };
      await note(ctx, { type: 'host-started', host: job.host, playbooks: job.playbooks.map((p) => p.id), mode: 'apply' });
      await note(ctx, { type: 'host-finished', host: job.host, outcome: 'rollbackFailed', failed: pb.id, outcomes });
      return { host: job.host, outcome: 'rollbackFailed', failed: pb.id, outcomes, results: {} };
    }
    prior[pb.id] = { attempted: settled.applied, checkpoints: x.checkpoints };
  }
  // Playbooks that finished before the crash and succeeded must be rolled back too if a later one fails.
  return runHost(ctx, { ...job }, {
    mode: 'apply', done, prior,
    rollbackInput: (pb) => {
      const x = progress?.progress[pb.id];
      return x ? { attempted: x.applied, checkpoints: x.checkpoints, left: x.left } : {};
    },
  });
}
