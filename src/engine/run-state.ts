import { unhandled, type HostOutcome, type JournalRecord, type PlaybookOutcome, type RunHeader } from '../journal/records.js';

export type { RunHeader };

/**
 * What a run's journal says, folded from its records in order: the one reading of a run that `runs list`,
 * `runs show`, `resume`, `rollback` and the exit codes share.
 */

/** Where one host stands, in words that tell the truth about what is on it now. */
export type HostState =
  /** Plan mode: every step checked, nothing changed. */
  | 'planned'
  /** Changes applied and verified. */
  | 'succeeded'
  /** Compliant already: nothing applied. */
  | 'unchanged'
  /** A playbook failed before anything was changed. */
  | 'failed'
  /** A playbook failed; what had been changed was undone. */
  | 'failed-rolled-back'
  /** Undone by a later `rollback`. */
  | 'rolled-back'
  /** Undone as far as possible; irreversible steps stay applied (consented to with --allow-irreversible). */
  | 'irreversible-kept'
  /** An undo failed or was refused (drift): changes remain on the host. */
  | 'rollback-incomplete'
  /** The run never started on this host. */
  | 'not-reached'
  /** Stopped (Ctrl-C) between steps: what completed is applied and verified, the rest never started (resume finishes it). */
  | 'stopped'
  /** Interrupted: the journal does not know how it ended (needs resume, or rollback). */
  | 'unknown';

/** Where a run stands. */
export type RunStatus = 'finished' | 'interrupted' | 'rolled-back' | 'partly-rolled-back';

export interface RevertTaskProgress {
  task: string;
  state: 'arming' | 'armed' | 'disarmed' | 'kept';
  dueUtc: string | null;
  /** Whether the RDP and remoting ports answered before the change (confirmation asks that they still do). */
  rdpOpenBefore: boolean | null;
  remotingOpenBefore: boolean | null;
}

export interface PlaybookProgress {
  playbook: string;
  started: boolean;
  /** Steps whose apply started and that are not undone, in the order they ran. */
  applied: string[];
  /** Every step whose apply ever started in this run (undone or not). */
  everApplied: string[];
  checkpoints: Record<string, unknown>;
  left: Record<string, unknown>;
  verified: string[];
  undone: string[];
  /** Irreversible steps a rollback could not undo. */
  kept: string[];
  /** Host-side revert tasks of steps, by step: armed (or being armed) until disarmed; kept ones fire at their TTL. */
  revertTasks: Record<string, RevertTaskProgress>;
  outcome: PlaybookOutcome | null;
  /** Outcome `stopped`: the first step that never started. */
  stoppedBefore: string | null;
}

export interface HostProgress {
  host: string;
  started: boolean;
  playbooks: string[];
  progress: Record<string, PlaybookProgress>;
  /** The outcome of the last apply/plan/resume on this host, null while it runs (or after a crash). */
  outcome: HostOutcome | null;
  /** Set when a later rollback included this host: its outcome, null while it runs. */
  rollback: { outcome: HostOutcome | null } | null;
  state: HostState;
}

export interface CommandProgress {
  command: 'apply' | 'plan' | 'resume' | 'rollback';
  hosts: string[];
  finished: boolean;
}

export interface RunState {
  header: RunHeader;
  hosts: Record<string, HostProgress>;
  commands: CommandProgress[];
  status: RunStatus;
  /** The last command (apply, resume or rollback) ran to its end. */
  finished: boolean;
  records: number;
  started: string;
  lastTime: string;
  /** Set when a rollout stopped the run after a wave: why, and the hosts that never started. */
  rolloutStopped: { wave: number; reason: string; notStarted: string[] } | null;
}

const remove = (list: string[], x: string) => list.filter((y) => y !== x);
const add = (list: string[], x: string) => (list.includes(x) ? list : [...list, x]);

function newPlaybook(p: string): PlaybookProgress {
  return { playbook: p, started: false, applied: [], everApplied: [], checkpoints: {}, left: {}, verified: [], undone: [], kept: [], revertTasks: {}, outcome: null, stoppedBefore: null };
}

