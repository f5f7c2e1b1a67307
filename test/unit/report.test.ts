import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { runDir } from '../../src/journal/journal.js';
import { recapRows } from '../../src/cli/recap.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildReport } from '../../src/report/model.js';
import { foldRun } from '../../src/engine/run-state.js';
import { runReport, writeReports } from '../../src/report/write.js';
import { renderHtml } from '../../src/report/html.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { header, hostStarted, journal, playbookStarted, RUN_ID } from '../helpers/journal.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const hostile = '<script>alert(1)</script> | `x` \u001b[31m & "q"';

function sampleRun() {
  return journal(header(['good', 'bad', 'never']),
    hostStarted('good'), playbookStarted('good'),
    { type: 'step-checked', host: 'good', playbook: 'p', step: 's1', result: { compliant: false, before: { category: 'Public' }, after: { category: 'Private' }, warnings: [] } },
    { type: 'step-checkpoint', host: 'good', playbook: 'p', step: 's1', state: { category: 'Public' } },
    { type: 'step-applied', host: 'good', playbook: 'p', step: 's1', result: { changed: true, warnings: ['session 3 survived logoff'] } },
    { type: 'step-verified', host: 'good', playbook: 'p', step: 's1', left: 1, result: { ok: true, warnings: [] } },
    { type: 'playbook-finished', host: 'good', playbook: 'p', outcome: 'succeeded' },
    { type: 'host-finished', host: 'good', outcome: 'succeeded', failed: null, outcomes: { p: 'succeeded' } },
    hostStarted('bad'), playbookStarted('bad'),
    { type: 'step-failed', host: 'bad', playbook: 'p', step: 's1', phase: 'check', category: 'script', message: hostile },
    { type: 'playbook-finished', host: 'bad', playbook: 'p', outcome: 'rolledBack', failure: { step: 's1', phase: 'check', category: 'script', message: hostile } },
    { type: 'host-finished', host: 'bad', outcome: 'rolledBack', failed: 'p', outcomes: { p: 'rolledBack' } },
    { type: 'run-finished', outcomes: { good: 'succeeded', bad: 'rolledBack' } });
}

