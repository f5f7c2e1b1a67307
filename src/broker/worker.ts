import { PowerShell } from 'node-powershell';
import { brokerModulePath, labModulePath, projectRoot } from '../paths.js';
import path from 'node:path';
import { ensureLabTypesCacheDir } from '../lab/types-cache.js';
import { initReply, pumpReply, type BrokerRequest, type InvokeRequest, type RawReply } from './protocol.js';

/**
 * node-powershell brackets each command with delimiter lines written through [Console]::Out. The broker
 * points [Console]::Out at a buffer (so stray console output cannot corrupt the protocol) and keeps the
 * real writer in $global:RdpfixOut: the delimiters must go there too once it exists.
 */
class BrokerShell extends PowerShell {
  /** Set once the broker module has made $global:RdpfixOut (after the first exchange). */
  brokerReady = false;

  /**
   * Every delimiter is a command line of its own, parsed anew (each carries a fresh random delimiter): four per
   * exchange. Once the broker is up they are plain method calls, not a provider lookup (`Test-Path`) each.
   */
  protected override writeToOutput(input: string): string {
    if (this.brokerReady) return `$global:RdpfixOut.WriteLine('${input}'); $global:RdpfixOut.Flush()`;
    return `if (Test-Path variable:global:RdpfixOut) { $global:RdpfixOut.WriteLine("${input}"); $global:RdpfixOut.Flush() } else { [Console]::Out.WriteLine("${input}") }`;
  }

  /**
   * child-shell keeps every invocation in `history` (the command, its output buffers and text) for the life of the
   * process: on a fleet that is every pump exchange, so the controller's memory grew with the fleet (a 1 200-host plan
   * held ~9 MiB of such buffers by its end). Nothing reads it; an invocation keeps its own record until it returns.
   */
  override async invoke(command: string) {
    const exit = exits.get(this);
    const mine: ExitWaiter[] = [];
    if (exit) exit.invoking = mine;
    try {
      return await super.invoke(command);
    } finally {
      // This exchange has its answer: its stand-in for the exit promise is no longer raced against.
      if (exit) {
        if (exit.invoking === mine) exit.invoking = null;
        for (const w of mine) exit.waiters.delete(w);
      }
      this.history.splice(0);
    }
  }

  override dispose(signal?: NodeJS.Signals): Promise<void> {
    // dispose awaits the exit for as long as it takes: its stand-in is not an exchange's to drop.
    const exit = exits.get(this);
    const invoking = exit?.invoking ?? null;
    if (exit) exit.invoking = null;
    try {
      return super.dispose(signal);
    } finally {
      if (exit) exit.invoking = invoking;
    }
  }
}

/**
 * child-shell races every exchange against one promise that settles when the process exits. A promise keeps each
 * reaction until it settles, and that one settles only at the end: each exchange's race, holding its output buffers,
 * stayed reachable for the life of the process (a plan kept ~19 KB per host that way, and its memory grew with the
 * fleet). BrokerShell hands child-shell a stand-in per use instead, settled by the real exit promise and dropped once
 * its exchange has its answer.
 */
interface ExitWaiter {
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}
interface ExitState {
  real: Promise<unknown>;
  settled: boolean;
  waiters: Set<ExitWaiter>;
  /** The stand-ins handed out during the exchange in progress. */
  invoking: ExitWaiter[] | null;
}
const exits = new WeakMap<object, ExitState>();
Object.defineProperty(BrokerShell.prototype, 'exitPromise', {
  configurable: true,
  // child-shell's constructor assigns the real promise.
  set(this: object, real: Promise<unknown>) {
    const exit: ExitState = { real, settled: false, waiters: new Set(), invoking: null };
    exits.set(this, exit);
    const settle = (how: 'resolve' | 'reject', value: unknown) => {
      exit.settled = true;
      for (const w of exit.waiters) w[how](value);
      exit.waiters.clear();
    };
    real.then((v) => settle('resolve', v), (e) => settle('reject', e));
  },
  get(this: object): Promise<unknown> {
    const exit = exits.get(this)!;
    if (exit.settled) return exit.real;
    let waiter!: ExitWaiter;
    const standIn = new Promise((resolve, reject) => (waiter = { resolve, reject }));
    exit.waiters.add(waiter);
    exit.invoking?.push(waiter);
    return standIn;
  },
});

export interface WorkerOptions {
  executable: string;
  /** Runspaces per PowerShell process: how many calls one process runs at once. */
  runspaces: number;
  /** Runspaces for lab hosts per process (each loads the lab module, so they cost more). */
  labRunspaces: number;
  /** How long a pump may block waiting for a completion before it returns to take new requests. */
  pumpWaitMs: number;
  /** After its first reply, how long a pump keeps collecting while calls wait for a runspace (RdpfixBroker.psm1). */
  pumpLingerMs: number;
  /** A pump that has not answered after pumpWaitMs + pumpLingerMs + this is a hung process: it is killed and replaced. */
  hangGraceMs: number;
  /** The lab module lab runspaces import (default: the project's). */
  labModule?: string;
}

