# The prior state of the local value: whether it existed, its kind and data (undo deletes it if it was absent).
param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server'
$state = [ordered]@{ exists = $false; kind = $null; data = $null }
$item = Get-ItemProperty -Path $key -Name 'fDenyTSConnections' -ErrorAction SilentlyContinue
if ($null -ne $item) {
    $state.exists = $true
    $state.kind = (Get-Item -Path $key).GetValueKind('fDenyTSConnections').ToString()
    $state.data = $item.fDenyTSConnections
}
ConvertTo-Json -InputObject ([ordered]@{ state = $state; warnings = @() }) -Depth 10 -Compress
