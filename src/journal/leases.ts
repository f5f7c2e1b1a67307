import { closeSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync, fsyncSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { privateDir, processAlive } from './journal.js';

/**
 * Host leases: before a run touches a host it holds that host's lease, one file in `<stateDir>/leases/`.
 * A lease appears atomically (written to a private temp file, then hard-linked to its name, which fails if
 * the name exists), and says who holds it: pid, controller host name, run and start time. A lease whose
 * holder is a process of this controller that no longer runs (it was killed) is taken over, and the taking
 * over is reported. A lease held from another controller sharing the state dir is never guessed dead.
 */
export interface LeaseHolder {
  pid: number;
  controller: string;
  started: string;
  runId?: string;
}

export interface HeldLease {
  host: string;
  file: string;
  /** Set when a dead process's lease was taken over. */
  tookOverFrom: LeaseHolder | null;
}

export type LeaseAttempt = { ok: true; lease: HeldLease } | { ok: false; host: string; holder: LeaseHolder | null; file: string };

export interface LeaseOptions {
  runId?: string;
  /** The controller's name (default: os.hostname()) and whether a pid still runs: injectable for tests. */
  controller?: string;
  alive?: (pid: number) => boolean;
  now?: () => Date;
}

const leaseDir = (stateDir: string) => path.join(stateDir, 'leases');

/** The lease file of a host: by what identifies it (not its name in one inventory), hashed to a safe file name. */
export function leaseFile(stateDir: string, key: string): string {
  return path.join(leaseDir(stateDir), `${createHash('sha256').update(key.toLowerCase()).digest('hex').slice(0, 32)}.lease`);
}

function readHolder(file: string): LeaseHolder | null {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<LeaseHolder>;
    if (typeof v.pid === 'number' && typeof v.controller === 'string' && typeof v.started === 'string') return v as LeaseHolder;
  } catch {
    // unreadable or half-written by hand: treated as held by someone unknown
  }
  return null;
}

/** How long a taker waits for the takeover mutex while a live process holds it (its work takes microseconds). */
const TAKEOVER_WAIT_MS = 5_000;
/** A mutex folder with no owner yet is as old as a kill between its mkdir and its owner file; after this it is stale. */
const OWNERLESS_STALE_MS = 2_000;
/** A mutex held from another controller cannot be checked for life; after this it cannot still be working. */
const FOREIGN_STALE_MS = 30_000;

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Whether the takeover mutex was left by a process that is gone: its owner (pid and controller, written inside it)
 * is a process of this controller that no longer runs, or it has had no owner for longer than a kill between the
 * two steps can explain, or it is another controller's and too old to still be working.
 */
function takeoverLockStale(lock: string, me: LeaseHolder, alive: (pid: number) => boolean): boolean {
  let age: number;
  try {
    age = Date.now() - statSync(lock).mtimeMs;
  } catch {
    return false; // gone meanwhile: the next try takes it
  }
  const owner = readHolder(path.join(lock, 'owner'));
  if (!owner) return age > OWNERLESS_STALE_MS;
  if (owner.controller !== me.controller) return age > FOREIGN_STALE_MS;
  return owner.pid !== process.pid && !alive(owner.pid);
}

/**
 * A short mutex around taking over a dead lease, so two runs never both replace it. A run killed while it held the
 * mutex leaves it behind (the crash test killed a rollback there: the next rollback was refused every host whose
 * lease it had to take over, for the 30 s the mutex was then trusted). Its owner is written inside it, so a dead
 * owner's mutex is broken at once; a live owner's is waited for, briefly.
 */
