import { describe, it, expect } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { JournalWriter, listRunIds, lockRun, newRunId, readRun, runDir } from '../../src/journal/journal.js';

const fresh = () => mkdtempSync(path.join(tmpdir(), 'rdpfix-journal-'));
const file = (dir: string, id: string) => path.join(runDir(dir, id), 'journal.jsonl');

describe('journal', () => {
  it('appends numbered, checksummed records that read back in order', () => {
    const dir = fresh();
    const id = newRunId();
    const w = JournalWriter.create(dir, id);
    w.append({ type: 'run-started', header: { x: 1 } });
    w.append({ type: 'step-checkpoint', state: { quote: "it's \"x\"\n\t" } });
    w.close();
    const { records, tornTail } = readRun(dir, id);
    expect(tornTail).toBe(false);
    expect(records.map((r) => [r.seq, r.type])).toEqual([[1, 'run-started'], [2, 'step-checkpoint']]);
    expect(records[1]!.state).toEqual({ quote: "it's \"x\"\n\t" });
    expect(listRunIds(dir)).toEqual([id]);
  });

  it('tolerates a torn last record and reopens after it', () => {
    const dir = fresh();
    const id = newRunId();
    const w = JournalWriter.create(dir, id);
    w.append({ type: 'run-started' });
    w.append({ type: 'host-started', host: 'a' });
    w.close();
    appendFileSync(file(dir, id), '{"seq":3,"time":"2026-11-25T00:00:00Z","type":"step-chec'); // the crash
    const torn = readRun(dir, id);
    expect(torn.tornTail).toBe(true);
    expect(torn.records).toHaveLength(2);
    const again = JournalWriter.reopen(dir, id);
    again.append({ type: 'resume-started' });
    again.close();
    const after = readRun(dir, id);
    expect(after.tornTail).toBe(false);
    expect(after.records.map((r) => [r.seq, r.type])).toEqual([[1, 'run-started'], [2, 'host-started'], [3, 'resume-started']]);
  });

  it('reports damage in the middle with the line number, never guessing around it', () => {
    const dir = fresh();
    const id = newRunId();
    const w = JournalWriter.create(dir, id);
    w.append({ type: 'run-started' });
    w.append({ type: 'step-checkpoint', state: 1 });
    w.append({ type: 'step-applied' });
    w.close();
    const lines = readFileSync(file(dir, id), 'utf8').split('\n');
    lines[1] = lines[1]!.replace('"state":1', '"state":2');
    writeFileSync(file(dir, id), lines.join('\n'));
    expect(() => readRun(dir, id)).toThrow(/damaged at line 2: its checksum does not match/);
  });

  it('reports a missing record', () => {
    const dir = fresh();
    const id = newRunId();
    const w = JournalWriter.create(dir, id);
    w.append({ type: 'a' });
    w.append({ type: 'b' });
    w.append({ type: 'c' });
    w.close();
    const lines = readFileSync(file(dir, id), 'utf8').split('\n');
    writeFileSync(file(dir, id), [lines[0], lines[2], ''].join('\n'));
    expect(() => readRun(dir, id)).toThrow(/damaged at line 2: record 3 where 2 was expected/);
  });

  it('rejects run ids that are not run ids (no path tricks)', () => {
    expect(() => runDir('/x', '../../etc')).toThrow(/is not a run id/);
    expect(() => readRun(fresh(), '20261125-000000-abcdef')).toThrow(/Cannot read journal .*ENOENT/);
  });

  it('locks a run for one process; a dead owner\'s lock is taken over', () => {
    const dir = fresh();
    const id = newRunId();
    JournalWriter.create(dir, id).close();
    const unlock = lockRun(dir, id);
    writeFileSync(path.join(runDir(dir, id), 'lock'), '1'); // pid 1 is alive: someone else holds it
    expect(() => lockRun(dir, id)).toThrow(/in use by process 1/);
    writeFileSync(path.join(runDir(dir, id), 'lock'), '999999999'); // no such process
    const again = lockRun(dir, id);
    again();
    unlock();
  });
});
