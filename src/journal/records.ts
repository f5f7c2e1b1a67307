import { z } from 'zod';

/**
 * The journal's one record language. Every writer (the machines through the runner, the run commands, the
 * revert task) appends one of these kinds, and the fold (src/engine/run-state.ts) reads them back through an
 * exhaustive switch: a kind added here without a case there fails to compile. Records read from disk are
 * validated against these schemas, so a line with a good checksum but the wrong content is damage, not data.
 */
export const JOURNAL_FORMAT = 5;
/**
 * Formats this rdpfix reads. 2 differs from 3 only in a plan entry's `guard` field, now `revertTask` (the host-side
 * revert task of a step; "guard" means only an XState guard): read as the new name, never written. 4 adds the
 * `rollout-stopped` record (waves, canary, failure threshold); an older rdpfix refuses such a journal by its format.
 * 5 adds the `stopped` outcome of a playbook and a host (Ctrl-C stopped it between steps) and `stoppedBefore` on
 * `playbook-finished`; formats 2 to 4 never hold them, so they read as before.
 */
export const READABLE_JOURNAL_FORMATS: readonly number[] = [2, 3, 4, 5];

export type Mode = 'apply' | 'plan' | 'rollback';
export type ScriptPhase = 'check' | 'capture' | 'apply' | 'verify' | 'undo';
export type FailurePhase = ScriptPhase | 'consent' | 'blocked' | 'arm' | 'confirm' | 'disarm';
export type PlaybookOutcome = 'succeeded' | 'planned' | 'rolledBack' | 'rollbackFailed' | 'rollbackRefused' | 'stopped';
export type HostOutcome = PlaybookOutcome;

/** A step script's result, already validated by the runner (src/engine/step-result.ts). */
export interface ScriptResult {
  compliant?: boolean;
  blocked?: string | null;
  predictable?: boolean;
  before?: unknown;
  after?: unknown;
  state?: unknown;
  changed?: boolean;
  ok?: boolean;
  reason?: string;
  rebootRequired?: boolean;
  warnings: string[];
}

export interface PlanEntry {
  step: string;
  title: string;
  action: 'skip' | 'apply' | 'blocked';
  before: unknown;
  after: unknown;
  irreversible: boolean;
  predictable: boolean;
  /** 'confirm': a revert task is armed and removed once confirmed; 'expires': the change reverts itself at the TTL. */
  revertTask?: 'confirm' | 'expires';
  reason?: string;
  warnings: string[];
}

export interface Failure {
  step: string;
  phase: FailurePhase;
  category: string;
  message: string;
}

const id = z.string().min(1);
const outcome = z.enum(['succeeded', 'planned', 'rolledBack', 'rollbackFailed', 'rollbackRefused', 'stopped']);
const phase = z.enum(['check', 'capture', 'apply', 'verify', 'undo', 'consent', 'blocked', 'arm', 'confirm', 'disarm']);
const scriptResult = z
  .object({
    compliant: z.boolean().optional(),
    blocked: z.string().nullable().optional(),
    predictable: z.boolean().optional(),
    changed: z.boolean().optional(),
    ok: z.boolean().optional(),
    reason: z.string().optional(),
    rebootRequired: z.boolean().optional(),
    warnings: z.array(z.string()),
  })
  .passthrough() as unknown as z.ZodType<ScriptResult>;
const planEntry = z
  .object({
    step: id,
    title: z.string(),
    action: z.enum(['skip', 'apply', 'blocked']),
    irreversible: z.boolean(),
    predictable: z.boolean(),
    revertTask: z.enum(['confirm', 'expires']).optional(),
    /** Format 2's name of revertTask: read into it, never passed on. */
    guard: z.enum(['confirm', 'expires']).optional(),
    reason: z.string().optional(),
    warnings: z.array(z.string()),
  })
  .passthrough()
  .transform(({ guard, ...entry }) => (guard && !entry.revertTask ? { ...entry, revertTask: guard } : entry)) as unknown as z.ZodType<PlanEntry>;
