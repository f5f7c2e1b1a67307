# restart-termservice: steps 'start-type' (a Disabled TermService / UmRdpService back to Manual) and 'restart'
# (TermService with its dependents, until the rdp-tcp listener listens). Facts: shared reference section 1 (services),
# 2 (sessions, read through the WTS API). One script for every phase and step (the engine passes $in.phase and $in.step); the shared
# prelude (playbooks/_shared/prelude.ps1) is inserted after the param block when the step is sent.
param([Parameter(Mandatory)][string]$InputJson)
$in = Read-RdpfixInput -Json $InputJson -Steps 'start-type', 'restart' -Parameters 'force', 'stopTimeoutSeconds'

# ---- Shared by every phase ----
function Get-RdpServices {
    # TermService must exist; UmRdpService (which depends on it, reference 1.1) is reported when present.
    $out = New-Object System.Collections.ArrayList
    $ts = Get-Service -Name 'TermService' -ErrorAction Stop
    [void]$out.Add($ts)
    $um = Get-Service -Name 'UmRdpService' -ErrorAction SilentlyContinue
    if ($null -ne $um) { [void]$out.Add($um) }
    return , $out.ToArray()
}

# ---- end of the shared part ----

# Read-only: what is disabled or down, and who a restart would disconnect.
if ($in.phase -eq 'check') { . {
function Get-LiveRdpSessions {
    # The users whose live RDP connections a restart drops (prelude: through the WTS API).
    $found = New-Object System.Collections.ArrayList
    foreach ($s in (Get-RdpfixLiveRdpSessions)) {
        if ($s.user -ne '') { [void]$found.Add(('{0} (session {1}, {2})' -f $s.user, $s.id, $s.winStation)) }
    }
    return , $found.ToArray()
}

function Get-CoHostedServices {
    # The services in TermService's svchost: ending that process (the last resort for a hung TermService,
    # reference 1.4) stops all of them. $svcPid, never $pid (PowerShell's own process id).
    param([int]$SvcPid)
    if ($SvcPid -le 0) { return , @() }
    $names = @(Get-CimInstance -ClassName Win32_Service -Filter ("ProcessId=" + $SvcPid) | Where-Object { $_.Name -ne 'TermService' } | ForEach-Object { [string]$_.Name } | Sort-Object)
    return , $names
}

$warnings = New-Object System.Collections.ArrayList
$params = $in.parameters

if ($in.step -eq 'start-type') {
    $before = [ordered]@{}
    $after = [ordered]@{}
    foreach ($svc in (Get-RdpServices)) {
        $type = Get-RdpfixStartType $svc
        $before[[string]$svc.Name] = $type
        # Manual is the default of both (reference 1.1: TermService is demand-start, trigger-started).
        if ($type -eq 'Disabled') { $after[[string]$svc.Name] = 'Manual' } else { $after[[string]$svc.Name] = $type }
    }
    $disabled = @($before.Keys | Where-Object { $before[$_] -eq 'Disabled' })
    Write-RdpfixResult ([ordered]@{ compliant = ($disabled.Count -eq 0); before = $before; after = $after; warnings = @() })
    return
}

# restart
$services = Get-RdpServices
$before = [ordered]@{}
foreach ($svc in $services) { $before[[string]$svc.Name] = [string]$svc.Status }
$listener = Get-RdpfixRdpListener
if ($listener.listening) { $before['listener'] = 'Listen' } else { $before['listener'] = 'none' }
$healthy = (@($services | Where-Object { [string]$_.Status -ne 'Running' }).Count -eq 0) -and $listener.listening
$force = $false
if ($null -ne $params -and $null -ne $params.PSObject.Properties['force']) { $force = [bool]$params.force }
$timeout = 30
if ($null -ne $params -and $null -ne $params.PSObject.Properties['stopTimeoutSeconds']) { $timeout = [int]$params.stopTimeoutSeconds }
$after = [ordered]@{}
foreach ($svc in $services) { $after[[string]$svc.Name] = 'Running' }
$after['listener'] = 'Listen'
$compliant = $healthy -and -not $force
$predictable = $true
if (-not $compliant) {
    $ts = $services[0]
    $tsStatus = [string]$ts.Status
    $live = Get-LiveRdpSessions
    if ($tsStatus -eq 'Running' -or $tsStatus -eq 'StartPending' -or $tsStatus -eq 'StopPending') {
        if ($live.Count -gt 0) {
            [void]$warnings.Add('Restarting Remote Desktop Services drops every live RDP connection: ' + ($live -join ', ') +
                '. Whether those sessions survive as disconnected sessions is not documented; PowerShell remoting (WinRM) is not affected.')
        } else {
            [void]$warnings.Add('Restarting Remote Desktop Services drops every live RDP connection; none is connected right now.')
        }
    }
    $cim = @(Get-CimInstance -ClassName Win32_Service -Filter "Name='TermService'")
    $svcPid = 0
    if ($cim.Count -gt 0) { $svcPid = [int]$cim[0].ProcessId }
    $others = Get-CoHostedServices $svcPid
    $alsoStops = 'no other service'
    if ($others.Count -gt 0) { $alsoStops = ($others -join ', ') + ' (started again afterwards)' }
    if ($tsStatus -eq 'StartPending' -or $tsStatus -eq 'StopPending') {
        # Whether the service starts once its process is gone cannot be foreseen.
        $predictable = $false
        [void]$warnings.Add(('TermService is {0} (hung). Unless it settles within {1} s, its service host process (PID {2}) is ended, which also stops: {3}.' -f $tsStatus, $timeout, $svcPid, $alsoStops))
    } elseif ($tsStatus -eq 'Running' -and $svcPid -gt 0) {
        [void]$warnings.Add(('If TermService does not stop within {0} s, its service host process (PID {1}) is ended, which also stops: {2}.' -f $timeout, $svcPid, $alsoStops))
    }
    if (@($services | Where-Object { (Get-RdpfixStartType $_) -eq 'Disabled' }).Count -gt 0) {
        [void]$warnings.Add('A Disabled service cannot start: the start-type step sets it to Manual before this step runs.')
    }
}
Write-RdpfixResult ([ordered]@{ compliant = $compliant; before = $before; after = $after; predictable = $predictable; warnings = $warnings.ToArray() })
} }

