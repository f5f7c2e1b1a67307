# The prior state of the local value: whether it existed, its kind and data. The checkpoint names its key and
# value, so the undo needs nothing else (it may run unattended on the host, from the revert task).
param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'
$name = 'UserAuthentication'
$state = [ordered]@{ key = $key; name = $name; exists = $false; kind = $null; data = $null }
$item = Get-ItemProperty -Path $key -Name $name -ErrorAction SilentlyContinue
if ($null -ne $item) {
    $state.exists = $true
    $state.kind = (Get-Item -Path $key).GetValueKind($name).ToString()
    $state.data = $item.$name
}
ConvertTo-Json -InputObject ([ordered]@{ state = $state; warnings = @() }) -Depth 10 -Compress
