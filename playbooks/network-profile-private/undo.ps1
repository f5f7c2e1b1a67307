# Restores the checkpoint: each interface the checkpoint recorded as Public and that is Private now goes back to
# Public. Self-contained (it may run unattended, from the revert task, with only the checkpoint) and idempotent: an
# interface already Public is left alone. Interfaces are found by InterfaceIndex, or by InterfaceAlias when the
# adapter was re-created with a new index (shared reference 3.4).
param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson

function ConvertTo-CategoryName($Value) {
    $t = [string]$Value
    if ($t -eq '0') { return 'Public' }
    if ($t -eq '1') { return 'Private' }
    if ($t -eq '2') { return 'DomainAuthenticated' }
    return $t
}

$changed = $false
$warnings = New-Object System.Collections.ArrayList
$current = @(Get-NetConnectionProfile -ErrorAction Stop)
foreach ($c in @($in.checkpoint.interfaces)) {
    if ([string]$c.category -ne 'Public') { continue }
    $label = "'$($c.interfaceAlias)' (index $($c.interfaceIndex))"
    $now = @($current | Where-Object { [int64]$_.InterfaceIndex -eq [int64]$c.interfaceIndex })
    if ($now.Count -eq 0) { $now = @($current | Where-Object { [string]$_.InterfaceAlias -ieq [string]$c.interfaceAlias }) }
    if ($now.Count -eq 0) { [void]$warnings.Add("Interface $label is not connected; its category cannot be restored now."); continue }
    $cat = ConvertTo-CategoryName $now[0].NetworkCategory
    if ($cat -eq 'Public') { continue }
    if ($cat -ne 'Private') { [void]$warnings.Add("Interface $label is $cat now (set by Windows); left alone."); continue }
    Set-NetConnectionProfile -InterfaceIndex ([uint32]$now[0].InterfaceIndex) -NetworkCategory Public -ErrorAction Stop
    $changed = $true
}
ConvertTo-Json -InputObject ([ordered]@{ changed = $changed; warnings = @($warnings) }) -Depth 10 -Compress
