import type { Broker } from '../broker/broker.js';
import type { JournalWriter } from '../journal/journal.js';
import type { JournalRecord, RecordBody, ScriptPhase } from '../journal/records.js';
import type { Playbook } from '../playbooks/manifest.js';
import type { TransportTarget } from '../transport/targets.js';
import type { ActivityEvent } from './events.js';

/** What the engine's actors share while a run works on hosts: where to write, how to reach hosts. */
export interface EngineContext {
  runId: string;
  broker: Broker;
  journal: JournalWriter;
  parameters: Record<string, Record<string, unknown>>;
  allowIrreversible: boolean;
  onRecord?: (record: JournalRecord) => void;
  /** What the journal does not keep: a script phase started or ended, a call still running (src/engine/events.ts). */
  onActivity?: (event: ActivityEvent) => void;
  /** Aborted (first Ctrl-C): the machines get STOP: no further step or playbook starts (src/engine/runner.ts). */
  signal?: AbortSignal;
}

/** One host of a run: how to reach it and what it runs. */
export interface HostJob {
  host: string;
  target: TransportTarget;
  playbooks: Playbook[];
  /** The inventory's address and RDP port: what the revert task's confirmation probes from the controller. */
  address?: string;
  rdpPort: number;
  /** This host's own resolved parameters by playbook, when it has them (they replace the run's). */
  parameters?: Record<string, Record<string, unknown>>;
}

/** A playbook's parameters on one host. */
export function parametersFor(ctx: Pick<EngineContext, 'parameters'>, job: { parameters?: HostJob['parameters'] }, pb: Playbook): Record<string, unknown> {
  return job.parameters?.[pb.id] ?? ctx.parameters[pb.id] ?? {};
}

/** A step script's only input: one JSON document, passed as an argument (never pasted into script text). */
export function stepInput(ctx: Pick<EngineContext, 'runId' | 'parameters'>, job: { host: string; parameters?: HostJob['parameters'] }, pb: Playbook, step: string, phase: ScriptPhase, checkpoint: unknown): string {
  return JSON.stringify({ runId: ctx.runId, host: job.host, playbook: pb.id, step, phase, parameters: parametersFor(ctx, job, pb), checkpoint });
}

/**
 * Journals a record and resolves once it is durable, then tells the progress view. Await it before any remote
 * change the record announces (a checkpoint before its apply, `revert-task-arming` before the arm, …): group commit
 * makes the wait cheap, and a journal that cannot be made durable rejects it, which stops the change. (Never
 * `onRecord?.(await journal.append(…))`: optional chaining would skip the append itself when nobody listens.)
 */
export async function noteTo(journal: JournalWriter, onRecord: EngineContext['onRecord'], fields: RecordBody): Promise<JournalRecord> {
  const record = await journal.append(fields);
  onRecord?.(record);
  return record;
}

export function note(ctx: Pick<EngineContext, 'journal' | 'onRecord'>, fields: RecordBody): Promise<JournalRecord> {
  return noteTo(ctx.journal, ctx.onRecord, fields);
}
