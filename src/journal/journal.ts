import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { RdpfixError } from '../errors.js';
import { GroupCommit, nodeFs, type DurableFs } from './group-commit.js';
import { checkRecord, JOURNAL_FORMAT, READABLE_JOURNAL_FORMATS, type JournalRecord, type RecordBody, type RunHeader } from './records.js';

/**
 * The run journal: one append-only file per run, `<stateDir>/runs/<runId>/journal.jsonl`. Each line is
 * `<json>\t<crc32 hex>`. Appends are group-committed (./group-commit.ts): append() resolves only once its record is
 * written and fdatasync'd, off the event loop, so a caller that awaits it before an apply has the checkpoint on
 * disk before the host is touched; a journal that cannot be made durable rejects that append and every later one. A run's folder appears only with its header inside
 * (written to a hidden folder, then renamed), so a journal without a header is never a crash: it is damage.
 * A torn last line (no newline, or not JSON: the process died mid-write) is ignored and cut off by the next
 * writer; a complete line whose checksum or content is wrong is damage, reported with its line number and
 * never cut. The state dir is created 0700 and journals 0600: they hold host names and checkpoints.
 */
export { JOURNAL_FORMAT };
export type { JournalRecord };

const RUN_ID = /^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$/;

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform === 'win32') return path.join(env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local'), 'rdpfix');
  return path.join(env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state'), 'rdpfix');
}

export function runDir(stateDir: string, runId: string): string {
  if (!RUN_ID.test(runId)) throw new RdpfixError('usage', `'${runId}' is not a run id.`, 'Run ids look like 20261125-221500-a1b2c3; `rdpfix runs list` shows them.');
  return path.join(stateDir, 'runs', runId);
}

export function newRunId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${t}-${randomBytes(3).toString('hex')}`;
}

/** Creates a folder (and its parents) readable by its owner only. */
export function privateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

function encode(record: JournalRecord): string {
  const json = JSON.stringify(record);
  return `${json}\t${crc32(json).toString(16).padStart(8, '0')}\n`;
}

/** The header of a new run, written once and synchronously: no host is being worked on yet. */
function writeDurably(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off, null);
  fsyncSync(fd);
}

export interface WriterOptions {
  /** The file calls appends go through (tests count syncs, hold one back or make one fail). */
  fs?: DurableFs;
  now?: () => Date;
}

function notDurable(file: string, cause: unknown): RdpfixError {
  const why = (cause as NodeJS.ErrnoException)?.code ?? (cause as Error)?.message ?? String(cause);
  return new RdpfixError('internal', `Cannot write the journal ${file} durably (${why}); the run stops, since no host is changed without its journal on disk.`,
    'Check the disk that holds the state dir (free space, I/O errors), then finish the run with `rdpfix resume RUN` or undo it with `rdpfix rollback RUN`.');
}

export class JournalWriter {
  private seq: number;
  private closing: Promise<void> | null = null;
  private readonly group: GroupCommit;
  private readonly fs: DurableFs;
  private readonly now: () => Date;

  private constructor(
    readonly file: string,
    private readonly fd: number,
    lastSeq: number,
    o: WriterOptions,
  ) {
    this.seq = lastSeq;
    this.fs = o.fs ?? nodeFs;
    this.now = o.now ?? (() => new Date());
    this.group = new GroupCommit(fd, this.fs, (cause) => notDurable(file, cause));
  }

  /** Starts the journal of a new run: its folder appears, atomically, with the header as its first record. */
  static create(stateDir: string, header: Omit<RunHeader, 'format'>, o: WriterOptions = {}): { writer: JournalWriter; first: JournalRecord } {
    const runs = privateDir(path.join(stateDir, 'runs'));
    const dir = runDir(stateDir, header.runId);
    // The unborn folder names its creator, so that only a dead creator's is cleaned up (removeUnbornRuns).
    const tmp = path.join(runs, `.new-${header.runId}.${process.pid}@${os.hostname()}`);
    mkdirSync(tmp, { mode: 0o700 });
    const first: JournalRecord = { seq: 1, time: (o.now?.() ?? new Date()).toISOString(), type: 'run-started', header: { format: JOURNAL_FORMAT, ...header } };
    const tfd = openSync(path.join(tmp, 'journal.jsonl'), 'wx', 0o600);
    try {
      writeDurably(tfd, encode(first));
    } finally {
      closeSync(tfd);
    }
    syncDir(tmp);
    renameSync(tmp, dir);
    syncDir(runs);
    const file = path.join(dir, 'journal.jsonl');
    return { writer: new JournalWriter(file, openSync(file, 'a', 0o600), 1, o), first };
  }

  /** Appends to the journal of an existing run (rollback, resume). A torn tail is cut off first; damage refuses. */
  static reopen(stateDir: string, runId: string, o: WriterOptions = {}): JournalWriter {
    const file = path.join(runDir(stateDir, runId), 'journal.jsonl');
    const { records, validBytes, tornTail } = readJournalFile(file);
    if (tornTail) {
      // Only a torn last line is cut, so that new records start on a line of their own.
      const tfd = openSync(file, 'r+');
      try {
        ftruncateSync(tfd, validBytes);
        fsyncSync(tfd);
      } finally {
        closeSync(tfd);
      }
    }
    return new JournalWriter(file, openSync(file, 'a', 0o600), records.at(-1)!.seq, o);
  }

  /**
   * Queues one record and resolves with it (its sequence number and time) once its batch is durable. Records are
   * numbered, and land in the file, in the order of the append calls. Await it before any remote change it gates.
   */
  append(fields: RecordBody): Promise<JournalRecord> {
    if (this.closing) return Promise.reject(new Error(`journal ${this.file} is closed`));
    const record = { seq: ++this.seq, time: this.now().toISOString(), ...fields } as JournalRecord;
    return this.group.commit(Buffer.from(encode(record), 'utf8')).then(() => record);
  }

  /** Waits until every append made so far is durable, then closes the file; rejects if the journal could not be made durable. */
  close(): Promise<void> {
    this.closing ??= this.group.drain().finally(() => this.fs.close(this.fd));
    return this.closing;
  }
}

function syncDir(dir: string): void {
  // A new file's directory entry must be durable too; Windows cannot fsync a directory.
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface JournalContents {
  records: JournalRecord[];
  /** The last line was cut short (the writer died mid-append); it is ignored. */
  tornTail: boolean;
  validBytes: number;
}

/** A journal that cannot be trusted: exit 2, with where and why; nothing is changed. */
export class JournalDamage extends RdpfixError {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly reason: string,
    fix = 'The file was edited or the disk is failing. Keep a copy of it; nothing was changed.',
  ) {
    super('input', `Journal ${file} is damaged${line ? ` at line ${line}` : ''}: ${reason}.`, fix);
  }
}

export function readJournalFile(file: string): JournalContents {
  const records: JournalRecord[] = [];
  const reader = journalRecords(file);
  for (let next = reader.next(); ; next = reader.next()) {
    if (next.done) return { records, ...next.value };
    records.push(next.value);
  }
}

/** How much of a journal a reader holds at once: a fleet's journal is tens of megabytes, its records far more as objects. */
const READ_CHUNK = 1 << 20;

/**
 * A journal's records one at a time, read in chunks, with every check readJournalFile makes (it is built on this):
 * a reader that folds as it goes holds one chunk and one record, never the whole file or every record. Returns, when
 * done, whether the last line is torn and how many bytes come before it. The file is read up to the size it had
 * when opened. `chunkBytes` is for tests (a record cut at every byte).
 */
export function* journalRecords(file: string, chunkBytes = READ_CHUNK): Generator<JournalRecord, { tornTail: boolean; validBytes: number }> {
  const entries = journalEntries(file, chunkBytes);
  for (let next = entries.next(); ; next = entries.next()) {
    if (next.done) return next.value;
    yield next.value.record;
  }
}

/** Where a record's line is in its journal: what `journalLinesAt` reads it back by. */
export interface JournalEntry {
  record: JournalRecord;
  pos: number;
  len: number;
}

/** journalRecords, with where each record's line is. */
export function* journalEntries(file: string, chunkBytes = READ_CHUNK): Generator<JournalEntry, { tornTail: boolean; validBytes: number }> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new RdpfixError('input', `Cannot read journal ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, '`rdpfix runs list` shows the runs this state directory holds.');
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) throw new JournalDamage(file, null, 'it is empty (0 bytes), so it has no run header');
    const chunk = Buffer.allocUnsafe(Math.max(1, Math.min(chunkBytes, size)));
    let pending = Buffer.alloc(0);
    let consumed = 0;
    let line = 0;
    let count = 0;
    let read = 0;
    while (read < size) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, size - read), read);
      if (n === 0) break;
      read += n;
      const data = pending.length ? Buffer.concat([pending, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let start = 0;
      for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a, start)) {
        line++;
        // A line that does not parse and ends the file is a torn tail: nothing after it is read.
        const record = parseJournalLine(file, line, data.subarray(start, nl).toString('utf8'), consumed + nl - start + 1 === size, count);
        if (record === null) return { tornTail: true, validBytes: consumed };
        count++;
        const at = consumed;
        const len = nl - start + 1;
        consumed += len;
        start = nl + 1;
        yield { record, pos: at, len };
      }
      // The chunk buffer is reused: keep a copy of the line it cut.
      pending = Buffer.from(data.subarray(start));
    }
    if (!count) throw new JournalDamage(file, 1, 'it has no complete run header');
    return { tornTail: pending.length > 0, validBytes: consumed };
  } finally {
    closeSync(fd);
  }
}

