import { Command } from 'commander';
import { listRunIds, readRun, defaultStateDir } from '../../journal/journal.js';
import { foldRun, inDoubt, liveGuards } from '../../engine/run-state.js';
import { renderTable } from '../table.js';

interface RunsFlags {
  stateDir?: string;
  json: boolean;
}

function summary(stateDir: string, runId: string) {
  const { records, tornTail } = readRun(stateDir, runId);
  const s = foldRun(records);
  const outcomes: Record<string, number> = {};
  for (const h of Object.values(s.hosts)) if (h.outcome) outcomes[h.outcome] = (outcomes[h.outcome] ?? 0) + 1;
  const unfinished = s.header.hosts.filter((h) => !s.hosts[h.name]?.outcome).length;
  return { runId, mode: s.header.mode, started: s.started, lastRecord: s.lastTime, hosts: s.header.hosts.length, playbooks: s.header.playbooks.map((p) => p.id), finished: s.finished, unfinishedHosts: unfinished, outcomes, tornTail, version: s.header.version };
}

export function runsCommand(): Command {
  const runs = new Command('runs').description('past runs, from their journals');
  runs
    .command('list')
    .description('every run in the state directory')
    .option('--state-dir <dir>', 'where run journals live')
    .option('--json', 'print JSON', false)
    .action((flags: RunsFlags) => {
      const dir = flags.stateDir ?? defaultStateDir();
      const rows = listRunIds(dir).map((id) => summary(dir, id));
      if (flags.json) return console.log(JSON.stringify(rows, null, 2));
      if (!rows.length) return console.log(`No runs in ${dir}.`);
      console.log(renderTable(['RUN', 'MODE', 'STARTED', 'HOSTS', 'PLAYBOOKS', 'STATE', 'OUTCOMES'], rows.map((r) => [
        r.runId, r.mode, r.started.slice(0, 19).replace('T', ' '), String(r.hosts), r.playbooks.join(','),
        r.finished ? 'finished' : `INCOMPLETE (${r.unfinishedHosts} hosts; rdpfix resume ${r.runId})`,
        Object.entries(r.outcomes).map(([k, v]) => `${k}:${v}`).join(' '),
      ])));
    });
  runs
    .command('show')
    .description('one run: hosts, playbooks and steps as the journal records them')
    .argument('<run>', 'run id')
    .option('--state-dir <dir>', 'where run journals live')
    .option('--json', 'print JSON (every record)', false)
    .action((runId: string, flags: RunsFlags) => {
      const dir = flags.stateDir ?? defaultStateDir();
      const { records, tornTail } = readRun(dir, runId);
      const s = foldRun(records);
      if (flags.json) return console.log(JSON.stringify({ ...summary(dir, runId), header: s.header, hosts: s.hosts, records }, null, 2));
      const head = summary(dir, runId);
      console.log(`Run ${runId} (${head.mode}, rdpfix ${head.version}), started ${head.started}; ${head.finished ? 'finished' : 'INCOMPLETE'}${tornTail ? '; the last record was torn by a crash and is ignored' : ''}.`);
      const rows: string[][] = [];
      for (const h of s.header.hosts) {
        const p = s.hosts[h.name];
        for (const id of p?.playbooks ?? []) {
          const x = p!.progress[id];
          rows.push([h.name, p!.outcome ?? 'unfinished', id, x?.outcome ?? (x?.started ? 'unfinished' : 'not started'), x?.applied.join(',') || '-', x ? inDoubt(x).join(',') || '-' : '-', x?.undone.join(',') || '-']);
        }
        if (!p) rows.push([h.name, 'not started', '-', '-', '-', '-', '-']);
      }
      console.log(renderTable(['HOST', 'HOST OUTCOME', 'PLAYBOOK', 'OUTCOME', 'APPLIED', 'IN DOUBT', 'UNDONE'], rows));
      // Revert tasks still on hosts: they restore their step's checkpoint at the due time, controller or not.
      const guards = s.header.hosts.flatMap((h) => Object.values(s.hosts[h.name]?.progress ?? {}).flatMap((x) =>
        liveGuards(x).map((step) => [h.name, `${x.playbook}/${step}`, x.guards[step]!.state === 'kept' ? 'kept (expires)' : x.guards[step]!.state, x.guards[step]!.dueUtc ?? '?'])));
      if (guards.length) console.log(`\nRevert guards on hosts (each restores its step's prior state at the due time):\n${renderTable(['HOST', 'STEP', 'GUARD', 'DUE (UTC)'], guards)}`);
    });
  return runs;
}
