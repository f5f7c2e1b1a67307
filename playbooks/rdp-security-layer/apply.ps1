# Writes the step's target (check said it is needed and not blocked). The kind is explicit: New-ItemProperty
# -PropertyType DWord also where the value was missing (reference C.1).
param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson
$key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'
$layerTarget = @{ rdp = 0; negotiate = 1; tls = 2 }[[string]$in.parameters.securityLayer]
$warnings = @()
if ($in.step -eq 'min-encryption-level') {
    $name = 'MinEncryptionLevel'
    $target = @{ 'client-compatible' = 2; high = 3; fips = 4 }[[string]$in.parameters.minEncryptionLevel]
    if ([string]$in.parameters.minEncryptionLevel -eq 'auto') { $target = 2 }
} else {
    $name = 'SecurityLayer'
    $target = $layerTarget
    if ($in.step -eq 'lower-security-layer') { $warnings += "SecurityLayer is $target until the revert task restores it after $([int]$in.parameters.ttlMinutes) minutes." }
}
$changed = $false
if ($null -ne $target) {
    New-ItemProperty -Path $key -Name $name -PropertyType DWord -Value ([int]$target) -Force | Out-Null
    $changed = $true
}
ConvertTo-Json -InputObject ([ordered]@{ changed = $changed; rebootRequired = $false; warnings = $warnings }) -Depth 10 -Compress
