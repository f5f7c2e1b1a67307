import { schemaId } from '../json-schema.js';
import type { JournalRecord } from '../journal/records.js';
import { foldRun, liveRevertTasks, type HostState, type RunState } from '../engine/run-state.js';

/** Schema of the JSON report (docs/reports.md); the HTML, Markdown and JUnit reports are views of the same model. */
export const REPORT_SCHEMA = schemaId('report');

export interface StepEvent {
  time: string;
  /** The journal record kind (step-checked, step-applied, revert-task-armed, …). */
  event: string;
  detail?: string;
}

export interface StepReport {
  step: string;
  /** The step's state before it ran (its check), and after (its apply or verify); absent when it did not run. */
  before?: unknown;
  after?: unknown;
  /** Plan mode: what the step would do. */
  action?: 'skip' | 'apply' | 'blocked';
  /** Apply: the change was verified on the host; or undone since (by its own failure or a rollback). */
  verified: boolean;
  undone: boolean;
  compliant?: boolean;
  warnings: string[];
  events: StepEvent[];
}

export interface PlaybookReport {
  playbook: string;
  outcome: string | null;
  rollbackOutcome: string | null;
  failure?: { step: string; phase: string; category: string; message: string };
  steps: StepReport[];
  /** Steps whose host-side revert task was still on the host when the report was made. */
  revertTasksLeft: string[];
  notes: string[];
}

/** A host's state in a report: the run's, or, for a diagnosed host the run left out, healthy or unfixed. */
export type ReportHostState = HostState | 'healthy' | 'unfixed';

export interface HostReport {
  host: string;
  state: ReportHostState;
  playbooks: PlaybookReport[];
  /** From the diagnosis that chose the playbooks: findings no playbook fixes. */
  unfixed: { cause: string; why: string }[];
}

export interface RunReport {
  schema: typeof REPORT_SCHEMA;
  runId: string;
  mode: string;
  status: RunState['status'];
  version: string;
  controller?: string;
  inventory: string;
  started: string;
  lastTime: string;
  generated: string;
  totals: Record<ReportHostState | 'hosts', number>;
  hosts: HostReport[];
}

export interface DiagnosisChoice {
  host: string;
  playbooks: string[];
  unfixable: { cause: string; why: string }[];
}

const HOST_STATES: ReportHostState[] = ['planned', 'succeeded', 'unchanged', 'healthy', 'unfixed', 'failed', 'failed-rolled-back', 'rolled-back', 'irreversible-kept', 'rollback-incomplete', 'stopped', 'not-reached', 'unknown'];

const STOPPED_NOTE = 'stopped before';

/** The report of a run, from its journal alone (plus the diagnosis that chose its playbooks, when there was one). */
export function buildReport(records: Iterable<JournalRecord>, o: { now: Date; diagnosis?: DiagnosisChoice[] }): RunReport {
  const byHost = new Map<string, JournalRecord[]>();
  const state = foldRun(tap(records, (r) => {
    if (isHostDetail(r)) {
      const list = byHost.get(r.host);
      if (list) list.push(r);
      else byHost.set(r.host, [r]);
    }
  }));
  return wholeReport(reportOf(state, (host) => byHost.get(host) ?? [], o));
}

/**
 * A report whose hosts are built one at a time, when read: `head` is everything but the hosts (totals come from the
 * fold), `eachHost()` builds each host's part from that host's records and lets it go. A fleet's report never sits
 * in memory whole unless `wholeReport` asks for it (the HTML, Markdown and JUnit renderers do).
 */
export interface ReportStream {
  head: Omit<RunReport, 'hosts'>;
  eachHost(): Iterable<HostReport>;
}

export function wholeReport(r: ReportStream): RunReport {
  return { ...r.head, hosts: [...r.eachHost()] };
}

