import { close, fdatasync, write } from 'node:fs';

/**
 * Group commit for an append-only file. Each `commit(bytes)` joins a queue; one batch at a time is written with a
 * single write and made durable with a single fdatasync, both through Node's async fs API (libuv's thread pool), so
 * the event loop keeps driving the other hosts while the disk works. Commits that arrive while a batch is in flight
 * form the next batch. A commit resolves only once *its* batch is durable; bytes land in the file in commit order.
 * A failed write or sync rejects every waiter of that batch and poisons the queue: later commits reject too, since a
 * file we could not make durable may hold anything after its last good sync.
 */

/** The three calls the queue makes: a seam for tests (count syncs, hold one back, make one fail). */
export interface DurableFs {
  write(fd: number, bytes: Buffer, offset: number, length: number): Promise<number>;
  /** fdatasync: the data and the size that reads it back; the file's times may lag, which nothing here reads. */
  datasync(fd: number): Promise<void>;
  close(fd: number): Promise<void>;
}

const settle = (resolve: () => void, reject: (err: Error) => void) => (err: Error | null) => (err ? reject(err) : resolve());

export const nodeFs: DurableFs = {
  write: (fd, bytes, offset, length) => new Promise((resolve, reject) => write(fd, bytes, offset, length, null, (err, n) => (err ? reject(err) : resolve(n)))),
  datasync: (fd) => new Promise((resolve, reject) => fdatasync(fd, settle(resolve, reject))),
  close: (fd) => new Promise((resolve, reject) => close(fd, settle(resolve, reject))),
};

interface Waiter {
  bytes: Buffer;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class GroupCommit {
  private queue: Waiter[] = [];
  private inFlight: Promise<void> | null = null;
  private scheduled = false;
  private failure: Error | null = null;

  /** `poisoned` turns the first write or sync error into the error every waiter, then and later, gets. */
  constructor(
    private readonly fd: number,
    private readonly fs: DurableFs,
    private readonly poisoned: (cause: unknown) => Error,
  ) {}

  /** Resolves once `bytes` are on disk (their batch synced); rejects if that batch, or an earlier one, failed. */
  commit(bytes: Buffer): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ bytes, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once everything committed so far is durable; rejects if the queue is poisoned. */
  drain(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    // An empty waiter at the end of the queue: batches complete in order, so when it does, all before it did.
    return this.inFlight || this.queue.length ? this.commit(Buffer.alloc(0)) : Promise.resolve();
  }

  private schedule(): void {
    if (this.inFlight || this.scheduled) return;
    // Start on the next microtask, so that commits made in the same turn (say, a loop over hosts) share a batch.
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.next();
    });
  }

  private next(): void {
    if (this.inFlight || !this.queue.length) return;
    const batch = this.queue;
    this.queue = [];
    this.inFlight = this.writeBatch(batch).finally(() => {
      this.inFlight = null;
      this.next();
    });
  }

  private async writeBatch(batch: Waiter[]): Promise<void> {
    try {
      if (this.failure) throw this.failure;
      const bytes = batch.length === 1 ? batch[0]!.bytes : Buffer.concat(batch.map((w) => w.bytes));
      for (let off = 0; off < bytes.length; ) {
        const n = await this.fs.write(this.fd, bytes, off, bytes.length - off);
        if (n <= 0) throw new Error(`write wrote ${n} of ${bytes.length - off} bytes`);
        off += n;
      }
      // A batch of drain() markers only has nothing to write: the batches before it are already synced.
      if (bytes.length) await this.fs.datasync(this.fd);
    } catch (err) {
      this.failure ??= this.poisoned(err);
      for (const w of batch) w.reject(this.failure);
      return;
    }
    for (const w of batch) w.resolve();
  }
}
