import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { RdpfixError } from '../errors.js';

/**
 * The run journal: one append-only file per run, `<stateDir>/runs/<runId>/journal.jsonl`. Each line is
 * `<json>\t<crc32 hex>`; each append is written and fsync'd before append() returns, so a checkpoint is
 * on disk before the apply that follows it starts. A torn last line (the process died mid-write) is
 * detected and ignored; damage anywhere else is reported, never guessed around.
 */
export const JOURNAL_FORMAT = 1;

export interface JournalRecord {
  seq: number;
  time: string;
  type: string;
  [field: string]: unknown;
}

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RDPFIX_STATE_DIR) return env.RDPFIX_STATE_DIR;
  if (process.platform === 'win32') return path.join(env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local'), 'rdpfix');
  return path.join(env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state'), 'rdpfix');
}

export function runDir(stateDir: string, runId: string): string {
  if (!/^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$/.test(runId)) throw new RdpfixError('usage', `'${runId}' is not a run id.`, 'Run ids look like 20261125-221500-a1b2c3; `rdpfix runs list` shows them.');
  return path.join(stateDir, 'runs', runId);
}

export function newRunId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${t}-${randomBytes(3).toString('hex')}`;
}

function encode(record: JournalRecord): string {
  const json = JSON.stringify(record);
  return `${json}\t${crc32(json).toString(16).padStart(8, '0')}\n`;
}

export class JournalWriter {
  private seq: number;
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly fd: number,
    lastSeq: number,
  ) {
    this.seq = lastSeq;
  }

  /** Starts the journal of a new run. */
  static create(stateDir: string, runId: string): JournalWriter {
    const dir = runDir(stateDir, runId);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'journal.jsonl');
    const fd = openSync(file, 'wx');
    syncDir(dir);
    syncDir(path.dirname(dir));
    return new JournalWriter(file, fd, 0);
  }

  /** Appends to the journal of an existing run (rollback, resume). A torn tail is cut off first. */
  static reopen(stateDir: string, runId: string): JournalWriter {
    const file = path.join(runDir(stateDir, runId), 'journal.jsonl');
    const { records, validBytes } = readJournalFile(file);
    // Drop a torn last line so that new records start on a line of their own, then append.
    const tfd = openSync(file, 'r+');
    try {
      ftruncateSync(tfd, validBytes);
      fsyncSync(tfd);
    } finally {
      closeSync(tfd);
    }
    return new JournalWriter(file, openSync(file, 'a'), records.at(-1)?.seq ?? 0);
  }

  /** Writes one record durably (write + fsync). Returns it with its sequence number and time. */
  append(fields: { type: string; [k: string]: unknown }): JournalRecord {
    if (this.closed) throw new Error('journal is closed');
    const record: JournalRecord = { seq: ++this.seq, time: new Date().toISOString(), ...fields };
    const bytes = Buffer.from(encode(record), 'utf8');
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off, null);
    fsyncSync(this.fd);
    return record;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
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

export function readJournalFile(file: string): JournalContents {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new RdpfixError('input', `Cannot read journal ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, '`rdpfix runs list` shows the runs this state directory holds.');
  }
  const records: JournalRecord[] = [];
  let start = 0;
  let line = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(0x0a, start);
    line++;
    if (nl === -1) return { records, tornTail: true, validBytes: start };
    const text = buf.subarray(start, nl).toString('utf8');
    const tab = text.lastIndexOf('\t');
    const json = tab === -1 ? text : text.slice(0, tab);
    const sum = tab === -1 ? '' : text.slice(tab + 1);
    const ok = /^[0-9a-f]{8}$/.test(sum) && crc32(json).toString(16).padStart(8, '0') === sum;
    const isLast = nl === buf.length - 1;
    if (!ok) {
      if (isLast && isPrefixOfRecord(json)) return { records, tornTail: true, validBytes: start };
      throw new RdpfixError('input', `Journal ${file} is damaged at line ${line}: its checksum does not match.`,
        'The file was edited or the disk is failing. Keep a copy of it; nothing was changed.');
    }
    let record: JournalRecord;
    try {
      record = JSON.parse(json) as JournalRecord;
    } catch {
      throw new RdpfixError('input', `Journal ${file} is damaged at line ${line}: not JSON.`, 'Keep a copy of the file and report it.');
    }
    if (record.seq !== records.length + 1) {
      throw new RdpfixError('input', `Journal ${file} is damaged at line ${line}: record ${record.seq} where ${records.length + 1} was expected.`, 'Records are missing or out of order; keep a copy of the file.');
    }
    records.push(record);
    start = nl + 1;
  }
  return { records, tornTail: false, validBytes: start };
}

/** A partial last line that a crash can leave: it has no checksum yet, or a cut-off one. */
function isPrefixOfRecord(text: string): boolean {
  return text.startsWith('{') && !text.includes('\n');
}

export function readRun(stateDir: string, runId: string): JournalContents {
  return readJournalFile(path.join(runDir(stateDir, runId), 'journal.jsonl'));
}

export function listRunIds(stateDir: string): string[] {
  const dir = path.join(stateDir, 'runs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((d) => /^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$/.test(d)).sort();
}

/**
 * One process at a time works on a run. The lock holds the owner's pid; a lock whose owner is dead
 * (the controller was killed) is taken over.
 */
export function lockRun(stateDir: string, runId: string): () => void {
  const file = path.join(runDir(stateDir, runId), 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
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
      if (owner && owner !== process.pid && alive(owner)) {
        throw new RdpfixError('usage', `Run ${runId} is in use by process ${owner}.`, 'Wait for it to finish, or stop it first.');
      }
      unlinkSync(file);
    }
  }
  throw new RdpfixError('internal', `Cannot lock run ${runId}.`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
