import type { Broker } from '../broker/broker.js';
import { RdpfixError } from '../errors.js';
import type { Inventory, InventoryHost } from '../inventory/inventory.js';
import { selectHosts, targetFor } from '../inventory/inventory.js';
import { JournalWriter, lockRun, newRunId, readRun } from '../journal/journal.js';
import { orderPlaybooks, resolveParameters, type Playbook } from '../playbooks/manifest.js';
import { VERSION } from '../version.js';
import type { HostOutput } from '../../machines/host.machine.js';
import type { PlaybookOutput } from '../../machines/playbook.machine.js';
import { forEachHost, note, noteTo, runHost, runPlaybook, runStepScript, type EngineContext, type HostJob } from './runner.js';
import { foldRun, inDoubt, liveGuards, type HostProgress, type PlaybookProgress, type RunHeader, type RunState } from './run-state.js';
import { runGuard, type GuardMemo } from '../guard/guard.js';

export interface RunOptions {
  mode: 'apply' | 'plan';
  inventory: Inventory;
  /** Only these hosts of the inventory (all when empty). */
  hostFilter?: string[];
  catalogue: Map<string, Playbook>;
  playbookIds: string[];
  /** Per host, the playbooks it needs (e.g. from a diagnosis); hosts not listed, or with none, are left out. */
  playbooksByHost?: Record<string, string[]>;
  /** User parameters per playbook id. */
  parameters: Record<string, Record<string, unknown>>;
  /** Per host, parameters that hold for that host only (e.g. the user a diagnosis found); they win over `parameters`. */
  hostParameters?: Record<string, Record<string, Record<string, unknown>>>;
  concurrency: number;
  allowIrreversible: boolean;
  stateDir: string;
  broker: Broker;
  onRecord?: (record: Record<string, unknown>) => void;
}

export interface RunResult {
  runId: string;
  mode: 'apply' | 'plan' | 'rollback' | 'resume';
  hosts: HostOutput[];
}

/** Each host's parameters for the playbooks it runs: the run's, overridden by its own; every problem names the host. */
function resolveHostParameters(jobs: HostJob[], global: RunOptions['parameters'], own: NonNullable<RunOptions['hostParameters']>) {
  return Object.fromEntries(jobs.map((j) => [j.host, Object.fromEntries(j.playbooks.map((pb) => {
    try {
      return [pb.id, resolveParameters(pb, { ...(global[pb.id] ?? {}), ...(own[j.host]?.[pb.id] ?? {}) })];
    } catch (err) {
      if (err instanceof RdpfixError) throw new RdpfixError(err.kind, `Host ${j.host}: ${err.message}`, err.fix);
      throw err;
    }
  }))]));
}

const jobAddress = (h: InventoryHost) => ({ host: h.name, rdpPort: h.rdpPort ?? 3389, ...(h.address ? { address: h.address } : {}) });

/**
 * plan and apply. Everything that can fail before the first remote write is checked first: playbooks,
 * parameters, order, hosts, credentials. Then the journal is created and hosts run, `concurrency` at a time.
 */
