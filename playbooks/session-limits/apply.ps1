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
# A DWORD is written as Int32: 4294967295 goes in as -1, with the kind explicit (reference C.1).
$signed = [BitConverter]::ToInt32([BitConverter]::GetBytes($target), 0)
New-ItemProperty -Path $key -Name $name -PropertyType DWord -Value $signed -Force | Out-Null
ConvertTo-Json -InputObject ([ordered]@{ changed = $true; rebootRequired = $false; warnings = @() }) -Compress