const failure = z.object({ step: id, phase, category: z.string(), message: z.string() });
const undoFailure = z.object({ step: id, category: z.string(), message: z.string() });
/** A TCP reach result (src/probe/reach.ts): port and open, with whatever else the probe said. */
const portReach = z.object({ port: z.number().int(), open: z.boolean() }).passthrough() as unknown as z.ZodType<{ port: number; open: boolean }>;

const inventoryHost = z
  .object({
    name: id,
    address: z.string().optional(),
    rdpPort: z.number().int().optional(),
    tags: z.array(z.string()).optional(),
    transport: z.object({ kind: z.enum(['lab', 'winrm', 'ssh']) }).passthrough().optional(),
  })
  .passthrough();
const params = z.record(z.record(z.unknown()));

/** What a run is: written once, as the first record, with the journal's format. */
const runHeader = z.object({
  format: z.number().int(),
  runId: z.string().regex(/^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$/),
  version: z.string(),
  mode: z.enum(['apply', 'plan']),
  inventory: z.string(),
  hosts: z.array(inventoryHost),
  playbooks: z.array(z.object({ id, version: z.number().int(), digest: z.string() })),
  /** When hosts run different playbooks (chosen from a diagnosis): each host's, in run order. */
  hostPlaybooks: z.record(z.array(id)).optional(),
  /** When hosts run with their own parameters (from a diagnosis): each host's, resolved, by playbook. */
  hostParameters: z.record(params).optional(),
  parameters: params,
  allowIrreversible: z.boolean(),
  concurrency: z.number().int().min(1),
  /** The controller that started the run (leases name it too). */
  controller: z.string().optional(),
});
export type RunHeader = Omit<z.infer<typeof runHeader>, 'hosts'> & { hosts: import('../inventory/inventory.js').InventoryHost[] };

const base = { seq: z.number().int().min(1), time: z.string() };
const atHost = { ...base, host: id };
const atPlaybook = { ...atHost, playbook: id };
const atStep = { ...atPlaybook, step: id };
const atTask = { ...atStep, task: id };
const outcomes = z.record(outcome);
const lease = z.object({ pid: z.number().int(), controller: z.string(), started: z.string(), runId: z.string().optional() });

