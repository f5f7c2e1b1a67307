/**
 * Issue 10 item 4: hostile or broken playbook folders are reported, every problem at once, and never crash
 * the CLI or hang it (catastrophic parameter patterns are refused or time-bounded).
 */
import { describe, it, expect } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspectCatalogue, inspectPlaybook, loadCatalogue, loadPlaybook, resolveParameters } from '../../src/playbooks/manifest.js';
import { patternProblem, boundedMatch, MATCH_TIME_LIMIT_MS } from '../../src/playbooks/safe-pattern.js';
import { withPrelude } from '../../src/playbooks/prelude.js';
import { RdpfixError } from '../../src/errors.js';

const script = 'param([string]$InputJson)\n';
const SCRIPTS = ['c.ps1', 'k.ps1', 'a.ps1', 'v.ps1', 'u.ps1'];

const manifest = (id: string, extra = '') => `id: ${id}
version: 1
title: T
description: D
causes: [x]
risk: low
${extra}
steps:
  - { id: one, title: One, check: c.ps1, capture: k.ps1, apply: a.ps1, verify: v.ps1, undo: u.ps1 }
`;

function playbook(root: string, id: string, yaml = manifest(id)): string {
  const dir = path.join(root, id);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'playbook.yaml'), yaml);
  for (const s of SCRIPTS) writeFileSync(path.join(dir, s), script);
  return dir;
}

const root = () => mkdtempSync(path.join(tmpdir(), 'rdpfix-pbh-'));
const param = (pattern: string) => `parameters: { name: { type: string, description: N, pattern: ${JSON.stringify(pattern)} } }`;

