/**
 * A lab host's path-keyed maps (state.registry, state.files) are LabMaps, not objects with a note property per path
 * (src/lab/ps/LabTypes.cs). PowerShell keeps a member binder for every distinct note-property name for the life of
 * the process, and every host has its own SIDs and GUIDs in those paths: as properties they cost a broker's
 * PowerShell about 19 KB a host, and a 5 000-host run's memory grew with the fleet (docs/performance.md).
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeLabFleet } from '../../src/lab/fleet.js';
import { SCENARIOS } from '../../src/lab/scenarios.js';
import { locatePowerShell } from '../../src/powershell/locate.js';
import { labModulePath, projectRoot } from '../../src/paths.js';
import { ensureLabTypesCacheDir } from '../../src/lab/types-cache.js';
import { makeLabHost, runLab, LAB_SEEDED_AT } from '../helpers/lab.js';

describe('lab state maps', () => {
  it('hosts with their own SIDs and GUIDs make PowerShell no new member binders, and their documents come back unchanged', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rdpfix-maps-'));
    writeLabFleet(dir, { hosts: 30, seed: 3, scenarios: [...SCENARIOS], combine: 0, force: false, now: LAB_SEEDED_AT });
    const hostsDir = path.join(dir, 'hosts');
    const files = readdirSync(hostsDir).filter((f) => /^lab-\d+\.json$/.test(f)).sort();
    const before = files.map((f) => JSON.parse(readFileSync(path.join(hostsDir, f), 'utf8')) as Record<string, unknown>);
    // The fleet does hold per-host paths: distinct ProfileList SIDs across hosts (else the test proves nothing).
    const sids = new Set(before.flatMap((s) => Object.keys(s.registry as object).filter((k) => /\\ProfileList\\S-1-5-21-/i.test(k))));
    expect(sids.size).toBeGreaterThanOrEqual(30);

    const out = execFileSync(locatePowerShell().executable, [
      '-NoLogo', '-NoProfile', '-NonInteractive', '-File', path.join(projectRoot(), 'test', 'helpers', 'binder-growth.ps1'),
      '-LabModule', labModulePath(), '-HostsDir', hostsDir, '-WarmUp', '5',
    ], { encoding: 'utf8', env: { ...process.env, RDPFIX_LAB_TYPES_DIR: ensureLabTypesCacheDir().dir ?? '' }, timeout: 240_000 });
    const r = JSON.parse(out) as { hosts: number; measured: number; binders: number };
    expect(r.hosts).toBe(30);
    // As note properties: about 6 binders a host (150 over these 25). A few names a scenario brings are allowed.
    expect(r.binders).toBeLessThan(r.measured / 2);

    // Saved as read: every key in its stored case and order, every value as it was.
    files.forEach((f, i) => {
      const after = JSON.parse(readFileSync(path.join(hostsDir, f), 'utf8')) as Record<string, unknown>;
      expect(Object.keys(after.registry as object)).toEqual(Object.keys(before[i]!.registry as object));
      expect(Object.keys(after.files as object)).toEqual(Object.keys(before[i]!.files as object));
      expect(after).toEqual(before[i]);
    });
  }, 300_000);

  it('a map finds keys in any case, keeps the case they were stored in, and refuses a second key that differs only in case', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, String.raw`
      $reg = (Get-LabState).registry
      $k = 'HKEY_LOCAL_MACHINE\SOFTWARE\Rdpfix\MixedCase'
      $null = $reg.Add($k, [pscustomobject]@{})
      $found = $reg.Find($k.ToLowerInvariant())
      $dup = $null
      try { $null = $reg.Add($k.ToUpperInvariant(), 1) } catch { $dup = $_.Exception.InnerException.GetType().Name }
      $removed = $reg.Remove($k.ToUpperInvariant())
      [pscustomobject]@{ name = $found.Name; dup = $dup; removed = $removed; again = $null -eq $reg.Find($k); isMap = $reg -is [RdpfixLab.LabMap] }
    `);
    expect(r.error).toBeNull();
    expect(r.output).toEqual([{ name: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Rdpfix\\MixedCase', dup: 'ArgumentException', removed: true, again: true, isMap: true }]);
  }, 120_000);

  it('a key created through the registry shadows is saved under the case it was created with', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, String.raw`
      $null = New-Item -Path 'HKLM:\SOFTWARE\RdpfixTest'
      $null = New-Item -Path 'HKLM:\software\rdpfixtest\SubKey'
      Set-ItemProperty -Path 'hklm:\software\rdpfixtest\subkey' -Name 'Flag' -Value 1 -Type DWord
      (Get-ItemProperty -Path 'HKLM:\SOFTWARE\RDPFIXTEST\SUBKEY').Flag
    `);
    expect(r.error).toBeNull();
    expect(r.output).toEqual([1]);
    const registry = host.read().registry as Record<string, Record<string, { kind: string; data: unknown }>>;
    expect(Object.keys(registry).filter((k) => /rdpfixtest/i.test(k))).toEqual(['HKEY_LOCAL_MACHINE\\SOFTWARE\\RdpfixTest', 'HKEY_LOCAL_MACHINE\\SOFTWARE\\RdpfixTest\\SubKey']);
    expect(registry['HKEY_LOCAL_MACHINE\\SOFTWARE\\RdpfixTest\\SubKey']).toEqual({ Flag: { kind: 'DWord', data: 1 } });
  }, 120_000);

  it('Windows PowerShell 5.1\'s path (ConvertFrom-Json objects, then shaped) gives the same state as pwsh 7\'s -AsHashtable path', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, String.raw`
      param($StatePath)
      $text = [System.IO.File]::ReadAllText($StatePath)
      $fromObjects = [RdpfixLab.LabStateShape]::FromParsed((Microsoft.PowerShell.Utility\ConvertFrom-Json -InputObject $text -DateKind String))
      $fromTables = [RdpfixLab.LabStateShape]::FromParsed((Microsoft.PowerShell.Utility\ConvertFrom-Json -InputObject $text -AsHashtable -DateKind String))
      [pscustomobject]@{
        same = ($fromObjects | ConvertTo-Json -Depth 30) -ceq ($fromTables | ConvertTo-Json -Depth 30)
        maps = @(($fromObjects.registry -is [RdpfixLab.LabMap]), ($fromObjects.files -is [RdpfixLab.LabMap]), ($fromTables.registry -is [RdpfixLab.LabMap]))
        keys = $fromObjects.registry.Count
      }
    `, [host.statePath]);
    expect(r.error).toBeNull();
    expect(r.output).toEqual([{ same: true, maps: [true, true, true], keys: Object.keys(host.state.registry).length }]);
  }, 120_000);
});
