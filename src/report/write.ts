import { accessSync, closeSync, constants, openSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { writeJsonWithArray } from '../json-stream.js';
import path from 'node:path';
import { RdpfixError } from '../errors.js';
import { journalEntries, journalLinesAt, journalPath, journalRecords } from '../journal/journal.js';
import { foldRun, type RunState } from '../engine/run-state.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { isHostDetail, reportOf, wholeReport, type DiagnosisChoice, type ReportStream, type RunReport } from './model.js';

const RENDERERS: Record<string, (r: RunReport) => string> = {
  '.json': (r) => `${JSON.stringify(r, null, 2)}\n`,
  '.md': renderMarkdown,
  '.html': renderHtml,
  '.htm': renderHtml,
  '.xml': renderJunit,
};

/** Checks `--report` paths before a run starts: a bad extension or a folder that cannot be written changes nothing. */
export function checkReportPaths(files: string[]): void {
  for (const f of files) {
    if (!RENDERERS[path.extname(f).toLowerCase()]) {
      throw new RdpfixError('usage', `--report ${f}: the extension decides the format; use .json, .md, .html or .xml (JUnit).`);
    }
    const dir = path.dirname(path.resolve(f));
    try {
      if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
      accessSync(dir, constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new RdpfixError('usage', `--report ${f}: cannot write in ${dir} (${code ?? (err as Error).message}).`, 'Give a path in a folder that exists and that you can write to.');
    }
  }
}

/**
 * A run's report from its journal (once per command: the report files and the recap share it). One pass folds the
 * run and notes where each host's records are; each host's part is then built from its own records when it is read
 * and let go, so what stays in memory is the fold and those places, not the fleet's report. A command that has just
 * run the run passes the fold it already holds (`state`): the pass then only notes places, and a second fold of the
 * fleet (8.5 MiB at 5 000 hosts) is not built beside it. It is used only if it has folded every record the file has.
 */
export function runReport(stateDir: string, runId: string, o: { now?: Date; diagnosis?: DiagnosisChoice[]; state?: RunState } = {}): ReportStream {
  const file = journalPath(stateDir, runId);
  const at = new Map<string, { pos: number; len: number; seq: number }[]>();
  const entries = journalEntries(file);
  const records = (function* () {
    for (let next = entries.next(); !next.done; next = entries.next()) {
      const { record: r, pos, len } = next.value;
      if (isHostDetail(r)) {
        const list = at.get(r.host);
        if (list) list.push({ pos, len, seq: r.seq });
        else at.set(r.host, [{ pos, len, seq: r.seq }]);
      }
      yield r;
    }
  })();
  let state: RunState;
  if (o.state) {
    let count = 0;
    let lastTime = '';
    for (const r of records) {
      count++;
      lastTime = r.time;
    }
    state = count === o.state.records && lastTime === o.state.lastTime ? o.state : foldRun(journalRecords(file));
  } else {
    state = foldRun(records);
  }
  return reportOf(state, (host) => journalLinesAt(file, at.get(host) ?? []), { now: o.now ?? new Date(), ...(o.diagnosis ? { diagnosis: o.diagnosis } : {}) });
}

/**
 * Writes each report file (format by extension), each atomically: a reader never sees half a report. The JSON report
 * is written host by host; the HTML, Markdown and JUnit renderers take the whole report (built once for them).
 */
export function writeReports(files: string[], report: RunReport | ReportStream): void {
  const stream: ReportStream = 'eachHost' in report ? report : { head: report, eachHost: () => report.hosts };
  let whole: RunReport | undefined = 'eachHost' in report ? undefined : report;
  for (const f of files) {
    const ext = path.extname(f).toLowerCase();
    const tmp = `${f}.${process.pid}.tmp`;
    if (ext === '.json') writeJsonReport(tmp, stream);
    else writeFileSync(tmp, RENDERERS[ext]!((whole ??= wholeReport(stream))));
    renameSync(tmp, f);
  }
}

/** The JSON report host by host: the same bytes as RENDERERS['.json'], never the whole fleet's text as one string. */
function writeJsonReport(file: string, report: ReportStream): void {
  const fd = openSync(file, 'w');
  try {
    writeJsonWithArray((text) => writeSync(fd, text), { ...report.head, hosts: [] }, 'hosts', report.eachHost(), { indent: 2 });
    writeSync(fd, '\n');
  } finally {
    closeSync(fd);
  }
}