/** The records a host's part of the report reads (run- and host-level records: the fold has them). */
export function isHostDetail(r: JournalRecord): r is Extract<JournalRecord, { host: string; playbook: string }> {
  return HOST_DETAIL.has(r.type);
}
const HOST_DETAIL = new Set<JournalRecord['type']>(['playbook-finished', 'playbook-rolled-back', 'step-checked', 'step-applied', 'step-verified', 'step-undone', 'step-checkpoint', 'undo-started',
  'step-failed', 'undo-skipped', 'undo-failed', 'drift', 'revert-task-arming', 'revert-task-armed', 'revert-task-confirmed', 'revert-task-kept', 'revert-task-disarming', 'revert-task-disarmed']);

/** The report of a folded run, each host's part built from `recordsOf(host)` (its records in journal order) when read. */
export function reportOf(state: RunState, recordsOf: (host: string) => Iterable<JournalRecord>, o: { now: Date; diagnosis?: DiagnosisChoice[] }): ReportStream {
  const unfixed = new Map((o.diagnosis ?? []).map((c) => [c.host, c.unfixable]));
  // Diagnosed hosts the run left out stay in the report: healthy, or with findings no playbook fixes.
  const leftOut = (o.diagnosis ?? []).filter((c) => !state.hosts[c.host]).map((c): HostReport => ({ host: c.host, state: c.unfixable.length ? 'unfixed' : 'healthy', playbooks: [], unfixed: c.unfixable }));
  const states = [...Object.values(state.hosts).map((h) => h.state), ...leftOut.map((h) => h.state)];
  const totals = Object.fromEntries([['hosts', states.length], ...HOST_STATES.map((s) => [s, states.filter((x) => x === s).length])]) as RunReport['totals'];
  const head: Omit<RunReport, 'hosts'> = {
    schema: REPORT_SCHEMA, runId: state.header.runId, mode: state.header.mode, status: state.status, version: state.header.version,
    ...(state.header.controller ? { controller: state.header.controller } : {}), inventory: state.header.inventory,
    started: state.started, lastTime: state.lastTime, generated: o.now.toISOString(), totals,
  };
  function* eachHost(): Generator<HostReport> {
    for (const h of Object.values(state.hosts)) yield hostReport(state, h, recordsOf(h.host), unfixed.get(h.host) ?? [], o.now);
    yield* leftOut;
  }
  return { head, eachHost };
}

