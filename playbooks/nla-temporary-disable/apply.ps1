param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson
$ttl = [int]$in.parameters.ttlMinutes
# The registry value Windows Admin Center's Set-RemoteDesktop writes too; the kind is explicit (reference C.1, 8.1).
New-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp' -Name 'UserAuthentication' -PropertyType DWord -Value 0 -Force | Out-Null
$warnings = @("NLA is off on this host until the revert task restores it after $ttl minutes.")
ConvertTo-Json -InputObject ([ordered]@{ changed = $true; rebootRequired = $false; warnings = $warnings }) -Depth 10 -Compress
