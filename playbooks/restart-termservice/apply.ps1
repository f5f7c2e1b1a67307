param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson

function Get-StartTypeName {
    # ServiceController.StartType exists in 5.1 on .NET 4.6.1+; otherwise Win32_Service.StartMode (reference 1.2).
    param($Svc)
    $p = $Svc.PSObject.Properties['StartType']
    if ($null -ne $p -and $null -ne $p.Value) { return [string]$p.Value }
    $cim = @(Get-CimInstance -ClassName Win32_Service -Filter ("Name='" + [string]$Svc.Name + "'"))
    $map = @{ Auto = 'Automatic'; Manual = 'Manual'; Disabled = 'Disabled'; Boot = 'Boot'; System = 'System' }
    if ($cim.Count -eq 0) { return $null }
    return $map[[string]$cim[0].StartMode]
}

if ($in.step -eq 'start-type') {
    # Manual is the default start type of TermService and UmRdpService (reference 1.1); 5.1's Set-Service takes
    # Automatic, Manual, Disabled, Boot, System (reference 1.6).
    $set = New-Object System.Collections.ArrayList
    foreach ($name in @('TermService', 'UmRdpService')) {
        $svc = Get-Service -Name $name -ErrorAction SilentlyContinue
        if ($null -eq $svc -or (Get-StartTypeName $svc) -ne 'Disabled') { continue }
        Set-Service -Name $name -StartupType Manual -ErrorAction Stop
        [void]$set.Add($name)
    }
    ConvertTo-Json -InputObject ([ordered]@{ changed = ($set.Count -gt 0); setToManual = $set.ToArray() }) -Depth 10 -Compress
    return
}

# restart. Windows PowerShell 5.1's Restart-Service waits without a timeout, and a hung TermService makes it (and
# the remote call) hang (reference 1.4). So: Stop-Service -NoWait (-Force: UmRdpService depends on TermService),
# poll with a deadline; a TermService that does not stop - or hangs start-pending, where it refuses the stop
# control - is ended with its service host process, after listing the other services in that process. Then
# ServiceController.Start(), which returns at once, and poll again. $svcPid, never $pid.
$timeout = [int]$in.parameters.stopTimeoutSeconds
$warnings = New-Object System.Collections.ArrayList
$actions = New-Object System.Collections.ArrayList

function Get-Status {
    param([Parameter(Mandatory)][string]$Name)
    $s = Get-Service -Name $Name -ErrorAction SilentlyContinue
    if ($null -eq $s) { return 'Missing' }
    return [string]$s.Status
}

function Wait-Status {
    param([Parameter(Mandatory)][string]$Name, [Parameter(Mandatory)][string]$Want, [datetime]$Deadline)
    while ($true) {
        $st = Get-Status -Name $Name
        if ($st -eq $Want -or (Get-Date) -ge $Deadline) { return $st }
        Start-Sleep -Milliseconds 500
    }
}

function Stop-Bounded {
    # Stop-Service -NoWait, then poll until Stopped or the deadline. Returns the last status.
    param([Parameter(Mandatory)][string]$Name, [datetime]$Deadline)
    $st = Get-Status -Name $Name
    if ($st -eq 'Stopped' -or $st -eq 'Missing') { return $st }
    if ($st -eq 'Running') {
        try {
            Stop-Service -Name $Name -Force -NoWait -ErrorAction Stop
            [void]$actions.Add("Stop-Service $Name -Force -NoWait")
        } catch { [void]$warnings.Add("Stop-Service ${Name}: $($_.Exception.Message)") }
    }
    return (Wait-Status -Name $Name -Want 'Stopped' -Deadline $Deadline)
}

function Start-Bounded {
    # ServiceController.Start() returns as soon as the SCM accepted the start; poll until Running or the deadline.
    param([Parameter(Mandatory)][string]$Name, [datetime]$Deadline)
    $svc = Get-Service -Name $Name -ErrorAction SilentlyContinue
    if ($null -eq $svc) { return 'Missing' }
    if ([string]$svc.Status -eq 'Stopped') {
        try {
            $svc.Start()
            [void]$actions.Add("start $Name")
        } catch { [void]$warnings.Add("starting ${Name}: $($_.Exception.Message)") }
    }
    return (Wait-Status -Name $Name -Want 'Running' -Deadline $Deadline)
}

$ts = Get-Service -Name 'TermService' -ErrorAction Stop
# Dependents to bring back: those running now, and UmRdpService, which must run for RDP (reference 1.5).
$deps = New-Object System.Collections.ArrayList
foreach ($d in @($ts.DependentServices)) {
    $dn = [string]$d.Name
    if ($dn -and ([string]$d.Status -eq 'Running' -or $dn -eq 'UmRdpService')) { [void]$deps.Add($dn) }
}

