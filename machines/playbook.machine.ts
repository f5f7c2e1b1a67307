import { assign, setup, type AnyStateNodeConfig } from 'xstate';
import { stepActors, type RevertTaskAction, type RevertTaskCall, type ScriptCall } from './step-actors.js';
import type { Failure, FailurePhase, MachineRecord, Mode, PlanEntry, PlaybookOutcome, ScriptPhase, ScriptResult } from '../src/journal/records.js';

/**
 * The playbook machine: one playbook on one host, built from the playbook's manifest.
 *
 *   per step:  check → (compliant? skip) → capture → record checkpoint → apply → record applied
 *              → verify → capture the state the step left → record verified → next step
 *   steps with a revert task (lockout-prone, or security-weakening with an expiry): after the checkpoint, a revert task is
 *              armed on the host before apply; after verify, the controller confirms it can still reach the host
 *              (new session, fresh RDP port probe) and disarms the task — or keeps it, for a change that expires.
 *   any failure, timeout or verify mismatch → rollingBack: undo the attempted steps newest first,
 *              each from its checkpoint → rolledBack, or rollbackFailed with exactly what is left.
 *
 * The machine is pure: every remote call (`runScript`) and every journal write (`record`) is an invoked
 * actor that the runner supplies with `.provide()`. A checkpoint is recorded before its apply starts,
 * so a host is never changed by a step whose prior state is not on disk. In plan mode only `check` runs.
 * In rollback mode (rollback of a past run, or of a playbook on a host whose later playbook failed) the
 * machine starts in rollingBack; with `checkDrift`, each step's current state is compared with the
 * state it left before undoing it, and the rollback refuses at the first drifted step unless forced.
 *
 * STOP (the admin's Ctrl-C) is taken between steps: the step in flight runs its phases to the end (or fails and rolls
 * back, as always), then no further step starts and the machine ends `stopped` with what it completed still applied
 * (the admin asked to stop, not to undo); `resume` continues from `stoppedBefore`. A rollback is never interrupted.
 */

export type { Mode, ScriptPhase, FailurePhase, ScriptResult, PlanEntry, Failure, PlaybookOutcome, MachineRecord };

export interface StepInfo {
  id: string;
  title: string;
  irreversible: boolean;
  predictable: boolean;
  hasCapture: boolean;
  /** Set for a step with a host-side revert task (manifest `revertTask:`): `expires` keeps the task armed after confirmation. */
  revertTask?: { expires: boolean } | null;
}

export interface PlaybookInfo {
  id: string;
  steps: StepInfo[];
}

export type { ScriptCall, RevertTaskAction, RevertTaskCall };

export interface PlaybookInput {
  playbook: PlaybookInfo;
  mode: Mode;
  allowIrreversible?: boolean;
  /** rollback mode: steps whose apply started, in the order they ran, and their checkpoints. */
  attempted?: string[];
  checkpoints?: Record<string, unknown>;
  /** rollback mode: the state each verified step left, to detect drift. */
  left?: Record<string, unknown>;
  checkDrift?: boolean;
  force?: boolean;
  /** Already asked to stop (Ctrl-C came before this playbook started): no step starts. */
  stop?: boolean;
  /** Resume of a stopped playbook: steps verified before the stop, not run again. */
  completed?: string[];
}

/** The one event from outside: the admin asked the run to stop (first Ctrl-C). */
export type PlaybookEvent = { type: 'STOP' };

export interface PlaybookContext {
  playbook: PlaybookInfo;
  mode: Mode;
  allowIrreversible: boolean;
  checkDrift: boolean;
  force: boolean;
  checks: Record<string, ScriptResult>;
  checkpoints: Record<string, unknown>;
  left: Record<string, unknown>;
  /** Steps whose apply started, in order: these are the ones a rollback undoes. */
  attempted: string[];
  completed: string[];
  skipped: string[];
  undone: string[];
  plan: PlanEntry[];
  failure: Failure | null;
  undoFailure: { step: string; category: string; message: string } | null;
  drift: { step: string; expected: unknown; actual: unknown } | null;
  /** After a rollback that did not finish: attempted steps still not undone, newest first. */
  leftUndone: string[];
  /** STOP arrived: no further step starts. */
  stopRequested: boolean;
  /** Ended `stopped`: the first step that did not start. */
  stoppedBefore: string | null;
  lastResult: ScriptResult | null;
  outcome: PlaybookOutcome | null;
}

