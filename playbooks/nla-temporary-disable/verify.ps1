param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$local = Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp' -Name 'UserAuthentication' -ErrorAction SilentlyContinue
$policy = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services' -Name 'UserAuthentication' -ErrorAction SilentlyContinue
$effective = $null
if ($null -ne $local) { $effective = [int]$local.UserAuthentication }
if ($null -ne $policy) { $effective = [int]$policy.UserAuthentication }
$result = [ordered]@{ ok = ($effective -eq 0); reason = "effective UserAuthentication is $effective, expected 0"; warnings = @() }
ConvertTo-Json -InputObject $result -Depth 10 -Compress
