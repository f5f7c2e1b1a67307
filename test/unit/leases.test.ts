import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { leaseFile, releaseLease, takeLeases, tryLease } from '../../src/journal/leases.js';

const fresh = () => mkdtempSync(path.join(tmpdir(), 'rdpfix-lease-'));

describe('host leases', () => {
  it('one holder at a time: a second taker is refused and told who holds it (pid, controller, start time)', () => {
    const dir = fresh();
    const first = tryLease(dir, 'web1', 'host:web1', { runId: 'r1', controller: 'ctl-a' });
    expect(first.ok).toBe(true);
    const second = tryLease(dir, 'WEB1', 'host:WEB1', { runId: 'r2', controller: 'ctl-a', alive: () => true });
    expect(second).toMatchObject({ ok: false, holder: { pid: process.pid, controller: 'ctl-a', runId: 'r1' } });
    expect(JSON.parse(readFileSync(leaseFile(dir, 'host:web1'), 'utf8'))).toMatchObject({ pid: process.pid, controller: 'ctl-a', started: expect.any(String) });
    if (process.platform !== 'win32') expect(statSync(leaseFile(dir, 'host:web1')).mode & 0o777).toBe(0o600);
    if (first.ok) releaseLease(first.lease);
    expect(tryLease(dir, 'web1', 'host:web1').ok).toBe(true);
    expect(readdirSync(path.join(dir, 'leases')).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  });

  it('a lease of a dead process on this controller is taken over, and says whose it was', () => {
    const dir = fresh();
    writeFileSync(path.join(dir, 'x'), '');
    tryLease(dir, 'h', 'host:h', { controller: 'ctl-a' });
    const file = leaseFile(dir, 'host:h');
    writeFileSync(file, JSON.stringify({ pid: 999999999, controller: 'ctl-a', started: '2026-11-25T00:00:00Z', runId: 'old' }));
    const took = tryLease(dir, 'h', 'host:h', { controller: 'ctl-a', alive: () => false });
    expect(took).toMatchObject({ ok: true, lease: { tookOverFrom: { pid: 999999999, runId: 'old' } } });
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
  });

  /** A host lease held by a process that is gone, and the takeover mutex as a run killed inside it leaves it. */
  function deadLeaseAndMutex(owner?: object) {
    const dir = fresh();
    tryLease(dir, 'h', 'host:h', { controller: 'ctl-a' });
    writeFileSync(leaseFile(dir, 'host:h'), JSON.stringify({ pid: 999999999, controller: 'ctl-a', started: '2026-11-25T00:00:00Z', runId: 'applied' }));
    const mutex = path.join(dir, 'leases', '.takeover');
    mkdirSync(mutex);
    if (owner) writeFileSync(path.join(mutex, 'owner'), JSON.stringify(owner));
    return { dir, mutex };
  }

  it('a takeover mutex left by a killed run does not block the next run: its dead owner\'s mutex is broken at once', () => {
    const { dir, mutex } = deadLeaseAndMutex({ pid: 999999998, controller: 'ctl-a', started: '2026-11-25T00:00:01Z', runId: 'killed-rollback' });
    const started = Date.now();
    const took = tryLease(dir, 'h', 'host:h', { controller: 'ctl-a', alive: () => false });
    expect(took).toMatchObject({ ok: true, lease: { tookOverFrom: { pid: 999999999, runId: 'applied' } } });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(existsSync(mutex)).toBe(false);
  });

  it('a takeover mutex with no owner is broken once older than a kill between its two steps explains; a fresh one is waited for', () => {
    const old = deadLeaseAndMutex();
    const past = new Date(Date.now() - 10_000);
    utimesSync(old.mutex, past, past);
    expect(tryLease(old.dir, 'h', 'host:h', { controller: 'ctl-a', alive: () => false })).toMatchObject({ ok: true });
    const fresh = deadLeaseAndMutex();
    const started = Date.now();
    expect(tryLease(fresh.dir, 'h', 'host:h', { controller: 'ctl-a', alive: () => false })).toMatchObject({ ok: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900); // waited until the ownerless mutex went stale
  });

  it('a live owner\'s takeover mutex is waited for, then the dead lease is taken over', async () => {
    const { dir, mutex } = deadLeaseAndMutex();
    // A live process owns the mutex and lets it go 400 ms later.
    const child = spawn(process.execPath, ['-e', `require('fs').writeFileSync(process.argv[1] + '/owner', JSON.stringify({ pid: process.pid, controller: 'ctl-a', started: new Date().toISOString() })); setTimeout(() => require('fs').rmSync(process.argv[1], { recursive: true, force: true }), 400); setTimeout(() => {}, 1000);`, mutex]);
    await new Promise((r) => setTimeout(r, 150));
    const alive = (pid: number) => pid === child.pid;
    const started = Date.now();
    expect(tryLease(dir, 'h', 'host:h', { controller: 'ctl-a', alive })).toMatchObject({ ok: true, lease: { tookOverFrom: { pid: 999999999 } } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    await new Promise((r) => child.on('close', r));
  });

  it('a lease held from another controller is never guessed dead', () => {
    const dir = fresh();
    tryLease(dir, 'h', 'host:h');
    writeFileSync(leaseFile(dir, 'host:h'), JSON.stringify({ pid: 999999999, controller: 'other-controller', started: '2026-11-25T00:00:00Z' }));
    expect(tryLease(dir, 'h', 'host:h', { controller: 'ctl-a', alive: () => false })).toMatchObject({ ok: false, holder: { controller: 'other-controller' } });
  });

  it('takeLeases holds what it can, refuses the rest, and waits for them with --wait-lock', async () => {
    const dir = fresh();
    const other = tryLease(dir, 'b', 'host:b', { controller: 'ctl-a' });
    const now = await takeLeases(dir, [{ host: 'a', key: 'host:a' }, { host: 'b', key: 'host:b' }], { controller: 'ctl-a', alive: () => true });
    expect(now.held.map((l) => l.host)).toEqual(['a']);
    expect(now.refused.map((r) => r.host)).toEqual(['b']);
    now.held.forEach(releaseLease);
    setTimeout(() => other.ok && releaseLease(other.lease), 300);
    const waited = await takeLeases(dir, [{ host: 'a', key: 'host:a' }, { host: 'b', key: 'host:b' }], { controller: 'ctl-a', alive: () => true, waitSeconds: 5, pollMs: 50 });
    expect(waited.held.map((l) => l.host).sort()).toEqual(['a', 'b']);
    expect(waited.refused).toEqual([]);
    waited.held.forEach(releaseLease);
    expect(existsSync(leaseFile(dir, 'host:a'))).toBe(false);
  });

  it('takeLeases writes many leases without blocking the event loop, each complete on disk', async () => {
    const dir = fresh();
    const wanted = Array.from({ length: 150 }, (_, i) => ({ host: `h${i}`, key: `host:h${i}` }));
    let ticks = 0;
    let counting = true;
    const tick = () => {
      ticks++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const taken = await takeLeases(dir, wanted, { controller: 'ctl-a', runId: 'r1' });
    counting = false;
    expect(taken.held).toHaveLength(150);
    // Synchronous fsyncs, one per host, would let no other callback run until every lease was taken.
    expect(ticks).toBeGreaterThan(0);
    for (const w of wanted) expect(JSON.parse(readFileSync(leaseFile(dir, w.key), 'utf8'))).toMatchObject({ host: w.host, pid: process.pid, controller: 'ctl-a', runId: 'r1' });
    taken.held.forEach(releaseLease);
    expect(readdirSync(path.join(dir, 'leases')).filter((f) => !f.startsWith('.takeover'))).toEqual([]);
  });
});
