param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# New-ItemProperty -PropertyType DWord: the kind is explicit even where the value was missing (reference C.1).
New-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server' -Name 'fDenyTSConnections' -PropertyType DWord -Value 0 -Force | Out-Null
ConvertTo-Json -InputObject ([ordered]@{ changed = $true; rebootRequired = $false; warnings = @() }) -Compress
