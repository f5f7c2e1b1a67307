import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';
import { locatePowerShell } from '../../src/powershell/locate.js';

/**
 * scripts/check-ps51.ps1 run by a real pwsh over fixture scripts: one fixture per rule (each must be caught,
 * at the expected line, and by that rule only), a clean Windows PowerShell 5.1 script that must pass, and
 * `# ps51-ok: <reason>` suppression.
 */

interface Ps51Finding {
  path: string;
  line: number;
  column: number;
  rule: string;
  section: string;
  message: string;
}

const checker = path.join(projectRoot(), 'scripts', 'check-ps51.ps1');

function runChecker(args: string[]) {
  const pwsh = locatePowerShell().executable;
  const r = spawnSync(pwsh, ['-NoProfile', '-NonInteractive', '-File', checker, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 110_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error };
}

function parseFindings(stdout: string): Ps51Finding[] {
  const text = stdout.trim();
  return text === '' ? [] : (JSON.parse(text) as Ps51Finding[]);
}

interface Case {
  /** Fixture file name (without .ps1). */
  name: string;
  rule: string;
  /** The line the finding must start on (1-based). */
  line: number;
  source: string;
}

// One fixture per construct. Each fixture must produce findings of exactly its rule, one of them on `line`.
const cases: Case[] = [
  { name: 'parse-error', rule: 'parse-error', line: 2, source: "$x = 1\nfunction {\n" },
  { name: 'ternary', rule: 'ternary', line: 2, source: "$ok = $true\n$v = $ok ? 'yes' : 'no'\n" },
  { name: 'pipeline-chain-and', rule: 'pipeline-chain', line: 1, source: "Get-Item -Path . && Write-Output 'ok'\n" },
  { name: 'pipeline-chain-or', rule: 'pipeline-chain', line: 1, source: "Get-Item -Path . || Write-Output 'failed'\n" },
  { name: 'null-coalescing', rule: 'null-coalescing', line: 2, source: "$a = $null\n$b = $a ?? 'default'\n" },
  { name: 'null-coalescing-assign', rule: 'null-coalescing', line: 2, source: "$a = $null\n$a ??= 'default'\n" },
  { name: 'null-conditional-member', rule: 'null-conditional', line: 2, source: "$a = 'x'\n$n = ${a}?.Length\n" },
  { name: 'null-conditional-method', rule: 'null-conditional', line: 2, source: "$a = 'x'\n$n = ${a}?.ToUpper()\n" },
  { name: 'null-conditional-index', rule: 'null-conditional', line: 2, source: "$a = @(1, 2)\n$n = ${a}?[0]\n" },
  { name: 'background-operator', rule: 'background-operator', line: 1, source: "Start-Sleep -Seconds 1 &\n" },
  {
    name: 'clean-block',
    rule: 'clean-block',
    line: 3,
    source: "function Use-Thing {\n    process { $_ }\n    clean { Write-Verbose 'done' }\n}\n",
  },
  { name: 'cmdlet-get-error', rule: 'ps7-cmdlet', line: 1, source: 'Get-Error -Newest 1\n' },
  { name: 'cmdlet-test-json', rule: 'ps7-cmdlet', line: 1, source: "Test-Json -Json '{}'\n" },
  { name: 'cmdlet-get-uptime', rule: 'ps7-cmdlet', line: 1, source: 'Get-Uptime\n' },
  { name: 'cmdlet-remove-service', rule: 'ps7-cmdlet', line: 1, source: "Remove-Service -Name 'Svc'\n" },
  { name: 'cmdlet-join-string', rule: 'ps7-cmdlet', line: 1, source: "1, 2 | Join-String -Separator ','\n" },
  { name: 'cmdlet-markdown', rule: 'ps7-cmdlet', line: 1, source: "ConvertFrom-Markdown -Path 'README.md'\n" },
  { name: 'cmdlet-module-qualified', rule: 'ps7-cmdlet', line: 1, source: 'Microsoft.PowerShell.Utility\\Get-Error\n' },
  { name: 'foreach-parallel', rule: 'ps7-parameter', line: 1, source: '1..3 | ForEach-Object -Parallel { $_ }\n' },
  { name: 'foreach-alias-percent', rule: 'ps7-parameter', line: 1, source: '1..3 | % -Parallel { $_ } -ThrottleLimit 2\n' },
  { name: 'foreach-alias-word', rule: 'ps7-parameter', line: 1, source: '1..3 | foreach -TimeoutSeconds 5 -Process { $_ }\n' },
  { name: 'foreach-asjob', rule: 'ps7-parameter', line: 1, source: '1..3 | ForEach-Object -Parallel { $_ } -AsJob\n' },
  { name: 'fromjson-ashashtable', rule: 'ps7-parameter', line: 1, source: "'{}' | ConvertFrom-Json -AsHashtable\n" },
  { name: 'fromjson-prefix', rule: 'ps7-parameter', line: 1, source: "'{}' | ConvertFrom-Json -AsHash\n" },
  { name: 'fromjson-lowercase', rule: 'ps7-parameter', line: 1, source: "'{}' | convertfrom-json -ashashtable\n" },
  { name: 'fromjson-depth', rule: 'ps7-parameter', line: 1, source: "'{}' | ConvertFrom-Json -Depth 5\n" },
  { name: 'fromjson-noenumerate', rule: 'ps7-parameter', line: 1, source: "'[]' | ConvertFrom-Json -NoEnumerate\n" },
  { name: 'fromjson-datekind', rule: 'ps7-parameter', line: 1, source: "'{}' | ConvertFrom-Json -DateKind String\n" },
  { name: 'fromjson-splatted', rule: 'ps7-parameter', line: 1, source: "$p = @{ AsHashtable = $true }\n'{}' | ConvertFrom-Json @p\n" },
  { name: 'tojson-asarray', rule: 'ps7-parameter', line: 1, source: 'ConvertTo-Json -InputObject 1 -AsArray\n' },
  { name: 'tojson-enumsasstrings', rule: 'ps7-parameter', line: 1, source: 'ConvertTo-Json -InputObject 1 -EnumsAsStrings\n' },
  { name: 'tojson-escapehandling', rule: 'ps7-parameter', line: 1, source: 'ConvertTo-Json -InputObject 1 -EscapeHandling EscapeHtml\n' },
  { name: 'getcontent-asbytestream', rule: 'ps7-parameter', line: 1, source: "Get-Content -Path 'a.bin' -AsByteStream\n" },
  { name: 'setcontent-asbytestream', rule: 'ps7-parameter', line: 1, source: "Set-Content -Path 'a.bin' -Value 1 -AsByteStream\n" },
  { name: 'getcontent-lp-alias', rule: 'ps7-parameter', line: 1, source: "gc -LP 'a.txt'\n" },
  { name: 'testconnection-tcpport', rule: 'ps7-parameter', line: 1, source: "Test-Connection -TargetName 'h' -TcpPort 3389\n" },
  { name: 'testconnection-timeout', rule: 'ps7-parameter', line: 1, source: "Test-Connection -ComputerName 'h' -TimeoutSeconds 2\n" },
  { name: 'irm-skipcert', rule: 'ps7-parameter', line: 1, source: "Invoke-RestMethod -Uri 'https://h' -SkipCertificateCheck\n" },
  { name: 'iwr-authentication', rule: 'ps7-parameter', line: 1, source: "iwr -Uri 'https://h' -Authentication Basic -NoProxy\n" },
  { name: 'irm-responseheaders', rule: 'ps7-parameter', line: 1, source: "irm -Uri 'https://h' -ResponseHeadersVariable rh\n" },
  { name: 'where-not', rule: 'ps7-parameter', line: 1, source: 'Get-Service | Where-Object -Not DependentServices\n' },
  { name: 'where-alias-question', rule: 'ps7-parameter', line: 1, source: 'Get-Service | ? -Not DependentServices\n' },
  { name: 'where-alias-word', rule: 'ps7-parameter', line: 1, source: 'Get-Service | where -Not DependentServices\n' },
  { name: 'selectstring-raw', rule: 'ps7-parameter', line: 1, source: "Select-String -Path 'a.txt' -Pattern 'x' -Raw\n" },
  { name: 'set-service-credential', rule: 'ps7-parameter', line: 1, source: "Set-Service -Name 'Svc' -Credential $null\n" },
  { name: 'progress-action', rule: 'ps7-parameter', line: 1, source: "Get-Item -Path . -ProgressAction SilentlyContinue\n" },
  { name: 'encoding-utf8nobom', rule: 'ps7-parameter-value', line: 1, source: "Set-Content -Path 'a.txt' -Value 'x' -Encoding utf8NoBOM\n" },
  { name: 'encoding-utf8bom', rule: 'ps7-parameter-value', line: 1, source: "Get-Content -Path 'a.txt' -Encoding 'utf8BOM'\n" },
  { name: 'encoding-codepage', rule: 'ps7-parameter-value', line: 1, source: "Out-File -FilePath 'a.txt' -InputObject 'x' -Encoding 1252\n" },
  { name: 'encoding-prefix-param', rule: 'ps7-parameter-value', line: 1, source: "Add-Content -Path 'a.txt' -Value 'x' -Enc utf8NoBOM\n" },
  {
    name: 'encoding-object',
    rule: 'ps7-parameter-value',
    line: 1,
    source: "Export-Csv -Path 'a.csv' -InputObject 1 -Encoding ([System.Text.Encoding]::UTF8)\n",
  },
  {
    name: 'startup-delayed',
    rule: 'ps7-parameter-value',
    line: 1,
    source: "Set-Service -Name 'TermService' -StartupType AutomaticDelayedStart\n",
  },
  {
    name: 'startup-delayed-alias-colon',
    rule: 'ps7-parameter-value',
    line: 1,
    source: "Set-Service -Name 'TermService' -ST:'AutomaticDelayedStart'\n",
  },
  { name: 'erroraction-break', rule: 'ps7-parameter-value', line: 1, source: 'Get-Item -Path . -ErrorAction Break\n' },
  { name: 'joinpath-three', rule: 'ps7-parameter-value', line: 1, source: "Join-Path 'C:\\' 'Windows' 'System32'\n" },
  { name: 'psstyle', rule: 'ps7-variable', line: 1, source: '$PSStyle.OutputRendering\n' },
  { name: 'iswindows', rule: 'ps7-variable', line: 1, source: "if ($IsWindows) { 'win' }\n" },
  { name: 'replace-scriptblock', rule: 'replace-scriptblock', line: 1, source: "'abc' -replace 'b', { $_.Value.ToUpper() }\n" },
  { name: 'unicode-escape', rule: 'unicode-escape', line: 2, source: "$a = 1\n$dash = \"a`u{2013}b\"\n" },
  { name: 'string-split', rule: 'string-split', line: 1, source: "'a--b'.Split('--')\n" },
];

// 5.1-clean: everything here exists in Windows PowerShell 5.1 and must produce no finding at all.
const cleanScript = `# Windows PowerShell 5.1 remediation step (fixture).
param([string]$Name = 'TermService', [switch]$Apply)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Get-Uptime { 'own function, not the PowerShell 6 cmdlet' }
Get-Uptime

$mode = if ($Apply) { 'apply' } else { 'check' }
$svc = Get-Service -Name $Name -ErrorAction Stop
if ($null -ne $svc -and $svc.Status -eq 'Running') { $running = $true } else { $running = $false }
$items = @(1, 2, 3 | ForEach-Object { $_ * 2 } | Where-Object { $_ -gt 2 })
$also = @(1, 2 | % { $_ } | ? { $_ })
$props = @(Get-ChildItem -Path . -Filter '*.ps1' -Recurse | Select-Object -First 1 -ExpandProperty Name)
$json = ConvertTo-Json -InputObject ([ordered]@{ mode = $mode; items = $items }) -Depth 10 -Compress
$back = $json | ConvertFrom-Json
$text = Get-Content -LiteralPath 'a.txt' -Encoding UTF8 -Raw -ErrorAction SilentlyContinue
Set-Content -Path 'a.txt' -Value $text -Encoding UTF8 -WhatIf
Out-File -FilePath 'a.txt' -InputObject 'x' -Encoding ascii -WhatIf
$joined = Join-Path -Path (Join-Path 'C:\\' 'Windows') -ChildPath 'System32'
Set-Service -Name $Name -StartupType Automatic -WhatIf
Test-Connection -ComputerName 'localhost' -Count 1 -Quiet
$r = Invoke-WebRequest -Uri 'http://localhost' -UseBasicParsing -TimeoutSec 5 -ErrorAction SilentlyContinue
$parts = 'a,b;c'.Split(',')
$parts2 = 'a,b;c' -split ';'
$fixed = 'abc' -replace 'b', 'B'
$p = @{ Name = $Name; ErrorAction = 'SilentlyContinue' }
Get-Service @p
$x = @{ a = 1 }
$x.a
$arr = @(1, 2)
$arr[0]
Get-Content -Path 'a.txt' -Encoding Byte -TotalCount 4 -ErrorAction SilentlyContinue
Start-Job -ScriptBlock { 1 } | Wait-Job | Receive-Job
& cmd.exe /c 'exit 0'
if ($LASTEXITCODE -ne 0) { throw 'failed' }
"a\`tb\`n"
`;

// Every line has a construct 5.1 lacks, and every one is suppressed with a reason.
const suppressedScript = `$hasDateKind = $PSVersionTable.PSVersion -ge [version]'7.5'
if ($hasDateKind) { $o = '{}' | ConvertFrom-Json -DateKind String } # ps51-ok: version-checked, 7.5+ only
$v = $null ?? 'x' # ps51-ok: fixture
Get-Uptime #ps51-ok: fixture without a space after the hash
`;

// '# ps51-ok:' without a reason suppresses nothing.
const noReasonScript = `'{}' | ConvertFrom-Json -AsHashtable # ps51-ok:
`;

describe('check-ps51.ps1 (Windows PowerShell 5.1 compatibility checker)', () => {
  let dir: string;
  let findings: Ps51Finding[];
  let status: number | null;
  const inFile = (name: string) => findings.filter((f) => path.basename(f.path) === `${name}.ps1`);

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rdpfix-ps51-'));
    for (const c of cases) writeFileSync(path.join(dir, `${c.name}.ps1`), c.source);
    writeFileSync(path.join(dir, 'clean.ps1'), cleanScript);
    writeFileSync(path.join(dir, 'suppressed.ps1'), suppressedScript);
    writeFileSync(path.join(dir, 'no-reason.ps1'), noReasonScript);
    // 12.2: non-ASCII text needs a UTF-8 BOM; the same text with a BOM (or ASCII only) passes.
    const nonAscii = "# Check - reference \u00a7 12.2\nWrite-Output 'Sitzung \u00fcberpr\u00fcft'\n";
    writeFileSync(path.join(dir, 'non-ascii.ps1'), Buffer.from(nonAscii, 'utf8'));
    writeFileSync(path.join(dir, 'non-ascii-bom.ps1'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(nonAscii, 'utf8')]));
    writeFileSync(path.join(dir, 'module.psm1'), "function Get-X { '{}' | ConvertFrom-Json -AsHashtable }\n");
    writeFileSync(path.join(dir, 'not-a-script.txt'), "Get-Uptime && $a ?? $b\n");

    const r = runChecker(['-Path', dir, '-Json']);
    if (r.error) throw r.error;
    status = r.status;
    expect(r.stderr).toBe('');
    findings = parseFindings(r.stdout);
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(cases)('catches $rule: $name', (c) => {
    const got = inFile(c.name);
    expect(got.map((f) => f.rule), JSON.stringify(got, null, 1)).toContain(c.rule);
    expect(new Set(got.map((f) => f.rule)), 'no other rule fires on this fixture').toEqual(new Set([c.rule]));
    expect(got.some((f) => f.rule === c.rule && f.line === c.line), `a ${c.rule} finding on line ${c.line}`).toBe(true);
  });

  it('exits 1 when there are findings', () => {
    expect(status).toBe(1);
  });

  it('passes a clean Windows PowerShell 5.1 script', () => {
    expect(inFile('clean')).toEqual([]);
  });

  it('honours # ps51-ok: <reason> on the same line', () => {
    expect(inFile('suppressed')).toEqual([]);
  });

  it('does not suppress without a reason', () => {
    expect(inFile('no-reason').map((f) => f.rule)).toEqual(['ps7-parameter']);
  });

  it('flags non-ASCII text in a file without a UTF-8 BOM, once per line, and not with a BOM', () => {
    const got = inFile('non-ascii');
    expect(got.map((f) => [f.rule, f.line, f.section])).toEqual([
      ['non-ascii-no-bom', 1, '12.2'],
      ['non-ascii-no-bom', 2, '12.2'],
    ]);
    expect(got[0]!.message).toContain('U+00A7');
    expect(got[0]!.column).toBe(21);
    expect(inFile('non-ascii-bom')).toEqual([]);
  });

  it('checks *.psm1 files and skips other extensions', () => {
    expect(findings.filter((f) => f.path.endsWith('module.psm1')).map((f) => f.rule)).toEqual(['ps7-parameter']);
    expect(findings.filter((f) => f.path.endsWith('.txt'))).toEqual([]);
  });

  it('names the 7-only parameter a prefix binds to, and the version that added it', () => {
    const [f] = inFile('fromjson-prefix');
    expect(f!.message).toContain('-AsHash');
    expect(f!.message).toContain('-AsHashtable');
    expect(f!.message).toContain('6.0');
    expect(inFile('foreach-alias-percent').map((x) => x.message).join('\n')).toMatch(/ForEach-Object.*-Parallel[\s\S]*-ThrottleLimit/);
  });

  it('every rule cites a section of the reference, and every rule has a fixture', () => {
    const r = runChecker(['-ListRules', '-Json']);
    expect(r.status).toBe(0);
    const rules = JSON.parse(r.stdout) as { rule: string; section: string; summary: string }[];
    expect(rules.length).toBeGreaterThanOrEqual(15);
    for (const rule of rules) expect(rule.section, rule.rule).toMatch(/^12\.[12]$/);
    const covered = new Set([...cases.map((c) => c.rule), 'non-ascii-no-bom']);
    expect(rules.map((x) => x.rule).filter((x) => !covered.has(x))).toEqual([]);
  }, 150_000);

  it('prints path:line:col: rule: message lines without -Json, and exits 0 on a clean file', () => {
    const bad = runChecker(['-Path', path.join(dir, 'ternary.ps1')]);
    expect(bad.status).toBe(1);
    const lines = bad.stdout.trim().split(/\r?\n/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^(.+):(\d+):(\d+): ([a-z0-9-]+): (.+)$/);
    expect(lines[0]).toContain(`${path.join(dir, 'ternary.ps1')}:2:`);
    expect(lines[0]).toContain(': ternary: ');

    const good = runChecker(['-Path', path.join(dir, 'clean.ps1'), path.join(dir, 'non-ascii-bom.ps1')]);
    expect(good.stdout).toBe('');
    expect(good.status).toBe(0);
  }, 150_000);

  it('exits 2 for a path that does not exist', () => {
    const r = runChecker(['-Path', path.join(dir, 'missing.ps1')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('path not found');
  }, 150_000);
});
