import { accessSync, closeSync, constants, openSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { writeJsonWithArray } from '../json-stream.js';
import path from 'node:path';
import { RdpfixError } from '../errors.js';
import { runRecords } from '../journal/journal.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { buildReport, type DiagnosisChoice, type RunReport } from './model.js';

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

/** A run's report, built from its journal (once per command: the report files and the recap share it). */
export function runReport(stateDir: string, runId: string, o: { now?: Date; diagnosis?: DiagnosisChoice[] } = {}): RunReport {
  return buildReport(runRecords(stateDir, runId), { now: o.now ?? new Date(), ...(o.diagnosis ? { diagnosis: o.diagnosis } : {}) });
}

/** Writes each report file (format by extension), each atomically: a reader never sees half a report. */
export function writeReports(files: string[], report: RunReport): RunReport {
  for (const f of files) {
    const ext = path.extname(f).toLowerCase();
    const tmp = `${f}.${process.pid}.tmp`;
    if (ext === '.json') writeJsonReport(tmp, report);
    else writeFileSync(tmp, RENDERERS[ext]!(report));
    renameSync(tmp, f);
  }
  return report;
}

/** The JSON report host by host: the same bytes as RENDERERS['.json'], never the whole fleet's text as one string. */
function writeJsonReport(file: string, report: RunReport): void {
  const fd = openSync(file, 'w');
  try {
    writeJsonWithArray((text) => writeSync(fd, text), { ...report }, 'hosts', report.hosts, { indent: 2 });
    writeSync(fd, '\n');
  } finally {
    closeSync(fd);
  }
}