export async function startRun(o: RunOptions): Promise<RunResult> {
  if (!o.playbookIds.length) throw new RdpfixError('usage', 'No playbook chosen.', 'Pass --playbook ID (rdpfix playbooks list shows them).');
  const chosen = o.playbookIds.map((id) => {
    const pb = o.catalogue.get(id);
    if (!pb) throw new RdpfixError('usage', `Unknown playbook '${id}'.`, `Known: ${[...o.catalogue.keys()].join(', ') || 'none'}.`);
    return pb;
  });
  const unknownParams = Object.keys(o.parameters).filter((id) => !o.playbookIds.includes(id));
  if (unknownParams.length) throw new RdpfixError('usage', `Parameters given for playbooks not chosen: ${unknownParams.join(', ')}.`);
  const ordered = orderPlaybooks(chosen);
  // Playbooks whose parameters some hosts get from elsewhere (a diagnosis) are resolved per host, below.
  const perHost = new Set(Object.values(o.hostParameters ?? {}).flatMap((x) => Object.keys(x)));
  const parameters = Object.fromEntries(ordered.filter((pb) => !perHost.has(pb.id)).map((pb) => [pb.id, resolveParameters(pb, o.parameters[pb.id] ?? {})]));
  const byHost = o.playbooksByHost;
  const hosts = selectHosts(o.inventory.hosts, o.hostFilter, (missing) => new RdpfixError('usage', `Not in ${o.inventory.path}: ${missing.join(', ')}.`, 'Name hosts as the inventory lists them.')).filter((h) => !byHost || (byHost[h.name]?.length ?? 0) > 0);
  const jobs: HostJob[] = hosts.map((h) => ({ ...jobAddress(h), target: targetFor(h), playbooks: byHost ? ordered.filter((p) => byHost[h.name]!.includes(p.id)) : ordered }));
  const hostParameters = o.hostParameters ? resolveHostParameters(jobs, o.parameters, o.hostParameters) : undefined;
  for (const j of jobs) if (hostParameters?.[j.host]) j.parameters = hostParameters[j.host];

  const runId = newRunId();
  const journal = JournalWriter.create(o.stateDir, runId);
  const unlock = lockRun(o.stateDir, runId);
  const header: RunHeader = {
    runId, version: VERSION, mode: o.mode, inventory: o.inventory.path, hosts,
    playbooks: ordered.map((p) => ({ id: p.id, version: p.version, digest: p.digest })),
    parameters, allowIrreversible: o.allowIrreversible, concurrency: o.concurrency,
    ...(byHost ? { hostPlaybooks: Object.fromEntries(jobs.map((j) => [j.host, j.playbooks.map((p) => p.id)])) } : {}),
    ...(hostParameters ? { hostParameters } : {}),
  };
  try {
    noteTo(journal, o.onRecord, { type: 'run-started', header });
    const ctx: EngineContext = { runId, broker: o.broker, journal, parameters, allowIrreversible: o.allowIrreversible, onRecord: o.onRecord };
    const results = await forEachHost(jobs, o.concurrency, async (job) => {
      try {
        return await runHost(ctx, job, { mode: o.mode, rollbackInput: () => ({}) });
      } finally {
        if (job.target.kind !== 'lab') await o.broker.closeSession(job.target);
      }
    });
    noteTo(journal, o.onRecord, { type: 'run-finished', outcomes: Object.fromEntries(results.map((r) => [r.host, r.outcome])) });
    return { runId, mode: o.mode, hosts: results };
  } finally {
    journal.close();
    unlock();
  }
}

export interface PastRunOptions {
  stateDir: string;
  runId: string;
  catalogue: Map<string, Playbook>;
  broker: Broker;
  hostFilter?: string[];
  force: boolean;
  onRecord?: (record: Record<string, unknown>) => void;
}

/** Opens a past run for rollback or resume: its state, its playbooks (unchanged), its hosts' targets. */
function openPastRun(o: PastRunOptions) {
  const { records, tornTail } = readRun(o.stateDir, o.runId);
  if (records.length === 0) return null;
  const state = foldRun(records);
  if (state.header.mode !== 'apply') throw new RdpfixError('usage', `Run ${o.runId} was a plan; there is nothing to roll back or resume.`);
  const playbooks = new Map<string, Playbook>();
  for (const p of state.header.playbooks) {
    const now = o.catalogue.get(p.id);
    if (!now) throw new RdpfixError('input', `Playbook ${p.id} of run ${o.runId} is no longer in the catalogue.`, 'Point --playbooks at the folder the run used.');
    if (now.digest !== p.digest) {
      throw new RdpfixError('input', `Playbook ${p.id} changed since run ${o.runId} (digest ${p.digest.slice(0, 12)} → ${now.digest.slice(0, 12)}).`,
        'Restore the playbook as it was when the run started; rdpfix will not undo or finish a run with different scripts.');
    }
    playbooks.set(p.id, now);
  }
  const hosts = selectHosts(state.header.hosts, o.hostFilter, (missing) => new RdpfixError('usage', `Run ${o.runId} has no host ${missing.join(', ')}.`));
  // Credentials are never journaled: they come from the environment again now.
  const own = (name: string) => state.header.hostPlaybooks?.[name] ?? state.header.playbooks.map((p) => p.id);
  const jobs = hosts.map((h): HostJob => ({
    ...jobAddress(h), target: targetFor(h), playbooks: own(h.name).map((id) => playbooks.get(id)!),
    ...(state.header.hostParameters?.[h.name] ? { parameters: state.header.hostParameters[h.name] } : {}),
  }));
  const ctx = (journal: JournalWriter): EngineContext => ({
    runId: o.runId, broker: o.broker, journal, parameters: state.header.parameters, allowIrreversible: state.header.allowIrreversible, onRecord: o.onRecord,
  });
  return { state, jobs, ctx, tornTail };
}