/**
 * Records read again from their places (`journalEntries` found and checked them; seq is their line). A line read
 * again must still be whole, match its checksum and carry its sequence number, or it is damage: the file changed
 * under the reader, never a silently different record. Its content is not checked against the schema a second
 * time (that is most of a read's cost): these are the bytes the first pass checked.
 */
export function* journalLinesAt(file: string, at: Iterable<{ pos: number; len: number; seq: number }>): Generator<JournalRecord> {
  const fd = openSync(file, 'r');
  try {
    for (const { pos, len, seq } of at) {
      const buf = Buffer.allocUnsafe(len);
      let off = 0;
      while (off < len) {
        const n = readSync(fd, buf, off, len - off, pos + off);
        if (n <= 0) break;
        off += n;
      }
      // The entry's length takes in its newline.
      const text = off === len && buf[len - 1] === 0x0a ? buf.subarray(0, len - 1).toString('utf8') : '';
      const tab = text.lastIndexOf('\t');
      const json = text.slice(0, Math.max(0, tab));
      let record: JournalRecord | null = null;
      if (tab > 0 && crc32(json).toString(16).padStart(8, '0') === text.slice(tab + 1)) {
        try {
          record = JSON.parse(json) as JournalRecord;
        } catch {
          record = null;
        }
      }
      if (!record || record.seq !== seq) throw new JournalDamage(file, seq, 'the line changed after it was read');
      yield record;
    }
  } finally {
    closeSync(fd);
  }
}

