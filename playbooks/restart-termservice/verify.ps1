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

function Get-RdpListener {
    # 'qwinsta rdp-tcp': the listener row has an ID >= 65536 and STATE 'Listen' (reference 1.5, 2.3); STATE is
    # localized (en, de, ru from real outputs; the lab's es/fr words).
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

if ($in.step -eq 'start-type') {
    $bad = New-Object System.Collections.ArrayList
    foreach ($name in @('TermService', 'UmRdpService')) {
        $svc = Get-Service -Name $name -ErrorAction SilentlyContinue
        if ($null -ne $svc -and (Get-StartTypeName $svc) -eq 'Disabled') { [void]$bad.Add($name) }
    }
    $r = [ordered]@{ ok = ($bad.Count -eq 0) }
    if ($bad.Count -gt 0) { $r['reason'] = 'still Disabled: ' + ($bad.ToArray() -join ', ') }
    ConvertTo-Json -InputObject $r -Depth 10 -Compress
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
    $listener = Get-RdpListener
    if ($null -eq $listener) { [void]$problems.Add('qwinsta shows no rdp-tcp listener') }
    elseif (-not $listener.listening) { [void]$problems.Add(('the rdp-tcp listener (ID {0}) is in state {1}, not Listen' -f $listener.id, $listener.state)) }
    if ($problems.Count -eq 0 -or (Get-Date) -ge $deadline) { break }
    Start-Sleep -Seconds 1
}
$r = [ordered]@{ ok = ($problems.Count -eq 0) }
if ($problems.Count -gt 0) { $r['reason'] = ($problems.ToArray() -join '; ') }
ConvertTo-Json -InputObject $r -Depth 10 -Compress
