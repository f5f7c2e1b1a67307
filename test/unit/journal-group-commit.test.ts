import { describe, it, expect } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { JournalWriter, readJournalFile, readRun } from '../../src/journal/journal.js';
import { nodeFs, type DurableFs } from '../../src/journal/group-commit.js';
import type { RecordBody } from '../../src/journal/records.js';
import { header, RUN_ID } from '../helpers/journal.js';

/**
 * The journal's group commit against real files in a temp dir. The writer's three file calls go through a seam that
 * forwards to the real ones and can count them, hold a sync back until the test releases it, or fail one.
 */
const fresh = () => mkdtempSync(path.join(tmpdir(), 'rdpfix-group-'));

/** A seam over the real calls: logs each batch written and each sync, and holds every sync until released. */
function instrumentedFs(o: { hold?: boolean; failSync?: NodeJS.ErrnoException } = {}) {
  const batches: string[][] = [];
  const events: string[] = [];
  const held: (() => void)[] = [];
  let syncs = 0;
  let closes = 0;
  const fs: DurableFs = {
    write: (fd, bytes, offset, length) => {
      batches.push(bytes.subarray(offset, offset + length).toString('utf8').split('\n').filter(Boolean));
      events.push('write');
      return nodeFs.write(fd, bytes, offset, length);
    },
    datasync: async (fd) => {
      events.push('sync-start');
      if (o.hold) await new Promise<void>((r) => held.push(r));
      if (o.failSync) throw o.failSync;
      await nodeFs.datasync(fd);
      syncs++;
      events.push('sync-done');
    },
    close: (fd) => {
      closes++;
      return nodeFs.close(fd);
    },
  };
  return {
    fs, batches, events, held,
    get syncs() {
      return syncs;
    },
    get closes() {
      return closes;
    },
    /** Waits until a sync is waiting to be released, then releases it. */
    async release() {
      await until(() => held.length > 0);
      held.shift()!();
    },
  };
}

/**
 * Waits for a condition that real file I/O makes true. Bounded by time, not by turns of the event loop: on a loaded
 * machine a write on libuv's thread pool can take longer than any fixed number of turns (CI saw 2 000 pass).
 */
async function until(cond: () => boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await tick();
  if (!cond()) throw new Error(`timed out waiting (${ms} ms)`);
}

const step = (n: number): RecordBody => ({ type: 'step-checked', host: `h${n % 7}`, playbook: 'p', step: `s${n}`, result: { warnings: [] } });
const stepOf = (line: string) => (JSON.parse(line.slice(0, line.lastIndexOf('\t'))) as { step: string }).step;

/** Tracks whether a promise has settled, without awaiting it. */
function watch<T>(p: Promise<T>) {
  const w = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  p.then((v) => ((w.settled = true), (w.value = v)), (e) => ((w.settled = true), (w.error = e)));
  return w;
}

function newJournal(fs: DurableFs) {
  const dir = fresh();
  return { dir, id: RUN_ID, writer: JournalWriter.create(dir, header(['a']), { fs }).writer };
}

