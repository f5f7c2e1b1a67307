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
$dir = (Initialize-RdpfixFolder -Relative "revert\$task").path
# ASCII scripts read the same in 5.1 whatever the encoding; the input may hold any text, read back as UTF-8.
Set-Content -LiteralPath "$dir\revert.ps1" -Value ([string]$in.runner) -Encoding UTF8
Set-Content -LiteralPath "$dir\undo.ps1" -Value ([string]$in.undoScript) -Encoding UTF8
Set-Content -LiteralPath "$dir\input.json" -Value ([string]$in.undoInput) -Encoding UTF8

$due = (Get-Date).AddMinutes($ttl)
$argument = '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "' + "$dir\revert.ps1" + '" -TaskDir "' + $dir + '"'
$action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument $argument
$triggers = @((New-ScheduledTaskTrigger -Once -At $due), (New-ScheduledTaskTrigger -AtStartup))
$principal = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest
# Without these opt-in switches a host on battery, or off at the due time, would not revert (reference 7.5).
$settings = New-ScheduledTaskSettingsSet -StartWhenAvailable -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -ExecutionTimeLimit (New-TimeSpan -Minutes 10)
Register-ScheduledTask -TaskName $task -TaskPath '\rdpfix\' -Action $action -Trigger $triggers -Principal $principal -Settings $settings -Description 'rdpfix revert task: restores the prior state unless the change is confirmed.' -Force | Out-Null

# The safety net must exist before the change is made: read it back.
$registered = Get-ScheduledTask -TaskName $task -TaskPath '\rdpfix\'
$info = Get-ScheduledTaskInfo -TaskName $task -TaskPath '\rdpfix\'
if ([string]$registered.State -ne 'Ready') { throw "The revert task $task is $($registered.State), not Ready." }
$next = $null
if ($null -ne $info.NextRunTime) { $next = ([datetime]$info.NextRunTime).ToUniversalTime().ToString('o') }
$result = [ordered]@{ task = $task; taskPath = '\rdpfix\'; dir = $dir; dueUtc = $due.ToUniversalTime().ToString('o'); nextRunUtc = $next }
ConvertTo-Json -InputObject $result -Depth 10 -Compress