elseif ($in.phase -eq 'capture') { . {
# start-type: the start types undo restores (only these: the restart changes the status, and a rollback compares
# this capture with the state the step left). restart: for the journal only - who was connected, the services'
# state and host process (reference 1.3: "capture is for verification and reporting"); a restart has no undo.

if ($in.step -eq 'start-type') {
    $state = [ordered]@{}
    foreach ($svc in (Get-RdpServices)) { $state[[string]$svc.Name] = Get-RdpfixStartType $svc }
    Write-RdpfixResult ([ordered]@{ state = $state })
    return
}

$services = [ordered]@{}
foreach ($svc in (Get-RdpServices)) { $services[[string]$svc.Name] = [ordered]@{ status = [string]$svc.Status; startType = (Get-RdpfixStartType $svc) } }
$cim = @(Get-CimInstance -ClassName Win32_Service -Filter "Name='TermService'")
$svcPid = 0
if ($cim.Count -gt 0) { $svcPid = [int]$cim[0].ProcessId }
# Who is connected, for the journal; $null with the reason where the list cannot be read (TermService down).
$sessions = $null; $sessionsError = $null
try { $sessions = @(Get-RdpfixSessions | Where-Object { $_.user -ne '' } | ForEach-Object { [ordered]@{ id = $_.id; user = $_.user; state = $_.stateName; winStation = $_.winStation } }) }
catch { $sessionsError = $_.Exception.Message }
$state = [ordered]@{ services = $services; processId = $svcPid; sessions = $sessions; sessionsError = $sessionsError; listener = (Get-RdpfixRdpListener) }
Write-RdpfixResult ([ordered]@{ state = $state })
} }

