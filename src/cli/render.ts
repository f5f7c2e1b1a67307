import type { HostOutput } from '../../machines/host.machine.js';
import type { RunResult } from '../engine/run.js';
import { renderTable } from './table.js';

const short = (v: unknown) => {
  if (v === null || v === undefined) return '∅';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

export function renderPlan(result: RunResult): string {
  const rows: string[][] = [];
  for (const h of result.hosts) {
    for (const [pb, out] of Object.entries(h.results)) {
      for (const p of out.plan) {
        const guard = p.action !== 'apply' ? '' : p.guard === 'expires' ? 'TEMPORARY: reverts by itself at the TTL' : p.guard === 'confirm' ? 'guarded: reverts by itself unless the controller confirms it still reaches the host' : '';
        const notes = [p.irreversible ? 'IRREVERSIBLE' : '', guard, p.predictable ? '' : 'outcome cannot be predicted by check', p.reason ?? '', ...p.warnings].filter(Boolean).join('; ');
        rows.push([h.host, pb, p.step, p.action === 'apply' ? 'would change' : p.action === 'skip' ? 'compliant' : 'BLOCKED', p.action === 'skip' ? short(p.before) : `${short(p.before)} → ${short(p.after)}`, notes]);
      }
    }
    if (!Object.keys(h.results).length) rows.push([h.host, '-', '-', h.outcome, '', h.failed ? `failed: ${h.failed}` : '']);
  }
  return renderTable(['HOST', 'PLAYBOOK', 'STEP', 'PLAN', 'BEFORE → AFTER', 'NOTES'], rows);
}

function failureText(h: HostOutput): string {
  for (const out of Object.values(h.results)) {
    if (out.undoFailure) return `undo of ${out.undoFailure.step} failed (${out.undoFailure.category}): ${out.undoFailure.message}; still applied: ${out.leftUndone.join(', ')}`;
    if (out.drift) return `drift at ${out.drift.step}: host changed since the run; left: ${out.leftUndone.join(', ')}`;
    if (out.failure) return `${out.failure.step} ${out.failure.phase} (${out.failure.category}): ${out.failure.message}`;
  }
  return '';
}

export function renderOutcomes(result: RunResult): string {
  const rows = result.hosts.map((h) => [
    h.host,
    h.outcome,
    Object.entries(h.outcomes).map(([pb, o]) => `${pb}:${o}`).join(' '),
    (failureText(h) || (result.mode === 'rollback' && Object.keys(h.outcomes).length === 0 ? 'nothing was applied: nothing to undo' : '')).replace(/\s+/g, ' ').slice(0, 160),
  ]);
  return renderTable(['HOST', 'OUTCOME', 'PLAYBOOKS', 'DETAIL'], rows);
}

/** JSON for machines: no functions, no secrets (targets never carry them into results). */
export function resultJson(result: RunResult): unknown {
  return { runId: result.runId, mode: result.mode, hosts: result.hosts };
}