function withTakeoverLock<T>(stateDir: string, me: LeaseHolder, alive: (pid: number) => boolean, work: () => T): T | null {
  const lock = path.join(leaseDir(stateDir), '.takeover');
  const deadline = Date.now() + TAKEOVER_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock, { mode: 0o700 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (takeoverLockStale(lock, me, alive)) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() >= deadline) return null;
    sleepSync(5);
  }
  try {
    writeFileSync(path.join(lock, 'owner'), JSON.stringify(me), { mode: 0o600 });
    return work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function holderOf(o: LeaseOptions): LeaseHolder {
  return { pid: process.pid, controller: o.controller ?? os.hostname(), started: (o.now?.() ?? new Date()).toISOString(), ...(o.runId ? { runId: o.runId } : {}) };
}

const tempName = (stateDir: string) => path.join(leaseDir(stateDir), `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);

/** Tries once to take the lease of one host. */
export function tryLease(stateDir: string, host: string, key: string, o: LeaseOptions = {}): LeaseAttempt {
  privateDir(leaseDir(stateDir));
  const me = holderOf(o);
  const tmp = tempName(stateDir);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify({ ...me, host }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return linkLease(stateDir, host, key, tmp, me, o);
}

/**
 * Writes and fsyncs a lease's temp file off the event loop. Many hosts' leases are written at once (the
 * fsyncs run in parallel on libuv's threads) instead of one blocking fsync per host before the first host
 * starts; each lease's content is still durable before its name appears (linkLease).
 */
async function writeTempLease(stateDir: string, host: string, me: LeaseHolder): Promise<string> {
  const tmp = tempName(stateDir);
  const file = await open(tmp, 'wx', 0o600);
  try {
    await file.writeFile(JSON.stringify({ ...me, host }));
    await file.sync();
  } catch (err) {
    await file.close();
    unlinkSync(tmp);
    throw err;
  }
  await file.close();
  return tmp;
}

/** Gives a written, fsync'd temp lease its name: the lease is taken, or refused (who holds it). */
function linkLease(stateDir: string, host: string, key: string, tmp: string, me: LeaseHolder, o: LeaseOptions): LeaseAttempt {
  const file = leaseFile(stateDir, key);
  const alive = o.alive ?? processAlive;
  try {
    const link = () => {
      try {
        linkSync(tmp, file);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        return false;
      }
    };
    if (link()) return { ok: true, lease: { host, file, tookOverFrom: null } };
    const holder = readHolder(file);
    const dead = holder && holder.controller === me.controller && holder.pid !== process.pid && !alive(holder.pid);
    if (!dead) return { ok: false, host, holder, file };
    const took = withTakeoverLock(stateDir, me, alive, () => {
      // Still the same dead holder? Then it is ours to replace.
      const again = readHolder(file);
      if (!again || again.pid !== holder.pid || again.started !== holder.started) return false;
      unlinkSync(file);
      return link();
    });
    if (took) return { ok: true, lease: { host, file, tookOverFrom: holder } };
    return { ok: false, host, holder: readHolder(file), file };
  } finally {
    unlinkSync(tmp);
  }
}

/** Takes the leases of many hosts once: temp files written and fsync'd concurrently, then linked in order. */
async function tryLeases(stateDir: string, wanted: LeaseRequest[], o: LeaseOptions): Promise<LeaseAttempt[]> {
  privateDir(leaseDir(stateDir));
  const me = holderOf(o);
  const attempts: LeaseAttempt[] = [];
  // In chunks, so that a 5 000-host run does not hold 5 000 open files.
  const chunk = 64;
  for (let i = 0; i < wanted.length; i += chunk) {
    const part = wanted.slice(i, i + chunk);
    const written = await Promise.allSettled(part.map((w) => writeTempLease(stateDir, w.host, me)));
    const failed = written.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // A lease could not be written (disk full, permissions): give back all taken so far, then fail.
      for (const r of written) if (r.status === 'fulfilled') unlinkSync(r.value);
      for (const a of attempts) if (a.ok) releaseLease(a.lease);
      throw failed.reason;
    }
    part.forEach((w, k) => attempts.push(linkLease(stateDir, w.host, w.key, (written[k] as PromiseFulfilledResult<string>).value, me, o)));
  }
  return attempts;
}

/** Gives a lease back, if it is still this process's. */
export function releaseLease(lease: HeldLease): void {
  const holder = readHolder(lease.file);
  if (holder && holder.pid !== process.pid) return;
  try {
    unlinkSync(lease.file);
  } catch {
    // already gone
  }
}

export interface LeaseRequest {
  host: string;
  key: string;
}

/**
 * Takes the leases of many hosts: all it can now, then, for `waitSeconds`, keeps trying the refused ones.
 * Returns the leases held and the hosts refused (with who holds them).
 */
export async function takeLeases(stateDir: string, wanted: LeaseRequest[], o: LeaseOptions & { waitSeconds?: number; pollMs?: number } = {}): Promise<{ held: HeldLease[]; refused: { host: string; holder: LeaseHolder | null; file: string }[] }> {
  const held: HeldLease[] = [];
  let pending = wanted;
  const deadline = Date.now() + (o.waitSeconds ?? 0) * 1000;
  for (;;) {
    const refused: { host: string; holder: LeaseHolder | null; file: string; key: string }[] = [];
    const attempts = await tryLeases(stateDir, pending, o);
    attempts.forEach((a, k) => {
      if (a.ok) held.push(a.lease);
      else refused.push({ host: a.host, holder: a.holder, file: a.file, key: pending[k]!.key });
    });
    if (!refused.length || Date.now() >= deadline) return { held, refused: refused.map(({ key: _k, ...r }) => r) };
    pending = refused.map((r) => ({ host: r.host, key: r.key }));
    await new Promise((r) => setTimeout(r, Math.min(o.pollMs ?? 250, Math.max(1, deadline - Date.now()))));
  }
}

/** "pid 123 on ctl-1 (run …, since …)": who holds a lease, for messages. */
export function describeHolder(h: LeaseHolder | null): string {
  if (!h) return 'an unreadable lease';
  return `process ${h.pid} on ${h.controller}${h.runId ? ` (run ${h.runId})` : ''} since ${h.started}`;
}