elseif ($in.phase -eq 'apply') { . {
if ($in.step -eq 'start-type') {
    # Manual is the default start type of TermService and UmRdpService (reference 1.1); 5.1's Set-Service takes
    # Automatic, Manual, Disabled, Boot, System (reference 1.6).
    $set = New-Object System.Collections.ArrayList
    foreach ($name in @('TermService', 'UmRdpService')) {
        $svc = Get-Service -Name $name -ErrorAction SilentlyContinue
        if ($null -eq $svc -or (Get-RdpfixStartType $svc) -ne 'Disabled') { continue }
        Set-Service -Name $name -StartupType Manual -ErrorAction Stop
        [void]$set.Add($name)
    }
    Write-RdpfixResult ([ordered]@{ changed = ($set.Count -gt 0); setToManual = $set.ToArray() })
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

Write-RdpfixResult ([ordered]@{ changed = ($actions.Count -gt 0); actions = $actions.ToArray(); killed = $killed.ToArray(); restartedCoHosted = $coHostedNow; warnings = $warnings.ToArray() })
} }

elseif ($in.phase -eq 'verify') { . {
if ($in.step -eq 'start-type') {
    $bad = New-Object System.Collections.ArrayList
    foreach ($name in @('TermService', 'UmRdpService')) {
        $svc = Get-Service -Name $name -ErrorAction SilentlyContinue
        if ($null -ne $svc -and (Get-RdpfixStartType $svc) -eq 'Disabled') { [void]$bad.Add($name) }
    }
    $r = [ordered]@{ ok = ($bad.Count -eq 0) }
    if ($bad.Count -gt 0) { $r['reason'] = 'still Disabled: ' + ($bad.ToArray() -join ', ') }
    Write-RdpfixResult $r
    return
}

# restart: TermService and UmRdpService Running, rdp-tcp listening (reference 1.5). The listener can follow the
# service by a moment: poll up to stopTimeoutSeconds.
$deadline = (Get-Date).AddSeconds([int]$in.parameters.stopTimeoutSeconds)
while ($true) {
    $problems = New-Object System.Collections.ArrayList
    foreach ($name in @('TermService', 'UmRdpService')) {
        $svc = Get-Service -Name $name -ErrorAction SilentlyContinue
        if ($null -eq $svc) {
            if ($name -eq 'TermService') { [void]$problems.Add('TermService does not exist') }
            continue
        }
        if ([string]$svc.Status -ne 'Running') { [void]$problems.Add(('{0} is {1}' -f $name, $svc.Status)) }
    }
    $listener = Get-RdpfixRdpListener
    if (-not $listener.listening) { [void]$problems.Add(('TermService (PID {0}) does not listen on TCP port {1}' -f $listener.termServicePid, $listener.port)) }
    if ($problems.Count -eq 0 -or (Get-Date) -ge $deadline) { break }
    Start-Sleep -Seconds 1
}
$r = [ordered]@{ ok = ($problems.Count -eq 0) }
if ($problems.Count -gt 0) { $r['reason'] = ($problems.ToArray() -join '; ') }
Write-RdpfixResult $r
} }

elseif ($in.phase -eq 'undo') { . {
# Undo of 'start-type' only (the restart is irreversible): every service in the checkpoint gets back the start
# type it had. Self-contained and idempotent: it compares first, so it is safe on an unapplied step and a
# second run changes nothing. It does not start or stop anything.

$restored = New-Object System.Collections.ArrayList
$warnings = New-Object System.Collections.ArrayList
$cp = $in.checkpoint
if ($null -ne $cp) {
    foreach ($name in @('TermService', 'UmRdpService')) {
        $p = $cp.PSObject.Properties[$name]
        if ($null -eq $p -or $null -eq $p.Value) { continue }
        $want = [string]$p.Value
        # Only the names 5.1's Set-Service -StartupType takes (reference 1.6).
        if (@('Automatic', 'Manual', 'Disabled', 'Boot', 'System') -notcontains $want) { throw "checkpoint: unexpected start type '$want' for $name" }
        $svc = Get-Service -Name $name -ErrorAction SilentlyContinue
        if ($null -eq $svc) { [void]$warnings.Add("$name no longer exists; nothing to restore."); continue }
        if ((Get-RdpfixStartType $svc) -eq $want) { continue }
        Set-Service -Name $name -StartupType $want -ErrorAction Stop
        [void]$restored.Add(('{0}={1}' -f $name, $want))
        if ($want -eq 'Disabled' -and [string]$svc.Status -ne 'Stopped') {
            [void]$warnings.Add("$name is Disabled again, as before the run. It keeps running until it stops and cannot be started after that.")
        }
    }
}
Write-RdpfixResult ([ordered]@{ changed = ($restored.Count -gt 0); restored = $restored.ToArray(); warnings = $warnings.ToArray() })
} }
else { throw "restart-termservice has no phase '$($in.phase)'." }
