# Arms a commit-confirmed revert on the host, before a lockout-prone or security-weakening change is made:
# a folder only SYSTEM and Administrators can write holds the step's undo script and its input, and a SYSTEM
# scheduled task runs them after the TTL (and at startup, should the host reboot first) unless the controller
# disarms it. Idempotent: arming again replaces the task and the files. Reference 7.5.
# The shared prelude (playbooks/_shared/prelude.ps1: rdpfix's protected folder) is inserted after the param block.
param([Parameter(Mandatory)][string]$InputJson)
$in = ConvertFrom-Json -InputObject $InputJson
$task = [string]$in.task
# The name goes into the task's command line: only a closed set of characters (the controller builds it the same way).
if ($task -notmatch '^rdpfix-[A-Za-z0-9._-]{1,200}$') { throw "Invalid revert task name '$task'." }
$ttl = [int]$in.ttlMinutes
if ($ttl -lt 1) { throw "Invalid TTL $ttl." }

# The task runs these files as SYSTEM: nobody but SYSTEM and Administrators may write them. Ordinary users may
# create folders under ProgramData, so an rdpfix or revert folder someone else made (or a junction) is refused, not
# reused: it could swap the script the task runs (Initialize-RdpfixFolder).
$folder = Initialize-RdpfixFolder -Relative "revert\$task"
$dir = $folder.path
# ASCII scripts read the same in 5.1 whatever the encoding; the input may hold any text, read back as UTF-8.
Set-Content -LiteralPath "$dir\revert.ps1" -Value ([string]$in.runner) -Encoding UTF8
Set-Content -LiteralPath "$dir\undo.ps1" -Value ([string]$in.undoScript) -Encoding UTF8
Set-Content -LiteralPath "$dir\input.json" -Value ([string]$in.undoInput) -Encoding UTF8

# No script file on the command line: an execution policy set by group policy (AllSigned, Restricted) outranks
# -ExecutionPolicy Bypass and would stop a -File script from ever running; it does not apply to a command. The fixed
# bootstrap finds its folder as its working directory. Base64 is safe on a command line.
$encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes([string]$in.bootstrap))
$argument = '-NoProfile -NonInteractive -EncodedCommand ' + $encoded
# The longest argument string a documented Task Scheduler interface takes is 480 characters (the legacy ITask command
# line); keep under it (docs/windows-facts/network-firewall-sessions-tasks.md).
if ($argument.Length -gt 480) { throw "The revert task's command line is $($argument.Length) characters, more than 480." }
$due = (Get-Date).AddMinutes($ttl)
$action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument $argument -WorkingDirectory $dir
$triggers = @((New-ScheduledTaskTrigger -Once -At $due), (New-ScheduledTaskTrigger -AtStartup))
# SYSTEM by SID: the account's name is localized on some systems (e.g. fr-FR, ru-RU); S-1-5-18 is the same everywhere.
$principal = New-ScheduledTaskPrincipal -UserId 'S-1-5-18' -LogonType ServiceAccount -RunLevel Highest
# Without these opt-in switches a host on battery, or off at the due time, would not revert (reference 7.5).
$settings = New-ScheduledTaskSettingsSet -StartWhenAvailable -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -ExecutionTimeLimit (New-TimeSpan -Minutes 10)
Register-ScheduledTask -TaskName $task -TaskPath '\rdpfix\' -Action $action -Trigger $triggers -Principal $principal -Settings $settings -Description 'rdpfix revert task: restores the prior state unless the change is confirmed.' -Force | Out-Null

# The safety net must exist before the change is made, and must be able to run: read it back, then start it once in
# self-test mode (the runner answers the nonce and changes nothing). A task that cannot run (execution policy,
# blocked powershell.exe, principal, ConstrainedLanguage) is found now, and the arm fails leaving nothing behind.
$selfTestSeconds = 60
if ($null -ne $in.PSObject.Properties['selfTestSeconds']) { $selfTestSeconds = [int]$in.selfTestSeconds }
try {
    $registered = Get-ScheduledTask -TaskName $task -TaskPath '\rdpfix\'
    if ([string]$registered.State -ne 'Ready') { throw "the task is $($registered.State), not Ready" }
    $nonce = [guid]::NewGuid().ToString('N')
    Set-Content -LiteralPath "$dir\selftest.json" -Value (ConvertTo-Json -InputObject ([ordered]@{ nonce = $nonce }) -Compress) -Encoding UTF8
    Start-ScheduledTask -TaskName $task -TaskPath '\rdpfix\'
    $answer = $null
    $lastResult = $null
    $clock = [Diagnostics.Stopwatch]::StartNew()
    while ($null -eq $answer) {
        # Read the result code first: a run that ended without an answer is over, not slow.
        $lastResult = [uint32](Get-ScheduledTaskInfo -TaskName $task -TaskPath '\rdpfix\').LastTaskResult
        if (Test-Path -LiteralPath "$dir\selftest-result.json") {
            $answer = ConvertFrom-Json -InputObject (Get-Content -LiteralPath "$dir\selftest-result.json" -Raw -Encoding UTF8)
            break
        }
        # 0x41303 SCHED_S_TASK_HAS_NOT_RUN (not started yet), 0x41301 SCHED_S_TASK_RUNNING.
        if ($lastResult -ne 267011 -and $lastResult -ne 267009) { throw ('the task ran but did not answer (last result 0x{0:X8})' -f $lastResult) }
        if ($clock.Elapsed.TotalSeconds -ge $selfTestSeconds) { throw ('the task did not answer within {0} s (last result 0x{1:X8})' -f $selfTestSeconds, $lastResult) }
        Start-Sleep -Milliseconds 250
    }
    if ([string]$answer.nonce -ne $nonce) { throw 'the task answered with another nonce' }
    if ([string]$answer.languageMode -ne 'FullLanguage') { throw "its PowerShell runs in $($answer.languageMode), the undo needs FullLanguage" }
    Remove-Item -LiteralPath "$dir\selftest-result.json" -Force
}
catch {
    $why = $_.Exception.Message
    # Leave nothing behind: no task that might run later, no folder rdpfix made.
    Unregister-ScheduledTask -TaskName $task -TaskPath '\rdpfix\' -Confirm:$false -ErrorAction SilentlyContinue
    if (Test-Path -LiteralPath $dir) { Remove-Item -LiteralPath $dir -Recurse -Force }
    $made = @($folder.created)
    [array]::Reverse($made)
    foreach ($level in $made) {
        if ((Test-Path -LiteralPath $level) -and @(Get-ChildItem -LiteralPath $level -Force).Count -eq 0) { Remove-Item -LiteralPath $level -Force }
    }
    throw "The revert task $task could not run on this host (self-test: $why). Check that a scheduled task running powershell.exe as SYSTEM can start here (AppLocker/WDAC rules, the Task Scheduler log)."
}
$info = Get-ScheduledTaskInfo -TaskName $task -TaskPath '\rdpfix\'
$next = $null
if ($null -ne $info.NextRunTime) { $next = ([datetime]$info.NextRunTime).ToUniversalTime().ToString('o') }
$result = [ordered]@{ task = $task; taskPath = '\rdpfix\'; dir = $dir; dueUtc = $due.ToUniversalTime().ToString('o'); nextRunUtc = $next }
ConvertTo-Json -InputObject $result -Depth 10 -Compress
