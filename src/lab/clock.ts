import type { Broker } from '../broker/broker.js';
import { RdpfixError } from '../errors.js';
import type { InventoryHost } from '../inventory/inventory.js';

/**
 * The lab's clock. A lab host has no life of its own between calls, so time passing is something the controller
 * says: every scheduled task due by then fires, as Task Scheduler would fire it — its action really runs on the
 * lab host (e.g. a revert task restoring a checkpoint while no controller is connected).
 */
export interface FiredTask {
  task: string;
  /** The exit code powershell.exe would report (0, or 1 after a terminating error). */
  result: number;
  unregistered: boolean;
}

const MOVE_CLOCK = `param([double]$Ms, [bool]$Reboot)
Move-LabClock -Milliseconds $Ms -Reboot:$Reboot
$fired = Invoke-LabDueTasks -At ([DateTimeOffset](Get-LabUtcNow)) -Startup:$Reboot
ConvertTo-Json -InputObject ([ordered]@{ now = (Get-LabUtcNow).ToString('o'); fired = @($fired) }) -Depth 5 -Compress`;

/** Parses "90m", "2h", "1d", "45s" (or plain minutes) into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/i.exec(text.trim());
  if (!m) throw new RdpfixError('usage', `Not a duration: '${text}'.`, 'Write e.g. 90m, 2h, 1d (a plain number is minutes).');
  const unit = (m[2] ?? 'm').toLowerCase();
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit as 's' | 'm' | 'h' | 'd'];
}

/** Moves each host's clock on by `durationMs` (cumulative: time only passes) and fires what fell due. */
export async function advanceLab(broker: Broker, hosts: InventoryHost[], durationMs: number, options: { startup?: boolean } = {}): Promise<{ host: string; now: string; fired: FiredTask[] }[]> {
  return Promise.all(
    hosts.map(async (h) => {
      if (h.transport.kind !== 'lab') throw new RdpfixError('usage', `Host ${h.name} is not a lab host: only the lab's clock can be moved.`);
      const target = { kind: 'lab' as const, host: h.name, statePath: h.transport.state, world: true };
      const envelope = await broker.invoke(target, MOVE_CLOCK, [durationMs, options.startup ?? false], { timeoutMs: 120_000 });
      if (!envelope.ok) throw new RdpfixError('internal', `Could not move the clock of lab host ${h.name}: ${envelope.error.message}`);
      const out = JSON.parse(String(envelope.data.output.at(-1) ?? '{}')) as { now: string; fired: FiredTask[] };
      return { host: h.name, now: out.now, fired: out.fired ?? [] };
    }),
  );
}