describe('hostile playbook folders', () => {
  it('reports an invalid pattern instead of crashing', () => {
    const dir = playbook(root(), 'pb', manifest('pb', param('(')));
    const { playbook: pb, problems } = inspectPlaybook(dir);
    expect(pb).toBeUndefined();
    expect(problems).toEqual([expect.stringMatching(/playbook\.yaml: parameters\.name\.pattern: is not a valid regular expression \(.*Unterminated group\)/)]);
    expect(() => loadPlaybook(dir)).toThrow(RdpfixError);
  });

  it.each(['^(a+)+$', '^(a|aa)*$', '^([a-z]+\\s?)*$', '(\\w*)+x', '(a)\\1+'])('refuses the catastrophic pattern %s', (pattern) => {
    expect(patternProblem(pattern)).toMatch(/exponential time/);
    const { problems } = inspectPlaybook(playbook(root(), 'pb', manifest('pb', param(pattern))));
    expect(problems[0]).toMatch(/parameters\.name\.pattern: .*exponential time/);
  });

  it('keeps the built-in kinds of patterns (bounded repeats, alternatives, lookarounds)', () => {
    for (const p of ['^\\S(.*\\S)?$', '^(active|any|(Domain|Private|Public)(,(Domain|Private|Public)){0,2})$', '^(?:S-1-5-21(?:-\\d{1,10}){4})$', '^[^\\s"]+$', '(?<![ .])x']) expect(patternProblem(p)).toBeNull();
  });

  it('bounds a pattern the static check lets through: a polynomial blow-up ends within the time limit', () => {
    const slow = '^\\d*\\d*\\d*\\d*\\d*\\d*\\d*\\d*\\d*\\d*\\d*\\d*$';
    expect(patternProblem(slow)).toBeNull();
    const pb = loadPlaybook(playbook(root(), 'pb', manifest('pb', param(slow))));
    const started = Date.now();
    expect(() => resolveParameters(pb, { name: `${'1'.repeat(60)}x` })).toThrow(/could not be checked against .* in time/);
    // Interrupted at the limit (unbounded, this match runs for hours); slack for a loaded machine.
    expect(Date.now() - started).toBeLessThan(MATCH_TIME_LIMIT_MS * 3);
    expect(boundedMatch(slow, '123')).toBe(true);
  });

  it('rejects a catastrophic pattern at run time too, bounded, even when given a hostile value', () => {
    const started = Date.now();
    expect(patternProblem('^(a+)+$')).not.toBeNull();
    expect(boundedMatch('^(a+)+$', `${'a'.repeat(27)}!`)).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(MATCH_TIME_LIMIT_MS * 3); // unbounded: 11 s here
  });

  it('reports a script that is a folder, a dangling link, a link out of the playbook; reads none of them', () => {
    const r = root();
    const outside = path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-outside-')), 'shadow');
    writeFileSync(outside, 'root:$6$secret:19000:0:99999:7:::\n');
    const dir = playbook(r, 'pb');
    for (const s of ['a.ps1', 'v.ps1', 'u.ps1']) rmSync(path.join(dir, s));
    mkdirSync(path.join(dir, 'a.ps1'));
    symlinkSync(path.join(dir, 'missing.ps1'), path.join(dir, 'v.ps1'));
    symlinkSync(outside, path.join(dir, 'u.ps1'));
    const { playbook: pb, problems } = inspectPlaybook(dir);
    expect(pb).toBeUndefined();
    expect(problems).toEqual([
      expect.stringMatching(/steps\.0\.apply: script 'a\.ps1' is a folder, not a file/),
      expect.stringMatching(/steps\.0\.verify: script 'v\.ps1' is a dangling link/),
      expect.stringMatching(new RegExp(`steps\\.0\\.undo: script 'u\\.ps1' is a link to ${outside.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, outside the playbook folder`)),
    ]);
    expect(JSON.stringify(problems)).not.toContain('$6$');
  });

  it('accepts a script linked to another file inside the playbook', () => {
    const dir = playbook(root(), 'pb');
    rmSync(path.join(dir, 'u.ps1'));
    symlinkSync(path.join(dir, 'a.ps1'), path.join(dir, 'u.ps1'));
    expect(loadPlaybook(dir).scripts['u.ps1']).toBe(withPrelude(script)); // as sent: with the shared prelude
  });

  it('reports a dangling link among the playbook folders instead of crashing, and every other problem too', () => {
    const r = root();
    playbook(r, 'good');
    symlinkSync(path.join(r, 'nowhere'), path.join(r, 'ghost'));
    playbook(r, 'bad', manifest('bad', param('(')).replace('risk: low', 'risk: extreme').replace('version: 1', 'version: 0'));
    playbook(r, 'loop-a', manifest('loop-a', 'order: { after: [loop-b] }'));
    playbook(r, 'loop-b', manifest('loop-b', 'order: { after: [loop-a] }'));
    const { playbooks, problems } = inspectCatalogue([r]);
    expect([...playbooks.keys()]).toEqual(['good', 'loop-a', 'loop-b']);
    expect(problems).toEqual([
      expect.stringMatching(/bad\/playbook\.yaml: version: Number must be greater than or equal to 1/),
      expect.stringMatching(/bad\/playbook\.yaml: risk: Invalid enum value/),
      expect.stringMatching(/ghost: is a dangling link/),
      expect.stringMatching(/order hints form a cycle: loop-a → loop-b → loop-a/),
    ]);
    expect(() => loadCatalogue([r])).toThrow(/and 3 more problems; `rdpfix playbooks validate` lists them all/);
  });

  it('treats a folder that is itself a playbook as a catalogue of one', () => {
    const dir = playbook(root(), 'solo');
    expect([...loadCatalogue([dir]).keys()]).toEqual(['solo']);
  });

  it('reports a self-referencing order hint and a script too large to send', () => {
    const dir = playbook(root(), 'pb', manifest('pb', 'order: { after: [pb] }'));
    writeFileSync(path.join(dir, 'a.ps1'), '#'.repeat(2 * 1024 * 1024));
    const { problems } = inspectPlaybook(dir);
    expect(problems).toEqual([expect.stringMatching(/apply: script 'a\.ps1' is 2097152 bytes; the limit is/), expect.stringMatching(/order: 'pb' is this playbook itself/)]);
  });
});
