import os from 'node:os';
import type { Broker } from '../broker/broker.js';
import { RdpfixError } from '../errors.js';
import type { Inventory, InventoryHost } from '../inventory/inventory.js';
import { selectHosts, targetFor } from '../inventory/inventory.js';
import { JournalWriter, lockRun, newRunId, readRun, removeUnbornRuns, runDir, runRecords } from '../journal/journal.js';
import { HostResults } from './host-results.js';
import { describeHolder, releaseLease, takeLeases, type HeldLease, type LeaseHolder } from '../journal/leases.js';
import type { JournalRecord, RunHeader } from '../journal/records.js';
import { orderPlaybooks, resolveParameters, type Playbook } from '../playbooks/manifest.js';
import { checkRevertTtls } from './revert-ttls.js';
import { hostIdentity } from '../transport/targets.js';
import { VERSION } from '../version.js';
import type { HostOutput } from '../../machines/host.machine.js';
import { note, noteTo, type EngineContext, type HostJob } from './context.js';
import { forEachHost, runHost } from './runner.js';
import { foldRun, type RunState } from './run-state.js';
import { resumeHost, rollbackHost } from './past-run.js';
import { planWaves, waveStops, type Rollout } from './rollout.js';

/** A host this run did not work on because another run holds its lease. */
export interface RefusedHost {
  host: string;
  holder: LeaseHolder | null;
  leaseFile: string;
}

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
  /** How long to wait for hosts another run holds (seconds; default 0: refuse them at once). */
  waitLockSeconds?: number;
  onRecord?: (record: JournalRecord) => void;
  onActivity?: EngineContext['onActivity'];
  /** Apply only: waves, canary, failure threshold (src/engine/rollout.ts). */
  rollout?: Rollout;
  /** Aborted (Ctrl-C): no host, playbook or step starts any more; steps in flight finish, or roll back, as they would. */
  signal?: AbortSignal;
}

export interface RunResult {
  runId: string;
  mode: 'apply' | 'plan' | 'rollback' | 'resume';
  /**
   * What the machines returned for each host this command worked on, in the order of the run's hosts. A plan or apply
   * keeps them in a file, not in memory (HostResults): this reads them all back; `eachHost()` reads one at a time.
   */
  readonly hosts: HostOutput[];
  eachHost(): Iterable<HostOutput>;
  /** The run as its journal now reads (the fold every command and exit code share). */
  state: RunState;
  /** Hosts left alone because another run holds them. */
  refused: RefusedHost[];
  /** Said to the user: leases taken over, nothing to do, … */
  notes: string[];
}

/** How a host ended: what a run decides by while it goes on (waves, Ctrl-C, the run-finished record). */
interface Ended {
  host: string;
  outcome: HostOutput['outcome'];
}

