import { assign, setup } from 'xstate';
import type { ScriptResult } from '../src/journal/records.js';
import { stepActors } from './step-actors.js';

/**
 * The reconcile machine: what `resume` does first with one playbook the crash interrupted on a host, decided
 * from the journal alone and then from what the host answers — never by re-applying blindly.
 *
 *   per step in doubt (apply started, end unknown):  verify → took: capture what it left, record it verified
 *                                                         → did not take (or verify fails): undo it from its checkpoint
 *   per revert task the journal last saw on the host: step took → confirm the controller still reaches the host
 *                                                         → confirmed: disarm (or keep, for a change that expires)
 *                                                         → not confirmed: undo the step, then disarm
 *                                                    step did not take → disarm
 *
 * Output: the steps still applied (the playbook machine continues from them) or, when an undo failed, the failure.
 * Like the other machines it is pure: scripts, revert tasks and journal writes are invoked actors.
 */
export interface ReconcileInput {
  /** Steps in the order they ran whose apply started and that are not undone. */
  applied: string[];
  /** Of those, the ones the journal saw verified. */
  verified: string[];
  checkpoints: Record<string, unknown>;
  /** Revert tasks still on the host by the journal (not disarmed), by step: whether kept (a change that expires). */
  revertTasks: Record<string, { kept: boolean }>;
  /** Per step: whether it has a capture script (to record what it left) and whether its revert task expires. */
  steps: Record<string, { hasCapture: boolean; expires: boolean }>;
}

export interface ReconcileOutput {
  applied: string[];
  reconciledOk: string[];
  undone: string[];
  failure: { step: string; category: string; message: string } | null;
}

interface Context extends ReconcileInput {
  inDoubt: string[];
  tasks: string[];
  reconciledOk: string[];
  undone: string[];
  /** The step being worked on, and what comes after its undo. */
  step: string | null;
  afterUndo: 'inDoubt' | 'task';
  left: unknown;
  failure: ReconcileOutput['failure'];
}

const asFailure = (step: string, error: unknown) => ({
  step,
  category: String((error as { category?: unknown })?.category ?? 'script'),
  message: String((error as { message?: unknown })?.message ?? error),
});

