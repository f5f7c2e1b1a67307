import { createHash, randomUUID } from 'node:crypto';
import os from 'node:os';
import { PowerShellWorker, type WorkerOptions } from './worker.js';
import { classifyRemotingError } from './classify.js';
import { emptyStreams, type Envelope, type ErrorCategory, type RawReply } from './protocol.js';
import { hasSession, sessionKey, type TransportTarget } from '../transport/targets.js';
import { locatePowerShell } from '../powershell/locate.js';

export interface BrokerOptions {
  /** PowerShell executable; found with locatePowerShell() when absent. */
  executable?: string;
  /** PowerShell processes in the pool (default 2; the CLI passes the resolved setting, src/config/settings.ts). */
  processes?: number;
  /** Runspaces per process, i.e. concurrent calls per process (default 32). */
  runspaces?: number;
  /** Runspaces per process for lab hosts (default: defaultLabRunspaces). */
  labRunspaces?: number;
  /** Per-call timeout unless the call sets its own (default 60 s). */
  defaultTimeoutMs?: number;
  pumpWaitMs?: number;
  /**
   * After its first reply, how long a pump keeps collecting replies while calls wait for a runspace (default 30).
   * Every runspace is busy then, so it costs no throughput; it halves the exchanges of a saturated run
   * (docs/performance.md).
   */
  pumpLingerMs?: number;
  hangGraceMs?: number;
  /** The lab module lab runspaces import (default: the project's, src/lab/ps/RdpfixLab.psm1). */
  labModule?: string;
}

export interface InvokeOptions {
  timeoutMs?: number;
}

/**
 * Lab runspaces per process when nothing says otherwise: the machine's cores shared out among the processes, at least
 * 2 per process. A lab call is CPU-bound PowerShell (a real host's call waits on the network instead, and gets a plain
 * runspace), so runspaces beyond the cores only queue for them; and each one imports the lab module and compiles it
 * anew. Measured on a 2-core controller, a 200-host lab apply with 1 process: 8 lab runspaces 27 s of PowerShell CPU
 * and 379 MiB peak, 4 runspaces 20 s and 285 MiB, 2 runspaces 17–19 s and 235–246 MiB, at the same wall time.
 */
export function defaultLabRunspaces(processes: number, cores = os.availableParallelism()): number {
  return Math.max(2, Math.ceil(cores / processes));
}

/**
 * The one module that talks to PowerShell. It runs step scripts on targets of any transport and
 * returns one envelope per call. Calls to one host run one at a time, in order (a remote session is
 * not re-entrant, and steps of one host are sequential by nature); calls to different hosts run
 * concurrently across a small pool of PowerShell processes. A host always goes to the same process,
 * so its remote session is reused.
 */
export class Broker {
  private readonly workers: PowerShellWorker[];
  private readonly hostQueues = new Map<string, Promise<unknown>>();
  private readonly defaultTimeoutMs: number;

  constructor(options: BrokerOptions = {}) {
    const processes = Math.max(1, options.processes ?? 2);
    const workerOptions: WorkerOptions = {
      executable: options.executable ?? locatePowerShell().executable,
      runspaces: options.runspaces ?? 32,
      labRunspaces: options.labRunspaces ?? defaultLabRunspaces(processes),
      pumpWaitMs: options.pumpWaitMs ?? 20,
      pumpLingerMs: options.pumpLingerMs ?? 30,
      hangGraceMs: options.hangGraceMs ?? 30_000,
      ...(options.labModule ? { labModule: options.labModule } : {}),
    };
    this.workers = Array.from({ length: processes }, () => new PowerShellWorker(workerOptions));
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 60_000;
  }

