import { Listr, ListrLogger, ProcessOutput, type ListrTask, type ListrTaskWrapper, type ListrDefaultRenderer, type ListrSimpleRenderer } from 'listr2';

type Renderers = [ListrDefaultRenderer, ListrSimpleRenderer];
import type { EngineEvent } from '../../engine/events.js';
import { inert } from './plain.js';
import { FleetTally, seconds } from './tally.js';

/** Up to this many host rows; a larger fleet shows its running hosts in that many rows and a counts line. */
export const MAX_HOST_ROWS = 12;
/** Sub-lines (warnings, revert tasks) kept under a running host. */
const MAX_NOTES = 3;

type Task = ListrTaskWrapper<unknown, Renderers[0], Renderers[1]>;
type Row = ListrTask<unknown, Renderers[0], Renderers[1]>;

interface Deferred { promise: Promise<void>; resolve: () => void }
const deferred = (): Deferred => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

/** One host as the view knows it, from its events. */
interface HostRow {
  name: string;
  since: number;
  playbooks: string[];
  ended: Map<string, string>;
  current: { playbook: string; step: string; phase: string; since: number } | null;
  waiting: number | null;
  notes: string[];
  outcome: string | null;
  /** A step of it changed the host (verified) or was undone. */
  changed: boolean;
  task?: Task;
  finished: Deferred;
}

/** A run, resume or rollback (one Listr each, one after the other): a counts row over the host rows. */
class Phase {
  readonly hosts = new Map<string, HostRow>();
  readonly ended = deferred();
  readonly tally = new FleetTally();
  private readonly queue: HostRow[] = [];
  private readonly waiters: ((h: HostRow | null) => void)[] = [];
  private readonly startWaiters = new Map<string, () => void>();
  over = false;
  root?: Task;

  constructor(readonly label: string, readonly names: string[], readonly rowPerHost: boolean) {
    this.tally.reset(names.length);
  }

  started(row: HostRow): void {
    this.hosts.set(row.name, row);
    this.startWaiters.get(row.name)?.();
    const w = this.waiters.shift();
    if (w) w(row);
    else this.queue.push(row);
  }

  /** The next host that started and has no row yet (lanes of a large fleet), or null once the phase is over. */
  next(): Promise<HostRow | null> {
    const row = this.queue.shift();
    if (row) return Promise.resolve(row);
    if (this.over) return Promise.resolve(null);
    return new Promise((r) => this.waiters.push(r));
  }

  /** This host once it starts, or null when the phase ends without it. */
  async startOf(name: string): Promise<HostRow | null> {
    if (!this.hosts.has(name) && !this.over) await Promise.race([new Promise<void>((r) => this.startWaiters.set(name, r)), this.ended.promise]);
    return this.hosts.get(name) ?? null;
  }

  end(): void {
    this.over = true;
    this.ended.resolve();
    for (const w of this.waiters.splice(0)) w(null);
    for (const h of this.hosts.values()) h.finished.resolve();
  }
}

/**
 * The live view on a terminal (listr2): fleet → host → playbook → step, spinners, elapsed times, counts, and
 * sub-lines for waits, warnings and revert tasks. It only listens to the run's events (src/engine/events.ts).
 * Up to MAX_HOST_ROWS hosts get a row each, kept when done; a larger fleet gets MAX_HOST_ROWS rows for the hosts
 * running now, and finished hosts fold into the counts (500 hosts never make 500 rows).
 */
