# Restores the checkpoint: the value's data and kind, or its absence. Checks first, so it is safe on an unapplied step.
param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson
$cp = $in.checkpoint
if ($in.step -eq 'max-instance-count') { $key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'; $name = 'MaxInstanceCount' }
else { $key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server'; $name = 'fSingleSessionPerUser' }
$current = Get-ItemProperty -Path $key -Name $name -ErrorAction SilentlyContinue
$changed = $false
if (-not $cp.exists) {
    if ($null -ne $current) { Remove-ItemProperty -Path $key -Name $name; $changed = $true }
} elseif ($null -eq $current -or $current.$name -ne $cp.data -or (Get-Item -Path $key).GetValueKind($name).ToString() -ne $cp.kind) {
    New-ItemProperty -Path $key -Name $name -PropertyType $cp.kind -Value $cp.data -Force | Out-Null
    $changed = $true
}
ConvertTo-Json -InputObject ([ordered]@{ changed = $changed; warnings = @() }) -Compress
