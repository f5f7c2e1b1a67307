import path from 'node:path';
import { checkReportPaths, runReport, writeReports } from '../../report/write.js';
import { pastRunPlaybooks, rollbackRun, resumeRun, type RunResult } from '../../engine/run.js';
import { readRun } from '../../journal/journal.js';
import { foldRun } from '../../engine/run-state.js';
import { targetFor, type InventoryHost } from '../../inventory/inventory.js';
import { askForMissingPasswords } from '../password-prompt.js';
import { engineFrom, narrowHosts, type HostFlags } from '../engine-options.js';
import { renderNotes, writeRunSummary } from '../render.js';
import { recapExitCode, recapRows, renderRecap } from '../recap.js';
import { openProgress } from '../views/open.js';
import { confirm } from '../confirm.js';
import { renderTable } from '../table.js';

export interface PastFlags extends HostFlags {
  host?: string[];
  force: boolean;
  rollback?: boolean;
  yes?: boolean;
  report: string[];
  quiet?: boolean;
  plain?: boolean;
}

/** `rdpfix rollback` / `resume`: loaded only when one runs (see past-run.command.ts). */
export async function runPast(kind: 'rollback' | 'resume', runId: string, flags: PastFlags): Promise<void> {
  checkReportPaths(flags.report);
  const engine = engineFrom(flags);
  // The journal and the run's playbooks are checked before PowerShell starts: a damaged, unknown or planned run changes nothing.
  const state = foldRun(readRun(engine.stateDir, runId).records);
  const catalogue = engine.catalogue();
  pastRunPlaybooks(state, catalogue, runId);
  if (flags.host?.length && !flags.hosts?.length) flags.hosts = flags.host;
  narrowHosts(flags, state.header.hosts, `run ${runId}`);
  if (kind === 'rollback' && !flags.yes && process.stdin.isTTY) {
    // On a terminal a rollback says what it will undo and asks, as apply does; scripts pass --yes (or have no terminal).
    const undo = Object.values(state.hosts).filter((h) => !flags.hosts || flags.hosts.includes(h.host))
      .map((h) => ({ host: h.host, steps: Object.values(h.progress).flatMap((p) => [...p.applied].reverse().map((s) => `${p.playbook}/${s}`)) }))
      .filter((h) => h.steps.length);
    if (undo.length) {
      console.log(renderTable(['HOST', 'WOULD UNDO (newest first)'], undo.map((h) => [h.host, h.steps.join(', ')])));
      if (!(await confirm(`\nUndo ${undo.reduce((n, h) => n + h.steps.length, 0)} step(s) on ${undo.length} host(s)? [y/N] `))) {
        console.log('Nothing changed.');
        return;
      }
    }
  }
  await askForMissingPasswords(state.header.hosts.filter((h) => !flags.hosts || flags.hosts.includes(h.name)) as InventoryHost[]);
  const broker = await engine.broker(state.header.hosts.map((h) => targetFor(h)));
  const progress = await openProgress(flags);
  try {
    const options = {
      stateDir: engine.stateDir, runId, catalogue, broker, force: flags.force, waitLockSeconds: flags.waitLock,
      hostFilter: flags.hosts, onRecord: progress.events.record, onActivity: progress.events.activity,
    };
    let result: RunResult;
    try {
      result = kind === 'rollback' ? await rollbackRun(options) : await resumeRun({ ...options, rollback: !!flags.rollback });
    } finally {
      await progress.close();
    }
    // Built once: the report files and the recap share it.
    const report = runReport(engine.stateDir, runId, { state: result.state });
    if (flags.report.length) {
      writeReports(flags.report, report);
      for (const f of flags.report) console.error(`Report: ${path.resolve(f)}`);
    }
    const recap = recapRows(report, result, { onlyWorkedOn: true });
    if (flags.json) writeRunSummary(result, { recap });
    else {
      renderNotes(result, process.stdout);
      if (recap.length) console.log(renderRecap(recap));
    }
    process.exitCode = recapExitCode(recap, result.mode);
  } finally {
    await broker.close();
  }
}