const schemas = [
  z.object({ ...base, type: z.literal('run-started'), header: runHeader }),
  z.object({ ...base, type: z.literal('run-finished'), outcomes }),
  z.object({ ...base, type: z.literal('resume-started'), hosts: z.array(id) }),
  z.object({ ...base, type: z.literal('rollback-started'), hosts: z.array(id), force: z.boolean() }),
  z.object({ ...base, type: z.literal('rollback-finished'), outcomes }),
  /** A rollout stopped the run after a wave (a failed canary, or failures past --max-fail): these hosts never start. */
  z.object({ ...base, type: z.literal('rollout-stopped'), wave: z.number().int().min(1), reason: z.string(), notStarted: z.array(id) }),
  /** A host's lease was held by a process that no longer runs; this run took it over. */
  z.object({ ...atHost, type: z.literal('lease-taken-over'), previous: lease }),
  z.object({ ...atHost, type: z.literal('host-started'), playbooks: z.array(id), mode: z.enum(['apply', 'plan']) }),
  z.object({ ...atHost, type: z.literal('host-finished'), outcome, failed: id.nullable(), outcomes }),
  z.object({ ...atHost, type: z.literal('host-rolled-back'), outcome }),
  z.object({ ...atPlaybook, type: z.literal('playbook-started'), mode: z.enum(['apply', 'plan', 'rollback']) }),
  z.object({
    ...atPlaybook, type: z.literal('playbook-finished'), outcome, failure: failure.nullable().optional(),
    undoFailure: undoFailure.nullable().optional(), leftUndone: z.array(id).optional(), plan: z.array(planEntry).optional(),
    /** Outcome `stopped`: the first step that never started (resume starts there). */
    stoppedBefore: id.optional(),
  }),
  z.object({
    ...atPlaybook, type: z.literal('playbook-rolled-back'), outcome, drift: z.object({ step: id, expected: z.unknown(), actual: z.unknown() }).nullable().optional(),
    undoFailure: undoFailure.nullable().optional(), leftUndone: z.array(id).optional(), reversible: z.array(id).optional(),
  }),
  z.object({ ...atStep, type: z.literal('step-checked'), result: scriptResult }),
  z.object({ ...atStep, type: z.literal('step-checkpoint'), state: z.unknown() }),
  z.object({ ...atStep, type: z.literal('step-applied'), result: scriptResult }),
  z.object({ ...atStep, type: z.literal('step-verified'), left: z.unknown(), result: scriptResult, reconciled: z.boolean().optional() }),
  z.object({ ...atStep, type: z.literal('step-failed'), phase, category: z.string(), message: z.string() }),
  z.object({ ...atStep, type: z.literal('undo-started'), reconciled: z.boolean().optional() }),
  z.object({ ...atStep, type: z.literal('step-undone'), result: scriptResult, reconciled: z.boolean().optional() }),
  z.object({ ...atStep, type: z.literal('undo-skipped'), reason: z.string() }),
  z.object({ ...atStep, type: z.literal('undo-failed'), category: z.string(), message: z.string(), reconciled: z.boolean().optional() }),
  z.object({ ...atStep, type: z.literal('drift'), expected: z.unknown(), actual: z.unknown() }),
  // The host-side revert task of a step (docs/playbooks.md): armed before apply, confirmed, then disarmed or kept.
  z.object({ ...atTask, type: z.literal('revert-task-arming'), ttlMinutes: z.number(), expires: z.boolean() }),
  z.object({ ...atTask, type: z.literal('revert-task-armed'), dueUtc: z.string(), nextRunUtc: z.string().nullable(), rdpBefore: portReach, remotingBefore: portReach.nullable() }),
  z.object({ ...atTask, type: z.literal('revert-task-confirmed'), ok: z.boolean(), session: z.boolean(), ports: z.array(portReach), rdpNegotiation: z.array(z.string()).optional(), problems: z.array(z.string()) }),
  z.object({ ...atTask, type: z.literal('revert-task-kept'), dueUtc: z.string().nullable() }),
  z.object({ ...atTask, type: z.literal('revert-task-disarming') }),
  z.object({ ...atTask, type: z.literal('revert-task-disarmed'), wasArmed: z.boolean(), ran: z.unknown() }),
] as const;

export const journalRecord = z.discriminatedUnion('type', [...schemas]);

type Parsed = z.infer<typeof journalRecord>;
/** One journal line. `run-started` carries the header with the inventory's own host type. */
export type JournalRecord = Parsed extends infer R ? (R extends { type: 'run-started' } ? Omit<R, 'header'> & { header: RunHeader } : R) : never;
export type RecordType = JournalRecord['type'];
export type RecordOf<T extends RecordType> = Extract<JournalRecord, { type: T }>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** What a writer supplies: the journal adds `seq` and `time`. */
export type RecordBody = DistributiveOmit<JournalRecord, 'seq' | 'time'>;

/** The step records the playbook machine asks for; the runner adds host and playbook. */
export type MachineRecordType = 'step-checked' | 'step-checkpoint' | 'step-applied' | 'step-verified' | 'step-failed' | 'undo-started' | 'step-undone' | 'undo-skipped' | 'undo-failed' | 'drift';
export type MachineRecord = DistributiveOmit<Extract<JournalRecord, { type: MachineRecordType }>, 'seq' | 'time' | 'host' | 'playbook'>;

/** Exhaustiveness: a switch over record kinds ends here only if a kind is missing a case. */
export function unhandled(x: never): never {
  throw new Error(`unhandled journal record ${JSON.stringify(x)}`);
}

/** Validates one parsed line; returns a short reason when it does not fit. */
export function checkRecord(value: unknown): { ok: true; record: JournalRecord } | { ok: false; reason: string } {
  const parsed = journalRecord.safeParse(value);
  if (parsed.success) return { ok: true, record: parsed.data as JournalRecord };
  const issue = parsed.error.issues[0]!;
  return { ok: false, reason: `${issue.path.join('.') || 'record'}: ${issue.message}` };
}
