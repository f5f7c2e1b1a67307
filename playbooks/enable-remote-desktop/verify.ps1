param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$local = Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server' -Name 'fDenyTSConnections' -ErrorAction SilentlyContinue
$policy = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services' -Name 'fDenyTSConnections' -ErrorAction SilentlyContinue
$effective = $null
if ($null -ne $local) { $effective = [int]$local.fDenyTSConnections }
if ($null -ne $policy) { $effective = [int]$policy.fDenyTSConnections }
$result = [ordered]@{ ok = ($effective -eq 0); reason = "effective fDenyTSConnections is $effective"; warnings = @() }
ConvertTo-Json -InputObject $result -Compress
