# Read-only: is NLA required, and who decides? The policy copy wins over the local value (shared reference C.2, 7.1).
param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson
$localKey = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'
$policyKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
function Read-Dword([string]$Key, [string]$Name) {
    $item = Get-ItemProperty -Path $Key -Name $Name -ErrorAction SilentlyContinue
    if ($null -eq $item) { return $null }
    return [int]$item.$Name
}
$ttl = [int]$in.parameters.ttlMinutes
$local = Read-Dword $localKey 'UserAuthentication'
$policy = Read-Dword $policyKey 'UserAuthentication'
$effective = $local
if ($null -ne $policy) { $effective = $policy }
# An absent value is not "NLA off": Windows Server 2012 / Windows 8 and later enforce NLA by default (reference 7.1).
$compliant = ($effective -eq 0)
$blocked = $null
$warnings = @()
if (-not $compliant -and $null -ne $policy) {
    $blocked = "blocked by policy: group policy sets UserAuthentication=$policy (HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services, 'Require user authentication for remote connections by using Network Level Authentication'); a local change has no effect. Change the GPO."
}
if (-not $compliant -and $null -eq $blocked) {
    $warnings += "Turning NLA off weakens security: users are authenticated only after a session has been created on the host, and clients that cannot do NLA may connect."
    $warnings += "The change reverts by itself after $ttl minutes (ttlMinutes): a SYSTEM scheduled task on the host restores UserAuthentication then, even if the controller is gone."
}
$result = [ordered]@{
    compliant = $compliant
    blocked   = $blocked
    before    = [ordered]@{ UserAuthentication = $local; policy = $policy }
    after     = [ordered]@{ UserAuthentication = 0; policy = $policy; revertsAfterMinutes = $ttl }
    warnings  = $warnings
}
ConvertTo-Json -InputObject $result -Depth 10 -Compress