/** One complete line, checked; null for a torn last line. `before` is how many records came before it. */
function parseJournalLine(file: string, line: number, text: string, last: boolean, before: number): JournalRecord | null {
  const tab = text.lastIndexOf('\t');
  const json = tab === -1 ? text : text.slice(0, tab);
  const sum = tab === -1 ? '' : text.slice(tab + 1);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    if (last) return null;
    throw new JournalDamage(file, line, 'not JSON');
  }
  if (!/^[0-9a-f]{8}$/.test(sum) || crc32(json).toString(16).padStart(8, '0') !== sum) throw new JournalDamage(file, line, 'its checksum does not match');
  const format = (value as { header?: { format?: unknown } } | null)?.header?.format;
  if (line === 1 && (value as { type?: unknown } | null)?.type === 'run-started' && !READABLE_JOURNAL_FORMATS.includes(format as number)) {
    // Another format is not damage: another rdpfix wrote it. Which one, the header says.
    throw new RdpfixError('input', `Journal ${file} is in journal format ${format === undefined ? '1 (unversioned)' : JSON.stringify(format)}; this rdpfix reads format ${READABLE_JOURNAL_FORMATS.join(' and ')}.`,
      'Use the rdpfix version that wrote the run (its header names it) to roll it back or resume it.');
  }
  const checked = checkRecord(value);
  if (!checked.ok) throw new JournalDamage(file, line, `the record does not fit the journal's schema (${checked.reason})`);
  const record = checked.record;
  if (line === 1 && record.type !== 'run-started') throw new JournalDamage(file, 1, `it starts with '${record.type}', not the run header`);
  if (line > 1 && record.type === 'run-started') throw new JournalDamage(file, line, 'a second run header');
  if (record.seq !== before + 1) throw new JournalDamage(file, line, `record ${record.seq} where ${before + 1} was expected`, 'Records are missing or out of order; keep a copy of the file.');
  return record;
}

export function journalPath(stateDir: string, runId: string): string {
  return path.join(runDir(stateDir, runId), 'journal.jsonl');
}

export function readRun(stateDir: string, runId: string): JournalContents {
  return readJournalFile(journalPath(stateDir, runId));
}

/** A run's records one at a time (journalRecords): for readers that fold as they go. */
export function runRecords(stateDir: string, runId: string): Generator<JournalRecord, { tornTail: boolean; validBytes: number }> {
  return journalRecords(journalPath(stateDir, runId));
}

export function listRunIds(stateDir: string): string[] {
  const dir = path.join(stateDir, 'runs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((d) => RUN_ID.test(d)).sort();
}

/**
 * Leftovers of runs that died before their header was on disk (no host was touched by them): those whose creating
 * process (on this machine) is dead; others only once old, as they may be a run another controller creates now.
 */
export function removeUnbornRuns(stateDir: string, olderThanMs = 10 * 60_000, now = Date.now()): void {
  const dir = path.join(stateDir, 'runs');
  if (!existsSync(dir)) return;
  for (const d of readdirSync(dir).filter((d) => d.startsWith('.new-'))) {
    try {
      // A folder this machine's process is still creating stays, whatever the clocks say; a dead creator's goes.
      // Another controller's (a shared state dir), or one named by an older rdpfix, goes only once it is old.
      const creator = /\.(\d+)@(.+)$/.exec(d);
      const mine = creator && creator[2] === os.hostname();
      const gone = mine ? !processAlive(Number(creator[1])) : now - statSync(path.join(dir, d)).mtimeMs > olderThanMs;
      if (gone) rmSync(path.join(dir, d), { recursive: true, force: true });
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * One process at a time works on a run. The lock holds the owner's pid; a lock whose owner is dead
 * (the controller was killed) is taken over.
 */
export function lockRun(stateDir: string, runId: string): () => void {
  const file = path.join(runDir(stateDir, runId), 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8'));
      if (owner && owner !== process.pid && processAlive(owner)) {
        throw new RdpfixError('usage', `Run ${runId} is in use by process ${owner}.`, 'Wait for it to finish, or stop it first.');
      }
      unlinkSync(file);
    }
  }
  throw new RdpfixError('internal', `Cannot lock run ${runId}.`);
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