# 1. Stop, with a deadline. A start-pending TermService may still finish starting: it is stopped once it runs.
$deadline = (Get-Date).AddSeconds($timeout)
$stopSent = $false
$status = [string]$ts.Status
while ($status -ne 'Stopped') {
    if ($status -eq 'Running' -and -not $stopSent) {
        $stopSent = $true
        try {
            Stop-Service -Name 'TermService' -Force -NoWait -ErrorAction Stop
            [void]$actions.Add('Stop-Service TermService -Force -NoWait')
        } catch { [void]$warnings.Add("Stop-Service TermService: $($_.Exception.Message)") }
    } elseif ((Get-Date) -ge $deadline) {
        break
    } else {
        Start-Sleep -Milliseconds 500
    }
    $status = Get-Status -Name 'TermService'
}

# 2. Last resort: end TermService's service host process, after listing what else runs in it (those that ran
# are started again at the end). Dependents live in other processes: they are stopped first rather than left
# running on a dead TermService.
$restartCoHosted = New-Object System.Collections.ArrayList
function Stop-TermServiceHost {
    param([Parameter(Mandatory)][string]$Status)
    $cim = @(Get-CimInstance -ClassName Win32_Service -Filter "Name='TermService'")
    $svcPid = 0
    if ($cim.Count -gt 0) { $svcPid = [int]$cim[0].ProcessId }
    if ($svcPid -le 0) { throw "TermService is still $Status after $timeout s and has no process to end." }
    $others = @(Get-CimInstance -ClassName Win32_Service -Filter ("ProcessId=" + $svcPid) | Where-Object { $_.Name -ne 'TermService' } | Sort-Object Name)
    foreach ($o in $others) { if ([string]$o.State -eq 'Running' -and -not $restartCoHosted.Contains([string]$o.Name)) { [void]$restartCoHosted.Add([string]$o.Name) } }
    $depDeadline = (Get-Date).AddSeconds($timeout)
    foreach ($dn in $deps) {
        $st = Stop-Bounded -Name $dn -Deadline $depDeadline
        if ($st -ne 'Stopped' -and $st -ne 'Missing') { [void]$warnings.Add("$dn is still $st; ending TermService's process anyway.") }
    }
    $otherNames = @($others | ForEach-Object { [string]$_.Name })
    $also = 'no other service'
    if ($otherNames.Count -gt 0) { $also = $otherNames -join ', ' }
    [void]$warnings.Add(("TermService stayed {0} for {1} s: ended its service host process (PID {2}), which also stopped: {3}." -f $Status, $timeout, $svcPid, $also))
    Stop-Process -Id $svcPid -Force -ErrorAction Stop
    [void]$actions.Add("Stop-Process -Id $svcPid -Force")
    $st = Wait-Status -Name 'TermService' -Want 'Stopped' -Deadline ((Get-Date).AddSeconds($timeout))
    if ($st -ne 'Stopped') { throw "TermService is still $st after its process (PID $svcPid) was ended." }
    return [ordered]@{ processId = $svcPid; services = @(@('TermService') + $otherNames) }
}

$killed = New-Object System.Collections.ArrayList
if ($status -ne 'Stopped') { [void]$killed.Add((Stop-TermServiceHost -Status $status)) }

# 3. Start TermService. If it hangs on starting (System event 7022) and its process has not been ended yet, end
# it once and start again; then the dependents, then the co-hosted services that were running.
$status = Start-Bounded -Name 'TermService' -Deadline ((Get-Date).AddSeconds($timeout))
if ($status -eq 'StartPending' -and $killed.Count -eq 0) {
    [void]$killed.Add((Stop-TermServiceHost -Status $status))
    $status = Start-Bounded -Name 'TermService' -Deadline ((Get-Date).AddSeconds($timeout))
}
if ($status -ne 'Running') {
    [void]$warnings.Add(("TermService is {0} {1} s after the start; a hang on starting is logged as System event 7022 (reference 1.2)." -f $status, $timeout))
} else {
    $startDeadline = (Get-Date).AddSeconds($timeout)
    foreach ($dn in $deps) {
        $st = Start-Bounded -Name $dn -Deadline $startDeadline
        if ($st -ne 'Running') { [void]$warnings.Add("$dn is $st after the restart.") }
    }
}
$coHostedNow = [ordered]@{}
$coDeadline = (Get-Date).AddSeconds($timeout)
foreach ($cn in $restartCoHosted) {
    $st = Start-Bounded -Name $cn -Deadline $coDeadline
    $coHostedNow[$cn] = $st
    if ($st -ne 'Running') { [void]$warnings.Add("$cn (it ran in TermService's process) is $st after the restart.") }
}

$result = [ordered]@{ changed = ($actions.Count -gt 0); actions = $actions.ToArray(); killed = $killed.ToArray(); restartedCoHosted = $coHostedNow; warnings = $warnings.ToArray() }
ConvertTo-Json -InputObject $result -Depth 10 -Compress
