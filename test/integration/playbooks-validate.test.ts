/**
 * Issue 10 item 4 through the built CLI: `playbooks validate` lists every problem of a hostile folder (exit 2,
 * no stack trace), including what only PowerShell can tell (syntax errors, PowerShell 7-only constructs) and
 * ids that clash with built-in playbooks; `validate DIR/one-playbook` validates that one playbook; `list`
 * with a broken extra folder is exit 2, not a crash.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';

const SCRIPTS = ['c.ps1', 'k.ps1', 'a.ps1', 'v.ps1', 'u.ps1'];
const script = 'param([string]$InputJson)\n$in = $InputJson | ConvertFrom-Json\n';
const manifest = (id: string, extra = '') => `id: ${id}\nversion: 1\ntitle: T\ndescription: D\ncauses: [x]\nrisk: low\n${extra}\nsteps:\n  - { id: one, title: One, check: c.ps1, capture: k.ps1, apply: a.ps1, verify: v.ps1, undo: u.ps1 }\n`;

let root: string;
function playbook(id: string, extra = '', scripts: Record<string, string> = {}): string {
  const dir = path.join(root, id);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'playbook.yaml'), manifest(id, extra));
  for (const s of SCRIPTS) writeFileSync(path.join(dir, s), scripts[s] ?? script);
  return dir;
}

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'rdpfix-validate-'));
  const outside = path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-outside-')), 'shadow');
  writeFileSync(outside, 'root:$6$hash:19000:0:99999:7:::\n');
  playbook('fine');
  playbook('syntax-error', '', { 'a.ps1': 'param([string]$InputJson)\nif ($x -eq 1 {\n  "unclosed"\n' });
  playbook('ps7-only', '', { 'a.ps1': 'param([string]$InputJson)\n$v = $InputJson ?? "{}"\n$w = ($v -eq "") ? 1 : 2\n' });
  playbook('restart-termservice');
  playbook('bad-pattern', 'parameters: { p: { type: string, description: P, pattern: "(" } }');
  playbook('slow-pattern', 'parameters: { p: { type: string, description: P, pattern: "^(a+)+$", default: "aaaaaaaaaaaaaaaaaaaaaaaaaaa!" } }');
  const folderScript = playbook('folder-script');
  rmSync(path.join(folderScript, 'a.ps1'));
  mkdirSync(path.join(folderScript, 'a.ps1'));
  const leak = playbook('leaky-link');
  rmSync(path.join(leak, 'u.ps1'));
  symlinkSync(outside, path.join(leak, 'u.ps1'));
  symlinkSync(path.join(root, 'nowhere'), path.join(root, 'dangling'));
  playbook('loop-a', 'order: { after: [loop-b] }');
  playbook('loop-b', 'order: { after: [loop-a] }');
});

describe('rdpfix playbooks validate', () => {
  it('lists every problem of a hostile folder, exit 2, no stack trace', async () => {
    const started = Date.now();
    const r = await runCli(['playbooks', 'validate', root], { timeoutMs: 120_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
    const expected = [
      /syntax-error\/a\.ps1:2:\d+: PowerShell syntax error: /,
      /ps7-only\/a\.ps1:2:\d+: not Windows PowerShell 5\.1 \(/,
      /ps7-only\/a\.ps1:3:\d+: not Windows PowerShell 5\.1 \(/,
      /restart-termservice\/playbook\.yaml: id: 'restart-termservice' is the id of a built-in playbook/,
      /bad-pattern\/playbook\.yaml: parameters\.p\.pattern: is not a valid regular expression/,
      /slow-pattern\/playbook\.yaml: parameters\.p\.pattern: repeats a group that itself repeats/,
      /folder-script\/playbook\.yaml: steps\.0\.apply: script 'a\.ps1' is a folder, not a file/,
      /leaky-link\/playbook\.yaml: steps\.0\.undo: script 'u\.ps1' is a link to .*shadow, outside the playbook folder/,
      /dangling: is a dangling link/,
      /order hints form a cycle: loop-a → loop-b → loop-a/,
    ];
    for (const e of expected) expect(r.stderr).toMatch(e);
    expect(r.stderr).toMatch(/: 10 problem\(s\):/);
    expect(r.stderr).not.toContain('$6$hash');
    expect(r.stderr).not.toMatch(/fine\//);
    expect(Date.now() - started).toBeLessThan(60_000);

    const json = await runCli(['playbooks', 'validate', root, '--json'], { timeoutMs: 120_000 });
    expect(json.code).toBe(2);
    const report = JSON.parse(json.stdout) as { ok: boolean; problems: string[]; playbooks: string[] };
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(10);
    expect(report.playbooks).toContain('fine');
  }, 240_000);

  it('validates one playbook folder given directly', async () => {
    const one = await runCli(['playbooks', 'validate', path.join(root, 'fine')]);
    expect(one).toMatchObject({ code: 0 });
    expect(one.stdout).toMatch(/1 playbook\(s\) valid: fine\./);
    const bad = await runCli(['playbooks', 'validate', path.join(root, 'syntax-error')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/1 problem\(s\):\n  - .*syntax-error\/a\.ps1:2:\d+: PowerShell syntax error/);
    const empty = await runCli(['playbooks', 'validate', mkdtempSync(path.join(tmpdir(), 'rdpfix-empty-'))]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/holds no playbook/);
  }, 120_000);

  it('list and show with a broken extra folder are exit 2 with the problem, not a crash', async () => {
    for (const args of [['playbooks', 'list', '--playbooks', root], ['playbooks', 'show', 'fine', '--playbooks', root]]) {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^rdpfix: .*problems; `rdpfix playbooks validate` lists them all\)/);
      expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
    }
  });
});
