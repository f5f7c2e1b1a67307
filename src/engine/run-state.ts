import type { JournalRecord } from '../journal/journal.js';
import type { PlaybookOutcome } from '../../machines/playbook.machine.js';
import type { HostOutcome } from '../../machines/host.machine.js';
import type { InventoryHost } from '../inventory/inventory.js';

/** What a run's journal says about each host and playbook: folded from the records, in order. */
export interface PlaybookProgress {
  playbook: string;
  started: boolean;
  /** Steps whose apply started and that are not undone, in the order they ran. */
  applied: string[];
  checkpoints: Record<string, unknown>;
  left: Record<string, unknown>;
  verified: string[];
  undone: string[];
  /** Revert guards of guarded steps, by step: armed (or being armed) until disarmed; kept ones fire at their TTL. */
  guards: Record<string, GuardProgress>;
  outcome: PlaybookOutcome | null;
}

export interface GuardProgress {
  task: string;
  state: 'arming' | 'armed' | 'disarmed' | 'kept';
  dueUtc: string | null;
  /** Whether the RDP and remoting ports answered before the change (confirmation asks that they still do). */
  rdpOpenBefore: boolean | null;
  remotingOpenBefore: boolean | null;
}

export interface HostProgress {
  host: string;
  playbooks: string[];
  progress: Record<string, PlaybookProgress>;
  outcome: HostOutcome | null;
}

export interface RunHeader {
  runId: string;
  version: string;
  mode: 'apply' | 'plan';
  inventory: string;
  hosts: InventoryHost[];
  playbooks: { id: string; version: number; digest: string }[];
  /** When hosts run different playbooks (chosen from a diagnosis): each host's, in run order. */
  hostPlaybooks?: Record<string, string[]>;
  /** When hosts run with their own parameters (from a diagnosis): each host's, resolved, by playbook. */
  hostParameters?: Record<string, Record<string, Record<string, unknown>>>;
  parameters: Record<string, Record<string, unknown>>;
  allowIrreversible: boolean;
  concurrency: number;
}

export interface RunState {
  header: RunHeader;
  hosts: Record<string, HostProgress>;
  finished: boolean;
  records: number;
  started: string;
  lastTime: string;
}

const remove = (list: string[], x: string) => list.filter((y) => y !== x);

export function foldRun(records: JournalRecord[]): RunState {
  const first = records[0];
  if (!first || first.type !== 'run-started') throw new Error('journal does not start with run-started');
  const state: RunState = { header: first.header as RunHeader, hosts: {}, finished: false, records: records.length, started: first.time, lastTime: records.at(-1)!.time };
  const host = (h: string) => (state.hosts[h] ??= { host: h, playbooks: [], progress: {}, outcome: null });
  const pb = (h: string, p: string) =>
    (host(h).progress[p] ??= { playbook: p, started: false, applied: [], checkpoints: {}, left: {}, verified: [], undone: [], guards: {}, outcome: null });
  for (const r of records) {
    const h = r.host as string | undefined;
    const p = r.playbook as string | undefined;
    const step = r.step as string | undefined;
    switch (r.type) {
      case 'host-started':
        host(h!).playbooks = r.playbooks as string[];
        break;
      case 'playbook-started':
        pb(h!, p!).started = true;
        break;
      case 'step-checkpoint': {
        const x = pb(h!, p!);
        if (!x.applied.includes(step!)) x.applied.push(step!);
        x.checkpoints[step!] = r.state;
        x.undone = remove(x.undone, step!);
        x.verified = remove(x.verified, step!);
        break;
      }
      case 'step-verified': {
        const x = pb(h!, p!);
        if (!x.verified.includes(step!)) x.verified.push(step!);
        x.left[step!] = r.left;
        break;
      }
      case 'step-undone': {
        const x = pb(h!, p!);
        x.applied = remove(x.applied, step!);
        x.verified = remove(x.verified, step!);
        if (!x.undone.includes(step!)) x.undone.push(step!);
        break;
      }
      case 'guard-arming':
        pb(h!, p!).guards[step!] = { task: r.task as string, state: 'arming', dueUtc: null, rdpOpenBefore: null, remotingOpenBefore: null };
        break;
      case 'guard-armed':
      case 'guard-kept':
      case 'guard-disarmed': {
        const g = (pb(h!, p!).guards[step!] ??= { task: r.task as string, state: 'arming', dueUtc: null, rdpOpenBefore: null, remotingOpenBefore: null });
        g.state = r.type === 'guard-armed' ? 'armed' : r.type === 'guard-kept' ? 'kept' : 'disarmed';
        if (typeof r.dueUtc === 'string') g.dueUtc = r.dueUtc;
        const before = (r.rdpBefore as { open?: unknown } | undefined)?.open;
        if (typeof before === 'boolean') g.rdpOpenBefore = before;
        const remoting = (r.remotingBefore as { open?: unknown } | undefined)?.open;
        if (typeof remoting === 'boolean') g.remotingOpenBefore = remoting;
        break;
      }
      case 'playbook-finished':
      case 'playbook-rolled-back':
        pb(h!, p!).outcome = r.outcome as PlaybookOutcome;
        break;
      case 'host-finished':
        host(h!).outcome = r.outcome as HostOutcome;
        break;
      case 'run-finished':
        state.finished = true;
        break;
      case 'resume-started':
      case 'rollback-started':
        state.finished = false;
        break;
    }
  }
  return state;
}

/** Guards still on the host (armed, being armed, or kept): their tasks will restore the checkpoint at the TTL. */
export function liveGuards(x: PlaybookProgress): string[] {
  return Object.entries(x.guards).filter(([, g]) => g.state !== 'disarmed').map(([step]) => step);
}

/** Steps whose apply started but whose outcome the journal does not know: to reconcile before anything else. */
export function inDoubt(x: PlaybookProgress): string[] {
  return x.applied.filter((s) => !x.verified.includes(s));
}