  /** Starts every PowerShell process now rather than on first use. */
  async start(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.start()));
  }

  /** Starts the pool's first process now; it throws why, when PowerShell cannot start. */
  async startFirst(): Promise<void> {
    await this.workers[0]!.start();
  }

  /** Process ids of the pool, for diagnostics and tests. */
  get pids(): (number | undefined)[] {
    return this.workers.map((w) => w.pid);
  }

  get restarts(): number {
    return this.workers.reduce((n, w) => n + w.restarts, 0);
  }

  /** Stand-ins for a process's exit still held (worker.ts): one per exchange in progress or dispose, never more. */
  get heldExitWaiters(): number {
    return this.workers.reduce((n, w) => n + w.heldExitWaiters, 0);
  }

  /** Exchanges with PowerShell, calls answered and script bytes sent so far: what a call costs on the pipe. */
  get stats(): { exchanges: number; replies: number; scriptBytes: number; sweeps: number } {
    return this.workers.reduce((t, w) => ({ exchanges: t.exchanges + w.stats.exchanges, replies: t.replies + w.stats.replies, scriptBytes: t.scriptBytes + w.stats.scriptBytes, sweeps: t.sweeps + w.stats.sweeps }), { exchanges: 0, replies: 0, scriptBytes: 0, sweeps: 0 });
  }

  /** Runs `script` on `target` with `args`. Never throws for remote failures: they come back classified. */
  invoke(target: TransportTarget, script: string, args: unknown[] = [], options: InvokeOptions = {}): Promise<Envelope> {
    const key = sessionKey(target);
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return this.serialize(key, async () => {
      const reply = await this.workerFor(key).submit({ id: randomUUID(), op: 'invoke', target: { ...target, sessionKey: key }, scriptHash: scriptHash(script), script, args, timeoutMs });
      return toEnvelope(reply);
    });
  }

  /** Closes the remote session of a target, if one is open. */
  async closeSession(target: TransportTarget): Promise<void> {
    if (!hasSession(target)) return;
    const key = sessionKey(target);
    await this.serialize(key, () => this.workerFor(key).submit({ id: randomUUID(), op: 'close', target: { sessionKey: key } }));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }

  /** The worker a session key is pinned to: a stable hash, so sessions are reused. */
  private workerFor(key: string): PowerShellWorker {
    let h = 2166136261;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
    return this.workers[(h >>> 0) % this.workers.length]!;
  }

  private serialize<T>(key: string, run: () => Promise<T>): Promise<T> {
    const previous = this.hostQueues.get(key) ?? Promise.resolve();
    const next = previous.then(run, run);
    const settled = next.catch(() => undefined);
    this.hostQueues.set(key, settled);
    void settled.then(() => {
      if (this.hostQueues.get(key) === settled) this.hostQueues.delete(key);
    });
    return next;
  }
}

/** Step scripts are few and fixed per run: each is hashed once. */
const scriptHashes = new Map<string, string>();
function scriptHash(script: string): string {
  let h = scriptHashes.get(script);
  if (!h) {
    h = createHash('sha256').update(script).digest('hex');
    if (scriptHashes.size > 1000) scriptHashes.clear();
    scriptHashes.set(script, h);
  }
  return h;
}

/** Turns a raw reply into the public envelope, classifying any error (src/broker/classify.ts). */
export function toEnvelope(reply: RawReply): Envelope {
  const data = {
    output: reply.data?.output ?? [],
    streams: reply.data?.streams ?? emptyStreams(),
    durationMs: reply.durationMs ?? 0,
  };
  if (reply.ok) return { ok: true, data };
  const raw = reply.error ?? { origin: 'broker' as const, message: 'The broker reported a failure without details.' };
  const error = {
    category: categoryOf(raw.origin, raw.message, raw.fqid ?? undefined, raw.exceptionType ?? undefined),
    message: raw.message,
    origin: raw.origin,
    ...(raw.fqid ? { fqid: raw.fqid } : {}),
    ...(raw.target ? { target: raw.target } : {}),
  };
  return { ok: false, error, data };
}

function categoryOf(origin: string, message: string, fqid?: string, exceptionType?: string): ErrorCategory {
  switch (origin) {
    case 'timeout':
      return 'timeout';
    case 'process':
    case 'broker':
      return 'process';
    case 'transport':
      return classifyRemotingError(message, fqid);
    default:
      // The step itself threw. Only a missing command is worth its own category: the host lacks a tool.
      if (exceptionType === 'System.Management.Automation.CommandNotFoundException' || fqid?.startsWith('CommandNotFoundException')) return 'not-found';
      // Remoting cmdlets run inside a script still fail as transport errors.
      if (exceptionType === 'System.Management.Automation.Remoting.PSRemotingTransportException') return classifyRemotingError(message, fqid);
      return 'script';
  }
}
