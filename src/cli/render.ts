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
        const revertTask = p.action !== 'apply' ? '' : p.revertTask === 'expires' ? 'TEMPORARY: reverts by itself at the TTL' : p.revertTask === 'confirm' ? 'revert task: reverts by itself unless the controller confirms it still reaches the host' : '';
        const notes = [p.irreversible ? 'IRREVERSIBLE' : '', revertTask, p.predictable ? '' : 'outcome cannot be predicted by check', p.reason ?? '', ...p.warnings].filter(Boolean).join('; ');
        rows.push([h.host, pb, p.step, p.action === 'apply' ? 'would change' : p.action === 'skip' ? 'compliant' : 'BLOCKED', p.action === 'skip' ? short(p.before) : `${short(p.before)} → ${short(p.after)}`, notes]);
      }
      if (out.failure && !out.plan.some((p) => p.step === out.failure!.step)) rows.push([h.host, pb, out.failure.step, `FAILED (${out.failure.phase})`, '', out.failure.message.replace(/\s+/g, ' ').slice(0, 120)]);
    }
    if (!Object.keys(h.results).length) rows.push([h.host, '-', '-', result.state.hosts[h.host]?.state ?? '-', '', h.failed ? `failed: ${h.failed}` : '']);
  }
  return renderTable(['HOST', 'PLAYBOOK', 'STEP', 'PLAN', 'BEFORE → AFTER', 'NOTES'], rows);
}

/** Leases taken over, nothing to do, …: said on stderr so stdout stays the result. */
export function renderNotes(result: RunResult, stream: NodeJS.WritableStream = process.stderr): void {
  for (const n of result.notes) stream.write(`rdpfix: ${n}\n`);
}

/** JSON for machines: no functions, no secrets (targets never carry them into results). */
export function resultJson(result: RunResult): unknown {
  return {
    runId: result.runId,
    mode: result.mode,
    status: result.state.status,
    hosts: result.hosts.map((h) => ({ ...h, state: result.state.hosts[h.host]?.state ?? 'unknown' })),
    refused: result.refused,
    notes: result.notes,
  };
}
