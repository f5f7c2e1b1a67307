param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson
$layerTarget = @{ rdp = 0; negotiate = 1; tls = 2 }[[string]$in.parameters.securityLayer]
function Get-Effective([string]$Name) {
    # The policy copy, when present, is the effective value (it is read last).
    $e = $null
    foreach ($k in @('HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp', 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services')) {
        $item = Get-ItemProperty -Path $k -Name $Name -ErrorAction SilentlyContinue
        if ($null -ne $item) { $e = [int]$item.$Name }
    }
    return $e
}
if ($in.step -eq 'min-encryption-level') {
    $effective = Get-Effective 'MinEncryptionLevel'
    $floor = @{ auto = 2; 'client-compatible' = 2; high = 3; fips = 4 }[[string]$in.parameters.minEncryptionLevel]
    $ok = ($null -ne $floor -and $null -ne $effective -and $effective -ge $floor)
    $reason = "effective MinEncryptionLevel is $effective, expected at least $floor"
} else {
    $effective = Get-Effective 'SecurityLayer'
    $ok = ($effective -eq $layerTarget)
    $reason = "effective SecurityLayer is $effective, expected $layerTarget"
}
ConvertTo-Json -InputObject ([ordered]@{ ok = $ok; reason = $reason; warnings = @() }) -Depth 10 -Compress