export class ListrView {
  private chain: Promise<void> = Promise.resolve();
  private phase: Phase | null = null;
  private diagnosis: { total: number; probed: number; task?: Task; done: Deferred } | null = null;
  private readonly ticker: NodeJS.Timeout;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, private readonly now: () => number = Date.now) {
    this.ticker = setInterval(() => this.tick(), 1000);
    this.ticker.unref();
  }

  /** A word for the whole run, shown on the counts row (listr2 holds stderr while it draws: plain writes would wait). */
  notice(text: string): boolean {
    if (!this.phase) return false;
    this.phase.tally.note = text;
    this.tick();
    return true;
  }

  readonly listener = (raw: EngineEvent): void => {
    const e = inert(raw);
    switch (e.type) {
      case 'diagnosis-started':
        this.startDiagnosis(e.hosts);
        return;
      case 'diagnosis-progress':
        if (this.diagnosis) {
          this.diagnosis.probed = e.probed;
          this.tick();
        }
        return;
      case 'diagnosis-finished':
        if (this.diagnosis) {
          this.diagnosis.probed = e.hosts;
          this.diagnosis.done.resolve();
          this.diagnosis = null;
        }
        return;
      case 'run-started':
        this.startPhase(`${e.mode} ${e.runId}`, e.hosts);
        return;
      case 'resume-started':
        this.startPhase('resume', e.hosts);
        return;
      case 'rollback-started':
        this.startPhase('rollback', e.hosts);
        return;
      case 'run-finished':
      case 'rollback-finished':
        this.tick();
        this.phase?.end();
        this.phase = null;
        return;
    }
    const phase = this.phase;
    if (!phase) return;
    phase.tally.see(e);
    if (!('host' in e)) return;
    let row = phase.hosts.get(e.host);
    if (!row && (e.type === 'host-started' || e.type === 'playbook-started')) {
      row = { name: e.host, since: this.now(), playbooks: [], ended: new Map(), current: null, waiting: null, notes: [], outcome: null, changed: false, finished: deferred() };
      phase.started(row);
    }
    if (!row) return;
    switch (e.type) {
      case 'host-started':
        row.playbooks = e.playbooks;
        break;
      case 'playbook-started':
        if (!row.playbooks.includes(e.playbook)) row.playbooks.push(e.playbook);
        break;
      case 'step-phase-started':
        row.current = { playbook: e.playbook, step: e.step, phase: e.phase, since: this.now() };
        row.waiting = null;
        break;
      case 'waiting':
        row.waiting = e.seconds;
        break;
      case 'step-phase-ended':
        row.waiting = null;
        break;
      case 'step-verified':
      case 'step-undone':
        row.changed = true;
        break;
      case 'warning':
        row.notes.push(`⚠ ${e.step}: ${e.message}`);
        break;
      case 'revert-task':
        row.notes.push(`↺ ${e.step}: revert task ${e.state}${e.dueUtc ? ` (fires ${e.dueUtc})` : ''}`);
        break;
      case 'step-failed':
        row.notes.push(`✖ ${e.step}: failed in ${e.phase} (${e.category})`);
        break;
      case 'playbook-finished':
      case 'playbook-rolled-back':
        row.ended.set(e.playbook, e.type === 'playbook-rolled-back' ? `rolled back (${e.outcome})` : e.outcome);
        row.current = null;
        break;
      case 'host-finished':
      case 'host-rolled-back':
        row.outcome = e.outcome;
        row.current = null;
        row.waiting = null;
        this.draw(row);
        row.finished.resolve();
        this.tick();
        return;
    }
    this.draw(row);
  };

  /** Waits until every phase has been drawn to its end (call before printing the result). */
  async close(): Promise<void> {
    this.diagnosis?.done.resolve();
    this.phase?.end();
    this.phase = null;
    await this.chain;
    clearInterval(this.ticker);
  }

  /** Draws one Listr after the one before it has finished (each takes over the stream while it draws). */
  private run(tasks: Row[], clear: boolean, after?: () => string): void {
    this.chain = this.chain.then(async () => {
      // Built only now: its ProcessOutput keeps the stream's write method, which the previous Listr held until it ended.
      const list = new Listr<unknown, 'default', 'simple'>(tasks, {
        renderer: 'default',
        fallbackRendererCondition: false,
        silentRendererCondition: false,
        // Ctrl-C is the command's (stop starting hosts, then leave); listr2 must not exit on it.
        registerSignalListeners: false,
        exitOnError: false,
        concurrent: false,
        rendererOptions: {
          collapseSubtasks: false,
          clearOutput: clear,
          formatOutput: 'truncate',
          logger: new ListrLogger({ useIcons: true, processOutput: new ProcessOutput(this.stream, this.stream, { leaveEmptyLine: false }) }),
        },
      });
      await list.run().catch(() => undefined);
      if (after) this.stream.write(`${after()}\n`);
    });
  }

  private startDiagnosis(total: number): void {
    const d = { total, probed: 0, done: deferred() } as NonNullable<ListrView['diagnosis']>;
    this.diagnosis = d;
    const since = this.now();
    this.run([{
      title: `Diagnosing ${total} host(s)`,
      task: async (_, task) => {
        d.task = task;
        this.tick();
        await d.done.promise;
        task.title = `Diagnosed ${d.probed}/${total} host(s) · ${seconds(this.now() - since)}`;
      },
    }], false);
  }

  private startPhase(label: string, names: string[]): void {
    this.phase?.end();
    const phase = new Phase(label, names, names.length <= MAX_HOST_ROWS);
    this.phase = phase;
    const rows = phase.rowPerHost ? names.map((n) => this.hostTask(phase, n)) : Array.from({ length: MAX_HOST_ROWS }, () => this.laneTask(phase));
    this.run([{
      title: `${label}: ${phase.tally.line()}`,
      task: (_, task) => {
        phase.root = task;
        this.tick();
        return task.newListr(rows, { concurrent: true, exitOnError: false });
      },
    }], !phase.rowPerHost, phase.rowPerHost ? undefined : () => `✔ ${label}: ${phase.tally.line()}${failedList(phase)}`);
  }

  /**
   * A small fleet: one row per host, kept with its outcome when done. The row appears once the host starts: a task
   * without a title draws nothing, and its subtask (the host's row) is created then, with its title (listr2 decides
   * where a task's output goes when it first draws it: under the row only if it has a title by then).
   */
  private hostTask(phase: Phase, name: string): Row {
    return {
      task: async (_, wrapper) => {
        const row = await phase.startOf(name);
        if (!row) return wrapper.newListr([{ title: name, skip: `${name}: not started`, task: () => undefined }]);
        return wrapper.newListr([{
          title: name,
          task: async (__, task) => {
            row.task = task;
            this.draw(row);
            await row.finished.promise;
            task.title = `${name}: ${said(row)} · ${seconds(this.now() - row.since)}${ended(row)}`;
            if (!good(row.outcome)) throw new Error(task.title);
          },
          rendererOptions: { outputBar: 1, persistentOutput: false },
        }], { exitOnError: false });
      },
    };
  }

  /** A large fleet: a row that shows one running host after another. */
  private laneTask(phase: Phase): Row {
    return {
      title: '…',
      task: async (_, task) => {
        for (let row = await phase.next(); row; row = await phase.next()) {
          row.task = task;
          this.draw(row);
          await row.finished.promise;
          row.task = undefined;
          task.output = '';
          task.title = '…';
          this.tick();
        }
      },
      rendererOptions: { outputBar: 1, persistentOutput: false },
    };
  }

  private draw(row: HostRow): void {
    const task = row.task;
    if (!task) return;
    task.title = `${row.name} · ${seconds(this.now() - row.since)}`;
    const lines: string[] = [];
    for (const pb of row.playbooks) {
      const end = row.ended.get(pb);
      if (end) lines.push(`${pb}: ${end}`);
      else if (row.current?.playbook === pb) {
        lines.push(`${pb} › ${row.current.step}: ${row.current.phase} ${seconds(this.now() - row.current.since)}`);
        if (row.waiting) lines.push(`  ⏳ waiting on ${row.current.phase} … ${row.waiting}s`);
      }
    }
    lines.push(...row.notes.slice(-MAX_NOTES).map((n) => `  ${n}`));
    if (lines.length || task.output) task.output = lines.join('\n');
  }

  private tick(): void {
    const d = this.diagnosis;
    if (d?.task) d.task.title = `Diagnosing: ${d.probed}/${d.total} host(s) probed`;
    const phase = this.phase;
    if (!phase?.root) return;
    phase.root.title = `${phase.label}: ${phase.tally.line()}`;
    if (!phase.rowPerHost) {
      const shown = [...phase.hosts.values()].filter((h) => h.task).length;
      const more = phase.tally.running.size - shown;
      phase.root.output = [more > 0 ? `+${more} more running` : '', failedList(phase).trim()].filter(Boolean).join('\n');
    }
    for (const row of phase.hosts.values()) if (row.task && !row.outcome) this.draw(row);
  }
}

/** A host's end as the recap words it: changed or unchanged when it went well, else its outcome. */
const said = (row: HostRow) => (row.outcome === 'succeeded' ? (row.changed ? 'changed' : 'unchanged') : row.outcome ?? 'stopped');
const good = (outcome: string | null) => outcome === 'succeeded' || outcome === 'planned';
const ended = (row: HostRow) => (row.ended.size ? ` (${[...row.ended].map(([pb, o]) => `${pb} ${o}`).join(', ')})` : '');

function failedList(phase: Phase): string {
  const failed = [...phase.hosts.values()].filter((h) => h.outcome && !good(h.outcome)).map((h) => h.name);
  return failed.length ? `\n  not succeeded: ${failed.slice(0, 20).join(', ')}${failed.length > 20 ? `, +${failed.length - 20} more` : ''}` : '';
}