interface Pending {
  request: BrokerRequest;
  resolve: (reply: RawReply) => void;
}

/**
 * One PowerShell process running RdpfixBroker.psm1. Requests are multiplexed: the worker keeps one
 * pump exchange going while calls are in flight (node-powershell runs one command at a time, so the
 * concurrency lives on the PowerShell side, in its runspaces). A crashed or hung process is replaced
 * and its in-flight calls fail with origin 'process' — their effect on the host is unknown.
 */
export class PowerShellWorker {
  private shell: BrokerShell | undefined;
  private starting: Promise<void> | undefined;
  private queue: Pending[] = [];
  private inFlight = new Map<string, Pending>();
  private pumping = false;
  private closed = false;
  pid: number | undefined;
  psVersion: string | undefined;
  /** How many times this worker had to replace its process. */
  restarts = 0;

  get heldExitWaiters(): number {
    return this.shell ? (exits.get(this.shell)?.waiters.size ?? 0) : 0;
  }
  /** Pump exchanges, replies received, script text bytes sent and the pumps' sweeps of waiting calls, for measuring the per-call cost. */
  readonly stats = { exchanges: 0, replies: 0, scriptBytes: 0, sweeps: 0 };
  /** Hashes of the scripts the current process holds: their text is not sent again. */
  private sentScripts = new Set<string>();

  constructor(private readonly options: WorkerOptions) {}

  submit(request: BrokerRequest): Promise<RawReply> {
    if (this.closed) return Promise.resolve(brokerFailure(request.id, 'broker', 'The broker is closed.'));
    return new Promise((resolve) => {
      this.queue.push({ request, resolve });
      void this.pump();
    });
  }

