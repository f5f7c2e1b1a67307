import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { constants } from 'node:fs';
import { RdpfixError } from './errors.js';

/** Inventories and manifests are small; anything bigger is a mistake or an attack on memory. */
export const MAX_INPUT_BYTES = 4 * 1024 * 1024;

/**
 * Reads a regular file of at most MAX_INPUT_BYTES as UTF-8. A FIFO, a device (`-i /dev/zero`) or a folder is
 * refused before a byte is read: reading it could block or never end.
 */
export function readSmallTextFile(file: string, what: string, fix: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw new RdpfixError('input', `Cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, fix);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new RdpfixError('input', `Cannot read ${what} ${file}: not a regular file.`, fix);
    if (st.size > MAX_INPUT_BYTES) throw new RdpfixError('input', `${what[0]!.toUpperCase()}${what.slice(1)} ${file} is ${st.size} bytes; the limit is ${MAX_INPUT_BYTES}.`, fix);
    const buf = Buffer.alloc(Math.min(st.size, MAX_INPUT_BYTES) + 1);
    let n = 0;
    for (let r = 1; r > 0 && n < buf.length; n += r) r = readSync(fd, buf, n, buf.length - n, null);
    if (n > MAX_INPUT_BYTES) throw new RdpfixError('input', `${what[0]!.toUpperCase()}${what.slice(1)} ${file} is larger than ${MAX_INPUT_BYTES} bytes.`, fix);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Reads standard input (`-i -`) to its end, bounded like a file. */
export function readStdinText(what: string, fix: string): string {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(64 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); // a non-blocking pipe with nothing yet
        continue;
      }
      if (code === 'EOF') break;
      throw new RdpfixError('input', `Cannot read ${what} from standard input: ${code ?? (err as Error).message}.`, fix);
    }
    if (n === 0) break;
    total += n;
    if (total > MAX_INPUT_BYTES) throw new RdpfixError('input', `${what[0]!.toUpperCase()}${what.slice(1)} on standard input is larger than ${MAX_INPUT_BYTES} bytes.`, fix);
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}
