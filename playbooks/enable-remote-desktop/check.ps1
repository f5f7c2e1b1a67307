# Read-only: is RDP denied, and who decides? The policy value wins over the local one (shared reference C.2, 8.1).
param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$localKey = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server'
$policyKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
function Read-Dword([string]$Key, [string]$Name) {
    $item = Get-ItemProperty -Path $Key -Name $Name -ErrorAction SilentlyContinue
    if ($null -eq $item) { return $null }
    return [int]$item.$Name
}
$local = Read-Dword $localKey 'fDenyTSConnections'
$policy = Read-Dword $policyKey 'fDenyTSConnections'
$effective = $local
if ($null -ne $policy) { $effective = $policy }
$blocked = $null
if ($null -ne $policy -and $policy -ne 0) {
    $blocked = 'blocked by policy: group policy sets fDenyTSConnections=1 (HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services); a local change would be reverted at the next policy refresh. Change the GPO.'
}
$result = [ordered]@{
    compliant = ($effective -eq 0)
    blocked   = $blocked
    before    = [ordered]@{ fDenyTSConnections = $local; policy = $policy }
    after     = [ordered]@{ fDenyTSConnections = 0; policy = $policy }
    warnings  = @()
}
ConvertTo-Json -InputObject $result -Depth 10 -Compress
