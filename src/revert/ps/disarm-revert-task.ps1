# Removes a revert task: the scheduled task (if it has not run yet) and its folder, and the rdpfix folders it leaves
# empty. Reports whether the task had already run and what it did. Idempotent: disarming twice changes nothing.
# Tasks armed by older rdpfix versions kept their folder under rdpfix\guard (the old name of the revert task); that
# folder is read and removed the same way, so rolling back or resuming a run an older version started still cleans up.
# The shared prelude (playbooks/_shared/prelude.ps1: rdpfix's protected folder) is inserted after the param block.
param([Parameter(Mandatory)][string]$InputJson)
$in = ConvertFrom-Json -InputObject $InputJson
$task = [string]$in.task
if ($task -notmatch '^rdpfix-[A-Za-z0-9._-]{1,200}$') { throw "Invalid revert task name '$task'." }
$root = (Get-RdpfixProgramData) + '\rdpfix'

$armed = @(Get-ScheduledTask -TaskPath '\rdpfix\' -ErrorAction SilentlyContinue | Where-Object { $_.TaskName -eq $task })
if ($armed.Count -gt 0) { Unregister-ScheduledTask -TaskName $task -TaskPath '\rdpfix\' -Confirm:$false }
$ran = $null
$refusal = $null
foreach ($parent in @('revert', 'guard')) {
    $dir = "$root\$parent\$task"
    # Only a folder that is ours is read and removed: Remove-Item -Recurse through a junction someone else made would
    # delete what it points at.
    $leftAlone = Get-RdpfixFolderRefusal -Relative "$parent\$task"
    if ($null -ne $leftAlone) {
        if ($parent -eq 'revert' -or (Test-Path -LiteralPath $dir)) { $refusal = $leftAlone }
        continue
    }
    $resultFile = "$dir\result.json"
    if (Test-Path -LiteralPath $resultFile) { $ran = ConvertFrom-Json -InputObject (Get-Content -LiteralPath $resultFile -Raw -Encoding UTF8) }
    if (Test-Path -LiteralPath $dir) { Remove-Item -LiteralPath $dir -Recurse -Force }
    $parentDir = "$root\$parent"
    if ((Test-Path -LiteralPath $parentDir) -and @(Get-ChildItem -LiteralPath $parentDir -Force).Count -eq 0) { Remove-Item -LiteralPath $parentDir -Force }
}
if ($null -eq $refusal -and (Test-Path -LiteralPath $root) -and @(Get-ChildItem -LiteralPath $root -Force).Count -eq 0) { Remove-Item -LiteralPath $root -Force }
Write-RdpfixResult ([ordered]@{ task = $task; wasArmed = ($armed.Count -gt 0); ran = $ran; leftAlone = $refusal })
