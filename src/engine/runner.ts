import { createActor, fromPromise, toPromise, type ActorSystem, type AnyActorRef } from 'xstate';
import { runRevertTask, type RevertTaskMemo } from '../revert/revert-task.js';
import { createPlaybookMachine, type RevertTaskCall, type MachineRecord, type PlaybookInfo, type PlaybookInput, type PlaybookOutput, type ScriptCall, type ScriptResult } from '../../machines/playbook.machine.js';
import { hostMachine, type HostInput, type HostOutput } from '../../machines/host.machine.js';
import type { Playbook } from '../playbooks/manifest.js';
import type { TransportTarget } from '../transport/targets.js';
import { parseStepResult, StepResultError } from './step-result.js';
import { note, stepInput, type EngineContext, type HostJob } from './context.js';

/**
 * Wires the pure machines to the world: `runScript` runs a step's .ps1 on the host through the broker,
 * `record` appends to the run journal (durably, before the machine moves on), `revertTask` arms, confirms
 * and disarms a step's host-side revert task.
 */
export type { EngineContext, HostJob };

// xstate does not export its own AnyActorSystem alias.
export type AnyActorSystem = ActorSystem<any>;

export function playbookInfo(pb: Playbook): PlaybookInfo {
  return {
    id: pb.id,
    steps: pb.steps.map((s) => ({ id: s.id, title: s.title, irreversible: s.irreversible, predictable: s.predictable, hasCapture: !!s.capture, revertTask: s.revertTask ? { expires: s.revertTask.expires } : null })),
  };
}

/**
 * Each run of a machine needs its own world (the engine context, the host, its memo), but giving a machine its actors
 * (`provide`) rebuilds the whole machine: about 0.5 ms, once per host and once per playbook, a tenth of node's CPU on a
 * 1 000-host plan. So each machine is given its actors once, and an actor finds its run's world through the actor
 * system that `createActor` makes for the run (children share their root's system).
 */
export function worldOf<W>(worlds: WeakMap<AnyActorSystem, W>, system: AnyActorSystem): W {
  const world = worlds.get(system);
  if (!world) throw new Error('internal: an engine actor ran outside the run it was started for');
  return world;
}

/** What the actors of one playbook on one host need: the playbook machine's, and the reconcile machine's (past-run.ts). */
export interface PlaybookWorld {
  ctx: EngineContext;
  job: HostJob;
  pb: Playbook;
  memo: RevertTaskMemo;
}
export const playbookWorlds = new WeakMap<AnyActorSystem, PlaybookWorld>();

/** The actors both machines that work one playbook on one host are given; each run's world is in playbookWorlds. */
export const playbookActors = {
  runScript: fromPromise<ScriptResult, ScriptCall>(({ input: call, system }) => {
    const w = worldOf(playbookWorlds, system);
    return runStepScript(w.ctx, w.job, w.pb, call);
  }),
  revertTask: fromPromise<void, RevertTaskCall>(({ input: call, system }) => {
    const w = worldOf(playbookWorlds, system);
    return runRevertTask(w.ctx, w.job, w.pb, call, w.memo);
  }),
  record: fromPromise<void, MachineRecord>(async ({ input: r, system }) => {
    const w = worldOf(playbookWorlds, system);
    await note(w.ctx, { ...r, host: w.job.host, playbook: w.pb.id });
  }),
};

const machines = new WeakMap<Playbook, ReturnType<typeof createPlaybookMachine>>();
function machineFor(pb: Playbook) {
  let m = machines.get(pb);
  if (!m) {
    m = createPlaybookMachine(playbookInfo(pb)).provide({ actors: playbookActors });
    machines.set(pb, m);
  }
  return m;
}

/** Runs one step script on the host and returns its validated result; failures carry a category. */
export async function runStepScript(ctx: EngineContext, job: { host: string; target: TransportTarget; parameters?: HostJob['parameters'] }, pb: Playbook, call: ScriptCall): Promise<ScriptResult> {
  const step = pb.steps.find((s) => s.id === call.step);
  if (!step) throw { category: 'script', message: `Playbook ${pb.id} has no step ${call.step}.` };
  const file = step[call.phase];
  if (!file) throw { category: 'script', message: `Step ${pb.id}/${step.id} has no ${call.phase} script.` };
  const input = stepInput(ctx, job, pb, step.id, call.phase, call.checkpoint);
  const envelope = await watchCall(ctx, { host: job.host, playbook: pb.id, step: step.id, phase: call.phase },
    () => ctx.broker.invoke(job.target, pb.scripts[file]!, [input], { timeoutMs: step.timeoutSeconds * 1000 }));
  if (!envelope.ok) throw { category: envelope.error.category, message: envelope.error.message };
  try {
    const result = parseStepResult(call.phase, envelope.data.output);
    const warnings = [...result.warnings, ...envelope.data.streams.warning];
    return { ...result, warnings };
  } catch (err) {
    if (err instanceof StepResultError) throw { category: 'script', message: err.message };
    throw err;
  }
}

/** How often a script still running is reported (a hung TermService shows as "waiting … 12s"). */
export const WAITING_EVERY_MS = 5000;

/** Tells the watchers a script phase started, is still running every few seconds, and ended. */
async function watchCall<T extends { ok: boolean }>(ctx: EngineContext, at: { host: string; playbook: string; step: string; phase: ScriptCall['phase'] }, call: () => Promise<T>): Promise<T> {
  if (!ctx.onActivity) return call();
  const tell = ctx.onActivity;
  const started = Date.now();
  tell({ type: 'step-phase-started', ...at });
  const timer = setInterval(() => tell({ type: 'waiting', ...at, seconds: Math.max(1, Math.round((Date.now() - started) / 1000)) }), WAITING_EVERY_MS);
  timer.unref();
  let ok = false;
  try {
    const out = await call();
    ok = out.ok;
    return out;
  } finally {
    clearInterval(timer);
    tell({ type: 'step-phase-ended', ...at, ok, ms: Date.now() - started });
  }
}

