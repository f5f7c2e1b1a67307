import { describe, it, expect } from 'vitest';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { JournalWriter, journalRecords, listRunIds, lockRun, newRunId, readRun, removeUnbornRuns, runDir, JOURNAL_FORMAT } from '../../src/journal/journal.js';
import type { RunHeader } from '../../src/journal/records.js';
import { runSummary } from '../../src/cli/commands/runs.action.js';
import { foldRun } from '../../src/engine/run-state.js';

const fresh = () => mkdtempSync(path.join(tmpdir(), 'rdpfix-journal-'));
const file = (dir: string, id: string) => path.join(runDir(dir, id), 'journal.jsonl');
export const header = (runId: string, hosts = ['a']): Omit<RunHeader, 'format'> => ({
  runId, version: 'test', mode: 'apply', inventory: '/inv.yaml', hosts: hosts.map((name) => ({ name, tags: [], transport: { kind: 'lab', state: `/lab/${name}.json` } })),
  playbooks: [{ id: 'p', version: 1, digest: 'd' }], parameters: {}, allowIrreversible: false, concurrency: 1,
});
const line = (record: object) => {
  const json = JSON.stringify(record);
  return `${json}\t${crc32(json).toString(16).padStart(8, '0')}\n`;
};
/** A run with a header and three step records. */
async function threeRecords() {
  const dir = fresh();
  const id = newRunId();
  const { writer: w } = JournalWriter.create(dir, header(id));
  await w.append({ type: 'host-started', host: 'a', playbooks: ['p'], mode: 'apply' });
  await w.append({ type: 'step-checkpoint', host: 'a', playbook: 'p', step: 's', state: 1 });
  await w.append({ type: 'step-applied', host: 'a', playbook: 'p', step: 's', result: { changed: true, warnings: [] } });
  await w.close();
  return { dir, id };
}

