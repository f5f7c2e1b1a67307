import { lstatSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { RdpfixError } from '../errors.js';

/**
 * A lab host's state file is given relative to the inventory and must stay inside the inventory's folder:
 * the lab locks it (`<state>.lock`), rewrites it and appends beside it, as the controller's user (often
 * root). Without this, `state: /etc/passwd` made a read-only diagnose create /etc/passwd.lock.
 */

/** What is wrong with the text of a lab state path, or null: checked without touching the disk. */
export function labStatePathProblem(p: string): string | null {
  if (/[\u0000-\u001f\u007f]/.test(p)) return 'must not contain control characters';
  if (path.posix.isAbsolute(p) || path.win32.isAbsolute(p) || /^[A-Za-z]:/.test(p)) return 'must be relative to the inventory\'s folder, not an absolute path';
  if (p.split(/[\\/]+/).includes('..')) return 'must not leave the inventory\'s folder (no `..`)';
  if (!/\.json$/i.test(p)) return 'must be a .json state file';
  return null;
}

/** The files the lab writes beside a state file (src/lab/ps/RdpfixLab.psm1): none may be a link elsewhere. */
function companions(statePath: string): string[] {
  const base = statePath.replace(/\.json$/i, '');
  return [`${statePath}.lock`, `${base}.runtime.json`, `${base}.audit.jsonl`];
}

/**
 * Checks on disk, before any lab host is locked, that a lab state path (already resolved against the
 * inventory's folder) exists as a regular file whose real path is inside that folder, and that the files
 * the lab keeps beside it are not links. Throws an input error naming the field.
 */
export function checkLabStatePath(inventoryFile: string, field: string, statePath: string): void {
  const fail = (why: string) => new RdpfixError('input', `Inventory ${inventoryFile}: ${field}: ${why}.`,
    'A lab host\'s state is a file inside the inventory\'s folder, given relative to it (e.g. hosts/lab-001.json), as `rdpfix lab init` writes it.');
  let folder: string;
  let real: string;
  try {
    folder = realpathSync(path.dirname(path.resolve(inventoryFile)));
  } catch (err) {
    throw fail(`the inventory's folder cannot be resolved (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    real = realpathSync(statePath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw fail(code === 'ENOENT' || code === 'ENOTDIR' ? `${statePath} does not exist` : `${statePath} cannot be read (${code ?? 'error'})`);
  }
  const rel = path.relative(folder, real);
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) throw fail(`${statePath} leads outside the inventory's folder (to ${real})`);
  if (!statSync(real).isFile()) throw fail(`${statePath} is not a regular file`);
  for (const c of companions(statePath)) {
    let st;
    try {
      st = lstatSync(c);
    } catch {
      continue; // absent: the lab creates it
    }
    if (!st.isFile()) throw fail(`${c}, which the lab writes, is a link or not a regular file`);
  }
}