export function runPlaybook(ctx: EngineContext, job: HostJob, pb: Playbook, input: Omit<PlaybookInput, 'playbook'>): Promise<PlaybookOutput> {
  const actor = createActor(machineFor(pb), { input: { ...input, playbook: playbookInfo(pb), stop: ctx.signal?.aborted } });
  playbookWorlds.set(actor.system, { ctx, job, pb, memo: new Map() });
  return runStoppable(actor, ctx.signal);
}

/** Runs an actor to its end, sending it STOP when the signal aborts (the machine decides what stopping means). */
async function runStoppable<T>(actor: AnyActorRef, signal: AbortSignal | undefined): Promise<T> {
  const stop = () => actor.send({ type: 'STOP' });
  signal?.addEventListener('abort', stop, { once: true });
  try {
    actor.start();
    return (await toPromise(actor)) as T;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}

export interface HostRunOptions {
  mode: 'apply' | 'plan';
  /** Resume: playbooks already finished, and per-playbook prior progress to continue from (`completed`: verified before a Ctrl-C stop). */
  done?: HostInput['done'];
  prior?: Record<string, { attempted: string[]; checkpoints: Record<string, unknown>; completed?: string[] }>;
  /** How to roll back a playbook that succeeded earlier on this host, when a later one fails. */
  rollbackInput: (pb: Playbook) => Omit<PlaybookInput, 'playbook' | 'mode'>;
}

interface HostWorld {
  ctx: EngineContext;
  job: HostJob;
  o: HostRunOptions;
  byId: Map<string, Playbook>;
  /** Each playbook's output, for rolling it back when a later one fails. */
  outputs: Map<string, PlaybookOutput>;
}
const hostWorlds = new WeakMap<AnyActorSystem, HostWorld>();

/** The host machine with its actors (see worldOf): given once, not once per host. */
const hostMachineWithActors = hostMachine.provide({
  actors: {
    runPlaybook: fromPromise(async ({ input, system }) => {
      const { ctx, job, o, byId, outputs } = worldOf(hostWorlds, system);
      const pb = byId.get(input.playbook)!;
      await note(ctx, { type: 'playbook-started', host: job.host, playbook: pb.id, mode: input.mode });
      const prior = o.prior?.[pb.id];
      const out = await runPlaybook(ctx, job, pb, { mode: input.mode, allowIrreversible: ctx.allowIrreversible, attempted: prior?.attempted, checkpoints: prior?.checkpoints, completed: prior?.completed });
      outputs.set(pb.id, out);
      await note(ctx, {
        type: 'playbook-finished', host: job.host, playbook: pb.id, outcome: out.outcome, failure: out.failure, undoFailure: out.undoFailure, leftUndone: out.leftUndone,
        plan: input.mode === 'plan' ? out.plan : undefined, ...(out.stoppedBefore ? { stoppedBefore: out.stoppedBefore } : {}),
      });
      return out;
    }),
    rollbackPlaybook: fromPromise(async ({ input, system }) => {
      const { ctx, job, o, byId, outputs } = worldOf(hostWorlds, system);
      const pb = byId.get(input.playbook)!;
      const previous = outputs.get(pb.id);
      const base = o.rollbackInput(pb);
      const out = await runPlaybook(ctx, job, pb, {
        mode: 'rollback',
        ...base,
        ...(previous ? { attempted: previous.attempted, checkpoints: previous.checkpoints, left: previous.left } : {}),
      });
      await note(ctx, { type: 'playbook-rolled-back', host: job.host, playbook: pb.id, outcome: out.outcome, undoFailure: out.undoFailure, leftUndone: out.leftUndone });
      return out;
    }),
  },
});

export async function runHost(ctx: EngineContext, job: HostJob, o: HostRunOptions): Promise<HostOutput> {
  await note(ctx, { type: 'host-started', host: job.host, playbooks: job.playbooks.map((p) => p.id), mode: o.mode });
  const actor = createActor(hostMachineWithActors, { input: { host: job.host, playbooks: job.playbooks.map((p) => p.id), mode: o.mode, done: o.done, stop: ctx.signal?.aborted } });
  hostWorlds.set(actor.system, { ctx, job, o, byId: new Map(job.playbooks.map((p) => [p.id, p])), outputs: new Map() });
  const out = await runStoppable<HostOutput>(actor, ctx.signal);
  await note(ctx, { type: 'host-finished', host: job.host, outcome: out.outcome, failed: out.failed, outcomes: out.outcomes });
  return out;
}

/**
 * Runs hosts `concurrency` at a time; one host's failure never stops the others (a failed host is an outcome, not a
 * throw). A throw is the run's failure (its journal cannot be made durable): no further host starts, the hosts in
 * flight are waited for (they stop at their next journal write), then the first error is thrown, so the journal is
 * closed and the leases given back only once nothing works on a host any more.
 */
export async function forEachHost<T, R>(items: T[], concurrency: number, work: (item: T) => Promise<R>, mayStart: () => boolean = () => true): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const errors: unknown[] = [];
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (!errors.length && next < items.length && mayStart()) {
      const i = next++;
      try {
        results[i] = await work(items[i]!);
      } catch (err) {
        errors.push(err);
      }
    }
  });
  await Promise.all(lanes);
  if (errors.length) throw errors[0];
  // Items never started (mayStart said no) have no result.
  return results.filter((r) => r !== undefined);
}