/**
 * Rolls back a past run (or some of its hosts): every applied step, newest first, from its checkpoint.
 * A step whose host state drifted since the run stops that host's rollback there, unless forced.
 */
export async function rollbackRun(o: PastRunOptions): Promise<RunResult> {
  const opened = openPastRun(o);
  // The controller died while writing the run's first record: no host was touched.
  if (!opened) return { runId: o.runId, mode: 'rollback', hosts: [] };
  const { state, jobs, ctx } = opened;
  const unlock = lockRun(o.stateDir, o.runId);
  const journal = JournalWriter.reopen(o.stateDir, o.runId);
  try {
    noteTo(journal, o.onRecord, { type: 'rollback-started', hosts: jobs.map((j) => j.host), force: o.force });
    const engine = ctx(journal);
    const results = await forEachHost(jobs, state.header.concurrency, (job) => rollbackHost(engine, job, state.hosts[job.host], o.force));
    noteTo(journal, o.onRecord, { type: 'rollback-finished', outcomes: Object.fromEntries(results.map((r) => [r.host, r.outcome])) });
    return { runId: o.runId, mode: 'rollback', hosts: results };
  } finally {
    journal.close();
    unlock();
  }
}

async function rollbackHost(ctx: EngineContext, job: HostJob, progress: HostProgress | undefined, force: boolean): Promise<HostOutput> {
  const outcomes: HostOutput['outcomes'] = {};
  const results: Record<string, PlaybookOutput> = {};
  let outcome: HostOutput['outcome'] = 'rolledBack';
  const order = [...(progress?.playbooks ?? [])].reverse();
  for (const id of order) {
    const x = progress!.progress[id];
    const pb = job.playbooks.find((p) => p.id === id)!;
    const reversible = x?.applied.filter((s) => !pb.steps.find((st) => st.id === s)?.irreversible) ?? [];
    if (!x || x.applied.length === 0) continue;
    const out = await runPlaybook(ctx, job, pb, {
      mode: 'rollback', attempted: x.applied, checkpoints: x.checkpoints,
      left: Object.fromEntries(Object.entries(x.left).filter(([s]) => x.verified.includes(s))), checkDrift: true, force,
    });
    note(ctx, { type: 'playbook-rolled-back', host: job.host, playbook: id, outcome: out.outcome, drift: out.drift, undoFailure: out.undoFailure, leftUndone: out.leftUndone, reversible });
    outcomes[id] = out.outcome;
    results[id] = out;
    if (out.outcome !== 'rolledBack') {
      // Refuse the playbooks before it too: undoing them under a drifted or half-undone later change is unsafe.
      outcome = out.outcome === 'rollbackRefused' ? 'rollbackRefused' : 'rollbackFailed';
      break;
    }
  }
  note(ctx, { type: 'host-rolled-back', host: job.host, outcome });
  if (job.target.kind !== 'lab') await ctx.broker.closeSession(job.target);
  return { host: job.host, outcome, failed: null, outcomes, results };
}

/**
 * Finishes a run whose controller died. A step whose apply started but whose end the journal does not
 * know is reconciled first: verify says whether it took; if it did, it is recorded as done; if not, it
 * is undone from its checkpoint, then runs again from its check. Nothing is re-applied blindly: steps
 * already done are skipped by their own checks.
 */
export async function resumeRun(o: PastRunOptions & { rollback: boolean }): Promise<RunResult> {
  if (o.rollback) return rollbackRun(o);
  const opened = openPastRun(o);
  if (!opened) return { runId: o.runId, mode: 'resume', hosts: [] };
  const { state, jobs, ctx } = opened;
  const unlock = lockRun(o.stateDir, o.runId);
  const journal = JournalWriter.reopen(o.stateDir, o.runId);
  try {
    noteTo(journal, o.onRecord, { type: 'resume-started', hosts: jobs.map((j) => j.host) });
    const engine = ctx(journal);
    const pending = jobs.filter((j) => !state.hosts[j.host]?.outcome);
    const results = await forEachHost(pending, state.header.concurrency, (job) => resumeHost(engine, job, state));
    noteTo(journal, o.onRecord, { type: 'run-finished', outcomes: Object.fromEntries(results.map((r) => [r.host, r.outcome])) });
    return { runId: o.runId, mode: 'resume', hosts: results };
  } finally {
    journal.close();
    unlock();
  }
}

