param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson
if ($in.step -eq 'max-instance-count') {
    $key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'; $name = 'MaxInstanceCount'
    $target = [uint32]$in.parameters.maxInstanceCount
} else {
    $key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server'; $name = 'fSingleSessionPerUser'
    $target = [uint32]0
    if ($in.parameters.singleSessionPerUser -eq 'on') { $target = [uint32]1 }
}
$values = @()
foreach ($k in @($key, 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services')) {
    $item = Get-ItemProperty -Path $k -Name $name -ErrorAction SilentlyContinue
    if ($null -ne $item) { $values += , [BitConverter]::ToUInt32([BitConverter]::GetBytes([int]$item.$name), 0) }
}
# The policy value, when present, is the effective one (it is read last).
$effective = $null
if ($values.Count -gt 0) { $effective = $values[$values.Count - 1] }
ConvertTo-Json -InputObject ([ordered]@{ ok = ($effective -eq $target); reason = "effective $name is $effective, expected $target"; warnings = @() }) -Compress
