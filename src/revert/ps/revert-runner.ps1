# Written to the host by arm-revert-task.ps1 and run by the revert task as SYSTEM: restores a step's checkpoint with the
# step's own undo script, records the outcome in result.json next to it, and removes the task once it succeeded
# (after a failure the startup trigger tries again at the next boot). Needs nothing from the controller. Started by
# revert-bootstrap.ps1 (the task's -EncodedCommand), never as a -File script.
param([Parameter(Mandatory)][string]$TaskDir)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# Self-test (arm-revert-task.ps1 starts the task once before the change is made): answer the nonce, change nothing.
# The undo scripts need the full language: a host that starts SYSTEM's PowerShell in ConstrainedLanguage (WDAC) says so.
$selfTest = "$TaskDir\selftest.json"
if (Test-Path -LiteralPath $selfTest) {
    $probe = ConvertFrom-Json -InputObject (Get-Content -LiteralPath $selfTest -Raw -Encoding UTF8)
    Remove-Item -LiteralPath $selfTest -Force
    $answer = [ordered]@{ nonce = [string]$probe.nonce; ranUtc = (Get-Date).ToUniversalTime().ToString('o'); languageMode = [string]$ExecutionContext.SessionState.LanguageMode }
    Set-Content -LiteralPath "$TaskDir\selftest-result.json" -Value (ConvertTo-Json -InputObject $answer -Compress) -Encoding UTF8
    return
}
$result = [ordered]@{ ranUtc = (Get-Date).ToUniversalTime().ToString('o'); ok = $false; changed = $null; error = $null }
try {
    $undo = Get-Content -LiteralPath "$TaskDir\undo.ps1" -Raw -Encoding UTF8
    $undoInput = Get-Content -LiteralPath "$TaskDir\input.json" -Raw -Encoding UTF8
    $out = @(& ([scriptblock]::Create($undo)) -InputJson $undoInput)
    $reply = ConvertFrom-Json -InputObject ([string]$out[$out.Count - 1])
    $result.ok = $true
    $result.changed = [bool]$reply.changed
}
catch { $result.error = $_.ToString() }
Set-Content -LiteralPath "$TaskDir\result.json" -Value (ConvertTo-Json -InputObject $result -Compress) -Encoding UTF8
if ($result.ok) { Unregister-ScheduledTask -TaskName ($TaskDir.Substring($TaskDir.LastIndexOf('\') + 1)) -TaskPath '\rdpfix\' -Confirm:$false }
