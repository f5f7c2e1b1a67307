import type { EngineEvent } from '../../engine/events.js';

/** What every view counts: hosts done, and how each ended (changed, unchanged, failed, rolled back). */
export class FleetTally {
  total = 0;
  running = new Set<string>();
  done = 0;
  changed = 0;
  unchanged = 0;
  failed = 0;
  rolledBack = 0;
  /** Ctrl-C stopped them between steps: neither done nor failed; `resume` finishes them. */
  stopped = 0;
  /** A word for the whole run (e.g. that Ctrl-C is stopping it), shown after the counts. */
  note: string | null = null;
  private readonly verified = new Set<string>();

  /** A new phase (run, resume, rollback) counts afresh. */
  reset(hosts: number): void {
    Object.assign(this, { total: hosts, done: 0, changed: 0, unchanged: 0, failed: 0, rolledBack: 0, stopped: 0 });
    this.running.clear();
    this.verified.clear();
  }

  see(e: EngineEvent): void {
    switch (e.type) {
      case 'run-started':
      case 'resume-started':
      case 'rollback-started':
        this.reset(e.hosts.length);
        break;
      case 'host-started':
      case 'playbook-started':
        this.running.add(e.host);
        break;
      case 'step-verified':
      case 'step-undone':
        this.verified.add(e.host);
        break;
      case 'host-finished':
      case 'host-rolled-back':
        this.running.delete(e.host);
        this.done++;
        if (e.outcome === 'rolledBack' && e.type === 'host-finished') this.rolledBack++;
        else if (e.outcome === 'rollbackFailed' || e.outcome === 'rollbackRefused') this.failed++;
        else if (e.outcome === 'stopped') this.stopped++;
        else if (this.verified.has(e.host)) this.changed++;
        else this.unchanged++;
        break;
    }
  }

  line(): string {
    return `${this.done}/${this.total} done · ${this.changed} changed · ${this.unchanged} unchanged · ${this.failed} failed · ${this.rolledBack} rolled back${this.stopped ? ` · ${this.stopped} stopped` : ''}${this.note ? ` — ${this.note}` : ''}`;
  }
}

/** Seconds as the views show them: 0.4s, 12s, 3m05s. */
export function seconds(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
