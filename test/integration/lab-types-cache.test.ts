/**
 * Issue 10 item 2: the lab's compiled types used to be cached as $TMPDIR/rdpfix-labtypes-<hash>.dll, a name
 * anyone can compute, and an existing file there was loaded unchecked. Now the cache lives in rdpfix's own
 * folder (0700, owner checked) and a DLL is loaded only when its bytes match the digest its builder recorded.
 *
 * A "planted" DLL here defines the type RdpfixPlanted.Marker: if the lab ever loads it, the type resolves.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { locatePowerShell } from '../../src/powershell/locate.js';
import { labModulePath, projectRoot } from '../../src/paths.js';
import { ensureLabTypesCacheDir, labTypesCacheDir } from '../../src/lab/types-cache.js';

const pwsh = locatePowerShell().executable;
let tmp: string;
let planted: string;
let psVersion: string;

function ps(command: string, env: NodeJS.ProcessEnv): string {
  const r = spawnSync(pwsh, ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', command], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 170_000 });
  if (r.status !== 0) throw new Error(`pwsh exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Imports the lab module in a fresh pwsh and says which types resolve afterwards. */
function importLab(env: NodeJS.ProcessEnv): { planted: boolean; lab: boolean } {
  const out = ps(`Import-Module '${labModulePath()}'; @{ planted = [bool]('RdpfixPlanted.Marker' -as [type]); lab = [bool]('Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity.Enabled' -as [type]) } | ConvertTo-Json -Compress`, env);
  return JSON.parse(out.split('\n').at(-1)!) as { planted: boolean; lab: boolean };
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'rdpfix-labtypes-test-'));
  planted = path.join(tmp, 'planted.dll');
  psVersion = ps(`Add-Type -TypeDefinition 'namespace RdpfixPlanted { public class Marker { } }' -OutputAssembly '${planted}' -OutputType Library; $PSVersionTable.PSVersion.ToString()`, {});
}, 180_000);

describe('the lab types cache', () => {
  it('never loads a DLL planted in the temp folder under the old computable name', () => {
    const temp = mkdtempSync(path.join(tmp, 'TMPDIR-'));
    const source = readFileSync(path.join(projectRoot(), 'src', 'lab', 'ps', 'LabTypes.cs'), 'utf8');
    const oldHash = createHash('sha256').update(source + psVersion, 'utf8').digest('hex').slice(0, 16);
    copyFileSync(planted, path.join(temp, `rdpfix-labtypes-${oldHash}.dll`));
    const cache = path.join(tmp, 'cache1');
    const env = { TMPDIR: temp, RDPFIX_CACHE_DIR: cache };
    const dir = ensureLabTypesCacheDir(env).dir!;
    expect(dir).toBe(labTypesCacheDir(env));
    expect(importLab({ TMPDIR: temp, RDPFIX_LAB_TYPES_DIR: dir })).toEqual({ planted: false, lab: true });
    expect(readdirSync(temp)).toEqual([`rdpfix-labtypes-${oldHash}.dll`]);
    expect(readdirSync(dir).sort()).toEqual([expect.stringMatching(/^labtypes-[0-9a-f]{64}\.dll$/), expect.stringMatching(/^labtypes-[0-9a-f]{64}\.dll\.sha256$/)]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  }, 180_000);

  it('rebuilds instead of loading a cached DLL whose bytes do not match the recorded digest', () => {
    const dir = ensureLabTypesCacheDir({ RDPFIX_CACHE_DIR: path.join(tmp, 'cache2') }).dir!;
    expect(importLab({ RDPFIX_LAB_TYPES_DIR: dir })).toEqual({ planted: false, lab: true });
    const dll = readdirSync(dir).find((f) => f.endsWith('.dll'))!;
    const digest = readFileSync(path.join(dir, `${dll}.sha256`), 'utf8');
    copyFileSync(planted, path.join(dir, dll)); // swapped in behind the builder's back
    expect(importLab({ RDPFIX_LAB_TYPES_DIR: dir })).toEqual({ planted: false, lab: true });
    const rebuilt = createHash('sha256').update(readFileSync(path.join(dir, dll))).digest('hex');
    expect(readFileSync(path.join(dir, `${dll}.sha256`), 'utf8')).toBe(rebuilt);
    expect(rebuilt).not.toBe(createHash('sha256').update(readFileSync(planted)).digest('hex'));
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
  }, 180_000);

  it('compiles in memory, writing nothing, when no checked folder is given', () => {
    const temp = mkdtempSync(path.join(tmp, 'TMPDIR-'));
    expect(importLab({ TMPDIR: temp, RDPFIX_LAB_TYPES_DIR: '' })).toEqual({ planted: false, lab: true });
    expect(readdirSync(temp)).toEqual([]);
  }, 180_000);

  it('refuses a cache folder that is a link, or belongs to someone else; makes an open one private', () => {
    const linked = path.join(tmp, 'cache-link');
    mkdirSync(linked);
    symlinkSync(mkdtempSync(path.join(tmp, 'elsewhere-')), path.join(linked, 'labtypes'));
    expect(ensureLabTypesCacheDir({ RDPFIX_CACHE_DIR: linked }).problem).toMatch(/labtypes is a link/);
    const open = path.join(tmp, 'cache-open');
    mkdirSync(path.join(open, 'labtypes'), { recursive: true });
    chmodSync(path.join(open, 'labtypes'), 0o777);
    expect(ensureLabTypesCacheDir({ RDPFIX_CACHE_DIR: open }).dir).toBe(path.join(open, 'labtypes'));
    expect(statSync(path.join(open, 'labtypes')).mode & 0o777).toBe(0o700);
    if (process.getuid?.() === 0) {
      const foreign = path.join(tmp, 'cache-foreign');
      mkdirSync(path.join(foreign, 'labtypes'), { recursive: true });
      chownSync(path.join(foreign, 'labtypes'), 65534, 65534);
      expect(ensureLabTypesCacheDir({ RDPFIX_CACHE_DIR: foreign }).problem).toMatch(/belongs to uid 65534, not to this user/);
    }
  });
});
