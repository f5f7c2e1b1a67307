param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson
# Steps: 'start-type' (a Disabled TermService / UmRdpService back to Manual) and 'restart' (TermService with its
# dependents, until the rdp-tcp listener listens). Facts: shared reference section 1 (services), 2.2-2.3 (quser,
# qwinsta).

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

function Get-RdpServices {
    # TermService must exist; UmRdpService (which depends on it, reference 1.1) is reported when present.
    $out = New-Object System.Collections.ArrayList
    $ts = Get-Service -Name 'TermService' -ErrorAction Stop
    [void]$out.Add($ts)
    $um = Get-Service -Name 'UmRdpService' -ErrorAction SilentlyContinue
    if ($null -ne $um) { [void]$out.Add($um) }
    return , $out.ToArray()
}

function Get-RdpListener {
    # 'qwinsta rdp-tcp': the listener row has an ID >= 65536 and STATE 'Listen' while Remote Desktop Services
    # listens (reference 1.2, 2.3). STATE is localized: the words below are the ones seen in real outputs
    # (en, de, ru) and the lab's es/fr tables. Native stderr becomes error records in 5.1: read with 2>&1.
    $ErrorActionPreference = 'Continue'
    $lines = @(qwinsta rdp-tcp 2>&1 | ForEach-Object { "$_" })
    $listen = @('Listen', ('Abh' + [char]0x00F6 + 'r.'), ([string][char]0x00C9 + 'couter'), 'Escuchar',
        (-join @([char]0x041F, [char]0x0440, [char]0x043E, [char]0x0441, [char]0x043B, [char]0x0443, [char]0x0448)))
    foreach ($line in $lines) {
        if ($line -notmatch '^.(?<name>\S+)\s+(?<id>\d+)\s+(?<state>\S+)') { continue }
        if ($Matches['name'] -ne 'rdp-tcp' -or [int64]$Matches['id'] -lt 65536) { continue }
        $state = $Matches['state']
        return [ordered]@{ id = [int64]$Matches['id']; state = $state; listening = ($listen -contains $state) }
    }
    return $null
}

function Get-LiveRdpSessions {
    # quser rows whose SESSIONNAME is rdp-tcp#N are live RDP connections: they drop when TermService stops
    # (reference 1.7). Disconnected rows have an empty SESSIONNAME (reference 2.2). 'No User exists for *' goes to
    # stderr with exit code 1.
    $ErrorActionPreference = 'Continue'
    $lines = @(quser 2>&1 | ForEach-Object { "$_" })
    $found = New-Object System.Collections.ArrayList
    foreach ($line in ($lines | Select-Object -Skip 1)) {
        if ($line -notmatch '^.(?<user>\S+)\s+(?:(?<session>\S+)\s+)?(?<id>\d+)\s+(?<state>\S+)\s') { continue }
        if ($Matches['session'] -notlike 'rdp-tcp#*') { continue }
        [void]$found.Add(('{0} (session {1}, {2})' -f $Matches['user'], $Matches['id'], $Matches['session']))
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
        $type = Get-StartTypeName $svc
        $before[[string]$svc.Name] = $type
        # Manual is the default of both (reference 1.1: TermService is demand-start, trigger-started).
        if ($type -eq 'Disabled') { $after[[string]$svc.Name] = 'Manual' } else { $after[[string]$svc.Name] = $type }
    }
    $disabled = @($before.Keys | Where-Object { $before[$_] -eq 'Disabled' })
    $result = [ordered]@{ compliant = ($disabled.Count -eq 0); before = $before; after = $after; warnings = @() }
    ConvertTo-Json -InputObject $result -Depth 10 -Compress
    return
}

# restart
$services = Get-RdpServices
$before = [ordered]@{}
foreach ($svc in $services) { $before[[string]$svc.Name] = [string]$svc.Status }
$listener = Get-RdpListener
if ($null -eq $listener) { $before['listener'] = 'none' } else { $before['listener'] = $listener.state }
$healthy = (@($services | Where-Object { [string]$_.Status -ne 'Running' }).Count -eq 0) -and $null -ne $listener -and $listener.listening
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
            [void]$warnings.Add('Restarting Remote Desktop Services drops every live RDP connection; quser lists none right now.')
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
    if (@($services | Where-Object { (Get-StartTypeName $_) -eq 'Disabled' }).Count -gt 0) {
        [void]$warnings.Add('A Disabled service cannot start: the start-type step sets it to Manual before this step runs.')
    }
}
$result = [ordered]@{ compliant = $compliant; before = $before; after = $after; predictable = $predictable; warnings = $warnings.ToArray() }
ConvertTo-Json -InputObject $result -Depth 10 -Compress