/** One pass over the records, which may come straight from the file (journalRecords): none is kept. */
export function foldRun(records: Iterable<JournalRecord>): RunState {
  const it = records[Symbol.iterator]();
  const head = it.next();
  const first = head.done ? undefined : head.value;
  if (!first || first.type !== 'run-started') throw new Error('journal does not start with run-started');
  const header = first.header;
  const state: RunState = {
    header, hosts: {}, commands: [], status: 'interrupted', finished: false, records: 0, started: first.time, lastTime: first.time,
    rolloutStopped: null,
  };
  const host = (h: string) => (state.hosts[h] ??= { host: h, started: false, playbooks: [], progress: {}, outcome: null, rollback: null, state: 'not-reached' });
  const pb = (h: string, p: string) => (host(h).progress[p] ??= newPlaybook(p));
  const task = (r: { host: string; playbook: string; step: string; task: string }) =>
    (pb(r.host, r.playbook).revertTasks[r.step] ??= { task: r.task, state: 'arming', dueUtc: null, rdpOpenBefore: null, remotingOpenBefore: null });
  const current = () => state.commands.at(-1);
  for (const name of header.hosts.map((h) => h.name)) host(name);
  for (let next: IteratorResult<JournalRecord> = head; !next.done; next = it.next()) {
    const r = next.value;
    state.records++;
    state.lastTime = r.time;
    switch (r.type) {
      case 'run-started':
        state.commands.push({ command: r.header.mode, hosts: r.header.hosts.map((h) => h.name), finished: false });
        break;
      case 'run-finished':
      case 'rollback-finished':
        if (current()) current()!.finished = true;
        break;
      case 'resume-started':
        state.commands.push({ command: 'resume', hosts: r.hosts, finished: false });
        break;
      case 'rollback-started':
        state.commands.push({ command: 'rollback', hosts: r.hosts, finished: false });
        for (const h of r.hosts) host(h).rollback = { outcome: null };
        break;
      case 'lease-taken-over':
        break;
      case 'rollout-stopped':
        state.rolloutStopped = { wave: r.wave, reason: r.reason, notStarted: r.notStarted };
        break;
      case 'host-started': {
        const x = host(r.host);
        x.started = true;
        x.playbooks = r.playbooks;
        x.outcome = null;
        break;
      }
      case 'host-finished':
        host(r.host).outcome = r.outcome;
        break;
      case 'host-rolled-back':
        host(r.host).rollback = { outcome: r.outcome };
        break;
      case 'playbook-started':
        pb(r.host, r.playbook).started = true;
        break;
      case 'playbook-finished':
        pb(r.host, r.playbook).outcome = r.outcome;
        pb(r.host, r.playbook).stoppedBefore = r.stoppedBefore ?? null;
        break;
      case 'playbook-rolled-back':
        pb(r.host, r.playbook).outcome = r.outcome;
        break;
      case 'step-checked':
      case 'step-applied':
      case 'step-failed':
      case 'undo-started':
      case 'undo-failed':
      case 'drift':
        break;
      case 'step-checkpoint': {
        const x = pb(r.host, r.playbook);
        x.applied = add(x.applied, r.step);
        x.everApplied = add(x.everApplied, r.step);
        x.checkpoints[r.step] = r.state;
        x.undone = remove(x.undone, r.step);
        x.verified = remove(x.verified, r.step);
        break;
      }
      case 'step-verified': {
        const x = pb(r.host, r.playbook);
        x.verified = add(x.verified, r.step);
        x.left[r.step] = r.left;
        break;
      }
      case 'step-undone': {
        const x = pb(r.host, r.playbook);
        x.applied = remove(x.applied, r.step);
        x.verified = remove(x.verified, r.step);
        x.undone = add(x.undone, r.step);
        break;
      }
      case 'undo-skipped': {
        const x = pb(r.host, r.playbook);
        x.kept = add(x.kept, r.step);
        break;
      }
      case 'revert-task-arming':
        pb(r.host, r.playbook).revertTasks[r.step] = { task: r.task, state: 'arming', dueUtc: null, rdpOpenBefore: null, remotingOpenBefore: null };
        break;
      case 'revert-task-armed': {
        const t = task(r);
        t.state = 'armed';
        t.dueUtc = r.dueUtc;
        t.rdpOpenBefore = r.rdpBefore.open;
        t.remotingOpenBefore = r.remotingBefore?.open ?? null;
        break;
      }
      case 'revert-task-kept': {
        const t = task(r);
        t.state = 'kept';
        if (r.dueUtc) t.dueUtc = r.dueUtc;
        break;
      }
      case 'revert-task-disarmed':
        task(r).state = 'disarmed';
        break;
      case 'revert-task-confirmed':
      case 'revert-task-disarming':
        break;
      default:
        unhandled(r);
    }
  }
  for (const h of Object.values(state.hosts)) h.state = hostState(h);
  const last = current()!;
  state.finished = last.finished;
  state.status = runStatus(state, last);
  return state;
}

