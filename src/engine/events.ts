import { z } from 'zod';
import type { JournalRecord } from '../journal/records.js';
import { unhandled } from '../journal/records.js';
import { schemaId } from '../json-schema.js';

/**
 * What a run tells whoever watches it (the listr2 view, plain lines, NDJSON on stdout): a small typed stream,
 * derived from the journal's records plus a few that the journal has no reason to keep (a script phase that
 * started, a call still running, the diagnosis's progress). The engine only emits; renderers live in src/cli/.
 * These schemas are the contract of `--json` events and the source of docs/json.md's field lists.
 */
export const EVENT_SCHEMA = schemaId('event');

const host = z.string().min(1);
const at = { host, playbook: z.string().min(1), step: z.string().min(1) };
const scriptPhase = z.enum(['check', 'capture', 'apply', 'verify', 'undo']);
const outcome = z.enum(['succeeded', 'planned', 'rolledBack', 'rollbackFailed', 'rollbackRefused', 'stopped']);
const outcomes = z.record(outcome);

const bodies = [
  z.object({ type: z.literal('run-started'), runId: z.string(), mode: z.enum(['apply', 'plan']), hosts: z.array(host) }),
  z.object({ type: z.literal('resume-started'), hosts: z.array(host) }),
  z.object({ type: z.literal('rollback-started'), hosts: z.array(host) }),
  z.object({ type: z.literal('lease-taken-over'), host }),
  z.object({ type: z.literal('host-started'), host, playbooks: z.array(z.string()) }),
  z.object({ type: z.literal('playbook-started'), host, playbook: z.string(), mode: z.enum(['apply', 'plan', 'rollback']) }),
  /** Not journaled: a step's script began on the host. */
  z.object({ type: z.literal('step-phase-started'), ...at, phase: scriptPhase }),
  /** Not journaled: a step's script is still running (sent every few seconds of a long call, e.g. a hung TermService). */
  z.object({ type: z.literal('waiting'), ...at, phase: scriptPhase, seconds: z.number().int().min(1) }),
  /** Not journaled: a step's script returned (ok: a valid result; else its failure follows as step-failed). */
  z.object({ type: z.literal('step-phase-ended'), ...at, phase: scriptPhase, ok: z.boolean(), ms: z.number().int().min(0) }),
  z.object({ type: z.literal('step-checked'), ...at, compliant: z.boolean(), blocked: z.string().nullable() }),
  z.object({ type: z.literal('step-applied'), ...at }),
  z.object({ type: z.literal('step-verified'), ...at, reconciled: z.boolean() }),
  z.object({ type: z.literal('step-failed'), ...at, phase: z.string(), category: z.string(), message: z.string() }),
  z.object({ type: z.literal('undo-started'), ...at }),
  z.object({ type: z.literal('step-undone'), ...at }),
  z.object({ type: z.literal('undo-skipped'), ...at, reason: z.string() }),
  z.object({ type: z.literal('undo-failed'), ...at, category: z.string(), message: z.string() }),
  z.object({ type: z.literal('drift'), ...at }),
  /** A warning a step's script gave (e.g. "session 3 survived logoff; reset with rwinsta"). */
  z.object({ type: z.literal('warning'), ...at, message: z.string() }),
  /** The host-side revert task of a step (docs/playbooks.md), as it is armed, confirmed, kept or removed. */
  z.object({
    type: z.literal('revert-task'), ...at, task: z.string(), state: z.enum(['arming', 'armed', 'confirmed', 'not-confirmed', 'kept', 'disarming', 'disarmed']),
    dueUtc: z.string().nullable().optional(), problems: z.array(z.string()).optional(),
  }),
  z.object({ type: z.literal('playbook-finished'), host, playbook: z.string(), outcome, failedStep: z.string().nullable(), stoppedBefore: z.string().nullable() }),
  z.object({ type: z.literal('playbook-rolled-back'), host, playbook: z.string(), outcome }),
  z.object({ type: z.literal('host-finished'), host, outcome, failed: z.string().nullable() }),
  z.object({ type: z.literal('host-rolled-back'), host, outcome }),
  z.object({ type: z.literal('rollout-stopped'), wave: z.number().int(), reason: z.string(), notStarted: z.array(host) }),
  z.object({ type: z.literal('run-finished'), outcomes }),
  z.object({ type: z.literal('rollback-finished'), outcomes }),
  /** Not journaled: the diagnosis (inside plan/apply, and `diagnose`) and its progress, host by host. */
  z.object({ type: z.literal('diagnosis-started'), hosts: z.number().int().min(0) }),
  z.object({ type: z.literal('diagnosis-progress'), host, probed: z.number().int().min(1), total: z.number().int().min(1), reached: z.boolean() }),
  z.object({ type: z.literal('diagnosis-finished'), hosts: z.number().int().min(0), healthy: z.number().int().min(0) }),
] as const;

export const eventBody = z.discriminatedUnion('type', [...bodies]);
export type EventBody = z.infer<typeof eventBody>;
export type EventType = EventBody['type'];

const envelope = { schema: z.literal(EVENT_SCHEMA), time: z.string().datetime(), elapsedMs: z.number().int().min(0) };
/** One event as `--json` prints it: the body with its schema, wall time and time since the command began. */
export const engineEvent = z.discriminatedUnion('type', bodies.map((b) => b.extend(envelope)) as unknown as [typeof bodies[0], ...(typeof bodies[number])[]]);
export type EngineEvent = EventBody & { schema: typeof EVENT_SCHEMA; time: string; elapsedMs: number };

