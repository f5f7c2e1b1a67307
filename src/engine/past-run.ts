import type { HostOutput } from '../../machines/host.machine.js';
import type { PlaybookOutput } from '../../machines/playbook.machine.js';
import type { Playbook } from '../playbooks/manifest.js';
import { runRevertTask, type RevertTaskMemo } from '../revert/revert-task.js';
import { note, type EngineContext, type HostJob } from './context.js';
import { runHost, runPlaybook, runStepScript } from './runner.js';
import { inDoubt, recordedRevertTasks, type HostProgress, type PlaybookProgress, type RunState } from './run-state.js';

/** Rolls back one host of a past run: its playbooks newest first; a refused or failed one stops the host there. */
export async function rollbackHost(ctx: EngineContext, job: HostJob, progress: HostProgress | undefined, force: boolean): Promise<HostOutput> {
  const outcomes: HostOutput['outcomes'] = {};
  const results: Record<string, PlaybookOutput> = {};
  let outcome: HostOutput['outcome'] = 'rolledBack';
  const order = [...(progress?.playbooks ?? [])].reverse();
  for (const id of order) {
    const x = progress!.progress[id];
    const pb = job.playbooks.find((p) => p.id === id)!;
    const reversible = x?.applied.filter((s) => !pb.steps.find((st) => st.id === s)?.irreversible) ?? [];
    if (!x || x.applied.length === 0) continue;
    const out = await runPlaybook(ctx, job, pb, {
      mode: 'rollback', attempted: x.applied, checkpoints: x.checkpoints,
      left: Object.fromEntries(Object.entries(x.left).filter(([s]) => x.verified.includes(s))), checkDrift: true, force,
    });
    note(ctx, { type: 'playbook-rolled-back', host: job.host, playbook: id, outcome: out.outcome, drift: out.drift, undoFailure: out.undoFailure, leftUndone: out.leftUndone, reversible });
    outcomes[id] = out.outcome;
    results[id] = out;
    if (out.outcome !== 'rolledBack') {
      // Refuse the playbooks before it too: undoing them under a drifted or half-undone later change is unsafe.
      outcome = out.outcome === 'rollbackRefused' ? 'rollbackRefused' : 'rollbackFailed';
      break;
    }
  }
  note(ctx, { type: 'host-rolled-back', host: job.host, outcome });
  await ctx.broker.closeSession(job.target);
  return { host: job.host, outcome, failed: null, outcomes, results };
}


/** Undoes a step the crash left in doubt (or unconfirmed) from its checkpoint, and takes it off `applied`. */
async function undoReconciled(ctx: EngineContext, job: HostJob, pb: Playbook, x: PlaybookProgress, step: string, applied: string[]): Promise<void> {
  note(ctx, { type: 'undo-started', host: job.host, playbook: pb.id, step, reconciled: true });
  const undo = await runStepScript(ctx, job, pb, { step, phase: 'undo', checkpoint: x.checkpoints[step] ?? null });
  note(ctx, { type: 'step-undone', host: job.host, playbook: pb.id, step, result: undo, reconciled: true });
  applied.splice(applied.indexOf(step), 1);
}

/**
 * Revert guards the crash left armed: a step that took is confirmed again and its guard disarmed (or kept, if the
 * change expires); a step that was undone, or whose confirmation fails now, is undone and its guard removed —
 * the machine then runs it again from its check.
 */
async function settleRevertTasks(ctx: EngineContext, job: HostJob, pb: Playbook, x: PlaybookProgress, applied: string[], reconciledOk: string[]): Promise<void> {
  for (const step of recordedRevertTasks(x)) {
    const g = x.revertTasks[step]!;
    if (g.state === 'kept') continue;
    const memo: RevertTaskMemo = new Map([[step, { rdpOpenBefore: g.rdpOpenBefore, remotingOpenBefore: g.remotingOpenBefore, dueUtc: g.dueUtc }]]);
    const spec = pb.steps.find((s) => s.id === step)!;
    const call = (action: 'confirm' | 'disarm' | 'keep') => runRevertTask(ctx, job, pb, { step, action, checkpoint: null }, memo);
    if (applied.includes(step) && (reconciledOk.includes(step) || x.verified.includes(step))) {
      const confirmed = await call('confirm').then(() => true, () => false);
      if (confirmed) {
        await call(spec.guard?.expires ? 'keep' : 'disarm');
        continue;
      }
      await undoReconciled(ctx, job, pb, x, step, applied);
    }
    await call('disarm');
  }
}

export async function resumeHost(ctx: EngineContext, job: HostJob, state: RunState): Promise<HostOutput> {
  const progress = state.hosts[job.host];
  const done: Record<string, PlaybookOutput['outcome']> = {};
  const prior: Record<string, { attempted: string[]; checkpoints: Record<string, unknown> }> = {};
  for (const pb of job.playbooks) {
    const x = progress?.progress[pb.id];
    if (!x) continue;
    if (x.outcome) {
      done[pb.id] = x.outcome;
      continue;
    }
    const applied = [...x.applied];
    const reconciledOk: string[] = [];
    for (const step of inDoubt(x)) {
      const verify = await runStepScript(ctx, job, pb, { step, phase: 'verify', checkpoint: x.checkpoints[step] ?? null }).catch((e) => ({ ok: false, reason: String(e?.message ?? e), warnings: [] }));
      if (verify.ok) {
        const hasCapture = !!pb.steps.find((s) => s.id === step)?.capture;
        const left = hasCapture ? (await runStepScript(ctx, job, pb, { step, phase: 'capture', checkpoint: null })).state ?? null : null;
        note(ctx, { type: 'step-verified', host: job.host, playbook: pb.id, step, left, result: verify, reconciled: true });
        reconciledOk.push(step);
      } else {
        await undoReconciled(ctx, job, pb, x, step, applied);
      }
    }
    await settleRevertTasks(ctx, job, pb, x, applied, reconciledOk);
    prior[pb.id] = { attempted: applied, checkpoints: x.checkpoints };
  }
  // Playbooks that finished before the crash and succeeded must be rolled back too if a later one fails.
  const checkpointsOf = (id: string) => progress?.progress[id];
  return runHost(ctx, { ...job }, {
    mode: 'apply', done, prior,
    rollbackInput: (pb) => {
      const x = checkpointsOf(pb.id);
      return x ? { attempted: x.applied, checkpoints: x.checkpoints, left: x.left } : {};
    },
  });
}
