import { assign, fromPromise, setup } from 'xstate';
import type { HostOutcome, Mode, PlaybookOutcome } from '../src/journal/records.js';
import type { PlaybookOutput } from './playbook.machine.js';

/**
 * The host machine: one host's planned playbooks, in order. A playbook that fails has already rolled
 * itself back; the host machine then rolls back the playbooks that succeeded before it, newest first, so
 * a host ends either fully remediated or as it was. In rollback mode (a later `rollback` of the run) it only
 * rolls back: the given playbooks newest first, stopping at the first that refuses (drift) or fails. Running a
 * playbook (its own machine) is an invoked actor the runner supplies.
 *
 * STOP (Ctrl-C; the runner sends it to the playbook in flight too): no further playbook starts, and a playbook that
 * stopped between its steps ends the host `stopped` — nothing is rolled back (the admin asked to stop, not to undo);
 * `resume` continues. A rollback (after a failure, or in rollback mode) is never interrupted.
 */
export interface HostInput {
  host: string;
  playbooks: string[];
  /** rollback: undo `playbooks` (those with applied steps, in run order) newest first, as a later `rollback` does. */
  mode: Mode;
  /** Playbooks already finished in an earlier attempt of this run (resume): not run again. */
  done?: Record<string, PlaybookOutcome>;
  /** Already asked to stop before the host started. */
  stop?: boolean;
}

export type { HostOutcome };

export interface HostContext {
  host: string;
  playbooks: string[];
  mode: HostInput['mode'];
  index: number;
  results: Record<string, PlaybookOutput>;
  outcomes: Record<string, PlaybookOutcome>;
  failed: string | null;
  /** Playbooks to roll back after a failure, newest first. */
  toRollBack: string[];
  /** STOP arrived: no further playbook starts. */
  stopRequested: boolean;
  outcome: HostOutcome | null;
}

export interface HostOutput {
  host: string;
  outcome: HostOutcome;
  failed: string | null;
  outcomes: Record<string, PlaybookOutcome>;
  results: Record<string, PlaybookOutput>;
}

const ok = (o: PlaybookOutcome) => o === 'succeeded' || o === 'planned';