/** The pid of a process that has ended. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('journal', () => {
  it('appends numbered, checksummed records that read back in order, the header carrying the format', async () => {
    const dir = fresh();
    const id = newRunId();
    const { writer: w } = JournalWriter.create(dir, header(id));
    await w.append({ type: 'step-checkpoint', host: 'a', playbook: 'p', step: 's', state: { quote: "it's \"x\"\n\t" } });
    await w.close();
    const { records, tornTail } = readRun(dir, id);
    expect(tornTail).toBe(false);
    expect(records.map((r) => [r.seq, r.type])).toEqual([[1, 'run-started'], [2, 'step-checkpoint']]);
    expect(records[0]!.type === 'run-started' && records[0]!.header.format).toBe(JOURNAL_FORMAT);
    expect(records[1]!.type === 'step-checkpoint' && records[1]!.state).toEqual({ quote: "it's \"x\"\n\t" });
    expect(listRunIds(dir)).toEqual([id]);
  });

  it('creates the state dir 0700 and the journal 0600 (it holds host names and checkpoints)', async () => {
    if (process.platform === 'win32') return;
    const dir = path.join(fresh(), 'state');
    const id = newRunId();
    await JournalWriter.create(dir, header(id)).writer.close();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, 'runs')).mode & 0o777).toBe(0o700);
    expect(statSync(runDir(dir, id)).mode & 0o777).toBe(0o700);
    expect(statSync(file(dir, id)).mode & 0o777).toBe(0o600);
    const unlock = lockRun(dir, id);
    expect(statSync(path.join(runDir(dir, id), 'lock')).mode & 0o777).toBe(0o600);
    unlock();
  });

  it('a run folder appears only with its header inside (never a header-less journal after a crash)', async () => {
    const dir = fresh();
    const id = newRunId();
    await JournalWriter.create(dir, header(id)).writer.close();
    expect(readdirSync(path.join(dir, 'runs'))).toEqual([id]);
    expect(readRun(dir, id).records).toHaveLength(1);
  });

  it('an unborn run (died before its header was renamed into place) is no run, and old ones are cleaned up', async () => {
    const dir = fresh();
    const id = newRunId();
    await JournalWriter.create(dir, header(id)).writer.close();
    const runs = path.join(dir, 'runs');
    // Named by its creator: this live process keeps it, a dead one's goes, whatever either clock says.
    const alive = `.new-20261125-221500-a1b2c3.${process.pid}@${hostname()}`;
    const dead = `.new-20261125-221501-a1b2c3.${deadPid()}@${hostname()}`;
    // Another controller's (or an older rdpfix's, without a creator): judged by age, on the file's own clock.
    const other = '.new-20261125-221502-a1b2c3.123@some-other-controller';
    const legacy = '.new-20261125-221503-a1b2c3';
    for (const d of [alive, dead, other, legacy]) mkdirSync(path.join(runs, d));
    expect(listRunIds(dir)).toEqual([id]);
    const made = statSync(path.join(runs, legacy)).mtimeMs;
    removeUnbornRuns(dir, 10 * 60_000, made + 60_000);
    expect(readdirSync(runs).sort()).toEqual([alive, other, legacy, id].sort());
    removeUnbornRuns(dir, 10 * 60_000, made + 11 * 60_000);
    expect(readdirSync(runs).sort()).toEqual([alive, id].sort());
  });

  it('tolerates a torn last record (no newline) and reopens after it', async () => {
    const { dir, id } = await threeRecords();
    appendFileSync(file(dir, id), '{"seq":5,"time":"2026-11-25T00:00:00Z","type":"step-chec'); // the crash
    const torn = readRun(dir, id);
    expect(torn.tornTail).toBe(true);
    expect(torn.records).toHaveLength(4);
    const again = JournalWriter.reopen(dir, id);
    await again.append({ type: 'resume-started', hosts: ['a'] });
    await again.close();
    const after = readRun(dir, id);
    expect(after.tornTail).toBe(false);
    expect(after.records.map((r) => r.type)).toEqual(['run-started', 'host-started', 'step-checkpoint', 'step-applied', 'resume-started']);
  });

  it('reads the same records, torn tail and valid bytes in chunks of any size (a fleet\'s journal is read chunk by chunk)', async () => {
    const { dir, id } = await threeRecords();
    const whole = readRun(dir, id);
    const f = file(dir, id);
    const drain = (chunk: number) => {
      const got = [];
      const it = journalRecords(f, chunk);
      for (let next = it.next(); ; next = it.next()) {
        if (next.done) return { records: got, ...next.value };
        got.push(next.value);
      }
    };
    const size = statSync(f).size;
    for (const chunk of [1, 2, 3, 7, 64, 200, size - 1, size, size + 1]) expect(drain(chunk)).toEqual(whole);
    // A torn tail (cut mid-record, and a last line that ends in a newline but is not JSON), at every chunk size.
    appendFileSync(f, '{"seq":5,"time":"2026-');
    const torn = readRun(dir, id);
    expect(torn.tornTail).toBe(true);
    for (const chunk of [1, 5, 64, size]) expect(drain(chunk)).toEqual(torn);
    appendFileSync(f, '\n');
    for (const chunk of [1, 5, 64, size]) expect(drain(chunk)).toEqual({ ...torn, tornTail: true });
    // Damage in the middle is damage whatever the chunk size.
    writeFileSync(f, readFileSync(f, 'utf8').replace('"step":"s"', '"step":"t"'));
    for (const chunk of [1, 64, size]) expect(() => drain(chunk)).toThrow(/damaged at line 3: its checksum/);
  });

  it('a last line that ends in a newline but is not JSON is a torn tail too', async () => {
    const { dir, id } = await threeRecords();
    appendFileSync(file(dir, id), '{"seq":5,"ti\0\0\0\n');
    expect(readRun(dir, id)).toMatchObject({ tornTail: true });
  });

  it('reports damage in the middle with the line number, never guessing around it', async () => {
    const { dir, id } = await threeRecords();
    const lines = readFileSync(file(dir, id), 'utf8').split('\n');
    lines[2] = lines[2]!.replace('"state":1', '"state":2');
    writeFileSync(file(dir, id), lines.join('\n'));
    expect(() => readRun(dir, id)).toThrow(/damaged at line 3: its checksum does not match/);
  });

  it('a complete last line whose checksum fails is damage, not a torn tail: reopen refuses and cuts nothing', async () => {
    const { dir, id } = await threeRecords();
    const before = readFileSync(file(dir, id), 'utf8');
    const lines = before.split('\n');
    lines[3] = lines[3]!.replace('"changed":true', '"changed":false');
    writeFileSync(file(dir, id), lines.join('\n'));
    const altered = readFileSync(file(dir, id), 'utf8');
    expect(() => readRun(dir, id)).toThrow(/damaged at line 4: its checksum does not match/);
    expect(() => JournalWriter.reopen(dir, id)).toThrow(/damaged at line 4/);
    expect(readFileSync(file(dir, id), 'utf8')).toBe(altered);
  });

  it('a 0-byte journal is damage (exit 2), not a run with nothing in it', () => {
    const dir = fresh();
    const id = newRunId();
    mkdirSync(runDir(dir, id), { recursive: true });
    writeFileSync(file(dir, id), '');
    expect(() => readRun(dir, id)).toThrow(expect.objectContaining({ kind: 'input', message: expect.stringMatching(/is damaged: it is empty \(0 bytes\)/) }));
    expect(() => JournalWriter.reopen(dir, id)).toThrow(/empty/);
  });

  it('a journal without a run header is damage', () => {
    const dir = fresh();
    const id = newRunId();
    mkdirSync(runDir(dir, id), { recursive: true });
    writeFileSync(file(dir, id), line({ seq: 1, time: 't', type: 'host-started', host: 'a', playbooks: [], mode: 'apply' }));
    expect(() => readRun(dir, id)).toThrow(/damaged at line 1: it starts with 'host-started', not the run header/);
    writeFileSync(file(dir, id), '{"seq":1,"type":"run-sta');
    expect(() => readRun(dir, id)).toThrow(/damaged at line 1: it has no complete run header/);
  });

  it('a record with a valid checksum but content that does not fit the schema is damage (exit 2), not an internal error', async () => {
    const { dir, id } = await threeRecords();
    appendFileSync(file(dir, id), line({ seq: 5, time: 't', type: 'step-undone', host: 'a', playbook: 'p' }));
    expect(() => readRun(dir, id)).toThrow(expect.objectContaining({ kind: 'input', message: expect.stringMatching(/damaged at line 5: the record does not fit the journal's schema \(step: Required\)/) }));
    const other = await threeRecords();
    appendFileSync(file(other.dir, other.id), line({ seq: 5, time: 't', type: 'no-such-kind' }));
    expect(() => readRun(other.dir, other.id)).toThrow(/damaged at line 5: the record does not fit the journal's schema \(type: Invalid discriminator value/);
    const third = await threeRecords();
    appendFileSync(file(third.dir, third.id), line([1, 2, 3]));
    expect(() => readRun(third.dir, third.id)).toThrow(/damaged at line 5/);
  });

  it('checks the format version in the header', () => {
    const dir = fresh();
    const id = newRunId();
    mkdirSync(runDir(dir, id), { recursive: true });
    writeFileSync(file(dir, id), line({ seq: 1, time: 't', type: 'run-started', header: { ...header(id), format: 99 } }));
    expect(() => readRun(dir, id)).toThrow(/is in journal format 99; this rdpfix reads format 2 and 3/);
    writeFileSync(file(dir, id), line({ seq: 1, time: 't', type: 'run-started', header: header(id) }));
    expect(() => readRun(dir, id)).toThrow(/journal format 1 \(unversioned\)/);
  });

  it('writes format 5; a format-2 journal (plan entries with `guard`, the revert task\'s old name) still reads and folds', async () => {
    const dir = fresh();
    const id = newRunId();
    await JournalWriter.create(dir, header(id)).writer.close();
    expect(readRun(dir, id).records[0]).toMatchObject({ header: { format: 5 } });
    expect(JOURNAL_FORMAT).toBe(5);

    // As rdpfix wrote it before the rename: a plan run, then an apply run that armed and disarmed a revert task.
    const entry = (step: string, guard?: string) => ({ step, title: step, action: 'apply', before: 0, after: 1, irreversible: false, predictable: true, ...(guard ? { guard } : {}), warnings: [] });
    const where = { host: 'a', playbook: 'p', step: 's1', task: 'rdpfix-t' };
    const old = (planId: string, mode: 'plan' | 'apply', body: object[]) => {
      mkdirSync(runDir(dir, planId), { recursive: true });
      const records = [{ type: 'run-started', header: { ...header(planId), mode, format: 2 } }, ...body].map((r, i) => line({ seq: i + 1, time: `2026-01-01T00:00:0${i}Z`, ...r }));
      writeFileSync(file(dir, planId), records.join(''));
    };
    const planId = '20260101-000000-aaaaaa';
    old(planId, 'plan', [
      { type: 'host-started', host: 'a', playbooks: ['p'], mode: 'plan' },
      { type: 'playbook-started', host: 'a', playbook: 'p', mode: 'plan' },
      { type: 'playbook-finished', host: 'a', playbook: 'p', outcome: 'planned', failure: null, plan: [entry('s1', 'confirm'), entry('s2', 'expires'), entry('s3')] },
      { type: 'host-finished', host: 'a', outcome: 'planned', failed: null, outcomes: { p: 'planned' } },
      { type: 'run-finished', outcomes: { a: 'planned' } },
    ]);
    const planned = readRun(dir, planId).records;
    const finished = planned.find((r) => r.type === 'playbook-finished')!;
    expect(finished.type === 'playbook-finished' && finished.plan!.map((e) => [e.step, e.revertTask, 'guard' in e])).toEqual([['s1', 'confirm', false], ['s2', 'expires', false], ['s3', undefined, false]]);
    expect(foldRun(planned)).toMatchObject({ finished: true, hosts: { a: { outcome: 'planned', state: 'planned' } } });

    const applyId = '20260101-000001-bbbbbb';
    old(applyId, 'apply', [
      { type: 'host-started', host: 'a', playbooks: ['p'], mode: 'apply' },
      { type: 'playbook-started', host: 'a', playbook: 'p', mode: 'apply' },
      { type: 'step-checked', host: 'a', playbook: 'p', step: 's1', result: { compliant: false, warnings: [] } },
      { type: 'step-checkpoint', host: 'a', playbook: 'p', step: 's1', state: 0 },
      { type: 'revert-task-arming', ...where, ttlMinutes: 10, expires: false },
      { type: 'revert-task-armed', ...where, dueUtc: '2026-01-01T00:10:00Z', nextRunUtc: null, rdpBefore: { port: 3389, open: true }, remotingBefore: { port: 5985, open: true } },
    ]);
    const applied = foldRun(readRun(dir, applyId).records);
    expect(applied.hosts.a!.progress.p!.revertTasks.s1).toMatchObject({ rdpOpenBefore: true, remotingOpenBefore: true });
    expect(applied.finished).toBe(false);
  });

  it('reports a missing record', async () => {
    const { dir, id } = await threeRecords();
    const lines = readFileSync(file(dir, id), 'utf8').split('\n');
    writeFileSync(file(dir, id), [lines[0], lines[2], ''].join('\n'));
    expect(() => readRun(dir, id)).toThrow(/damaged at line 2: record 3 where 2 was expected/);
  });

  it('runs list lists a damaged run as damaged and still lists the others', async () => {
    const { dir, id } = await threeRecords();
    const bad = newRunId(new Date(Date.now() + 1000));
    mkdirSync(runDir(dir, bad), { recursive: true });
    writeFileSync(file(dir, bad), '');
    const rows = listRunIds(dir).map((r) => runSummary(dir, r));
    expect(rows.find((r) => r.runId === id)).toMatchObject({ status: 'interrupted' });
    expect(rows.find((r) => r.runId === bad)).toMatchObject({ status: 'damaged', damage: expect.stringMatching(/empty/) });
  });

  it('rejects run ids that are not run ids (no path tricks)', () => {
    expect(() => runDir('/x', '../../etc')).toThrow(/is not a run id/);
    expect(() => readRun(fresh(), '20261125-000000-abcdef')).toThrow(/Cannot read journal .*ENOENT/);
  });

  it('locks a run for one process; a dead owner\'s lock is taken over', async () => {
    const dir = fresh();
    const id = newRunId();
    await JournalWriter.create(dir, header(id)).writer.close();
    const unlock = lockRun(dir, id);
    writeFileSync(path.join(runDir(dir, id), 'lock'), '1'); // pid 1 is alive: someone else holds it
    expect(() => lockRun(dir, id)).toThrow(/in use by process 1/);
    writeFileSync(path.join(runDir(dir, id), 'lock'), '999999999'); // no such process
    const again = lockRun(dir, id);
    again();
    unlock();
    expect(existsSync(path.join(runDir(dir, id), 'lock'))).toBe(false);
  });
});
