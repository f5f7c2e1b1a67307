# The prior state of the local value: whether it existed, its kind and data (undo deletes it if it was absent).
param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson
if ($in.step -eq 'max-instance-count') { $key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'; $name = 'MaxInstanceCount' }
else { $key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server'; $name = 'fSingleSessionPerUser' }
$state = [ordered]@{ exists = $false; kind = $null; data = $null }
$item = Get-ItemProperty -Path $key -Name $name -ErrorAction SilentlyContinue
if ($null -ne $item) {
    $state.exists = $true
    $state.kind = (Get-Item -Path $key).GetValueKind($name).ToString()
    $state.data = $item.$name
}
ConvertTo-Json -InputObject ([ordered]@{ state = $state; warnings = @() }) -Depth 10 -Compress
