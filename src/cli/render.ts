import type { RunResult } from '../engine/run.js';
import { renderTable } from './table.js';
import { changeText, fieldDiff, show } from './field-diff.js';
import { escapeControlKeepLines } from '../safe-text.js';
import { versioned } from '../json-schema.js';
import { writeJsonWithArray } from '../json-stream.js';

/**
 * The plan: one row per step that would change something (or is blocked, or failed), with the change as the fields
 * that change, and its notes (irreversible, revert task, warnings) folded under the row; then the hosts and steps
 * that are compliant already, counted. Fits `width` columns.
 */
export function renderPlan(result: RunResult, width = 120): string {
  const rows: string[][] = [];
  const folded: string[][] = [];
  const compliantHosts: string[] = [];
  let compliantSteps = 0;
  for (const h of result.eachHost()) {
    let changes = 0;
    for (const [pb, out] of Object.entries(h.results)) {
      for (const p of out.plan) {
        if (p.action === 'skip') {
          compliantSteps++;
          continue;
        }
        changes++;
        const revertTask = p.action !== 'apply' ? '' : p.revertTask === 'expires' ? 'TEMPORARY: reverts by itself at the TTL' : p.revertTask === 'confirm' ? 'revert task: reverts by itself unless the controller confirms it still reaches the host' : '';
        const notes = [p.irreversible ? 'IRREVERSIBLE' : '', revertTask, p.predictable ? '' : 'outcome cannot be predicted by check', p.reason ?? '', ...p.warnings].filter(Boolean);
        const diff = fieldDiff(p.before, p.after).map((c) => changeText(c));
        rows.push([h.host, pb, p.step, p.action === 'apply' ? 'would change' : 'BLOCKED', diff[0] ?? (p.action === 'apply' ? `${show(p.before)} → ${show(p.after)}` : '')]);
        folded.push([...diff.slice(1), ...notes]);
      }
      if (out.failure && !out.plan.some((p) => p.step === out.failure!.step)) {
        changes++;
        rows.push([h.host, pb, out.failure.step, `FAILED (${out.failure.phase})`, '']);
        folded.push([out.failure.message.replace(/\s+/g, ' ')]);
      }
    }
    if (!Object.keys(h.results).length) {
      changes++;
      rows.push([h.host, '-', '-', result.state.hosts[h.host]?.state ?? '-', '']);
      folded.push(h.failed ? [`failed: ${h.failed}`] : []);
    }
    if (!changes) compliantHosts.push(h.host);
  }
  const lines: string[] = [];
  if (rows.length) {
    const fixed = ['HOST', 'PLAYBOOK', 'STEP', 'PLAN'].map((t, i) => Math.max(t.length, ...rows.map((r) => r[i]!.length)) + 2).reduce((a, b) => a + b, 0);
    const room = Math.max(30, width - fixed);
    const table = renderTable(['HOST', 'PLAYBOOK', 'STEP', 'PLAN', 'CHANGE'], rows.map((r) => [...r.slice(0, 4), cutTo(r[4]!, room)])).split('\n');
    lines.push(table[0]!, table[1]!);
    table.slice(2).forEach((line, i) => {
      lines.push(line);
      for (const note of folded[i]!) lines.push(...wrap(note, width - 4).map((l) => `    ${l}`));
    });
  } else lines.push('Nothing would change.');
  if (compliantSteps || compliantHosts.length) {
    lines.push('', `Compliant already: ${compliantSteps} step(s)${compliantHosts.length ? `; nothing to do on ${compliantHosts.length} host(s): ${compliantHosts.slice(0, 8).join(', ')}${compliantHosts.length > 8 ? ', …' : ''}` : ''}.`);
  }
  return escapeControlKeepLines(lines.join('\n'));
}

/** Hosts the plan would change (the confirmation counts these, not the whole selection). */
export function hostsThatWouldChange(result: RunResult): string[] {
  const out: string[] = [];
  for (const h of result.eachHost()) if (Object.values(h.results).some((r) => r.plan.some((p) => p.action === 'apply'))) out.push(h.host);
  return out;
}

const cutTo = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = '';
    }
    line = line ? `${line} ${word}` : word.length > width ? word.slice(0, width - 1) + '…' : word;
  }
  if (line) out.push(line);
  return out;
}

/** Leases taken over, nothing to do, …: said on stderr so stdout stays the result. */
export function renderNotes(result: RunResult, stream: NodeJS.WritableStream = process.stderr): void {
  for (const n of result.notes) stream.write(`rdpfix: ${n}\n`);
}

/**
 * The run's summary for machines (`rdpfix.run-summary/1`, docs/json.md) as one line: no functions, no secrets (targets
 * never carry them into results). Written host by host: a fleet's summary never exists as one string, nor its
 * hosts' outputs all at once.
 */
export function writeRunSummary(result: RunResult, more: Record<string, unknown>, write: (text: string) => void = (t) => void process.stdout.write(t)): void {
  const doc = versioned('run-summary', { runId: result.runId, mode: result.mode, status: result.state.status, hosts: [], refused: result.refused, notes: result.notes, ...more });
  writeJsonWithArray(write, doc, 'hosts', withStates(result));
  write('\n');
}

function* withStates(result: RunResult) {
  for (const h of result.eachHost()) yield { ...h, state: result.state.hosts[h.host]?.state ?? 'unknown' };
}