/** What is on a host now, from what the journal recorded. */
function hostState(h: HostProgress): HostState {
  const pbs = Object.values(h.progress);
  const changed = pbs.some((x) => x.everApplied.length > 0);
  const remaining = pbs.flatMap((x) => x.applied);
  const onlyIrreversibleLeft = remaining.length > 0 && pbs.every((x) => x.applied.every((s) => x.kept.includes(s)));
  if (h.rollback) {
    if (h.rollback.outcome === null) return 'unknown';
    if (h.rollback.outcome !== 'rolledBack') return 'rollback-incomplete';
    if (onlyIrreversibleLeft) return 'irreversible-kept';
    if (remaining.length) return 'rollback-incomplete';
    if (changed) return 'rolled-back';
    // Nothing was ever changed: the rollback had nothing to do; the host is as it was before the run.
    if (!h.started) return 'not-reached';
    return h.outcome === null || h.outcome === 'succeeded' ? 'unchanged' : 'failed';
  }
  if (!h.started) return 'not-reached';
  switch (h.outcome) {
    case null:
      return 'unknown';
    case 'planned':
      return 'planned';
    case 'succeeded':
      return pbs.some((x) => x.verified.length > 0) || remaining.length ? 'succeeded' : 'unchanged';
    case 'rolledBack':
      if (onlyIrreversibleLeft) return 'irreversible-kept';
      if (remaining.length) return 'rollback-incomplete';
      return changed ? 'failed-rolled-back' : 'failed';
    case 'rollbackFailed':
    case 'rollbackRefused':
      return 'rollback-incomplete';
    case 'stopped':
      return 'stopped';
  }
}

function runStatus(s: RunState, last: CommandProgress): RunStatus {
  if (!last.finished) return 'interrupted';
  const rollbacks = s.commands.filter((c) => c.command === 'rollback');
  if (!rollbacks.length) return 'finished';
  const all = s.header.hosts.map((h) => s.hosts[h.name]!);
  const undone = (h: HostProgress) => h.rollback?.outcome === 'rolledBack';
  if (last.command === 'rollback' && all.every(undone)) return 'rolled-back';
  return all.some((h) => h.rollback) ? 'partly-rolled-back' : 'finished';
}

/** Host states a command's exit code counts as done well. */
export const GOOD_STATES: Record<'plan' | 'apply' | 'resume' | 'rollback', HostState[]> = {
  plan: ['planned'],
  apply: ['succeeded', 'unchanged'],
  resume: ['succeeded', 'unchanged'],
  rollback: ['rolled-back', 'irreversible-kept', 'unchanged', 'not-reached', 'failed', 'failed-rolled-back'],
};

/** Revert tasks still on the host (armed, being armed, or kept) whose due time has not passed at `now`. */
export function liveRevertTasks(x: PlaybookProgress, now: Date): string[] {
  return Object.entries(x.revertTasks).filter(([, t]) => t.state !== 'disarmed' && !(t.dueUtc && Date.parse(t.dueUtc) <= now.getTime())).map(([step]) => step);
}

/** Revert tasks whose due time has passed without the journal seeing them removed: they have fired on the host. */
export function firedRevertTasks(x: PlaybookProgress, now: Date): string[] {
  return Object.entries(x.revertTasks).filter(([, t]) => t.state !== 'disarmed' && t.dueUtc && Date.parse(t.dueUtc) <= now.getTime()).map(([step]) => step);
}

/** Revert tasks the journal last saw on the host, regardless of the clock (what resume settles). */
export function recordedRevertTasks(x: PlaybookProgress): string[] {
  return Object.entries(x.revertTasks).filter(([, t]) => t.state !== 'disarmed').map(([step]) => step);
}

/** Steps whose apply started but whose outcome the journal does not know: to reconcile before anything else. */
export function inDoubt(x: PlaybookProgress): string[] {
  return x.applied.filter((s) => !x.verified.includes(s));
}
