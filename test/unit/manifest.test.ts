import { describe, it, expect } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadCatalogue, loadPlaybook, orderPlaybooks, resolveParameters, revertTaskTtlMinutes } from '../../src/playbooks/manifest.js';
import { fixturePlaybooks } from '../helpers/engine.js';

const script = 'param([string]$InputJson)\n';

function folder(manifests: Record<string, string>, scripts = ['c.ps1', 'k.ps1', 'a.ps1', 'v.ps1', 'u.ps1']): string {
  const root = mkdtempSync(path.join(tmpdir(), 'rdpfix-pb-'));
  for (const [id, yaml] of Object.entries(manifests)) {
    mkdirSync(path.join(root, id));
    writeFileSync(path.join(root, id, 'playbook.yaml'), yaml);
    for (const s of scripts) writeFileSync(path.join(root, id, s), script);
  }
  return root;
}

const valid = (id: string, extra = '') => `id: ${id}
version: 1
title: T
description: D
causes: [x]
risk: low
${extra}
steps:
  - { id: one, title: One, check: c.ps1, capture: k.ps1, apply: a.ps1, verify: v.ps1, undo: u.ps1 }
`;

describe('playbook manifests', () => {
  it('loads a playbook with its scripts and a digest that changes with any script', () => {
    const pb = loadPlaybook(path.join(fixturePlaybooks(), 'registry-values'));
    expect(pb.steps.map((s) => s.id)).toEqual(['set-alpha', 'set-beta', 'set-gamma']);
    expect(pb.digest).toMatch(/^[0-9a-f]{64}$/);
    const root = folder({ pb: valid('pb') });
    const before = loadPlaybook(path.join(root, 'pb')).digest;
    writeFileSync(path.join(root, 'pb', 'a.ps1'), script + '# changed\n');
    expect(loadPlaybook(path.join(root, 'pb')).digest).not.toBe(before);
  });

  it.each([
    ['bad id', valid('Bad_Id'), /id: must be lower-case/],
    ['missing undo', valid('pb').replace(', undo: u.ps1', ''), /needs both capture and undo scripts/],
    ['irreversible with undo', valid('pb').replace('undo: u.ps1 }', 'undo: u.ps1, irreversible: true }'), /steps\.0\.undo: an irreversible step cannot have an undo script/],
    ['missing script', valid('pb').replace('v.ps1', 'nope.ps1'), /steps\.0\.verify: script 'nope.ps1' does not exist/],
    ['unknown field', valid('pb', 'colour: red'), /Unrecognized key\(s\) in object: 'colour'/],
    ['bad risk', valid('pb').replace('risk: low', 'risk: extreme'), /risk: Invalid enum value/],
    ['bad default', valid('pb', 'parameters: { n: { type: integer, description: N, default: 500, max: 100 } }'), /parameters\.n\.default: must be at most 100/],
    ['not YAML', 'id: [p', /not valid YAML/],
  ])('rejects %s, naming the file and field', (_name, yaml, pattern) => {
    const root = folder({ pb: yaml });
    expect(() => loadPlaybook(path.join(root, 'pb'))).toThrow(pattern);
    expect(() => loadPlaybook(path.join(root, 'pb'))).toThrow(/playbook\.yaml/);
  });

  describe('revert task key', () => {
    const withKeys = (keys: string) => valid('pb', 'parameters: { ttl: { type: integer, description: TTL, default: 20 } }').replace('undo: u.ps1 }', `undo: u.ps1, ${keys} }`);
    const load = (yaml: string) => loadPlaybook(path.join(folder({ pb: yaml }), 'pb'));

    it('reads revertTask', () => {
      const step = load(withKeys('revertTask: { ttlMinutes: ttl, expires: true }')).steps[0]!;
      expect(step.revertTask).toEqual({ ttlMinutes: 'ttl', expires: true });
      expect(revertTaskTtlMinutes(step, { ttl: 20 })).toBe(20);
    });

    it('still reads the deprecated alias guard, as revertTask (the alias is not passed on)', () => {
      const step = load(withKeys('guard: { ttlMinutes: 15 }')).steps[0]!;
      expect(step.revertTask).toEqual({ ttlMinutes: 15, expires: false });
      expect('guard' in step).toBe(false);
    });

    it('refuses both in one step, naming the file and the key', () => {
      expect(() => load(withKeys('revertTask: { ttlMinutes: 5 }, guard: { ttlMinutes: 5 }'))).toThrow(
        /pb[\\/]playbook\.yaml: steps\.0\.guard: both revertTask and its deprecated alias 'guard' are given \(keep revertTask only\)/);
    });

    it('names the key the file uses in its other problems', () => {
      expect(() => load(withKeys('guard: { ttlMinutes: nope }'))).toThrow(/steps\.0\.guard\.ttlMinutes: 'nope' is not an integer parameter/);
      expect(() => load(withKeys('revertTask: { ttlMinutes: nope }'))).toThrow(/steps\.0\.revertTask\.ttlMinutes: 'nope' is not an integer parameter/);
      expect(() => load(withKeys('guard: { ttlMinutes: 5 }').replace('undo: u.ps1,', 'irreversible: true,').replace(', capture: k.ps1', ''))).toThrow(/steps\.0\.guard: an irreversible step cannot have a revert task/);
    });
  });

  it('rejects an id that does not match its folder and order hints to unknown playbooks', () => {
    expect(() => loadPlaybook(path.join(folder({ pb: valid('qq') }), 'pb'))).toThrow(/does not match the folder name 'pb'/);
    expect(() => loadCatalogue([folder({ pb: valid('pb', 'order: { after: [ghost] }') })])).toThrow(/order: unknown playbook 'ghost'/);
  });

  it('orders playbooks by their hints and rejects cycles', () => {
    const root = folder({ aa: valid('aa', 'order: { after: [bb] }'), bb: valid('bb'), cc: valid('cc', 'order: { before: [bb] }') });
    const cat = loadCatalogue([root]);
    expect(orderPlaybooks([cat.get('aa')!, cat.get('bb')!, cat.get('cc')!]).map((p) => p.id)).toEqual(['cc', 'bb', 'aa']);
    // A catalogue with a cycle is refused as a whole (issue 10: validate used to pass it).
    expect(() => loadCatalogue([folder({ aa: valid('aa', 'order: { after: [bb] }'), bb: valid('bb', 'order: { after: [aa] }') })])).toThrow(/cycle: aa → bb → aa/);
    expect(() => orderPlaybooks([{ ...cat.get('aa')!, order: { after: ['bb'], before: [] } }, { ...cat.get('bb')!, order: { after: ['aa'], before: [] } }])).toThrow(/cycle: aa → bb → aa/);
  });

  it('resolves parameters: defaults, types, unknown names', () => {
    const pb = loadPlaybook(path.join(fixturePlaybooks(), 'registry-values'));
    expect(resolveParameters(pb, { alpha: 7 })).toMatchObject({ alpha: 7, beta: 2, key: 'HKLM:\\SOFTWARE\\RdpfixTest' });
    expect(() => resolveParameters(pb, { alpha: 'seven' })).toThrow(/registry-values\.alpha must be a whole number/);
    expect(() => resolveParameters(pb, { key: 'HKCU:\\x' })).toThrow(/must match/);
    expect(() => resolveParameters(pb, { colour: 1 })).toThrow(/has no parameter 'colour'/);
  });
});