  async start(): Promise<void> {
    if (this.shell) return;
    this.starting ??= this.spawn().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async spawn(): Promise<void> {
    const shell = new BrokerShell({
      executable: this.options.executable,
      executableOptions: { '-NoProfile': true, '-NonInteractive': true },
      spawnOptions: {
        env: {
          ...process.env,
          TERM: 'dumb',
          // .NET's tiered compilation with dynamic PGO instruments hot methods and compiles them again in the background.
          // PowerShell's interpreter keeps that busy for the whole run: a 200-host lab apply spent 6.8 s of its 29 s of
          // PowerShell CPU on the tiering thread, and took 17–19 s with PGO off (docs/performance.md). Start-up is
          // unchanged. Turning tiering off altogether (DOTNET_TieredCompilation=0) doubles start-up instead. The
          // user's own setting wins.
          DOTNET_TieredPGO: process.env.DOTNET_TieredPGO ?? '0',
          // The collector compacts its oldest generation more willingly instead of letting it grow between full
          // collections: through a 5 000-host lab plan PowerShell climbed to 390-420 MiB without it and stays at
          // 240-275 MiB with it; a 1 000-host apply peaks at 241-265 MiB instead of 277-284, CPU within the noise
          // (docs/performance.md). The user's own setting wins.
          DOTNET_GCConserveMemory: process.env.DOTNET_GCConserveMemory ?? '9',
          NO_COLOR: '1',
          RDPFIX_BROKER_MODULE: brokerModulePath(),
          RDPFIX_BROKER_DRIVER: path.join(projectRoot(), 'src', 'broker', 'ps', 'invoke-request.ps1'),
          RDPFIX_LAB_MODULE: this.options.labModule ?? labModulePath(),
          // Only a folder checked to be this user's alone; empty: the lab compiles its types in memory.
          RDPFIX_LAB_TYPES_DIR: ensureLabTypesCacheDir().dir ?? '',
          RDPFIX_BROKER_RUNSPACES: String(this.options.runspaces),
          RDPFIX_BROKER_LAB_RUNSPACES: String(this.options.labRunspaces),
        },
      },
      throwOnInvocationError: false,
    });
    shell.streams.stdout.once('close', () => {
      if (this.shell === shell) this.shell = undefined;
    });
    const result = await this.exchange(shell, 'Import-Module $env:RDPFIX_BROKER_MODULE; Initialize-RdpfixBroker', 120_000);
    const info = initReply.parse(result);
    shell.brokerReady = true;
    this.sentScripts = new Set();
    this.pid = info.pid;
    this.psVersion = info.psVersion;
    this.shell = shell;
  }

  /** One node-powershell invocation, with a watchdog. Resolves to the decoded JSON reply. */
  private async exchange(shell: BrokerShell, line: string, limitMs: number): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HungProcessError(limitMs)), limitMs);
    });
    try {
      const result = await Promise.race([shell.invoke(line), watchdog]);
      if (result.hadErrors) throw new Error(`PowerShell broker error: ${result.raw.trim()}`);
      // The console host may wrap output in terminal mode escapes (e.g. ESC[?1h); the reply is the base64 line.
      const text = result.raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').trim();
      if (!/^[A-Za-z0-9+/=]+$/.test(text)) throw new Error(`PowerShell broker returned an unexpected reply: ${text.slice(0, 200)}`);
      return JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
    } catch (err) {
      await this.kill(shell);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Kills a PowerShell process for good. The executable may be a launcher (a .NET tool shim starts
   * `dotnet pwsh.dll` as a child), so the PowerShell process itself is killed by its own $PID too.
   */
  private async kill(shell: BrokerShell): Promise<void> {
    if (shell === this.shell && this.pid) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await shell.dispose('SIGKILL').catch(() => undefined);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.closed && (this.queue.length > 0 || this.inFlight.size > 0)) {
        try {
          await this.start();
        } catch (err) {
          this.failAll('process', `PowerShell could not be started: ${(err as Error).message}`);
          continue;
        }
        const shell = this.shell;
        if (!shell) continue;
        const batch = this.queue.splice(0, this.queue.length);
        for (const p of batch) this.inFlight.set(p.request.id, p);
        const submit = batch.length ? Buffer.from(JSON.stringify({ requests: batch.map((p) => this.wire(p.request)) })).toString('base64') : '';
        const waitMs = this.options.pumpWaitMs;
        try {
          // base64 has no quote characters, so the data cannot escape the string literal.
          this.stats.exchanges++;
          // Module-qualified: the host then finds the function without a command search (about 2 ms an exchange).
          const reply = pumpReply.parse(await this.exchange(shell, `RdpfixBroker\\Invoke-RdpfixPump -Submit '${submit}' -WaitMs ${waitMs} -LingerMs ${this.options.pumpLingerMs}`, waitMs + this.options.pumpLingerMs + this.options.hangGraceMs));
          this.stats.replies += reply.replies.length;
          this.stats.sweeps += reply.sweeps;
          for (const r of reply.replies) {
            const p = this.inFlight.get(r.id);
            if (!p) continue;
            this.inFlight.delete(r.id);
            p.resolve(r);
          }
          // Every call still in flight here must be one the PowerShell side holds. One it does not know was
          // lost between the two sides: fail it rather than wait for it forever.
          const known = new Set(reply.known);
          for (const [id, p] of this.inFlight) {
            if (known.has(id)) continue;
            this.inFlight.delete(id);
            process.stderr.write(`rdpfix: broker: call ${id} (${p.request.op}) is unknown to PowerShell process ${this.pid}; failing it.\n`);
            p.resolve(brokerFailure(id, 'broker', `The PowerShell broker lost track of this call (process ${this.pid} does not hold it); its outcome on the host is unknown.`));
          }
        } catch (err) {
          // The process died or hung. Whatever was in flight may or may not have run.
          if (this.shell === shell) this.shell = undefined;
          this.restarts++;
          const why = err instanceof HungProcessError ? `PowerShell process stopped responding (${err.message}); it was killed and replaced` : `PowerShell process failed: ${(err as Error).message}`;
          this.failInFlight('process', `${why}. The call's outcome on the host is unknown.`);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** A request as it crosses the pipe: a script the process already holds goes by its hash alone. */
  private wire(request: BrokerRequest): BrokerRequest | (Omit<InvokeRequest, 'script'> & { script: null }) {
    if (request.op !== 'invoke') return request;
    if (this.sentScripts.has(request.scriptHash)) return { ...request, script: null };
    this.sentScripts.add(request.scriptHash);
    this.stats.scriptBytes += Buffer.byteLength(request.script);
    return request;
  }

  private failInFlight(origin: 'process' | 'broker', message: string): void {
    for (const [id, p] of this.inFlight) p.resolve(brokerFailure(id, origin, message));
    this.inFlight.clear();
  }

  private failAll(origin: 'process' | 'broker', message: string): void {
    this.failInFlight(origin, message);
    for (const p of this.queue.splice(0)) p.resolve(brokerFailure(p.request.id, origin, message));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll('broker', 'The broker was closed before the call finished.');
    const shell = this.shell;
    if (shell) await this.kill(shell);
    this.shell = undefined;
  }
}

class HungProcessError extends Error {
  constructor(limitMs: number) {
    super(`no answer within ${limitMs} ms`);
  }
}

function brokerFailure(id: string, origin: 'process' | 'broker', message: string): RawReply {
  return { id, ok: false, error: { origin, message } };
}