export const reconcileMachine = setup({
  types: { input: {} as ReconcileInput, context: {} as Context, output: {} as ReconcileOutput },
  actors: stepActors,
  guards: {
    moreInDoubt: ({ context }) => context.inDoubt.length > 0,
    moreTasks: ({ context }) => context.tasks.length > 0,
    taskIsKept: ({ context }) => context.revertTasks[context.tasks[0]!]!.kept,
    stepTook: ({ context }) => {
      const s = context.tasks[0]!;
      return context.applied.includes(s) && (context.reconciledOk.includes(s) || context.verified.includes(s));
    },
  },
}).createMachine({
  id: 'reconcile',
  context: ({ input }) => ({
    ...input,
    inDoubt: input.applied.filter((s) => !input.verified.includes(s)),
    tasks: Object.keys(input.revertTasks),
    reconciledOk: [],
    undone: [],
    step: null,
    afterUndo: 'inDoubt',
    left: null,
    failure: null,
  }),
  initial: 'nextInDoubt',
  states: {
    nextInDoubt: {
      always: [
        { guard: 'moreInDoubt', target: 'verifying', actions: assign({ step: ({ context }) => context.inDoubt[0]!, afterUndo: 'inDoubt' as const }) },
        { target: 'nextTask' },
      ],
    },
    verifying: {
      description: 'Did the step whose end the journal does not know take? Its own verify says.',
      invoke: {
        src: 'runScript',
        input: ({ context }) => ({ step: context.step!, phase: 'verify' as const, checkpoint: context.checkpoints[context.step!] ?? null }),
        onDone: [
          { guard: ({ event, context }) => event.output.ok === true && context.steps[context.step!]!.hasCapture, target: 'capturingLeft' },
          { guard: ({ event }) => event.output.ok === true, target: 'recordingVerified', actions: assign({ left: null }) },
          { target: 'startingUndo' },
        ],
        // A verify that cannot run says nothing about the step: undo it (undo scripts check first).
        onError: 'startingUndo',
      },
    },
    capturingLeft: {
      invoke: {
        src: 'runScript',
        input: ({ context }) => ({ step: context.step!, phase: 'capture' as const, checkpoint: null }),
        onDone: { target: 'recordingVerified', actions: assign({ left: ({ event }) => event.output.state ?? null }) },
        onError: { target: 'startingUndo' },
      },
    },
    recordingVerified: {
      invoke: {
        src: 'record',
        input: ({ context }) => ({ type: 'step-verified' as const, step: context.step!, left: context.left, result: { ok: true, warnings: [] }, reconciled: true }),
        onDone: {
          target: 'nextInDoubt',
          actions: assign({ reconciledOk: ({ context }) => [...context.reconciledOk, context.step!], inDoubt: ({ context }) => context.inDoubt.slice(1) }),
        },
        onError: { target: 'failed', actions: assign({ failure: ({ context, event }) => asFailure(context.step!, event.error) }) },
      },
    },
    startingUndo: {
      invoke: {
        src: 'record',
        input: ({ context }) => ({ type: 'undo-started' as const, step: context.step!, reconciled: true }),
        onDone: 'undoing',
        onError: { target: 'failed', actions: assign({ failure: ({ context, event }) => asFailure(context.step!, event.error) }) },
      },
    },
    undoing: {
      description: 'Restore the checkpoint (undo scripts check first: undoing a change that never happened is a no-op).',
      invoke: {
        src: 'runScript',
        input: ({ context }) => ({ step: context.step!, phase: 'undo' as const, checkpoint: context.checkpoints[context.step!] ?? null }),
        onDone: { target: 'recordingUndone', actions: assign({ left: ({ event }) => event.output }) },
        onError: { target: 'recordingUndoFailure', actions: assign({ failure: ({ context, event }) => asFailure(context.step!, event.error) }) },
      },
    },
    recordingUndone: {
      invoke: {
        src: 'record',
        input: ({ context }) => ({ type: 'step-undone' as const, step: context.step!, result: context.left as ScriptResult, reconciled: true }),
        onDone: [
          {
            guard: ({ context }) => context.afterUndo === 'inDoubt',
            target: 'nextInDoubt',
            actions: assign({
              applied: ({ context }) => context.applied.filter((s) => s !== context.step),
              undone: ({ context }) => [...context.undone, context.step!],
              inDoubt: ({ context }) => context.inDoubt.slice(1),
            }),
          },
          {
            target: 'disarming',
            actions: assign({ applied: ({ context }) => context.applied.filter((s) => s !== context.step), undone: ({ context }) => [...context.undone, context.step!] }),
          },
        ],
        onError: { target: 'failed', actions: assign({ failure: ({ context, event }) => asFailure(context.step!, event.error) }) },
      },
    },
    recordingUndoFailure: {
      invoke: {
        src: 'record',
        input: ({ context }) => ({ type: 'undo-failed' as const, ...context.failure!, reconciled: true }),
        onDone: 'failed',
        onError: 'failed',
      },
    },
    nextTask: {
      always: [
        { guard: 'moreTasks', target: 'task', actions: assign({ step: ({ context }) => context.tasks[0]!, afterUndo: 'task' as const }) },
        { target: 'done' },
      ],
    },
    task: {
      always: [
        // A kept task (a change that expires) stays: it is meant to fire.
        { guard: 'taskIsKept', target: 'nextTask', actions: assign({ tasks: ({ context }) => context.tasks.slice(1) }) },
        { guard: 'stepTook', target: 'confirming' },
        { target: 'disarming' },
      ],
    },
    confirming: {
      description: 'The step took: does the controller still reach the host (new session, port probe)?',
      invoke: {
        src: 'revertTask',
        input: ({ context }) => ({ step: context.step!, action: 'confirm' as const, checkpoint: null }),
        onDone: [{ guard: ({ context }) => context.steps[context.step!]!.expires, target: 'keeping' }, { target: 'disarming' }],
        onError: 'startingUndo',
      },
    },
    keeping: {
      invoke: {
        src: 'revertTask',
        input: ({ context }) => ({ step: context.step!, action: 'keep' as const, checkpoint: null }),
        onDone: { target: 'nextTask', actions: assign({ tasks: ({ context }) => context.tasks.slice(1) }) },
        onError: { target: 'failed', actions: assign({ failure: ({ context, event }) => asFailure(context.step!, event.error) }) },
      },
    },
    disarming: {
      invoke: {
        src: 'revertTask',
        input: ({ context }) => ({ step: context.step!, action: 'disarm' as const, checkpoint: null }),
        onDone: { target: 'nextTask', actions: assign({ tasks: ({ context }) => context.tasks.slice(1) }) },
        onError: { target: 'failed', actions: assign({ failure: ({ context, event }) => asFailure(context.step!, event.error) }) },
      },
    },
    done: { type: 'final', description: 'Every step in doubt is settled; the playbook machine goes on from what is applied.' },
    failed: { type: 'final', description: 'An undo (or a revert task) failed: the host is left as it is and reported.' },
  },
  output: ({ context }) => ({ applied: context.applied, reconciledOk: context.reconciledOk, undone: context.undone, failure: context.failure }),
});