export const hostMachine = setup({
  types: { input: {} as HostInput, context: {} as HostContext, output: {} as HostOutput, events: {} as { type: 'STOP' } },
  actors: {
    runPlaybook: fromPromise<PlaybookOutput, { host: string; playbook: string; mode: HostInput['mode'] }>(async () => {
      throw new Error('runPlaybook is supplied by the runner');
    }),
    rollbackPlaybook: fromPromise<PlaybookOutput, { host: string; playbook: string }>(async () => {
      throw new Error('rollbackPlaybook is supplied by the runner');
    }),
  },
  guards: {
    morePlaybooks: ({ context }) => context.index < context.playbooks.length,
    alreadyDone: ({ context }) => context.playbooks[context.index]! in context.outcomes,
    moreToRollBack: ({ context }) => context.toRollBack.length > 0,
  },
}).createMachine({
  id: 'host',
  description: "Runs one host's playbooks in order; a failure rolls back the ones before it.",
  context: ({ input }) => ({
    host: input.host,
    playbooks: input.playbooks,
    mode: input.mode,
    index: 0,
    results: {},
    outcomes: { ...(input.done ?? {}) },
    failed: null,
    toRollBack: [],
    stopRequested: input.stop ?? false,
    outcome: null,
  }),
  on: { STOP: { actions: assign({ stopRequested: true }) } },
  initial: 'starting',
  states: {
    starting: {
      always: [
        { guard: ({ context }) => context.mode === 'rollback', target: 'rollingBack', actions: assign({ toRollBack: ({ context }) => [...context.playbooks].reverse() }) },
        { target: 'next' },
      ],
    },
    next: {
      always: [
        { guard: 'morePlaybooks', target: 'skipping', reenter: true },
        { target: 'finished' },
      ],
    },
    skipping: {
      description: 'Playbooks finished in an earlier attempt (resume) are not run again.',
      always: [
        { guard: 'alreadyDone', target: 'next', actions: assign({ index: ({ context }) => context.index + 1 }) },
        { guard: ({ context }) => context.stopRequested && context.mode !== 'rollback', target: 'stopped' },
        { target: 'running' },
      ],
    },
    running: {
      description: 'Run the current playbook to its end (its own machine).',
      invoke: {
        src: 'runPlaybook',
        input: ({ context }) => ({ host: context.host, playbook: context.playbooks[context.index]!, mode: context.mode }),
        onDone: [
          {
            guard: ({ event }) => event.output.outcome === 'stopped',
            target: 'stopped',
            actions: assign({
              results: ({ context, event }) => ({ ...context.results, [context.playbooks[context.index]!]: event.output }),
              outcomes: ({ context, event }) => ({ ...context.outcomes, [context.playbooks[context.index]!]: event.output.outcome }),
            }),
          },
          {
            guard: ({ event }) => ok(event.output.outcome),
            target: 'next',
            actions: assign({
              results: ({ context, event }) => ({ ...context.results, [context.playbooks[context.index]!]: event.output }),
              outcomes: ({ context, event }) => ({ ...context.outcomes, [context.playbooks[context.index]!]: event.output.outcome }),
              index: ({ context }) => context.index + 1,
            }),
          },
          {
            target: 'failing',
            actions: assign({
              results: ({ context, event }) => ({ ...context.results, [context.playbooks[context.index]!]: event.output }),
              outcomes: ({ context, event }) => ({ ...context.outcomes, [context.playbooks[context.index]!]: event.output.outcome }),
              failed: ({ context }) => context.playbooks[context.index]!,
            }),
          },
        ],
        onError: {
          target: 'failing',
          actions: assign({ failed: ({ context }) => context.playbooks[context.index]! }),
        },
      },
    },
    failing: {
      always: [
        {
          // The failed playbook could not undo itself: leave the others alone and report.
          guard: ({ context }) => context.outcomes[context.failed!] === 'rollbackFailed' || !(context.failed! in context.outcomes),
          target: 'rollbackFailed',
        },
        {
          target: 'rollingBack',
          actions: assign({
            toRollBack: ({ context }) => context.playbooks.slice(0, context.playbooks.indexOf(context.failed!)).filter((p) => context.outcomes[p] === 'succeeded').reverse(),
          }),
        },
      ],
    },
    rollingBack: {
      description: 'Undo the playbooks that succeeded before the failure, newest first.',
      initial: 'deciding',
      states: {
        deciding: { always: [{ guard: 'moreToRollBack', target: 'undoing' }, { target: '#host.rolledBack' }] },
        undoing: {
          invoke: {
            src: 'rollbackPlaybook',
            input: ({ context }) => ({ host: context.host, playbook: context.toRollBack[0]! }),
            onDone: [
              {
                guard: ({ event }) => event.output.outcome === 'rolledBack',
                target: 'deciding',
                actions: assign({
                  outcomes: ({ context }) => ({ ...context.outcomes, [context.toRollBack[0]!]: 'rolledBack' as const }),
                  results: ({ context, event }) => (context.mode === 'rollback' ? { ...context.results, [context.toRollBack[0]!]: event.output } : context.results),
                  toRollBack: ({ context }) => context.toRollBack.slice(1),
                }),
              },
              {
                // Drift: the host changed since the run. The playbooks before it stay too: undoing them under a changed later one is unsafe.
                guard: ({ event }) => event.output.outcome === 'rollbackRefused',
                target: '#host.rollbackRefused',
                actions: assign({ outcomes: ({ context, event }) => ({ ...context.outcomes, [context.toRollBack[0]!]: event.output.outcome }), results: ({ context, event }) => ({ ...context.results, [context.toRollBack[0]!]: event.output }) }),
              },
              {
                target: '#host.rollbackFailed',
                actions: assign({ outcomes: ({ context, event }) => ({ ...context.outcomes, [context.toRollBack[0]!]: event.output.outcome }), results: ({ context, event }) => ({ ...context.results, [context.toRollBack[0]!]: event.output }) }),
              },
            ],
            onError: '#host.rollbackFailed',
          },
        },
      },
    },
    finished: {
      always: [{ guard: ({ context }) => context.mode === 'plan', target: 'planned' }, { target: 'succeeded' }],
    },
    succeeded: { type: 'final', entry: assign({ outcome: 'succeeded' as const }) },
    planned: { type: 'final', entry: assign({ outcome: 'planned' as const }) },
    stopped: { type: 'final', description: 'Stopped (Ctrl-C) between steps or playbooks: what completed stays applied; resume continues.', entry: assign({ outcome: 'stopped' as const }) },
    rolledBack: { type: 'final', description: 'A playbook failed; the host is as it was.', entry: assign({ outcome: 'rolledBack' as const }) },
    rollbackFailed: { type: 'final', description: 'A rollback did not finish: see the playbook results.', entry: assign({ outcome: 'rollbackFailed' as const }) },
    rollbackRefused: { type: 'final', description: 'Rollback mode: a playbook refused (drift); it and the ones before it are left.', entry: assign({ outcome: 'rollbackRefused' as const }) },
  },
  output: ({ context }) => ({ host: context.host, outcome: context.outcome ?? 'rollbackFailed', failed: context.failed, outcomes: context.outcomes, results: context.results }),
});
