import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../paths.js';
import { RdpfixError } from '../errors.js';

export interface LocatedPowerShell {
  executable: string;
  source: 'setting' | 'path' | 'windows' | 'project-local';
}

/**
 * Finds PowerShell in the documented order: an explicit setting (flag/config, then RDPFIX_PWSH),
 * `pwsh` on PATH, `powershell.exe` on Windows, then the project-local copy that
 * `npm run provision` installs. Throws a RdpfixError that says how to fix it when none is there.
 */
export function locatePowerShell(explicit?: string, env: NodeJS.ProcessEnv = process.env): LocatedPowerShell {
  const setting = explicit ?? env.RDPFIX_PWSH;
  if (setting) {
    if (!existsSync(setting) && !onPath(setting)) {
      throw new RdpfixError('config', `PowerShell executable '${setting}' (from ${explicit ? '--pwsh' : 'RDPFIX_PWSH'}) does not exist.`,
        'Point it at a pwsh or powershell.exe executable, or unset it so rdpfix finds one.');
    }
    return { executable: setting, source: 'setting' };
  }
  const fromPath = onPath('pwsh');
  if (fromPath) return { executable: fromPath, source: 'path' };
  if (process.platform === 'win32') {
    const win = onPath('powershell.exe');
    if (win) return { executable: win, source: 'windows' };
  }
  const tools = path.join(projectRoot(), '.tools', 'pwsh');
  // Prefer the exec launcher scripts/provision-pwsh.mjs writes over the .NET tool shim (which forks).
  for (const name of ['rdpfix-pwsh', process.platform === 'win32' ? 'pwsh.exe' : 'pwsh']) {
    const local = path.join(tools, name);
    if (existsSync(local)) return { executable: local, source: 'project-local' };
  }
  throw new RdpfixError('config', 'No PowerShell found (RDPFIX_PWSH, pwsh on PATH, powershell.exe, .tools/pwsh).',
    'Run `npm run provision` to install PowerShell 7.6.9 as a .NET tool, or install pwsh and put it on PATH.');
}

function onPath(name: string): string | undefined {
  const r = spawnSync(process.platform === 'win32' ? 'where' : 'which', [name], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return r.stdout.split(/\r?\n/)[0]?.trim() || undefined;
}