/** The events of one journal record (none for records a watcher needs not see, such as a checkpoint). */
export function eventsOfRecord(r: JournalRecord): EventBody[] {
  const step = (x: { host: string; playbook: string; step: string }) => ({ host: x.host, playbook: x.playbook, step: x.step });
  const warnings = (x: { host: string; playbook: string; step: string }, list: string[]): EventBody[] => list.map((message) => ({ type: 'warning', ...step(x), message }));
  switch (r.type) {
    case 'run-started':
      return [{ type: 'run-started', runId: r.header.runId, mode: r.header.mode, hosts: r.header.hosts.map((h) => h.name) }];
    case 'resume-started':
      return [{ type: 'resume-started', hosts: r.hosts }];
    case 'rollback-started':
      return [{ type: 'rollback-started', hosts: r.hosts }];
    case 'lease-taken-over':
      return [{ type: 'lease-taken-over', host: r.host }];
    case 'host-started':
      return [{ type: 'host-started', host: r.host, playbooks: r.playbooks }];
    case 'playbook-started':
      return [{ type: 'playbook-started', host: r.host, playbook: r.playbook, mode: r.mode }];
    case 'step-checked':
      return [{ type: 'step-checked', ...step(r), compliant: r.result.compliant === true, blocked: r.result.blocked ?? null }, ...warnings(r, r.result.warnings)];
    case 'step-checkpoint':
      return [];
    case 'step-applied':
      return [{ type: 'step-applied', ...step(r) }, ...warnings(r, r.result.warnings)];
    case 'step-verified':
      return [{ type: 'step-verified', ...step(r), reconciled: r.reconciled === true }, ...warnings(r, r.result.warnings)];
    case 'step-failed':
      return [{ type: 'step-failed', ...step(r), phase: r.phase, category: r.category, message: r.message }];
    case 'undo-started':
      return [{ type: 'undo-started', ...step(r) }];
    case 'step-undone':
      return [{ type: 'step-undone', ...step(r) }, ...warnings(r, r.result.warnings)];
    case 'undo-skipped':
      return [{ type: 'undo-skipped', ...step(r), reason: r.reason }];
    case 'undo-failed':
      return [{ type: 'undo-failed', ...step(r), category: r.category, message: r.message }];
    case 'drift':
      return [{ type: 'drift', ...step(r) }];
    case 'revert-task-arming':
      return [{ type: 'revert-task', ...step(r), task: r.task, state: 'arming' }];
    case 'revert-task-armed':
      return [{ type: 'revert-task', ...step(r), task: r.task, state: 'armed', dueUtc: r.dueUtc }];
    case 'revert-task-confirmed':
      return [{ type: 'revert-task', ...step(r), task: r.task, state: r.ok ? 'confirmed' : 'not-confirmed', problems: r.problems }];
    case 'revert-task-kept':
      return [{ type: 'revert-task', ...step(r), task: r.task, state: 'kept', dueUtc: r.dueUtc }];
    case 'revert-task-disarming':
      return [{ type: 'revert-task', ...step(r), task: r.task, state: 'disarming' }];
    case 'revert-task-disarmed':
      return [{ type: 'revert-task', ...step(r), task: r.task, state: 'disarmed' }];
    case 'playbook-finished':
      return [{ type: 'playbook-finished', host: r.host, playbook: r.playbook, outcome: r.outcome, failedStep: r.failure?.step ?? null, stoppedBefore: r.stoppedBefore ?? null }];
    case 'playbook-rolled-back':
      return [{ type: 'playbook-rolled-back', host: r.host, playbook: r.playbook, outcome: r.outcome }];
    case 'host-finished':
      return [{ type: 'host-finished', host: r.host, outcome: r.outcome, failed: r.failed }];
    case 'host-rolled-back':
      return [{ type: 'host-rolled-back', host: r.host, outcome: r.outcome }];
    case 'rollout-stopped':
      return [{ type: 'rollout-stopped', wave: r.wave, reason: r.reason, notStarted: r.notStarted }];
    case 'run-finished':
      return [{ type: 'run-finished', outcomes: r.outcomes }];
    case 'rollback-finished':
      return [{ type: 'rollback-finished', outcomes: r.outcomes }];
    default:
      return unhandled(r);
  }
}

export type EventListener = (event: EngineEvent) => void;

/**
 * The stream a command's watchers subscribe to: journal records and the engine's other news go in, typed events
 * with a schema, a wall time and the time since the command began come out. The clock is injected for tests.
 */
export class EventStream {
  private readonly listeners: EventListener[] = [];
  private readonly started: number;

  constructor(private readonly now: () => Date = () => new Date()) {
    this.started = now().getTime();
  }

  subscribe(listener: EventListener): this {
    this.listeners.push(listener);
    return this;
  }

  emit(body: EventBody): void {
    const t = this.now();
    const event = { schema: EVENT_SCHEMA, time: t.toISOString(), elapsedMs: Math.max(0, t.getTime() - this.started), ...body } as EngineEvent;
    for (const l of this.listeners) l(event);
  }

  /** For the engine's `onRecord`. */
  readonly record = (r: JournalRecord): void => {
    for (const e of eventsOfRecord(r)) this.emit(e);
  };

  /** For the engine's `onActivity` (the events the journal does not keep). */
  readonly activity = (e: ActivityEvent): void => this.emit(e);
}

/** What the engine reports beyond its journal. */
export type ActivityEvent = Extract<EventBody, { type: 'step-phase-started' | 'waiting' | 'step-phase-ended' | 'diagnosis-started' | 'diagnosis-progress' | 'diagnosis-finished' }>;