/** A result whose hosts' outputs come from `outputs`, read when asked for. */
function withHosts(base: Omit<RunResult, 'hosts' | 'eachHost'>, outputs: Iterable<HostOutput>): RunResult {
  return { ...base, get hosts() { return [...outputs]; }, eachHost: () => outputs };
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
 * Takes the leases of the hosts a command wants. Hosts another run holds are left out (and reported);
 * when none is left, nothing can run: a usage error (exit 2) that names the holders.
 */
async function leaseHosts(stateDir: string, jobs: HostJob[], runId: string, waitSeconds: number) {
  const { held, refused } = await takeLeases(stateDir, jobs.map((j) => ({ host: j.host, key: hostIdentity(j.target) })), { runId, waitSeconds });
  const refusedHosts: RefusedHost[] = refused.map((r) => ({ host: r.host, holder: r.holder, leaseFile: r.file }));
  if (jobs.length && !held.length) {
    throw new RdpfixError('usage', `Every host of this command is in use by another run: ${refused.map((r) => `${r.host} (${describeHolder(r.holder)})`).join('; ')}.`,
      `Wait for that run to end, or pass --wait-lock SECONDS. A lease of a controller that is gone for good can be removed by hand: ${refused[0]!.file}.`);
  }
  const notes = held.filter((l) => l.tookOverFrom).map((l) => `${l.host}: took over the lease of ${describeHolder(l.tookOverFrom)}, which no longer runs.`);
  const release = () => held.forEach(releaseLease);
  const names = new Set(held.map((l) => l.host));
  return { kept: jobs.filter((j) => names.has(j.host)), held, refused: refusedHosts, notes, release };
}

async function takeoverRecords(journal: JournalWriter, onRecord: RunOptions['onRecord'], held: HeldLease[]): Promise<void> {
  for (const l of held) if (l.tookOverFrom) await noteTo(journal, onRecord, { type: 'lease-taken-over', host: l.host, previous: l.tookOverFrom });
}

/** Closes a run's journal (waiting for every record to be durable), then lets go of the run and its hosts, even if that fails. */
async function closeAndRelease(journal: JournalWriter | undefined, ...release: (() => void)[]): Promise<void> {
  try {
    await journal?.close();
  } finally {
    for (const r of release) r();
  }
}

/** The run as its journal reads now. */
export function runStateOf(stateDir: string, runId: string): RunState {
  return foldRun(runRecords(stateDir, runId));
}

/**
 * Everything about a run that can be wrong before a host is touched — playbooks, parameters, order, hosts —
 * checked without PowerShell (the CLI calls it before starting any).
 */
export function prepareRun(o: Omit<RunOptions, 'broker' | 'stateDir' | 'mode' | 'concurrency' | 'allowIrreversible'>) {
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
  const hosts = selectHosts(o.inventory.hosts, o.hostFilter, (missing) => new RdpfixError('usage', `Not in ${o.inventory.path}: ${missing}.`, 'Name hosts as the inventory lists them.')).filter((h) => !byHost || (byHost[h.name]?.length ?? 0) > 0);
  const jobs: HostJob[] = hosts.map((h) => ({ ...jobAddress(h), target: targetFor(h), playbooks: byHost ? ordered.filter((p) => byHost[h.name]!.includes(p.id)) : ordered }));
  const hostParameters = o.hostParameters ? resolveHostParameters(jobs, o.parameters, o.hostParameters) : undefined;
  for (const j of jobs) if (hostParameters?.[j.host]) j.parameters = hostParameters[j.host];
  checkRevertTtls(jobs, parameters);

  return { ordered, parameters, hosts, jobs, hostParameters };
}

/**
 * plan and apply. Everything that can fail before the first remote write is checked first: playbooks,
 * parameters, order, hosts, leases. Then the journal is created and hosts run, `concurrency` at a time.
 */
export async function startRun(o: RunOptions): Promise<RunResult> {
  const { ordered, parameters, hosts, jobs: all, hostParameters } = prepareRun(o);
  let jobs = all;
  const byHost = o.playbooksByHost;

  const runId = newRunId();
  removeUnbornRuns(o.stateDir);
  // A plan changes nothing and needs no lease; an apply holds every host it works on.
  const leases = o.mode === 'apply' ? await leaseHosts(o.stateDir, jobs, runId, o.waitLockSeconds ?? 0) : { kept: jobs, held: [], refused: [], notes: [], release: () => {} };
  jobs = leases.kept;
  const inRun = new Set(jobs.map((j) => j.host));
  const header: Omit<RunHeader, 'format'> = {
    runId, version: VERSION, mode: o.mode, inventory: o.inventory.path, hosts: hosts.filter((h) => inRun.has(h.name)), controller: os.hostname(),
    playbooks: ordered.map((p) => ({ id: p.id, version: p.version, digest: p.digest })),
    parameters, allowIrreversible: o.allowIrreversible, concurrency: o.concurrency,
    ...(byHost ? { hostPlaybooks: Object.fromEntries(jobs.map((j) => [j.host, j.playbooks.map((p) => p.id)])) } : {}),
    ...(hostParameters ? { hostParameters: Object.fromEntries(Object.entries(hostParameters).filter(([h]) => inRun.has(h))) } : {}),
  };
  let journal: JournalWriter | undefined;
  let unlock = () => {};
  try {
    const created = JournalWriter.create(o.stateDir, header);
    journal = created.writer;
    o.onRecord?.(created.first);
    unlock = lockRun(o.stateDir, runId);
    await takeoverRecords(journal, o.onRecord, leases.held);
    const ctx: EngineContext = { runId, broker: o.broker, journal, parameters, allowIrreversible: o.allowIrreversible, onRecord: o.onRecord, onActivity: o.onActivity, signal: o.signal };
    // Each host's output goes to the file as the host finishes; the run keeps only how each ended.
    const outputs = new HostResults(runDir(o.stateDir, runId), jobs.map((j) => j.host));
    const work = async (job: HostJob): Promise<Ended> => {
      try {
        const out = await runHost(ctx, job, { mode: o.mode, rollbackInput: () => ({}) });
        outputs.add(out);
        return { host: out.host, outcome: out.outcome };
      } finally {
        await o.broker.closeSession(job.target);
      }
    };
    const waves = planWaves(jobs, o.mode === 'apply' ? o.rollout : undefined);
    const results: Ended[] = [];
    const notes = [...leases.notes];
    let rollBack: HostJob[] = [];
    for (const [i, wave] of waves.entries()) {
      const done = await forEachHost(wave, o.concurrency, work, () => !o.signal?.aborted);
      results.push(...done);
      if (o.signal?.aborted) {
        const ran = new Set(results.map((r) => r.host));
        const notStarted = waves.slice(i).flat().map((j) => j.host).filter((h) => !ran.has(h));
        if (notStarted.length) {
          await note(ctx, { type: 'rollout-stopped', wave: i + 1, reason: 'interrupted (Ctrl-C)', notStarted });
          notes.push(`Interrupted: ${notStarted.length} host(s) never started (rdpfix apply --retry ${runId} runs them).`);
        }
        const stopped = results.filter((r) => r.outcome === 'stopped').map((r) => r.host);
        if (stopped.length) notes.push(`Interrupted: ${stopped.join(', ')} stopped between steps, completed steps kept (rdpfix resume ${runId} finishes them; rdpfix rollback ${runId} undoes them).`);
        break;
      }
      const failed = done.filter((h) => h.outcome !== 'succeeded').map((h) => h.host);
      let stop = waveStops(i + 1, failed, wave.length, o.rollout?.maxFailPercent);
      if (!stop && i === 0 && o.rollout?.canary && waves.length > 1) {
        // The canary goes on only if every canary host ended well and is healthy by a second look.
        const verdicts = failed.length ? [] : await o.rollout.checkCanary?.(wave.map((j) => j.host)) ?? [];
        const sick = verdicts.filter((v) => !v.healthy);
        if (failed.length || sick.length) stop = `canary: ${failed.length ? `${failed.join(', ')} failed` : sick.map((v) => `${v.host} is not healthy${v.why ? ` (${v.why})` : ''}`).join('; ')}`;
      }
      if (stop && i < waves.length - 1) {
        const notStarted = waves.slice(i + 1).flat().map((j) => j.host);
        await note(ctx, { type: 'rollout-stopped', wave: i + 1, reason: stop, notStarted });
        notes.push(`The rollout stopped after ${stop}; ${notStarted.length} host(s) never started (rdpfix apply --retry ${runId} runs them).`);
        if (o.rollout?.rollbackWave) rollBack = wave.filter((j) => done.find((h) => h.host === j.host)?.outcome === 'succeeded');
        break;
      }
    }
    await note(ctx, { type: 'run-finished', outcomes: Object.fromEntries(results.map((r) => [r.host, r.outcome])) });
    if (rollBack.length) {
      // --rollback-wave: the stopping wave's hosts that changed go back to their checkpoints, as `rdpfix rollback` would.
      const state = runStateOf(o.stateDir, runId);
      await note(ctx, { type: 'rollback-started', hosts: rollBack.map((j) => j.host), force: false });
      const undone = await forEachHost(rollBack, o.concurrency, (job) => rollbackHost(ctx, job, state.hosts[job.host], false));
      await note(ctx, { type: 'rollback-finished', outcomes: Object.fromEntries(undone.map((r) => [r.host, r.outcome])) });
      notes.push(`--rollback-wave: ${undone.map((r) => `${r.host} ${r.outcome}`).join(', ')}.`);
    }
    return withHosts({ runId, mode: o.mode, state: runStateOf(o.stateDir, runId), refused: leases.refused, notes }, outputs);
  } finally {
    await closeAndRelease(journal, unlock, leases.release);
  }
}

export interface PastRunOptions {
  stateDir: string;
  runId: string;
  catalogue: Map<string, Playbook>;
  broker: Broker;
  hostFilter?: string[];
  force: boolean;
  waitLockSeconds?: number;
  onRecord?: (record: JournalRecord) => void;
  onActivity?: EngineContext['onActivity'];
}

/**
 * What a past run needs to be rolled back or resumed, checked without PowerShell: an apply (not a plan), and
 * each of its playbooks still in the catalogue with the digest it ran with.
 */
export function pastRunPlaybooks(state: RunState, catalogue: Map<string, Playbook>, runId: string): Map<string, Playbook> {
  if (state.header.mode !== 'apply') throw new RdpfixError('usage', `Run ${runId} was a plan; there is nothing to roll back or resume.`);
  const playbooks = new Map<string, Playbook>();
  for (const p of state.header.playbooks) {
    const now = catalogue.get(p.id);
    if (!now) throw new RdpfixError('input', `Playbook ${p.id} of run ${runId} is no longer in the catalogue.`, 'Point --playbooks at the folder the run used.');
    if (now.digest !== p.digest) {
      throw new RdpfixError('input', `Playbook ${p.id} changed since run ${runId} (digest ${p.digest.slice(0, 12)} → ${now.digest.slice(0, 12)}).`,
        'Restore the playbook as it was when the run started; rdpfix will not undo or finish a run with different scripts.');
    }
    playbooks.set(p.id, now);
  }
  return playbooks;
}

/** Opens a past run for rollback or resume: its state, its playbooks (unchanged), its hosts' targets. */
function openPastRun(o: PastRunOptions) {
  const { records, tornTail } = readRun(o.stateDir, o.runId);
  const state = foldRun(records);
  const playbooks = pastRunPlaybooks(state, o.catalogue, o.runId);
  const hosts = selectHosts(state.header.hosts, o.hostFilter, (missing) => new RdpfixError('usage', `Run ${o.runId} has no host ${missing}.`));
  // Credentials are never journaled: they come from the environment again now.
  const own = (name: string) => state.header.hostPlaybooks?.[name] ?? state.header.playbooks.map((p) => p.id);
  const jobs = hosts.map((h): HostJob => ({
    ...jobAddress(h), target: targetFor(h), playbooks: own(h.name).map((id) => playbooks.get(id)!),
    ...(state.header.hostParameters?.[h.name] ? { parameters: state.header.hostParameters[h.name] } : {}),
  }));
  const ctx = (journal: JournalWriter): EngineContext => ({
    runId: o.runId, broker: o.broker, journal, parameters: state.header.parameters, allowIrreversible: state.header.allowIrreversible, onRecord: o.onRecord, onActivity: o.onActivity,
  });
  return { state, jobs, ctx, tornTail };
}

/** Works on some hosts of a past run under its run lock and their leases, appending to its journal. */
async function workOnPastRun(
  o: PastRunOptions, mode: 'rollback' | 'resume', jobs: HostJob[], ctxOf: (j: JournalWriter) => EngineContext,
  work: (ctx: EngineContext, jobs: HostJob[]) => Promise<HostOutput[]>,
): Promise<RunResult> {
  const unlock = lockRun(o.stateDir, o.runId);
  let leases: Awaited<ReturnType<typeof leaseHosts>> | undefined;
  let journal: JournalWriter | undefined;
  try {
    leases = await leaseHosts(o.stateDir, jobs, o.runId, o.waitLockSeconds ?? 0);
    journal = JournalWriter.reopen(o.stateDir, o.runId);
    await takeoverRecords(journal, o.onRecord, leases.held);
    const ctx = ctxOf(journal);
    const results = await work(ctx, leases.kept);
    return withHosts({ runId: o.runId, mode, state: runStateOf(o.stateDir, o.runId), refused: leases.refused, notes: leases.notes }, results);
  } finally {
    await closeAndRelease(journal, () => leases?.release(), unlock);
  }
}

/**
 * Rolls back a past run (or some of its hosts): every applied step, newest first, from its checkpoint.
 * A step whose host state drifted since the run stops that host's rollback there, unless forced.
 */
export async function rollbackRun(o: PastRunOptions): Promise<RunResult> {
  const { state, jobs, ctx } = openPastRun(o);
  return workOnPastRun(o, 'rollback', jobs, ctx, async (engine, kept) => {
    await note(engine, { type: 'rollback-started', hosts: kept.map((j) => j.host), force: o.force });
    const results = await forEachHost(kept, state.header.concurrency, (job) => rollbackHost(engine, job, state.hosts[job.host], o.force));
    await note(engine, { type: 'rollback-finished', outcomes: Object.fromEntries(results.map((r) => [r.host, r.outcome])) });
    return results;
  });
}

/** Why resume has nothing to do for a run, or null when it has work. */
function nothingToResume(state: RunState, runId: string): string | null {
  switch (state.status) {
    case 'rolled-back':
      return `Run ${runId} was rolled back; there is nothing to resume. Start a new run with rdpfix apply.`;
    case 'partly-rolled-back':
      return `Run ${runId} was partly rolled back; resume will not re-apply what a rollback undid. Start a new run with rdpfix apply.`;
    case 'finished':
      // A host stopped by Ctrl-C between steps is unfinished even though its command ended.
      if (Object.values(state.hosts).some((h) => h.state === 'stopped')) return null;
      return `Run ${runId} finished; there is nothing to resume.`;
    case 'interrupted':
      if (state.commands.at(-1)!.command === 'rollback') {
        throw new RdpfixError('usage', `Run ${runId} stopped while it was being rolled back; resume would re-apply what the rollback undid.`, `Finish the rollback: rdpfix rollback ${runId}.`);
      }
      return null;
  }
}

/**
 * Finishes a run whose controller died. A step whose apply started but whose end the journal does not
 * know is reconciled first (src/engine/past-run.ts). A run that finished or was rolled back is left alone.
 */
export async function resumeRun(o: PastRunOptions & { rollback: boolean }): Promise<RunResult> {
  if (o.rollback) return rollbackRun(o);
  const { state, jobs, ctx } = openPastRun(o);
  const nothing = nothingToResume(state, o.runId);
  if (nothing) return withHosts({ runId: o.runId, mode: 'resume', state, refused: [], notes: [nothing] }, []);
  const pending = jobs.filter((j) => ['unknown', 'not-reached', 'stopped'].includes(state.hosts[j.host]!.state));
  return workOnPastRun(o, 'resume', pending, ctx, async (engine, kept) => {
    await note(engine, { type: 'resume-started', hosts: kept.map((j) => j.host) });
    const results = await forEachHost(kept, state.header.concurrency, (job) => resumeHost(engine, job, state));
    await note(engine, { type: 'run-finished', outcomes: Object.fromEntries(results.map((r) => [r.host, r.outcome])) });
    return results;
  });
}
