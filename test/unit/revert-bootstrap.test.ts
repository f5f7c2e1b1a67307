import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { revertBootstrap } from '../../src/revert/revert-task.js';
import { projectRoot } from '../../src/paths.js';

// The revert task's command line (docs/windows-facts/network-firewall-sessions-tasks.md, "How the revert task is launched").
const argument = (bootstrap: string) => `-NoProfile -NonInteractive -EncodedCommand ${Buffer.from(bootstrap, 'utf16le').toString('base64')}`;
const pwsh = path.join(projectRoot(), '.tools', 'pwsh', 'rdpfix-pwsh');

describe('the revert task bootstrap', () => {
  it('is fixed code only (no comments, no data) and keeps the task argument string under 480 characters', () => {
    const b = revertBootstrap();
    expect(b).not.toMatch(/^\s*#/m);
    expect(b).not.toMatch(/rdpfix-|ProgramData|S-1-/i);
    expect(argument(b).length).toBeLessThanOrEqual(480);
  });

  it('run by a real PowerShell as -EncodedCommand, runs revert.ps1 from its working directory with -TaskDir', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rdpfix-boot-'));
    writeFileSync(path.join(dir, 'revert.ps1'), 'param([string]$TaskDir) Set-Content -LiteralPath (Join-Path $TaskDir "ran.txt") -Value $TaskDir');
    execFileSync(pwsh, argument(revertBootstrap()).split(' '), { cwd: dir, stdio: 'pipe', timeout: 60_000 });
    expect(readFileSync(path.join(dir, 'ran.txt'), 'utf8').trim()).toBe(dir);
  });
});