describe('run reports', () => {
  it('folds a journal into totals, host states, before → after and a timeline', () => {
    const r = buildReport(sampleRun(), { now: NOW, diagnosis: [
      { host: 'never', playbooks: ['p'], unfixable: [{ cause: 'dns-mismatch', why: 'no playbook fixes DNS' }] },
      // Diagnosed, left out of the run: still in the report.
      { host: 'fine', playbooks: [], unfixable: [] },
      { host: 'dns', playbooks: [], unfixable: [{ cause: 'dns-mismatch', why: 'no playbook fixes DNS' }] },
    ] });
    expect(r).toMatchObject({ schema: 'rdpfix.report/1', status: 'finished', generated: NOW.toISOString() });
    expect(r.totals).toMatchObject({ hosts: 5, succeeded: 1, failed: 1, 'not-reached': 1, healthy: 1, unfixed: 1, unknown: 0 });
    expect(r.hosts.find((h) => h.host === 'dns')).toMatchObject({ state: 'unfixed', playbooks: [] });
    const good = r.hosts.find((h) => h.host === 'good')!;
    expect(good.playbooks[0]!.steps[0]).toMatchObject({ step: 's1', before: { category: 'Public' }, after: { category: 'Private' }, verified: true, undone: false, warnings: ['session 3 survived logoff'] });
    expect(good.playbooks[0]!.steps[0]!.events.map((e) => e.event)).toEqual(['step-checked', 'step-checkpoint', 'step-applied', 'step-verified']);
    expect(r.hosts.find((h) => h.host === 'never')).toMatchObject({ state: 'not-reached', unfixed: [{ cause: 'dns-mismatch' }] });
  });

  it('reads the journal once, as it streams, and writes the JSON report host by host as the same bytes as one JSON.stringify', () => {
    const records = sampleRun();
    let passes = 0;
    const once = { [Symbol.iterator]: () => (passes++, records[Symbol.iterator]()) };
    const r = buildReport(once, { now: NOW, diagnosis: [{ host: 'fine', playbooks: [], unfixable: [] }] });
    expect(passes).toBe(1);
    expect(r).toEqual(buildReport(records, { now: NOW, diagnosis: [{ host: 'fine', playbooks: [], unfixable: [] }] }));
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-report-')), 'r.json');
    writeReports([file], r);
    expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify(r, null, 2)}\n`);
  });

  it('from a journal file, builds each host\'s part when read (its own records, read again from their places): the same report, recap and bytes', () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'rdpfix-report-'));
    mkdirSync(runDir(stateDir, RUN_ID), { recursive: true });
    const lines = sampleRun().map((r) => { const json = JSON.stringify(r); return `${json}\t${crc32(json).toString(16).padStart(8, '0')}\n`; });
    const file = path.join(runDir(stateDir, RUN_ID), 'journal.jsonl');
    writeFileSync(file, lines.join(''));
    const diagnosis = [{ host: 'fine', playbooks: [], unfixable: [] }];
    const whole = buildReport(sampleRun(), { now: NOW, diagnosis });
    const streamed = runReport(stateDir, RUN_ID, { now: NOW, diagnosis });
    expect({ ...streamed.head, hosts: [...streamed.eachHost()] }).toEqual(whole);
    expect(recapRows(streamed)).toEqual(recapRows(whole));
    const out = path.join(stateDir, 'r.json');
    writeReports([out, path.join(stateDir, 'r.md')], streamed);
    expect(readFileSync(out, 'utf8')).toBe(`${JSON.stringify(whole, null, 2)}\n`);
    expect(readFileSync(path.join(stateDir, 'r.md'), 'utf8')).toBe(renderMarkdown(whole));
    // A host's line changed after the fold read it: damage when that host's part is built, not a different report.
    writeFileSync(file, lines.join('').replace('session 3 survived logoff', 'session 4 survived logoff'));
    expect(() => [...streamed.eachHost()]).toThrow(/damaged at line 6: the line changed after it was read/);
    // Lines moved (one record dropped): no line is where the fold saw it.
    writeFileSync(file, [lines[0], ...lines.slice(2)].join(''));
    expect(() => [...streamed.eachHost()]).toThrow(/damaged at line \d+: the line changed after it was read/);
  });

  it('given the fold a command already holds, uses it only if it folded every record of the file; else folds the file', () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'rdpfix-report-'));
    mkdirSync(runDir(stateDir, RUN_ID), { recursive: true });
    const records = sampleRun();
    const line = (r: unknown) => { const json = JSON.stringify(r); return `${json}\t${crc32(json).toString(16).padStart(8, '0')}\n`; };
    const file = path.join(runDir(stateDir, RUN_ID), 'journal.jsonl');
    writeFileSync(file, records.map(line).join(''));
    const whole = buildReport(records, { now: NOW });
    const held = foldRun(records);
    const shared = runReport(stateDir, RUN_ID, { now: NOW, state: held });
    expect({ ...shared.head, hosts: [...shared.eachHost()] }).toEqual(whole);
    // A fold taken before the last records (a stale one) is not used: the report is the file's.
    const stale = foldRun(records.slice(0, -2));
    const fresh = runReport(stateDir, RUN_ID, { now: NOW, state: stale });
    expect({ ...fresh.head, hosts: [...fresh.eachHost()] }).toEqual(whole);
    expect(stale.status).not.toBe(held.status); // so a report from the stale fold would have said otherwise
  });

  it('escapes journal and host text in every format', () => {
    const r = buildReport(sampleRun(), { now: NOW });
    const html = renderHtml(r);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('\u001b');
    expect(html).toContain('data-total="succeeded">1<');
    const md = renderMarkdown(r);
    expect(md).toContain('\\<script\\>');
    expect(md).not.toMatch(/\| `x` \|/);
    const xml = renderJunit(r);
    expect(xml).not.toContain('\u001b');
    expect(xml).toMatch(/<testsuites name="rdpfix" tests="3" failures="1" errors="1">/);
    expect(xml).toContain('<testcase classname="bad" name="p"><failure type="rolledBack" message="s1 (check): &lt;script&gt;');
  });
});
