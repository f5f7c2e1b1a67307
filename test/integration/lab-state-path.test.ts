/**
 * Issue 10 item 3: a lab host's `state:` must be a file inside the inventory's folder, checked before any
 * lock is taken. `state: /etc/passwd` used to make a read-only diagnose create /etc/passwd.lock; a missing
 * folder hung 100 s; a missing file left a stray .lock.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadInventory } from '../../src/inventory/inventory.js';
import { RdpfixError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';

function lab() {
  const outside = mkdtempSync(path.join(tmpdir(), 'rdpfix-outside-'));
  const secret = path.join(outside, 'passwd.json');
  writeFileSync(secret, '{}');
  const dir = mkdtempSync(path.join(tmpdir(), 'rdpfix-labpath-'));
  mkdirSync(path.join(dir, 'hosts'));
  writeFileSync(path.join(dir, 'hosts', 'lab-001.json'), '{}');
  const inventory = (state: string) => {
    const file = path.join(dir, 'inventory.yaml');
    writeFileSync(file, `version: 1\nhosts:\n  - { name: lab-001, transport: { kind: lab, state: ${JSON.stringify(state)} } }\n`);
    return file;
  };
  return { dir, outside, secret, inventory };
}

function problem(file: string): RdpfixError {
  try {
    loadInventory(file);
  } catch (err) {
    if (err instanceof RdpfixError) return err;
    throw err;
  }
  throw new Error('expected an RdpfixError');
}

describe('lab state paths', () => {
  it('accepts a state file inside the inventory folder (also through a link that stays inside)', () => {
    const l = lab();
    expect(loadInventory(l.inventory('hosts/lab-001.json')).hosts[0]!.transport).toEqual({ kind: 'lab', state: path.join(l.dir, 'hosts', 'lab-001.json') });
    symlinkSync(path.join(l.dir, 'hosts', 'lab-001.json'), path.join(l.dir, 'alias.json'));
    expect(loadInventory(l.inventory('alias.json')).hosts).toHaveLength(1);
  });

  it.each([
    ['an absolute path', (l: ReturnType<typeof lab>) => l.secret, /must be relative to the inventory's folder/],
    ['a path with ..', (l: ReturnType<typeof lab>) => `../${path.basename(l.outside)}/passwd.json`, /must not leave the inventory's folder/],
    ['a Windows absolute path', () => 'C:\\Windows\\x.json', /must be relative/],
    ['a missing folder', () => 'nodir/x.json', /nodir\/x\.json does not exist/],
    ['a missing file', () => 'hosts/none.json', /none\.json does not exist/],
    ['a folder', (l: ReturnType<typeof lab>) => { mkdirSync(path.join(l.dir, 'd.json')); return 'd.json'; }, /is not a regular file/],
    ['a link out of the folder', (l: ReturnType<typeof lab>) => { symlinkSync(l.secret, path.join(l.dir, 'out.json')); return 'out.json'; }, /leads outside the inventory's folder/],
    ['a folder link out of the folder', (l: ReturnType<typeof lab>) => { symlinkSync(l.outside, path.join(l.dir, 'outdir')); return 'outdir/passwd.json'; }, /leads outside/],
    ['a planted .lock link', (l: ReturnType<typeof lab>) => { symlinkSync(l.secret, path.join(l.dir, 'hosts', 'lab-001.json.lock')); return 'hosts/lab-001.json'; }, /lab-001\.json\.lock, which the lab writes, is a link/],
    ['a planted audit link', (l: ReturnType<typeof lab>) => { symlinkSync(l.secret, path.join(l.dir, 'hosts', 'lab-001.audit.jsonl')); return 'hosts/lab-001.json'; }, /audit\.jsonl, which the lab writes, is a link/],
    ['not a .json file', () => 'hosts/lab-001', /must be a \.json state file/],
  ])('refuses %s, naming the field, creating nothing', (_name, state, pattern) => {
    const l = lab();
    const before = readdirSync(l.outside);
    const e = problem(l.inventory(state(l)));
    expect(e.kind).toBe('input');
    expect(e.message).toMatch(/hosts\.0\.transport\.state: /);
    expect(e.message).toMatch(pattern);
    expect(e.fix).toMatch(/inside the inventory's folder/);
    expect(readdirSync(l.outside)).toEqual(before);
  });

  it('diagnose exits 2 at once for an outside or missing state, and takes no lock', async () => {
    const l = lab();
    for (const state of [l.secret, 'nodir/x.json', 'hosts/none.json']) {
      const started = Date.now();
      const r = await runCli(['diagnose', '-i', l.inventory(state), '--timeout', '5000'], { timeoutMs: 60_000 });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^rdpfix: Inventory .*inventory\.yaml: hosts\.0\.transport\.state: /);
      expect(Date.now() - started).toBeLessThan(15_000);
    }
    expect(existsSync(`${l.secret}.lock`)).toBe(false);
    expect(existsSync(path.join(l.dir, 'nodir'))).toBe(false);
    expect(readdirSync(path.join(l.dir, 'hosts'))).toEqual(['lab-001.json']);
  }, 120_000);
});
