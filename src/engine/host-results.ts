import { closeSync, openSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { HostOutput } from '../../machines/host.machine.js';

/**
 * What the machines returned for each host of a run, written to a file as each host finishes instead of kept in
 * memory: on a fleet, the hosts' outputs (checks, checkpoints, plans) would otherwise grow with the fleet, while
 * what is live should grow with the concurrency. They are read back one at a time, in the order of the run's hosts
 * (as the summary and the plan print them), and only the offset of each stays in memory.
 *
 * The file sits in the run's folder (0700: the outputs hold checkpoints, as the journal does), is created 0600 and
 * unlinked at once where the OS allows it (the open descriptor keeps it until the process ends); elsewhere it is
 * removed on exit. It is scratch: the journal stays the record of the run.
 */
export class HostResults implements Iterable<HostOutput> {
  private readonly fd: number;
  private size = 0;
  private readonly at = new Map<string, { pos: number; len: number }>();

  constructor(
    dir: string,
    /** The run's hosts in order: the order results are read back in (a host not finished is left out). */
    private readonly order: readonly string[],
  ) {
    const file = path.join(dir, `.host-results-${process.pid}-${Math.random().toString(36).slice(2)}.jsonl`);
    this.fd = openSync(file, 'wx+', 0o600);
    // Whoever holds the results decides how long they live: the descriptor goes with the last reference.
    closeWhenCollected.register(this, this.fd, this);
    try {
      unlinkSync(file);
    } catch {
      removeOnExit(file);
    }
  }

  /** Keeps a finished host's output (a later output for the same host replaces it). */
  add(out: HostOutput): void {
    const bytes = Buffer.from(JSON.stringify(out), 'utf8');
    for (let off = 0; off < bytes.length; ) off += writeSync(this.fd, bytes, off, bytes.length - off, this.size + off);
    this.at.set(out.host, { pos: this.size, len: bytes.length });
    this.size += bytes.length;
  }

  get count(): number {
    return this.at.size;
  }

  *[Symbol.iterator](): Iterator<HostOutput> {
    for (const host of this.order) {
      const where = this.at.get(host);
      if (!where) continue;
      const buf = Buffer.allocUnsafe(where.len);
      for (let off = 0; off < where.len; ) {
        const n = readSync(this.fd, buf, off, where.len - off, where.pos + off);
        if (n <= 0) throw new Error(`host results: short read at ${where.pos + off}`);
        off += n;
      }
      yield JSON.parse(buf.toString('utf8')) as HostOutput;
    }
  }

  /** Frees the file now (further reads fail). */
  close(): void {
    closeWhenCollected.unregister(this);
    closeSync(this.fd);
  }
}

const closeWhenCollected = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // closed already
  }
});

const leftover = new Set<string>();
function removeOnExit(file: string): void {
  if (!leftover.size) process.once('exit', () => leftover.forEach((f) => rmSync(f, { force: true })));
  leftover.add(file);
}
