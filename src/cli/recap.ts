import type { RunReport, HostReport, ReportStream } from '../report/model.js';
import type { RunResult } from '../engine/run.js';
import { GOOD_STATES } from '../engine/run-state.js';
import { describeHolder } from '../journal/leases.js';
import { EXIT } from './exit.js';
import { renderTable } from './table.js';

/**
 * The end of a run, as Ansible's PLAY RECAP: one row per host with what changed, what was already compliant, what
 * failed and what was undone, then totals. Hosts the diagnosis looked at and the run left out stay in the table
 * (healthy, or with findings no playbook fixes), as do hosts another run held.
 */
export interface HostRecap {
  host: string;
  state: string;
  changed: number;
  unchanged: number;
  failed: number;
  undone: number;
  detail: string;
}

export function recapRows(report: RunReport | ReportStream, result?: Pick<RunResult, 'refused' | 'eachHost'>, o: { onlyWorkedOn?: boolean } = {}): HostRecap[] {
  const worked = result && o.onlyWorkedOn ? new Set(Array.from(result.eachHost(), (h) => h.host)) : null;
  const rows: HostRecap[] = [];
  for (const h of 'eachHost' in report ? report.eachHost() : report.hosts) {
    // A rollback or resume of part of a run recaps the hosts it worked on (and the run's left-out hosts never).
    if (worked && !worked.has(h.host) && h.state !== 'healthy' && h.state !== 'unfixed') continue;
    const steps = h.playbooks.flatMap((p) => p.steps);
    rows.push({
      host: h.host,
      state: h.state,
      changed: steps.filter((s) => s.verified && !s.undone).length,
      unchanged: steps.filter((s) => s.compliant).length,
      failed: h.playbooks.filter((p) => p.failure).length,
      undone: steps.filter((s) => s.undone).length,
      detail: detailOf(h),
    });
  }
  for (const r of result?.refused ?? []) rows.push({ host: r.host, state: 'refused', changed: 0, unchanged: 0, failed: 0, undone: 0, detail: `in use by ${describeHolder(r.holder)}` });
  return rows;
}

function detailOf(h: HostReport): string {
  const bits: string[] = [];
  for (const p of h.playbooks) {
    if (p.failure) bits.push(`${p.playbook}: ${p.failure.step} ${p.failure.phase} (${p.failure.category}): ${p.failure.message}`);
    bits.push(...p.notes.map((n) => `${p.playbook}: ${n}`));
    if (p.revertTasksLeft.length) bits.push(`${p.playbook}: revert task on host for ${p.revertTasksLeft.join(', ')}`);
  }
  if (h.unfixed.length) bits.push(`left unfixed: ${h.unfixed.map((u) => `${u.cause} (${u.why})`).join('; ')}`);
  if (h.state === 'unknown') bits.push('interrupted: finish with rdpfix resume, or undo with rdpfix rollback');
  if (h.state === 'stopped') bits.push('stopped by Ctrl-C: finish with rdpfix resume, or undo with rdpfix rollback');
  if (h.state === 'not-reached') bits.push('the run never reached this host');
  return bits.join('; ').replace(/\s+/g, ' ');
}

export function renderRecap(rows: HostRecap[], width = 120): string {
  const fixed = rows.map((r) => [r.host, r.state, String(r.changed), String(r.unchanged), String(r.failed), String(r.undone)]);
  const used = ['HOST', 'STATE', 'CHANGED', 'UNCHANGED', 'FAILED', 'UNDONE'].map((h, i) => Math.max(h.length, ...fixed.map((f) => f[i]!.length)) + 2).reduce((a, b) => a + b, 0);
  const room = Math.max(30, width - used);
  const table = renderTable(['HOST', 'STATE', 'CHANGED', 'UNCHANGED', 'FAILED', 'UNDONE', 'DETAIL'], rows.map((r, i) => [...fixed[i]!, r.detail.length > room ? `${r.detail.slice(0, room - 1)}…` : r.detail]));
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  return `${table}\n\n${rows.length} host(s): ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}.`;
}

/**
 * Exit codes (docs/cli.md): 0 every host ended well (or was healthy); 4 some host is in an unknown state or was
 * stopped between steps by Ctrl-C (either way the run is incomplete and `resume` finishes it); 1 some host failed,
 * was refused, or was left with findings no playbook fixes.
 */
export function recapExitCode(rows: HostRecap[], mode: RunResult['mode']): number {
  if (rows.some((r) => r.state === 'unknown' || r.state === 'stopped')) return EXIT.unsettled;
  const good: string[] = [...GOOD_STATES[mode], 'healthy'];
  return rows.some((r) => !good.includes(r.state)) ? EXIT.hostsFailed : EXIT.ok;
}
