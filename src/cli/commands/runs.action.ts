import { versioned } from '../../json-schema.js';
import path from 'node:path';
import { checkReportPaths, runReport, writeReports } from '../../report/write.js';
import { listRunIds, readRun } from '../../journal/journal.js';
import { RdpfixError } from '../../errors.js';
import { firedRevertTasks, foldRun, inDoubt, liveRevertTasks, type RunState } from '../../engine/run-state.js';
import { resolveSettings } from '../../config/settings.js';
import { renderTable } from '../table.js';

export interface RunsFlags {
  stateDir?: string;
  json: boolean;
}

/** One run as `runs list` shows it: from the fold, or, for a journal that cannot be read, why not. */
export function runSummary(stateDir: string, runId: string, now = new Date()) {
  let s: RunState;
  let tornTail: boolean;
  try {
    const read = readRun(stateDir, runId);
    s = foldRun(read.records);
    tornTail = read.tornTail;
  } catch (err) {
    if (!(err instanceof RdpfixError)) throw err;
    return { runId, status: 'damaged' as const, damage: err.message };
  }
  const states: Record<string, number> = {};
  for (const h of s.header.hosts) states[s.hosts[h.name]!.state] = (states[s.hosts[h.name]!.state] ?? 0) + 1;
  const unknown = s.header.hosts.filter((h) => s.hosts[h.name]!.state === 'unknown').length;
  const revertTasksDue = Object.values(s.hosts).reduce((n, h) => n + Object.values(h.progress).reduce((m, x) => m + liveRevertTasks(x, now).length, 0), 0);
  return {
    runId, mode: s.header.mode, status: s.status, lastCommand: s.commands.at(-1)!.command, started: s.started, lastRecord: s.lastTime,
    hosts: s.header.hosts.length, playbooks: s.header.playbooks.map((p) => p.id), unknownHosts: unknown, states, revertTasksDue, tornTail, version: s.header.version,
  };
}

function statusText(r: Exclude<ReturnType<typeof runSummary>, { status: 'damaged' }>): string {
  switch (r.status) {
    case 'interrupted':
      return r.lastCommand === 'rollback'
        ? `INTERRUPTED during rollback (rdpfix rollback ${r.runId})`
        : `INTERRUPTED (${r.unknownHosts} host${r.unknownHosts === 1 ? '' : 's'} unknown; rdpfix resume ${r.runId})`;
    case 'rolled-back':
      return 'rolled back';
    case 'partly-rolled-back':
      return 'partly rolled back';
    case 'finished':
      return r.states.stopped ? `finished, ${r.states.stopped} host(s) stopped by Ctrl-C (rdpfix resume ${r.runId})` : 'finished';
  }
}

// `rdpfix runs …`: loaded only when a runs command runs (see runs.command.ts).

export function runsListAction(flags: RunsFlags, now: () => Date): void {
  const dir = resolveSettings({ stateDir: flags.stateDir }).stateDir.value;
  const rows = listRunIds(dir).map((id) => runSummary(dir, id, now()));
  if (flags.json) return console.log(JSON.stringify(versioned('runs', { runs: rows }), null, 2));
  if (!rows.length) return console.log(`No runs in ${dir}.`);
  console.log(renderTable(['RUN', 'MODE', 'STARTED', 'HOSTS', 'PLAYBOOKS', 'STATE', 'HOST STATES'], rows.map((r) => r.status === 'damaged'
    ? [r.runId, '?', '?', '?', '?', 'DAMAGED', r.damage.replace(/\s+/g, ' ')]
    : [
      r.runId, r.mode, r.started.slice(0, 19).replace('T', ' '), String(r.hosts), r.playbooks.join(','), statusText(r),
      Object.entries(r.states).map(([k, v]) => `${k}:${v}`).join(' '),
    ])));
}

export function runsShowAction(runId: string, flags: RunsFlags & { report: string[] }, now: () => Date): void {
  const dir = resolveSettings({ stateDir: flags.stateDir }).stateDir.value;
  checkReportPaths(flags.report);
  const { records, tornTail } = readRun(dir, runId);
  const s = foldRun(records);
  const head = runSummary(dir, runId, now());
  if (head.status === 'damaged') throw new RdpfixError('input', head.damage);
  for (const f of flags.report) console.error(`Report: ${path.resolve(f)}`);
  if (flags.report.length) writeReports(flags.report, runReport(dir, runId, { now: now() }));
  if (flags.json) return console.log(JSON.stringify(versioned('run', { ...head, header: s.header, hosts: s.hosts, records }), null, 2));
  console.log(`Run ${runId} (${head.mode}, rdpfix ${head.version}), started ${head.started}; ${statusText(head)}${tornTail ? '; the last record was torn by a crash and is ignored' : ''}.`);
  const rows: string[][] = [];
  for (const h of s.header.hosts) {
    const p = s.hosts[h.name]!;
    for (const id of p.playbooks) {
      const x = p.progress[id];
      rows.push([h.name, p.state, id, x?.outcome ?? (x?.started ? 'unfinished' : 'not started'), x?.applied.join(',') || '-', x ? inDoubt(x).join(',') || '-' : '-', x?.undone.join(',') || '-']);
    }
    if (!p.playbooks.length) rows.push([h.name, p.state, '-', '-', '-', '-', '-']);
  }
  console.log(renderTable(['HOST', 'HOST STATE', 'PLAYBOOK', 'OUTCOME', 'APPLIED', 'IN DOUBT', 'UNDONE'], rows));
  // Revert tasks still on hosts: they restore their step's checkpoint at the due time, controller or not.
  const at = now();
  const tasks = s.header.hosts.flatMap((h) => Object.values(s.hosts[h.name]!.progress).flatMap((x) => [
    ...liveRevertTasks(x, at).map((step) => [h.name, `${x.playbook}/${step}`, x.revertTasks[step]!.state === 'kept' ? 'kept (expires)' : x.revertTasks[step]!.state, x.revertTasks[step]!.dueUtc ?? '?']),
    ...firedRevertTasks(x, at).map((step) => [h.name, `${x.playbook}/${step}`, 'due time passed: has run on the host', x.revertTasks[step]!.dueUtc ?? '?']),
  ]));
  if (tasks.length) console.log(`\nRevert tasks on hosts (each restores its step's prior state at the due time):\n${renderTable(['HOST', 'STEP', 'REVERT TASK', 'DUE (UTC)'], tasks)}`);
}
