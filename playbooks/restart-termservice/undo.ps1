param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson
# Undo of 'start-type' only (the restart is irreversible): every service in the checkpoint gets back the start
# type it had. Self-contained and idempotent: it compares first, so it is safe on an unapplied step and a
# second run changes nothing. It does not start or stop anything.

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
        if ((Get-StartTypeName $svc) -eq $want) { continue }
        Set-Service -Name $name -StartupType $want -ErrorAction Stop
        [void]$restored.Add(('{0}={1}' -f $name, $want))
        if ($want -eq 'Disabled' -and [string]$svc.Status -ne 'Stopped') {
            [void]$warnings.Add("$name is Disabled again, as before the run. It keeps running until it stops and cannot be started after that.")
        }
    }
}
ConvertTo-Json -InputObject ([ordered]@{ changed = ($restored.Count -gt 0); restored = $restored.ToArray(); warnings = $warnings.ToArray() }) -Depth 10 -Compress
