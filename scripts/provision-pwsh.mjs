#!/usr/bin/env node
// Makes sure a PowerShell is available to rdpfix. Order (same as src/powershell/locate.ts):
// RDPFIX_PWSH, `pwsh` on PATH, `powershell.exe` on Windows, the project-local copy in .tools/pwsh.
// When none is found, installs PowerShell 7.6.9 as a .NET tool into .tools/pwsh (NuGet is reachable
// where GitHub release downloads are not). Plain JS so that it runs before the TypeScript build.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PWSH_VERSION = '7.6.9';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const toolPath = path.join(root, '.tools', 'pwsh');
const exe = process.platform === 'win32' ? 'pwsh.exe' : 'pwsh';

function works(command) {
  const r = spawnSync(command, ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', '$PSVersionTable.PSVersion.ToString()'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return r.status === 0 ? r.stdout.trim() : null;
}

function onPath(name) {
  const r = spawnSync(process.platform === 'win32' ? 'where' : 'which', [name], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split(/\r?\n/)[0].trim() : null;
}

function found(label, command) {
  const version = works(command);
  if (version) {
    console.log(`rdpfix: PowerShell ${version} (${label}: ${command})`);
    return true;
  }
  return false;
}

const configured = process.env.RDPFIX_PWSH;
if (configured) {
  if (found('RDPFIX_PWSH', configured)) process.exit(0);
  console.error(`rdpfix: RDPFIX_PWSH is set to '${configured}', but that does not run PowerShell.\n` +
    `  Fix: point RDPFIX_PWSH at a pwsh or powershell.exe executable, or unset it to let rdpfix find or install one.`);
  process.exit(1);
}
const shim = path.join(toolPath, exe);
// The .NET tool shim starts `dotnet pwsh.dll` as a child process, so killing the shim would orphan the
// real PowerShell. rdpfix runs this launcher instead: it execs, so its pid is PowerShell's own.
const launcher = path.join(toolPath, 'rdpfix-pwsh');

function findFile(dir, name) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const hit = findFile(full, name);
      if (hit) return hit;
    } else if (entry.name === name) return full;
  }
  return null;
}

function writeLauncher() {
  if (process.platform === 'win32') return shim;
  const dll = findFile(path.join(toolPath, '.store'), 'pwsh.dll');
  const dotnet = onPath('dotnet');
  if (!dll || !dotnet) return shim;
  writeFileSync(launcher, `#!/bin/sh\n# Written by scripts/provision-pwsh.mjs\nexec '${dotnet}' '${dll}' "$@"\n`);
  chmodSync(launcher, 0o755);
  return launcher;
}

if (existsSync(shim) && found('project-local', writeLauncher())) process.exit(0);
const pathPwsh = onPath('pwsh');
if (pathPwsh && found('PATH', pathPwsh)) process.exit(0);
if (process.platform === 'win32' && found('Windows PowerShell', 'powershell.exe')) process.exit(0);

if (!onPath('dotnet')) {
  console.error(
    'rdpfix: no PowerShell found, and it cannot be installed because the .NET SDK (`dotnet`) is missing.\n' +
      '  Fix one of:\n' +
      '   - install the .NET SDK 10 (e.g. `apt-get install dotnet-sdk-10.0`) and run `npm run provision` again;\n' +
      '   - install PowerShell 7 yourself and put `pwsh` on PATH;\n' +
      '   - set RDPFIX_PWSH to the full path of an existing pwsh or powershell.exe.',
  );
  process.exit(1);
}
console.log(`rdpfix: installing PowerShell ${PWSH_VERSION} as a .NET tool into ${toolPath}`);
const install = spawnSync('dotnet', ['tool', 'install', 'PowerShell', '--version', PWSH_VERSION, '--tool-path', toolPath], {
  stdio: 'inherit',
});
if (install.status !== 0 || !found('project-local', writeLauncher())) {
  console.error(`rdpfix: installing PowerShell ${PWSH_VERSION} failed (dotnet exit ${install.status}).\n` +
    `  Fix: check that NuGet is reachable from this machine (dotnet tool install needs it), or install pwsh yourself.`);
  process.exit(1);
}
