# Removes a revert guard: the task (if it has not run yet) and its folder, and the rdpfix folders it leaves empty.
# Reports whether the task had already run and what it did. Idempotent: disarming twice changes nothing.
param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson
$task = [string]$in.task
if ($task -notmatch '^rdpfix-[A-Za-z0-9._-]{1,200}$') { throw "Invalid guard task name '$task'." }
# %ProgramData% is C:\ProgramData unless moved; the fallback also serves hosts whose environment lacks it.
$base = $env:ProgramData
if (-not $base) { $base = 'C:\ProgramData' }
$root = "$base\rdpfix"
$guardRoot = "$root\guard"
$dir = "$guardRoot\$task"

$armed = @(Get-ScheduledTask -TaskPath '\rdpfix\' -ErrorAction SilentlyContinue | Where-Object { $_.TaskName -eq $task })
if ($armed.Count -gt 0) { Unregister-ScheduledTask -TaskName $task -TaskPath '\rdpfix\' -Confirm:$false }
$ran = $null
$resultFile = "$dir\result.json"
if (Test-Path -LiteralPath $resultFile) { $ran = ConvertFrom-Json -InputObject (Get-Content -LiteralPath $resultFile -Raw -Encoding UTF8) }
if (Test-Path -LiteralPath $dir) { Remove-Item -LiteralPath $dir -Recurse -Force }
foreach ($d in @($guardRoot, $root)) {
    if ((Test-Path -LiteralPath $d) -and @(Get-ChildItem -LiteralPath $d -Force).Count -eq 0) { Remove-Item -LiteralPath $d -Force }
}
ConvertTo-Json -InputObject ([ordered]@{ task = $task; wasArmed = ($armed.Count -gt 0); ran = $ran }) -Depth 10 -Compress
