/**
 * Hostile flag values through the built CLI: `lab init --locales` and `conform --hosts/--timeout/--pwsh`. Each is
 * refused with what was wrong, which flag, and a Fix line; exit non-zero; the value is shown inert (quoted, line
 * breaks and controls escaped, long values cut); nothing on disk changes (no lab folder created, an existing lab
 * untouched even with --force, no state folder created).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { LAB_LOCALES } from '../../src/lab/locales.js';

const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f\u0080-\u009f]/;
const KNOWN = LAB_LOCALES.join(', ');
const LONG = 'de-DE'.repeat(20_000);
const cut = (v: string) => `${v.slice(0, 39)}…`;

/** A digest of every file name and content under dir: equal before and after = nothing changed. */
function digest(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      h.update(p);
      if (e.isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

/** The refusal: exit 2, one message line with `shown` in it, one Fix line, no stack trace, no raw controls. */
function expectRefusal(r: { code: number | null; stderr: string; stdout: string }, message: string, fix: RegExp) {
  const lines = r.stderr.trimEnd().split('\n');
  expect({ code: r.code, lines: lines.length, stdout: r.stdout }).toEqual({ code: 2, lines: 2, stdout: '' });
  expect(lines[0]).toBe(`rdpfix: ${message}`);
  expect(lines[1]).toMatch(fix);
  expect(r.stderr).not.toMatch(RAW_CONTROL);
}

// Concurrent: each case is one CLI start (Node startup dominates); they touch separate folders.
describe.concurrent('rdpfix lab init --locales with hostile values', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'rdpfix-hostile-locales-'));
  const known = new RegExp(`^  Fix: Use display languages the lab speaks: ${KNOWN}\\. Example: rdpfix lab init \\./lab --locales en-US,ja-JP$`);
  // Values that fail the same check share one CLI start (the message lists up to five of them).
  const cases: [string, string, string, RegExp][] = [
    ['unknown names: wrong case, a PowerShell command, a subexpression, quotes', `pt-BR,de-de,de-DE;Remove-Item x,$(calc),de-DE'"`,
      `--locales: the lab has no model of 'pt-BR', 'de-de', 'de-DE;Remove-Item x', '$(calc)', 'de-DE'"'.`, known],
    ['a line break with a fake Fix line, and terminal escapes', 'de-DE\n  Fix: rm -rf ~,de-DE\u001b]0;owned\u0007',
      "--locales: the lab has no model of 'de-DE\\n  Fix: rm -rf ~', 'de-DE\\x1b]0;owned\\x07'.", known],
    ['a very long value among many unknown names', `${LONG},b,c,d,e,f,g`, `--locales: the lab has no model of '${cut(LONG)}', 'b', 'c', 'd', 'e' and 2 more.`, known],
    ['an empty list', '', '--locales is empty: it names no display language.', /^ {2}Fix: Name at least one of en-US, .*, comma-separated\./],
    ['a list of blanks', ' , ,', '--locales is empty: it names no display language.', /^ {2}Fix: Name at least one of/],
    ['a duplicate', 'en-US,ja-JP,en-US', "--locales names 'en-US' more than once.", /^ {2}Fix: Name each display language once/],
  ];

  it.each(cases)('refuses %s, and writes no lab folder', async (_what, value, message, fix) => {
    const dir = path.join(root, `lab-${cases.findIndex((c) => c[1] === value)}`);
    const r = await runCli(['lab', 'init', dir, '--hosts', '2', '--locales', value]);
    expectRefusal(r, message, fix);
    expect(existsSync(dir)).toBe(false);
  });

  it('leaves an existing lab untouched even with --force', async () => {
    const dir = path.join(root, 'existing');
    expect((await runCli(['lab', 'init', dir, '--hosts', '2', '--locales', 'ja-JP'])).code).toBe(0);
    const before = digest(dir);
    const r = await runCli(['lab', 'init', dir, '--hosts', '2', '--force', '--locales', 'ja-JP,de-DE;Remove-Item x']);
    expectRefusal(r, "--locales: the lab has no model of 'de-DE;Remove-Item x'.", known);
    expect(digest(dir)).toBe(before);
  });
});

describe.concurrent('rdpfix conform with hostile flag values', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'rdpfix-hostile-conform-'));
  const lab = path.join(root, 'lab');
  const inventory = path.join(lab, 'inventory.yaml');
  const stateDir = path.join(root, 'state');
  let before = '';
  beforeAll(async () => {
    expect((await runCli(['lab', 'init', lab, '--hosts', '2', '--locales', 'ru-RU,ja-JP'])).code).toBe(0);
    before = digest(lab);
  });
  const notIn = (shown: string) => `--hosts: not in ${inventory}: ${shown}.`;
  const fixNames = /^ {2}Fix: Name hosts as the inventory lists them, or select with --limit\.$/;
  const cases: [string, string, string, RegExp][] = [
    ['unknown names: a PowerShell command, a subexpression, quotes', `lab-009,lab-001;Remove-Item x,$(calc),"x'`,
      notIn(`'lab-009', 'lab-001;Remove-Item x', '$(calc)', '"x''`), fixNames],
    ['a line break and a very long value', `lab-001\nrdpfix: all hosts conform,${LONG}`, notIn(`'lab-001\\nrdpfix: all hosts conform', '${cut(LONG)}'`), fixNames],
    ['an empty list', '', '--hosts is empty: it names no host.', /^ {2}Fix: Name hosts comma-separated as the inventory lists them, or leave --hosts out for all of them\.$/],
    ['a duplicate (names ignore case)', 'lab-001,LAB-001', "--hosts names 'LAB-001' more than once (host names ignore case).", /^ {2}Fix: Name each host once\.$/],
  ];


  it.each(cases)('--hosts: refuses %s before reaching any host', async (_what, value, message, fix) => {
    const r = await runCli(['conform', '-i', inventory, '--hosts', value, '--state-dir', stateDir]);
    expectRefusal(r, message, fix);
  });

  it('--timeout: refuses a value that is no whole number (commander, exit 2)', async () => {
    const r = await runCli(['conform', '-i', inventory, '--timeout', '$(calc)', '--state-dir', stateDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--timeout <ms>' argument '\$\(calc\)' is invalid\. expected a whole number from 1000 to 3600000\./);
  });

  it('--pwsh: a path with shell metacharacters is a path that does not exist, never a command (exit 3)', async () => {
    const r = await runCli(['conform', '-i', inventory, '--pwsh', '$(touch pwned);calc', '--state-dir', stateDir], { env: { RDPFIX_PWSH: '' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('$(touch pwned);calc');
    expect(r.stderr).toMatch(/Fix: /);
    expect(existsSync(path.join(process.cwd(), 'pwned'))).toBe(false);
  });

  // After every case: the lab is as lab init wrote it, and no state folder was made.
  afterAll(() => {
    expect(digest(lab)).toBe(before);
    expect(existsSync(stateDir)).toBe(false);
  });
});