/** One host's part of the report, from its records. */
function hostReport(state: RunState, h: RunState['hosts'][string], records: Iterable<JournalRecord>, unfixed: HostReport['unfixed'], now: Date): HostReport {
  const steps = new Map<string, StepReport>();
  const playbooks = new Map<string, PlaybookReport>();
  const playbook = (_host: string, pb: string): PlaybookReport => {
    let p = playbooks.get(pb);
    if (!p) playbooks.set(pb, (p = { playbook: pb, outcome: null, rollbackOutcome: null, steps: [], revertTasksLeft: [], notes: [] }));
    return p;
  };
  const step = (host: string, pb: string, id: string): StepReport => {
    const key = `${pb}\u0000${id}`;
    let s = steps.get(key);
    if (!s) {
      steps.set(key, (s = { step: id, warnings: [], events: [], verified: false, undone: false }));
      playbook(host, pb).steps.push(s);
    }
    return s;
  };
  for (const r of records) {
    switch (r.type) {
      case 'playbook-finished': {
        const p = playbook(r.host, r.playbook);
        p.outcome = r.outcome;
        if (r.failure) p.failure = r.failure;
        if (r.undoFailure) p.notes.push(`undo of ${r.undoFailure.step} failed: ${r.undoFailure.message}`);
        if (r.leftUndone?.length) p.notes.push(`left applied: ${r.leftUndone.join(', ')}`);
        // A resume that finished a stopped playbook ends that note.
        p.notes = p.notes.filter((n) => !n.startsWith(STOPPED_NOTE));
        if (r.stoppedBefore) p.notes.push(`${STOPPED_NOTE} ${r.stoppedBefore} (Ctrl-C); the steps before it stay applied`);
        for (const e of r.plan ?? []) {
          const s = step(r.host, r.playbook, e.step);
          s.action = e.action;
          s.before = e.before;
          s.after = e.after;
          for (const w of e.warnings) if (!s.warnings.includes(w)) s.warnings.push(w);
          if (e.reason) s.events.push({ time: r.time, event: 'planned', detail: e.reason });
        }
        break;
      }
      case 'playbook-rolled-back': {
        const p = playbook(r.host, r.playbook);
        p.rollbackOutcome = r.outcome;
        if (r.drift) p.notes.push(`${r.drift.step} drifted since the run: the rollback left it alone`);
        if (r.undoFailure) p.notes.push(`undo of ${r.undoFailure.step} failed: ${r.undoFailure.message}`);
        break;
      }
      case 'step-checked':
      case 'step-applied':
      case 'step-verified':
      case 'step-undone': {
        const s = step(r.host, r.playbook, r.step);
        // The check says what is there (before) and what the step would leave (after); verify confirms it.
        if (r.type === 'step-checked') {
          if (s.before === undefined && r.result.before !== undefined) s.before = r.result.before;
          if (s.after === undefined && r.result.after !== undefined) s.after = r.result.after;
          if (r.result.compliant !== undefined) s.compliant ??= r.result.compliant;
        }
        if (r.type === 'step-verified') s.verified = true;
        if (r.type === 'step-undone') s.undone = true;
        for (const w of r.result.warnings) if (!s.warnings.includes(w)) s.warnings.push(w);
        s.events.push({ time: r.time, event: r.type, ...(r.result.reason ? { detail: r.result.reason } : r.type === 'step-checked' && r.result.compliant ? { detail: 'compliant' } : {}) });
        break;
      }
      case 'step-checkpoint':
      case 'undo-started':
        step(r.host, r.playbook, r.step).events.push({ time: r.time, event: r.type });
        break;
      case 'step-failed':
        step(r.host, r.playbook, r.step).events.push({ time: r.time, event: r.type, detail: `${r.phase}: ${r.category}: ${r.message}` });
        break;
      case 'undo-skipped':
        step(r.host, r.playbook, r.step).events.push({ time: r.time, event: r.type, detail: r.reason });
        break;
      case 'undo-failed':
        step(r.host, r.playbook, r.step).events.push({ time: r.time, event: r.type, detail: `${r.category}: ${r.message}` });
        break;
      case 'drift':
        step(r.host, r.playbook, r.step).events.push({ time: r.time, event: r.type, detail: 'the host changed since the run' });
        break;
      case 'revert-task-arming':
      case 'revert-task-armed':
      case 'revert-task-confirmed':
      case 'revert-task-kept':
      case 'revert-task-disarming':
      case 'revert-task-disarmed': {
        const detail = r.type === 'revert-task-armed' ? `due ${r.dueUtc}` : r.type === 'revert-task-confirmed' ? (r.ok ? 'confirmed' : `not confirmed: ${r.problems.join('; ')}`) : r.type === 'revert-task-kept' ? `kept; fires ${r.dueUtc ?? 'at its TTL'}` : undefined;
        step(r.host, r.playbook, r.step).events.push({ time: r.time, event: r.type, ...(detail ? { detail } : {}) });
        break;
      }
      default:
        break; // run- and host-level records: the fold has them
    }
  }
  return {
    host: h.host,
    state: h.state,
    unfixed,
    // A host never reached still lists the playbooks it was to run (each then reads "not finished").
    playbooks: (h.playbooks.length ? h.playbooks : state.header.hostPlaybooks?.[h.host] ?? state.header.playbooks.map((p) => p.id)).map((id) => {
      const p = playbook(h.host, id);
      const progress = h.progress[id];
      if (progress) p.revertTasksLeft = liveRevertTasks(progress, now);
      return p;
    }),
  };
}

function* tap<T>(items: Iterable<T>, see: (item: T) => void): Generator<T> {
  for (const item of items) {
    see(item);
    yield item;
  }
}

/** A value as one short line: before → after cells. */
export function showValue(v: unknown): string {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The "after" cell: what the host holds now, as far as the journal knows. */
export function afterText(s: StepReport): string {
  if (s.undone) return 'undone (back to before)';
  if (s.compliant) return 'compliant already: unchanged';
  if (s.verified || s.action) return showValue(s.after);
  return s.after === undefined ? '' : `not applied (would be ${showValue(s.after)})`;
}