/** Undoes a step the crash left in doubt (or unconfirmed) from its checkpoint, and takes it off `applied`. */
async function undoReconciled(ctx: EngineContext, job: HostJob, pb: Playbook, x: PlaybookProgress, step: string, applied: string[]): Promise<void> {
  note(ctx, { type: 'undo-started', host: job.host, playbook: pb.id, step, reconciled: true });
  const undo = await runStepScript(ctx, job, pb, { step, phase: 'undo', checkpoint: x.checkpoints[step] ?? null });
  note(ctx, { type: 'step-undone', host: job.host, playbook: pb.id, step, result: undo, reconciled: true });
  applied.splice(applied.indexOf(step), 1);
}

/**
 * Revert guards the crash left armed: a step that took is confirmed again and its guard disarmed (or kept, if the
 * change expires); a step that was undone, or whose confirmation fails now, is undone and its guard removed —
 * the machine then runs it again from its check.
 */
async function settleGuards(ctx: EngineContext, job: HostJob, pb: Playbook, x: PlaybookProgress, applied: string[], reconciledOk: string[]): Promise<void> {
  for (const step of liveGuards(x)) {
    const g = x.guards[step]!;
    if (g.state === 'kept') continue;
    const memo: GuardMemo = new Map([[step, { rdpOpenBefore: g.rdpOpenBefore, remotingOpenBefore: g.remotingOpenBefore, dueUtc: g.dueUtc }]]);
    const spec = pb.steps.find((s) => s.id === step)!;
    const call = (action: 'confirm' | 'disarm' | 'keep') => runGuard(ctx, job, pb, { step, action, checkpoint: null }, memo);
    if (applied.includes(step) && (reconciledOk.includes(step) || x.verified.includes(step))) {
      const confirmed = await call('confirm').then(() => true, () => false);
      if (confirmed) {
        await call(spec.guard?.expires ? 'keep' : 'disarm');
        continue;
      }
      await undoReconciled(ctx, job, pb, x, step, applied);
    }
    await call('disarm');
  }
}

async function resumeHost(ctx: EngineContext, job: HostJob, state: RunState): Promise<HostOutput> {
  const progress = state.hosts[job.host];
  const done: Record<string, PlaybookOutput['outcome']> = {};
  const prior: Record<string, { attempted: string[]; checkpoints: Record<string, unknown> }> = {};
  for (const pb of job.playbooks) {
    const x = progress?.progress[pb.id];
    if (!x) continue;
    if (x.outcome) {
      done[pb.id] = x.outcome;
      continue;
    }
    const applied = [...x.applied];
    const reconciledOk: string[] = [];
    for (const step of inDoubt(x)) {
      const verify = await runStepScript(ctx, job, pb, { step, phase: 'verify', checkpoint: x.checkpoints[step] ?? null }).catch((e) => ({ ok: false, reason: String(e?.message ?? e), warnings: [] }));
      if (verify.ok) {
        const hasCapture = !!pb.steps.find((s) => s.id === step)?.capture;
        const left = hasCapture ? (await runStepScript(ctx, job, pb, { step, phase: 'capture', checkpoint: null })).state ?? null : null;
        note(ctx, { type: 'step-verified', host: job.host, playbook: pb.id, step, left, result: verify, reconciled: true });
        reconciledOk.push(step);
      } else {
        await undoReconciled(ctx, job, pb, x, step, applied);
      }
    }
    await settleGuards(ctx, job, pb, x, applied, reconciledOk);
    prior[pb.id] = { attempted: applied, checkpoints: x.checkpoints };
  }
  // Playbooks that finished before the crash and succeeded must be rolled back too if a later one fails.
  const checkpointsOf = (id: string) => progress?.progress[id];
  return runHost(ctx, { ...job }, {
    mode: 'apply', done, prior,
    rollbackInput: (pb) => {
      const x = checkpointsOf(pb.id);
      return x ? { attempted: x.applied, checkpoints: x.checkpoints, left: x.left } : {};
    },
  });
}
