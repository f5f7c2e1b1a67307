import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/** Debian's chromium, headless: the page as a browser builds it (scripts, if any, would have run). */
function browserDom(file: string): string {
  const r = spawnSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--user-data-dir=' + mkdtempSync(path.join(tmpdir(), 'rdpfix-chromium-')), '--dump-dom', `file://${file}`], { encoding: 'utf8', timeout: 90_000 });
  if (r.error) throw new Error(`chromium did not run (scripts/install-test-packages.sh installs it): ${r.error.message}`);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('run reports from a lab apply', () => {
  it('writes HTML, JSON, Markdown and JUnit; the page renders in headless Chromium and its numbers match the JSON', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'rdpfix-report-'));
    const lab = path.join(work, 'lab');
    // Three hosts: two with RDP disabled (changed by the playbook), one healthy (unchanged).
    const init = await runCli(['lab', 'init', lab, '--hosts', '3', '--scenarios', 'rdp-disabled,healthy', '--seed', '5']);
    expect(init.code, init.stderr).toBe(0);
    const out = (ext: string) => path.join(work, `report.${ext}`);
    const r = await runCli(['apply', '-i', path.join(lab, 'inventory.yaml'), '-p', 'enable-remote-desktop', '--yes', '--processes', '1', '--state-dir', path.join(work, 'state'),
      '--report', out('html'), '--report', out('json'), '--report', out('md'), '--report', out('xml')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Report: ${out('html')}`);
    const json = JSON.parse(readFileSync(out('json'), 'utf8')) as { schema: string; totals: Record<string, number>; hosts: { host: string; state: string }[] };
    expect(json.schema).toBe('rdpfix.report/1');
    expect(json.totals.hosts).toBe(3);

    const dom = browserDom(out('html'));
    // Every total shown on the page equals the JSON report's; so does each host's state.
    const shown = Object.fromEntries([...dom.matchAll(/data-total="([a-z-]+)">(\d+)</g)].map((m) => [m[1], Number(m[2])]));
    expect(shown.hosts).toBe(3);
    for (const [k, n] of Object.entries(shown)) expect(n, k).toBe(json.totals[k]);
    expect(Object.entries(json.totals).filter(([, n]) => n > 0).map(([k]) => k).sort()).toEqual(Object.keys(shown).sort());
    const states = Object.fromEntries([...dom.matchAll(/data-host="([^"]+)" data-state="([a-z-]+)"/g)].map((m) => [m[1], m[2]]));
    expect(states).toEqual(Object.fromEntries(json.hosts.map((h) => [h.host, h.state])));
    expect(json.hosts.some((h) => h.state === 'succeeded')).toBe(true);

    const xml = readFileSync(out('xml'), 'utf8');
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="rdpfix" tests="3" failures="0" errors="0">/);
    expect(readFileSync(out('md'), 'utf8')).toMatch(/^# rdpfix apply: run \d{8}-\d{6}-[0-9a-f]{6} \(finished\)/);

    // A report path the run could not write is refused before anything runs.
    const bad = await runCli(['plan', '-i', path.join(lab, 'inventory.yaml'), '-p', 'enable-remote-desktop', '--report', path.join(work, 'r.pdf')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/use \.json, \.md, \.html or \.xml/);
  }, 240_000);
});
