import path from 'node:path';
import { writeSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import { checkReportPaths, runReport, writeReports } from '../../report/write.js';
import { askForMissingPasswords } from '../password-prompt.js';
import { warnInventoryNotes } from './inventory.action.js';
import { loadInventory, targetFor } from '../../inventory/inventory.js';
import { prepareRun, startRun, type RunResult } from '../../engine/run.js';
import type { Rollout } from '../../engine/rollout.js';
import { canaryByDiagnosis } from '../../engine/canary.js';
import { planFromDiagnosis, type DiagnosisPlan } from '../../engine/from-diagnosis.js';
import { RdpfixError } from '../../errors.js';
import { engineFrom, type HostFlags, narrowHosts } from '../engine-options.js';
import { hostsThatWouldChange, renderNotes, renderPlan, writeRunSummary } from '../render.js';
import { confirm } from '../confirm.js';
import { recapExitCode, recapRows, renderRecap, type HostRecap } from '../recap.js';
import { diagnosisEvents, openProgress, type Progress } from '../views/open.js';
import { versioned } from '../../json-schema.js';
import { diagnoseFleet } from '../../diagnose/diagnose.js';
import { renderTable } from '../table.js';
import { foldRun } from '../../engine/run-state.js';
import { readRun } from '../../journal/journal.js';
import { retryHosts } from '../../engine/retry.js';

export interface RunFlags extends HostFlags {
  inventory: string;
  playbook?: string[];
  fromDiagnosis: boolean;
  param: Record<string, Record<string, unknown>>;
  concurrency?: number;
  allowIrreversible: boolean;
  yes: boolean;
  retry?: string;
  report: string[];
  serial?: Rollout['serial'];
  canary?: number;
  maxFail?: number;
  rollbackWave?: boolean;
  quiet?: boolean;
  plain?: boolean;
}

/** `rdpfix plan` / `apply`: loaded only when one runs (see run.command.ts). */
export async function runAction(name: 'plan' | 'apply', flags: RunFlags): Promise<void> {
  // Without playbooks named, the diagnosis chooses them: each host gets what its findings need.
  if (!flags.playbook?.length) flags.fromDiagnosis = true;
  if (name === 'apply' && !flags.yes && !process.stdin.isTTY) {
    throw new RdpfixError('usage', 'apply changes hosts and asks first; there is no terminal to ask on.', 'Pass --yes to apply without asking (e.g. in scripts and CI), or run rdpfix plan first.');
  }
  checkReportPaths(flags.report);
  const engine = engineFrom(flags);
  const inventory = loadInventory(flags.inventory);
  warnInventoryNotes(inventory);
  const catalogue = engine.catalogue();
  let selected = narrowHosts(flags, inventory.hosts, inventory.path);
  if (flags.retry !== undefined) {
    const again = retryHosts(foldRun(readRun(engine.stateDir, flags.retry).records), flags.retry);
    const missing = again.filter((n) => !inventory.hosts.some((h) => h.name.toLowerCase() === n.toLowerCase()));
    if (missing.length) throw new RdpfixError('usage', `--retry ${flags.retry}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not in ${inventory.path}.`, 'Use the inventory that run used.');
    selected = selected.filter((h) => again.some((n) => n.toLowerCase() === h.name.toLowerCase()));
    if (!selected.length) {
      console.log(again.length ? `Run ${flags.retry}: none of its failed or unreached hosts is selected: nothing to do.` : `Run ${flags.retry}: no host failed or went unreached: nothing to retry.`);
      return;
    }
    flags.hosts = selected.map((h) => h.name);
  }
  // Playbooks and parameters named on the command line are checked before PowerShell starts: bad input costs nothing.
  if (!flags.fromDiagnosis) prepareRun({ inventory, catalogue, playbookIds: flags.playbook!, parameters: flags.param, hostFilter: flags.hosts });
  await askForMissingPasswords(selected);
  const broker = await engine.broker(selected.map((h) => targetFor(h)));
  let progress: Progress | undefined;
  try {
    let fromDiagnosis: DiagnosisPlan | undefined;
    if (flags.fromDiagnosis) {
      // The diagnosis shows its own progress; an apply that asks first opens the run's view after the answer.
      const early = await openProgress(flags);
      const told = diagnosisEvents(early.events, selected.length);
      const diagnosis = await diagnoseFleet({ ...inventory, hosts: selected }, broker, { timeoutMs: 60_000, onProbed: told.onProbed });
      told.finished(diagnosis);
      if (name === 'apply' && !flags.yes) await early.close();
      else progress = early;
      fromDiagnosis = planFromDiagnosis(diagnosis, catalogue, { only: flags.playbook, parameters: flags.param, hosts: flags.hosts });
      if (!flags.json && !flags.quiet) {
        console.error(renderTable(['HOST', 'PLAYBOOKS FROM DIAGNOSIS', 'NOT FIXED BY A PLAYBOOK'], fromDiagnosis.choices.map((c) => [c.host, c.playbooks.join(', ') || '-', c.unfixable.map((u) => `${u.cause} (${u.why})`).join('; ')])));
      }
      if (fromDiagnosis.playbookIds.length === 0) {
        // Nothing to run, but hosts with findings no playbook fixes are not healthy: they stay in the recap (exit 1).
        const recap = fromDiagnosis.choices.map((c): HostRecap => ({ host: c.host, state: c.unfixable.length ? 'unfixed' : 'healthy', changed: 0, unchanged: 0, failed: 0, undone: 0,
          detail: c.unfixable.length ? `left unfixed: ${c.unfixable.map((u) => `${u.cause} (${u.why})`).join('; ')}` : '' }));
        await progress?.close();
        if (flags.json) console.log(JSON.stringify(versioned('run-summary', { runId: null, mode: name, hosts: [], recap, diagnosis: fromDiagnosis.choices })));
        else console.log(`No host needs a playbook from the catalogue: nothing to run.\n\n${renderRecap(recap)}`);
        process.exitCode = recapExitCode(recap, name);
        return;
      }
    }
    const base = {
      inventory, catalogue, hostFilter: flags.hosts,
      playbookIds: fromDiagnosis?.playbookIds ?? flags.playbook!,
      parameters: fromDiagnosis?.parameters ?? flags.param,
      playbooksByHost: fromDiagnosis?.playbooksByHost,
      hostParameters: fromDiagnosis?.hostParameters,
      concurrency: flags.concurrency ?? engine.concurrency, allowIrreversible: flags.allowIrreversible, stateDir: engine.stateDir, broker,
      waitLockSeconds: flags.waitLock,
    };
    if (name === 'apply' && !flags.yes) {
      const plan = await startRun({ ...base, mode: 'plan' });
      console.log(renderPlan(plan));
      const changing = hostsThatWouldChange(plan);
      if (!changing.length) {
        console.log('\nNothing would change: nothing to apply.');
        return;
      }
      const named = changing.length <= 5 ? `: ${changing.join(', ')}` : '';
      if (!(await confirm(`\nApply to ${changing.length} host(s)${named}? [y/N] `))) {
        console.log('Nothing changed.');
        return;
      }
    }
    progress ??= await openProgress(flags);
    const events = progress.events;
    const rollout: Rollout | undefined = name === 'apply' && (flags.serial || flags.canary || flags.maxFail !== undefined) ? {
      ...(flags.serial ? { serial: flags.serial } : {}), ...(flags.canary ? { canary: flags.canary } : {}),
      ...(flags.maxFail !== undefined ? { maxFailPercent: flags.maxFail } : {}), rollbackWave: !!flags.rollbackWave,
      checkCanary: canaryByDiagnosis({ ...inventory, hosts: selected }, broker, (host) => {
        const ids = fromDiagnosis?.playbooksByHost[host] ?? flags.playbook ?? [];
        return ids.map((id) => catalogue.get(id)).filter((p): p is NonNullable<typeof p> => !!p);
      }),
    } : undefined;
    const interrupt = name === 'apply' ? onInterrupt(progress) : undefined;
    let result: RunResult;
    try {
      result = await startRun({ ...base, mode: name, rollout, ...(interrupt ? { signal: interrupt.signal } : {}), onActivity: events.activity, onRecord: (r) => {
        if (r.type === 'run-started') interrupt?.started(r.header.runId);
        events.record(r);
      } });
    } finally {
      await progress.close();
      interrupt?.dispose();
    }
    // The report files, the recap and the exit code read the journal once, with the hosts the diagnosis left out (healthy or unfixed).
    const report = runReport(engine.stateDir, result.runId, { state: result.state, ...(fromDiagnosis ? { diagnosis: fromDiagnosis.choices } : {}) });
    if (flags.report.length) {
      writeReports(flags.report, report);
      for (const f of flags.report) console.error(`Report: ${path.resolve(f)}`);
    }
    const recap = recapRows(report, result);
    if (flags.json) writeRunSummary(result, { recap, ...(fromDiagnosis ? { diagnosis: fromDiagnosis.choices } : {}) });
    else {
      renderNotes(result);
      if (name === 'plan') console.log(`${renderPlan(result)}\n`);
      console.log(renderRecap(recap));
      console.log(`\nRun ${result.runId}${name === 'apply' ? ` — undo it later with: rdpfix rollback ${result.runId}` : ''}`);
    }
    process.exitCode = recapExitCode(recap, name);
  } finally {
    await progress?.close();
    await broker.close();
  }
}

/**
 * Ctrl-C during apply. The first: no host or step starts any more; steps in flight finish, or roll back, as they would, and
 * the journal says where each stands. The second: leave at once; steps in flight become in-doubt, and `resume`
 * reconciles them (never re-applying blindly). Either way the run and the command that settles it are named.
 */
function onInterrupt(progress: Pick<Progress, 'notice'>) {
  const controller = new AbortController();
  // Every host in flight listens on this one signal (up to --concurrency at once): not a leak, so no warning.
  setMaxListeners(0, controller.signal);
  let runId: string | undefined;
  const settle = () => (runId ? `rdpfix resume ${runId} (or rdpfix rollback ${runId})` : 'no run had started');
  let first = 0;
  const handler = () => {
    if (!controller.signal.aborted) {
      first = Date.now();
      controller.abort();
      progress.notice(`\nrdpfix: stopping: no new host starts; hosts in flight finish or roll back their step in flight, then start no further step. Ctrl-C again to leave at once${runId ? ` (then ${settle()} settles it)` : ''}.\n`,
        'stopping (Ctrl-C): no new step starts; Ctrl-C again leaves at once');
      return;
    }
    // One key press can arrive as two signals (seen here: twice within a millisecond); a second Ctrl-C is a later one.
    if (Date.now() - first < 1000) return;
    // Straight to the descriptor: the live view holds process.stderr's writes until it ends, which exit would skip.
    writeSync(2, `\nrdpfix: left at once; steps in flight are in doubt: ${settle()}.\n`);
    process.exit(130);
  };
  process.on('SIGINT', handler);
  return {
    signal: controller.signal,
    started: (id: string) => {
      runId = id;
    },
    dispose: () => {
      process.off('SIGINT', handler);
      if (controller.signal.aborted && runId) process.stderr.write(`rdpfix: interrupted: run ${runId} stopped; rdpfix resume ${runId} finishes it (hosts stopped between steps and hosts never started), rdpfix apply --retry ${runId} runs only the ones never started.\n`);
    },
  };
}
