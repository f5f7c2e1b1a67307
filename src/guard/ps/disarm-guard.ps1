# Removes a revert guard: the task (if it has not run yet) and its folder, and the rdpfix folders it leaves empty.
# Reports whether the task had already run and what it did. Idempotent: disarming twice changes nothing.
# The shared prelude (playbooks/_shared/prelude.ps1: rdpfix's protected folder) is inserted after the param block.
param([Parameter(Mandatory)][string]$InputJson)
$in = ConvertFrom-Json -InputObject $InputJson
$task = [string]$in.task
if ($task -notmatch '^rdpfix-[A-Za-z0-9._-]{1,200}$') { throw "Invalid guard task name '$task'." }
$root = (Get-RdpfixProgramData) + '\rdpfix'
$guardRoot = "$root\guard"
$dir = "$guardRoot\$task"
# Only a folder that is ours is read and removed: Remove-Item -Recurse through a junction someone else made would
# delete what it points at.
$refusal = Get-RdpfixFolderRefusal -Relative "guard\$task"

$armed = @(Get-ScheduledTask -TaskPath '\rdpfix\' -ErrorAction SilentlyContinue | Where-Object { $_.TaskName -eq $task })
if ($armed.Count -gt 0) { Unregister-ScheduledTask -TaskName $task -TaskPath '\rdpfix\' -Confirm:$false }
$ran = $null
if ($null -eq $refusal) {
    $resultFile = "$dir\result.json"
    if (Test-Path -LiteralPath $resultFile) { $ran = ConvertFrom-Json -InputObject (Get-Content -LiteralPath $resultFile -Raw -Encoding UTF8) }
    if (Test-Path -LiteralPath $dir) { Remove-Item -LiteralPath $dir -Recurse -Force }
    foreach ($d in @($guardRoot, $root)) {
        if ((Test-Path -LiteralPath $d) -and @(Get-ChildItem -LiteralPath $d -Force).Count -eq 0) { Remove-Item -LiteralPath $d -Force }
    }
}
Write-RdpfixResult ([ordered]@{ task = $task; wasArmed = ($armed.Count -gt 0); ran = $ran; leftAlone = $refusal })