export interface PlaybookOutput extends Omit<PlaybookContext, 'lastResult' | 'outcome'> {
  outcome: PlaybookOutcome;
}

/** Thrown by actors for a failure with a category (the broker's classification). */
export interface CategorizedError {
  category: string;
  message: string;
}

function asFailure(error: unknown): { category: string; message: string } {
  if (error && typeof error === 'object' && 'category' in error && 'message' in error) {
    return { category: String((error as CategorizedError).category), message: String((error as CategorizedError).message) };
  }
  return { category: 'script', message: error instanceof Error ? error.message : String(error) };
}

/** Deep equality of JSON values: how drift is judged. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object).sort();
  const kb = Object.keys(b as object).sort();
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

type WithContext = { context: PlaybookContext };
type WithResult = { context: PlaybookContext; event: { type: string } };
/** The output of the invoked actor whose done event this is (generated configs lose the event type). */
const outputOf = (event: { type: string }) => (event as unknown as { output: ScriptResult }).output;

const stepKey = (i: number) => `step${i + 1}`;
const undoKey = (i: number) => `undo${i + 1}`;

export function createPlaybookMachine(info: PlaybookInfo) {
  const steps = info.steps;
  const base = setup({
    types: {
      input: {} as PlaybookInput,
      context: {} as PlaybookContext,
      output: {} as PlaybookOutput,
      events: {} as PlaybookEvent,
    },
    actors: stepActors,
  });

  const nextAfter = (i: number) => (i + 1 < steps.length ? `#pb.${stepKey(i + 1)}` : '#pb.finishing');

  const stepState = (s: StepInfo, i: number): AnyStateNodeConfig => {
    const fail = (phase: FailurePhase) => ({
      target: '#pb.failing',
      actions: assign({ failure: ({ event }: { event: { error: unknown } }) => ({ step: s.id, phase, ...asFailure(event.error) }) }),
    });
    return {
      description: `Step ${i + 1}: ${s.title}${s.irreversible ? ' (irreversible)' : ''}`,
      initial: 'entering',
      states: {
        entering: {
          description: 'Between steps: a step completed before a stop is not run again; after STOP no step starts.',
          always: [
            { guard: ({ context }: WithContext) => context.completed.includes(s.id), target: nextAfter(i) },
            { guard: ({ context }: WithContext) => context.stopRequested, target: '#pb.stopped', actions: assign({ stoppedBefore: () => s.id }) },
            { target: 'checking' },
          ],
        },
        checking: {
          description: 'Read-only: is the change needed, and what would it change?',
          invoke: {
            src: 'runScript',
            input: () => ({ step: s.id, phase: 'check' as const, checkpoint: null }),
            onDone: { target: 'checked', actions: assign({ lastResult: ({ event }) => event.output, checks: ({ context, event }) => ({ ...context.checks, [s.id]: event.output }) }) },
            onError: fail('check'),
          },
        },
        checked: {
          description: 'Journal what check found.',
          invoke: {
            src: 'record',
            input: ({ context }) => ({ type: 'step-checked' as const, step: s.id, result: context.lastResult! }),
            onDone: [
              { guard: ({ context }: WithContext) => context.mode === 'plan', target: nextAfter(i), actions: assign({ plan: ({ context }: WithContext) => [...context.plan, planEntry(s, context.lastResult!)] }) },
              {
                guard: ({ context }: WithContext) => !!context.lastResult!.blocked,
                target: '#pb.failing',
                actions: assign({ failure: ({ context }: WithContext) => ({ step: s.id, phase: 'blocked' as const, category: 'blocked', message: String(context.lastResult!.blocked) }) }),
              },
              { guard: ({ context }: WithContext) => context.lastResult!.compliant === true, target: nextAfter(i), actions: assign({ skipped: ({ context }: WithContext) => [...context.skipped, s.id] }) },
              {
                guard: ({ context }: WithContext) => s.irreversible && !context.allowIrreversible,
                target: '#pb.failing',
                actions: assign({ failure: () => ({ step: s.id, phase: 'consent' as const, category: 'consent', message: `Step '${s.id}' is irreversible; it runs only with --allow-irreversible.` }) }),
              },
              { target: s.hasCapture ? 'capturing' : 'checkpointing' },
            ],
            onError: fail('check'),
          },
        },
        capturing: {
          description: 'Capture the prior state this step will restore on undo.',
          invoke: {
            src: 'runScript',
            input: () => ({ step: s.id, phase: 'capture' as const, checkpoint: null }),
            onDone: { target: 'checkpointing', actions: assign({ checkpoints: ({ context, event }) => ({ ...context.checkpoints, [s.id]: event.output.state ?? null }) }) },
            onError: fail('capture'),
          },
        },
        checkpointing: {
          description: 'The checkpoint reaches the disk before the host is touched.',
          invoke: {
            src: 'record',
            input: ({ context }) => ({ type: 'step-checkpoint' as const, step: s.id, state: context.checkpoints[s.id] ?? null }),
            onDone: { target: s.revertTask ? 'arming' : 'applying', actions: assign({ attempted: ({ context }) => (context.attempted.includes(s.id) ? context.attempted : [...context.attempted, s.id]) }) },
            onError: fail('capture'),
          },
        },
        ...(s.revertTask
          ? {
              arming: {
                description: 'Arm the host-side revert task: the change undoes itself after the TTL unless confirmed.',
                invoke: { src: 'revertTask', input: ({ context }: WithContext) => ({ step: s.id, action: 'arm' as const, checkpoint: context.checkpoints[s.id] ?? null }), onDone: 'applying', onError: fail('arm') },
              },
            }
          : {}),
        applying: {
          description: 'Make the change.',
          invoke: {
            src: 'runScript',
            input: ({ context }) => ({ step: s.id, phase: 'apply' as const, checkpoint: context.checkpoints[s.id] ?? null }),
            onDone: { target: 'applied', actions: assign({ lastResult: ({ event }) => event.output }) },
            onError: fail('apply'),
          },
        },
        applied: {
          invoke: {
            src: 'record',
            input: ({ context }) => ({ type: 'step-applied' as const, step: s.id, result: context.lastResult! }),
            onDone: 'verifying',
            onError: fail('apply'),
          },
        },
        verifying: {
          description: 'Check the post-condition; a mismatch is a failure.',
          invoke: {
            src: 'runScript',
            input: ({ context }) => ({ step: s.id, phase: 'verify' as const, checkpoint: context.checkpoints[s.id] ?? null }),
            onDone: [
              { guard: ({ event }: WithResult) => outputOf(event).ok === true, target: s.hasCapture ? 'capturingLeft' : 'verified', actions: assign({ lastResult: ({ event }: WithResult) => outputOf(event) }) },
              {
                target: '#pb.failing',
                actions: assign({ failure: ({ event }: WithResult) => ({ step: s.id, phase: 'verify' as const, category: 'verify', message: outputOf(event).reason ?? 'The post-condition does not hold.' }) }),
              },
            ],
            onError: fail('verify'),
          },
        },
        capturingLeft: {
          description: 'Capture the state the step left, so a later rollback can detect drift.',
          invoke: {
            src: 'runScript',
            input: () => ({ step: s.id, phase: 'capture' as const, checkpoint: null }),
            onDone: { target: s.revertTask ? 'confirming' : 'verified', actions: assign({ left: ({ context, event }) => ({ ...context.left, [s.id]: event.output.state ?? null }) }) },
            onError: fail('verify'),
          },
        },
        ...(s.revertTask
          ? {
              confirming: {
                description: 'Can the controller still reach the host? A new remoting session and a fresh RDP port probe.',
                invoke: { src: 'revertTask', input: () => ({ step: s.id, action: 'confirm' as const, checkpoint: null }), onDone: s.revertTask.expires ? 'keeping' : 'disarming', onError: fail('confirm') },
              },
              disarming: {
                description: 'Confirmed: remove the revert task.',
                invoke: { src: 'revertTask', input: () => ({ step: s.id, action: 'disarm' as const, checkpoint: null }), onDone: 'verified', onError: fail('disarm') },
              },
              keeping: {
                description: 'A temporary change: the revert task stays armed and restores the checkpoint at the TTL.',
                invoke: { src: 'revertTask', input: () => ({ step: s.id, action: 'keep' as const, checkpoint: null }), onDone: 'verified', onError: fail('disarm') },
              },
            }
          : {}),
        verified: {
          invoke: {
            src: 'record',
            input: ({ context }) => ({ type: 'step-verified' as const, step: s.id, left: context.left[s.id] ?? null, result: context.lastResult! }),
            onDone: { target: nextAfter(i), actions: assign({ completed: ({ context }) => [...context.completed, s.id] }) },
            onError: fail('verify'),
          },
        },
      },
    };
  };

  // Undo states, newest step first. Each is skipped when its step was not attempted.
  const order = steps.map((s, i) => ({ s, i })).reverse();
  const nextUndo = (k: number) => (k + 1 < order.length ? `#pb.rollingBack.${undoKey(order[k + 1]!.i)}` : '#pb.rolledBack');
  const undoStates: Record<string, AnyStateNodeConfig> = {};
  order.forEach(({ s, i }, k) => {
    const undoFail = {
      target: '#pb.undoFailed',
      actions: assign({
        undoFailure: ({ event }: { event: { error: unknown } }) => ({ step: s.id, ...asFailure(event.error) }),
      }),
    };
    undoStates[undoKey(i)] = {
      description: `Undo step ${i + 1}: ${s.title}`,
      initial: 'deciding',
      states: {
        deciding: {
          always: [
            { guard: ({ context }: WithContext) => !context.attempted.includes(s.id), target: nextUndo(k) },
            { guard: () => s.irreversible, target: 'skipping' },
            { guard: ({ context }: WithContext) => context.checkDrift && s.id in context.left, target: 'checkingDrift' },
            { target: 'starting' },
          ],
        },
        skipping: {
          description: 'An irreversible step cannot be undone: say so and go on.',
          invoke: {
            src: 'record',
            input: () => ({ type: 'undo-skipped' as const, step: s.id, reason: 'irreversible step: nothing to undo' }),
            onDone: nextUndo(k),
            onError: undoFail,
          },
        },
        checkingDrift: {
          description: 'Has someone changed what this step left since it ran?',
          invoke: {
            src: 'runScript',
            input: () => ({ step: s.id, phase: 'capture' as const, checkpoint: null }),
            onDone: [
              // Unchanged since the run, or already back at the checkpoint (e.g. a revert task fired): not drift.
              {
                guard: ({ context, event }: WithResult) =>
                  context.force || sameJson(outputOf(event).state ?? null, context.left[s.id]) || sameJson(outputOf(event).state ?? null, context.checkpoints[s.id] ?? null),
                target: 'starting',
              },
              { target: 'drifted', actions: assign({ drift: ({ context, event }: WithResult) => ({ step: s.id, expected: context.left[s.id], actual: outputOf(event).state ?? null }) }) },
            ],
            onError: undoFail,
          },
        },
        drifted: {
          invoke: {
            src: 'record',
            input: ({ context }) => ({ type: 'drift' as const, step: s.id, expected: context.drift!.expected, actual: context.drift!.actual }),
            onDone: '#pb.rollbackRefused',
            onError: undoFail,
          },
        },
        starting: {
          invoke: { src: 'record', input: () => ({ type: 'undo-started' as const, step: s.id }), onDone: 'undoing', onError: undoFail },
        },
        undoing: {
          description: 'Restore the checkpoint (the undo script checks first, so undoing an unapplied step is safe).',
          invoke: {
            src: 'runScript',
            input: ({ context }) => ({ step: s.id, phase: 'undo' as const, checkpoint: context.checkpoints[s.id] ?? null }),
            onDone: { target: 'undone', actions: assign({ lastResult: ({ event }) => event.output }) },
            onError: undoFail,
          },
        },
        undone: {
          invoke: {
            src: 'record',
            input: ({ context }) => ({ type: 'step-undone' as const, step: s.id, result: context.lastResult! }),
            onDone: { target: s.revertTask ? 'disarming' : nextUndo(k), actions: assign({ undone: ({ context }) => [...context.undone, s.id] }) },
            onError: undoFail,
          },
        },
        ...(s.revertTask
          ? {
              disarming: {
                description: 'Undone: the revert task has nothing left to do; remove it.',
                invoke: { src: 'revertTask', input: () => ({ step: s.id, action: 'disarm' as const, checkpoint: null }), onDone: nextUndo(k), onError: undoFail },
              },
            }
          : {}),
      },
    };
  });

  const stepStates: Record<string, AnyStateNodeConfig> = {};
  steps.forEach((s, i) => (stepStates[stepKey(i)] = stepState(s, i)));
  const leftUndone = (c: PlaybookContext) => c.attempted.filter((s) => !c.undone.includes(s) && !steps.find((x) => x.id === s)?.irreversible).reverse();

  return base.createMachine({
    id: 'pb',
    context: ({ input }) => ({
      playbook: input.playbook,
      mode: input.mode,
      allowIrreversible: input.allowIrreversible ?? false,
      checkDrift: input.checkDrift ?? false,
      force: input.force ?? false,
      checks: {},
      checkpoints: input.checkpoints ?? {},
      left: input.left ?? {},
      attempted: input.attempted ?? [],
      completed: input.completed ?? [],
      skipped: [],
      undone: [],
      plan: [],
      failure: null,
      undoFailure: null,
      drift: null,
      leftUndone: [],
      stopRequested: input.stop ?? false,
      stoppedBefore: null,
      lastResult: null,
      outcome: null,
    }),
    // Only noted here; the step states read it between steps (see `entering`), the undo states never do.
    on: { STOP: { actions: assign({ stopRequested: true }) } },
    initial: 'starting',
    states: {
      starting: {
        always: [{ guard: ({ context }) => context.mode === 'rollback', target: 'rollingBack' }, { target: stepKey(0) }],
      },
      ...stepStates,
      finishing: {
        always: [{ guard: ({ context }) => context.mode === 'plan', target: 'planned' }, { target: 'succeeded' }],
      },
      failing: {
        description: 'Journal the failure, then roll back.',
        invoke: {
          src: 'record',
          input: ({ context }) => ({ type: 'step-failed' as const, ...context.failure! }),
          onDone: 'rollingBack',
          onError: 'rollingBack',
        },
      },
      rollingBack: {
        description: 'Undo the attempted steps, newest first, each from its checkpoint.',
        initial: order.length ? undoKey(order[0]!.i) : 'empty',
        states: { ...undoStates, empty: { always: '#pb.rolledBack' } },
      },
      undoFailed: {
        description: 'Journal the failed undo (what failed and why), then stop: the steps not undone stay applied.',
        invoke: {
          src: 'record',
          input: ({ context }) => ({ type: 'undo-failed' as const, ...context.undoFailure! }),
          onDone: 'rollbackFailed',
          onError: 'rollbackFailed',
        },
      },
      succeeded: { type: 'final', description: 'Every step compliant or applied and verified.', entry: assign({ outcome: 'succeeded' as const }) },
      planned: { type: 'final', description: 'Plan mode: every step checked, nothing changed.', entry: assign({ outcome: 'planned' as const }) },
      stopped: {
        type: 'final',
        description: 'Stopped (Ctrl-C) between steps: the completed steps stay applied; stoppedBefore and the ones after it never started.',
        entry: assign({ outcome: 'stopped' as const }),
      },
      rolledBack: { type: 'final', description: 'Every attempted reversible step was undone.', entry: assign({ outcome: 'rolledBack' as const }) },
      rollbackFailed: {
        type: 'final',
        description: 'An undo failed: the steps in leftUndone are still applied.',
        entry: assign({ outcome: 'rollbackFailed' as const, leftUndone: ({ context }) => leftUndone(context) }),
      },
      rollbackRefused: {
        type: 'final',
        description: 'Drift: the host changed since the run; the rollback stopped (use --force).',
        entry: assign({ outcome: 'rollbackRefused' as const, leftUndone: ({ context }) => leftUndone(context) }),
      },
    },
    output: ({ context }) => {
      const { lastResult: _last, outcome, ...rest } = context;
      return { ...rest, outcome: outcome ?? 'rollbackFailed' };
    },
  });
}

function planEntry(s: StepInfo, r: ScriptResult): PlanEntry {
  const predictable = s.predictable && r.predictable !== false;
  const action = r.blocked ? 'blocked' : r.compliant ? 'skip' : 'apply';
  return {
    step: s.id,
    title: s.title,
    action,
    before: r.before ?? null,
    after: r.after ?? null,
    irreversible: s.irreversible,
    predictable,
    ...(s.revertTask ? { revertTask: s.revertTask.expires ? ('expires' as const) : ('confirm' as const) } : {}),
    ...(r.blocked ? { reason: r.blocked } : {}),
    warnings: r.warnings,
  };
}
