# Read-only: the local value, its policy twin (which wins, shared reference C.2), and the target.
param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson
$policyKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
# REG_DWORD reads as Int32 (4294967295 comes back as -1): compare as unsigned.
function ConvertTo-UInt32($v) { if ($null -eq $v) { return $null }; return [BitConverter]::ToUInt32([BitConverter]::GetBytes([int]$v), 0) }
function Read-Dword([string]$Key, [string]$Name) {
    $item = Get-ItemProperty -Path $Key -Name $Name -ErrorAction SilentlyContinue
    if ($null -eq $item) { return $null }
    return ConvertTo-UInt32 $item.$Name
}
if ($in.step -eq 'max-instance-count') {
    $key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'; $name = 'MaxInstanceCount'
    $target = [uint32]$in.parameters.maxInstanceCount
} else {
    $key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server'; $name = 'fSingleSessionPerUser'
    $target = $null
    if ($in.parameters.singleSessionPerUser -eq 'on') { $target = [uint32]1 }
    if ($in.parameters.singleSessionPerUser -eq 'off') { $target = [uint32]0 }
}
$local = Read-Dword $key $name
$policy = Read-Dword $policyKey $name
$effective = $local
if ($null -ne $policy) { $effective = $policy }
$blocked = $null
$compliant = ($null -eq $target) -or ($effective -eq $target)
if (-not $compliant -and $null -ne $policy) {
    $blocked = "blocked by policy: group policy sets $name=$policy (HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services); a local change would be reverted at the next policy refresh. Change the GPO."
}
$after = $target
if ($null -eq $target) { $after = $local }
$result = [ordered]@{
    compliant = $compliant
    blocked   = $blocked
    before    = [ordered]@{ name = $name; local = $local; policy = $policy }
    after     = [ordered]@{ name = $name; local = $after; policy = $policy }
    warnings  = @()
}
ConvertTo-Json -InputObject $result -Depth 10 -Compress
