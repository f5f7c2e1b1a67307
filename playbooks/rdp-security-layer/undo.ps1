# Restores the checkpoint: the value's data and kind, or its absence. Self-contained: it reads only the checkpoint
# (the revert task runs it unattended on the host after the TTL), checks first, and a second run changes nothing.
param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson
$cp = $in.checkpoint
$key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'
if ($null -eq $cp -or $null -eq $cp.PSObject.Properties['exists']) { throw 'undo needs the step checkpoint (name, exists, kind, data).' }
$name = $null
if ($null -ne $cp.PSObject.Properties['name']) { $name = [string]$cp.name }
elseif ($in.step -eq 'min-encryption-level') { $name = 'MinEncryptionLevel' }
elseif ($in.step -like '*-security-layer') { $name = 'SecurityLayer' }
if (@('SecurityLayer', 'MinEncryptionLevel') -notcontains $name) { throw "undo: the checkpoint names '$name', not SecurityLayer or MinEncryptionLevel." }
function Get-Same($a, $b) {
    return (ConvertTo-Json -InputObject @($a) -Depth 5 -Compress) -eq (ConvertTo-Json -InputObject @($b) -Depth 5 -Compress)
}
$current = Get-ItemProperty -Path $key -Name $name -ErrorAction SilentlyContinue
$changed = $false
if (-not $cp.exists) {
    if ($null -ne $current) { Remove-ItemProperty -Path $key -Name $name; $changed = $true }
} else {
    $same = $false
    if ($null -ne $current) {
        $same = (Get-Same $current.$name $cp.data) -and ((Get-Item -Path $key).GetValueKind($name).ToString() -eq [string]$cp.kind)
    }
    if (-not $same) {
        $data = $cp.data
        if ($cp.kind -eq 'Binary') { $data = [byte[]]@($cp.data) }
        if ($cp.kind -eq 'MultiString') { $data = [string[]]@($cp.data) }
        New-ItemProperty -Path $key -Name $name -PropertyType ([string]$cp.kind) -Value $data -Force | Out-Null
        $changed = $true
    }
}
ConvertTo-Json -InputObject ([ordered]@{ changed = $changed; warnings = @() }) -Depth 10 -Compress
