import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * The folder where the lab keeps its compiled types (src/lab/ps/RdpfixLab.psm1, Import-LabTypes). It used to
 * be the shared temp folder under a name anyone could compute, and a DLL planted there was loaded. Now it is
 * rdpfix's own cache folder: created 0700, and on POSIX refused unless it (and its parent rdpfix folder) is
 * a real folder owned by this user and writable by no one else.
 */
export function labTypesCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.RDPFIX_CACHE_DIR
    ? path.resolve(env.RDPFIX_CACHE_DIR)
    : process.platform === 'win32'
      ? path.join(env.LOCALAPPDATA || path.join(homedir(), 'AppData', 'Local'), 'rdpfix', 'Cache')
      : path.join(env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'rdpfix');
  return path.join(base, 'labtypes');
}

/** Why a folder cannot hold code rdpfix will load, or null when it can (made private if it was ours but open). */
export function privateFolderProblem(dir: string): string | null {
  let st;
  try {
    st = lstatSync(dir);
  } catch (err) {
    return `${dir} cannot be checked (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  if (st.isSymbolicLink()) return `${dir} is a link`;
  if (!st.isDirectory()) return `${dir} is not a folder`;
  if (process.platform === 'win32' || typeof process.getuid !== 'function') return null; // %LOCALAPPDATA% is the user's own
  if (st.uid !== process.getuid()) return `${dir} belongs to uid ${st.uid}, not to this user (uid ${process.getuid()})`;
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  return null;
}

/**
 * Creates (0700) and checks the lab types cache folder; returns it, or undefined with the reason when it
 * cannot be trusted (the lab then compiles its types in memory: slower, nothing on disk).
 */
export function ensureLabTypesCacheDir(env: NodeJS.ProcessEnv = process.env): { dir?: string; problem?: string } {
  const dir = labTypesCacheDir(env);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    return { problem: `${dir} cannot be created (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  for (const d of [path.dirname(dir), dir]) {
    const problem = privateFolderProblem(d);
    if (problem) return { problem };
  }
  return { dir };
}
