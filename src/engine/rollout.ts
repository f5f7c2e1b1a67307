/**
 * Rollout safety for apply (docs/cli.md): hosts go in waves (`--serial N` or `P%` of the run's hosts), the first
 * wave may be a canary of N hosts that must end healthy by a second diagnosis before any other host starts, and a
 * wave whose failures pass `--max-fail P%` stops the run: no host of a later wave starts (what has started finishes
 * or rolls back, as always), and with `--rollback-wave` the hosts of that wave that changed are rolled back too.
 * Pure decisions here; src/engine/run.ts runs the waves.
 */
export interface Rollout {
  /** Hosts per wave after the canary: a count, or a percentage of the run's hosts (at least 1). */
  serial?: { count: number } | { percent: number };
  /** The first wave: this many hosts, alone. */
  canary?: number;
  /** A wave in which more than this share of hosts failed stops the run (Ansible's max_fail_percentage). */
  maxFailPercent?: number;
  /** When a wave stops the run, roll back its hosts that changed. */
  rollbackWave?: boolean;
  /** Decides whether the canary hosts are healthy now (the CLI diagnoses them again). */
  checkCanary?: (hosts: string[]) => Promise<{ host: string; healthy: boolean; why?: string }[]>;
}

/** The run's hosts in waves, in inventory order: the canary first, then waves of `serial` hosts (all at once without). */
export function planWaves<T>(hosts: T[], r: Rollout | undefined): T[][] {
  if (!hosts.length) return [];
  const waves: T[][] = [];
  let rest = hosts;
  if (r?.canary) {
    waves.push(rest.slice(0, r.canary));
    rest = rest.slice(r.canary);
  }
  const size = !r?.serial ? rest.length : 'count' in r.serial ? r.serial.count : Math.max(1, Math.floor((hosts.length * r.serial.percent) / 100));
  for (let i = 0; i < rest.length; i += Math.max(1, size)) waves.push(rest.slice(i, i + Math.max(1, size)));
  return waves;
}

/** Why a finished wave stops the run, or null: its failures passed the threshold. */
export function waveStops(wave: number, failed: string[], size: number, maxFailPercent: number | undefined): string | null {
  if (maxFailPercent === undefined || !size) return null;
  const percent = (failed.length * 100) / size;
  return percent > maxFailPercent ? `wave ${wave}: ${failed.length} of ${size} host(s) failed (${failed.join(', ')}), more than --max-fail ${maxFailPercent}%` : null;
}

/** `--serial` as given: `10` or `25%`. */
export function parseSerial(text: string): Rollout['serial'] {
  const m = /^(\d+)(%?)$/.exec(text.trim());
  if (!m || Number(m[1]) < 1 || (m[2] && Number(m[1]) > 100)) throw new Error('expected a number of hosts (e.g. 10) or a percentage from 1% to 100% (e.g. 25%).');
  return m[2] ? { percent: Number(m[1]) } : { count: Number(m[1]) };
}

/** `--max-fail` as given: `20%` or `20` (a percentage from 0 to 100). */
export function parsePercent(text: string): number {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  if (!m || Number(m[1]) > 100) throw new Error('expected a percentage from 0% to 100% (e.g. 20%).');
  return Number(m[1]);
}