describe('journal group commit', () => {
  it('appends made while a batch is in flight form the next batch: call order in the file, one write and one fdatasync per batch', async () => {
    const io = instrumentedFs({ hold: true });
    const { dir, id, writer } = newJournal(io.fs);
    const done: Promise<unknown>[] = [];
    for (let n = 0; n < 30; n++) done.push(writer.append(step(n)));
    await until(() => io.held.length === 1); // batch 1 (30 records) is being synced
    // 70 more, from many turns of the event loop, as hosts would: all wait for batch 1, so they form batch 2.
    for (let n = 30; n < 100; n++) {
      done.push(writer.append(step(n)));
      if (n % 10 === 0) await tick();
    }
    await io.release();
    await io.release();
    const records = await Promise.all(done);
    expect(io.batches.map((b) => b.length)).toEqual([30, 70]);
    expect(io.syncs).toBe(2);
    expect(io.events).toEqual(['write', 'sync-start', 'sync-done', 'write', 'sync-start', 'sync-done']);
    expect(io.batches.flat().map(stepOf)).toEqual(Array.from({ length: 100 }, (_, n) => `s${n}`));
    expect(records.map((r) => (r as { seq: number }).seq)).toEqual(Array.from({ length: 100 }, (_, n) => n + 2));
    await writer.close();
    const { records: onDisk, tornTail } = readRun(dir, id);
    expect(tornTail).toBe(false);
    expect(onDisk.slice(1).map((r) => (r as { step: string }).step)).toEqual(Array.from({ length: 100 }, (_, n) => `s${n}`));
  });

  it('hosts that each await their own appends share syncs: far fewer syncs than records, every host\'s records in its order', async () => {
    const io = instrumentedFs();
    const { dir, id, writer } = newJournal(io.fs);
    const hosts = 40;
    const each = 10;
    await Promise.all(Array.from({ length: hosts }, async (_, h) => {
      for (let k = 0; k < each; k++) await writer.append({ type: 'step-checked', host: `h${h}`, playbook: 'p', step: `s${k}`, result: { warnings: [] } });
    }));
    await writer.close();
    expect(io.syncs).toBe(io.batches.length);
    expect(io.syncs).toBeLessThanOrEqual(each * 2); // one per record would be 400
    const records = readRun(dir, id).records.slice(1) as { host: string; step: string; seq: number }[];
    expect(records).toHaveLength(hosts * each);
    for (let h = 0; h < hosts; h++) expect(records.filter((r) => r.host === `h${h}`).map((r) => r.step)).toEqual(Array.from({ length: each }, (_, k) => `s${k}`));
  });

  it('an append is not released before its batch\'s fdatasync has completed', async () => {
    const io = instrumentedFs({ hold: true });
    const { dir, id, writer } = newJournal(io.fs);
    const checkpoint = watch(writer.append({ type: 'step-checkpoint', host: 'a', playbook: 'p', step: 's', state: { prior: 1 } }));
    await until(() => io.held.length === 1);
    for (let i = 0; i < 20; i++) await tick();
    // Written (the bytes are in the file) but not yet synced: the caller must still be waiting.
    expect(readFileSync(path.join(dir, 'runs', id, 'journal.jsonl'), 'utf8')).toContain('"step-checkpoint"');
    expect(checkpoint.settled).toBe(false);
    // An append arriving now waits for the next batch, not for this one.
    const applied = watch(writer.append({ type: 'step-applied', host: 'a', playbook: 'p', step: 's', result: { warnings: [] } }));
    await io.release();
    await until(() => checkpoint.settled);
    expect(io.events.slice(0, 3)).toEqual(['write', 'sync-start', 'sync-done']);
    expect(checkpoint.value).toMatchObject({ seq: 2, type: 'step-checkpoint' });
    await until(() => io.held.length === 1);
    for (let i = 0; i < 20; i++) await tick();
    expect(applied.settled).toBe(false);
    await io.release();
    await until(() => applied.settled);
    expect(applied.value).toMatchObject({ seq: 3, type: 'step-applied' });
    await writer.close();
  });

  it('a failed fdatasync rejects every waiter of its batch and of the batches after it, and poisons the writer', async () => {
    const eio = Object.assign(new Error('i/o error'), { code: 'EIO' });
    const io = instrumentedFs({ hold: true, failSync: eio });
    const { writer } = newJournal(io.fs);
    const first = [watch(writer.append(step(1))), watch(writer.append(step(2)))];
    await until(() => io.held.length === 1);
    const queued = watch(writer.append(step(3))); // waiting for the failing batch to end
    io.held.shift()!();
    await until(() => first.every((w) => w.settled) && queued.settled);
    for (const w of [...first, queued]) {
      expect(w.error).toMatchObject({ kind: 'internal', message: expect.stringMatching(/Cannot write the journal .*journal\.jsonl durably \(EIO\); the run stops/) });
    }
    expect(first[0]!.error).toBe(queued.error);
    await expect(writer.append(step(4))).rejects.toThrow(/durably \(EIO\)/);
    expect(io.batches).toHaveLength(1); // nothing is written after the failure
    await expect(writer.close()).rejects.toThrow(/durably \(EIO\)/);
    expect(io.closes).toBe(1); // the file is closed all the same
  });

  it('a failed write poisons the writer too', async () => {
    const io = instrumentedFs();
    const failing: DurableFs = { ...io.fs, write: async () => { throw Object.assign(new Error('no space'), { code: 'ENOSPC' }); } };
    const { writer } = newJournal(failing);
    await expect(writer.append(step(1))).rejects.toThrow(/durably \(ENOSPC\)/);
    await expect(writer.append(step(2))).rejects.toThrow(/durably \(ENOSPC\)/);
    expect(io.syncs).toBe(0);
    await expect(writer.close()).rejects.toThrow(/ENOSPC/);
  });

  it('close waits until every append made before it is durable, then closes; appends after it are refused', async () => {
    const io = instrumentedFs({ hold: true });
    const { dir, id, writer } = newJournal(io.fs);
    for (let n = 0; n < 5; n++) void writer.append(step(n)); // not awaited: close must still flush them
    const closed = watch(writer.close());
    await until(() => io.held.length === 1);
    for (let i = 0; i < 20; i++) await tick();
    expect(closed.settled).toBe(false);
    expect(io.closes).toBe(0);
    await expect(writer.append(step(9))).rejects.toThrow(/is closed/);
    await io.release();
    await until(() => closed.settled);
    expect(closed.error).toBeUndefined();
    expect(io.syncs).toBe(1);
    expect(io.closes).toBe(1);
    expect(readRun(dir, id).records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(writer.close()).toBe(writer.close()); // closing twice is one close
  });

  it('killed at any byte of a batch, the journal reads as the records before it plus a torn tail, never as damage', async () => {
    const { dir, id, writer } = newJournal(nodeFs);
    await writer.append(step(0));
    const file = path.join(dir, 'runs', id, 'journal.jsonl');
    const before = statSync(file).size;
    // One batch, with a multi-byte character so that some cuts fall inside one.
    await Promise.all([1, 2, 3].map((n) => writer.append({ ...step(n), result: { warnings: [`é ${'x'.repeat(n * 10)}`] } } as RecordBody)));
    await writer.close();
    const whole = statSync(file).size;
    const copy = path.join(dir, 'cut.jsonl');
    for (let cut = before; cut <= whole; cut++) {
      copyFileSync(file, copy);
      truncateSync(copy, cut);
      const { records, tornTail, validBytes } = readJournalFile(copy);
      const complete = readFileSync(copy).subarray(before).toString('latin1').split('\n').length - 1;
      expect(records).toHaveLength(2 + complete);
      expect(tornTail).toBe(validBytes < cut);
    }
  });
});
