import { fromPromise } from 'xstate';
import type { MachineRecord, ScriptPhase, ScriptResult } from '../src/journal/records.js';

export interface ScriptCall {
  step: string;
  phase: ScriptPhase;
  checkpoint: unknown;
}

export type RevertTaskAction = 'arm' | 'confirm' | 'disarm' | 'keep';

export interface RevertTaskCall {
  step: string;
  action: RevertTaskAction;
  checkpoint: unknown;
}

/**
 * The invoked actors the playbook and reconcile machines share, as typed placeholders: the machines stay pure, and
 * the runner supplies the real ones with `.provide({ actors })` (src/engine/runner.ts, src/engine/past-run.ts).
 */
const supplied = (name: string) => async (): Promise<never> => {
  throw new Error(`${name} is supplied by the runner`);
};

export const stepActors = {
  /** Runs one phase script of a step on the host and returns its validated result. */
  runScript: fromPromise<ScriptResult, ScriptCall>(supplied('runScript')),
  /** Appends a step record to the run journal, durably, before the machine moves on. */
  record: fromPromise<void, MachineRecord>(supplied('record')),
  /** Arms, confirms, disarms or keeps a step's revert task (and journals what it does). */
  revertTask: fromPromise<void, RevertTaskCall>(supplied('revertTask')),
};
