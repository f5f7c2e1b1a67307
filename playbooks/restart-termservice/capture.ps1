param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson
# start-type: the start types undo restores (only these: the restart changes the status, and a rollback compares
# this capture with the state the step left). restart: for the journal only - who was connected, the services'
# state and host process (reference 1.3: "capture is for verification and reporting"); a restart has no undo.

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
    $out = New-Object System.Collections.ArrayList
    [void]$out.Add((Get-Service -Name 'TermService' -ErrorAction Stop))
    $um = Get-Service -Name 'UmRdpService' -ErrorAction SilentlyContinue
    if ($null -ne $um) { [void]$out.Add($um) }
    return , $out.ToArray()
}

if ($in.step -eq 'start-type') {
    $state = [ordered]@{}
    foreach ($svc in (Get-RdpServices)) { $state[[string]$svc.Name] = Get-StartTypeName $svc }
    ConvertTo-Json -InputObject ([ordered]@{ state = $state }) -Depth 10 -Compress
    return
}

$services = [ordered]@{}
foreach ($svc in (Get-RdpServices)) { $services[[string]$svc.Name] = [ordered]@{ status = [string]$svc.Status; startType = (Get-StartTypeName $svc) } }
$cim = @(Get-CimInstance -ClassName Win32_Service -Filter "Name='TermService'")
$svcPid = 0
if ($cim.Count -gt 0) { $svcPid = [int]$cim[0].ProcessId }
$ErrorActionPreference = 'Continue'
$quser = @(quser 2>&1 | ForEach-Object { "$_" })
$quserExit = $LASTEXITCODE
$qwinsta = @(qwinsta rdp-tcp 2>&1 | ForEach-Object { "$_" })
$ErrorActionPreference = 'Stop'
$state = [ordered]@{ services = $services; processId = $svcPid; quser = $quser; quserExitCode = $quserExit; listener = $qwinsta }
ConvertTo-Json -InputObject ([ordered]@{ state = $state }) -Depth 10 -Compress
