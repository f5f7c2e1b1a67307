# Post-condition: every selected interface that was Public is Private now.
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

$want = @($in.parameters.interfaces | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_ })
$bad = New-Object System.Collections.ArrayList
foreach ($c in @($in.checkpoint.interfaces)) {
    if ([string]$c.category -ne 'Public') { continue }
    if ($want.Count -gt 0 -and -not ($want | Where-Object { ($_ -match '^\d+$' -and [int64]$_ -eq [int64]$c.interfaceIndex) -or $_ -ieq [string]$c.interfaceAlias })) { continue }
    $now = @(Get-NetConnectionProfile -InterfaceIndex ([uint32]$c.interfaceIndex) -ErrorAction SilentlyContinue)
    if ($now.Count -eq 0) { [void]$bad.Add("'$($c.interfaceAlias)' (index $($c.interfaceIndex)) is no longer connected"); continue }
    $cat = ConvertTo-CategoryName $now[0].NetworkCategory
    if ($cat -ne 'Private') { [void]$bad.Add("'$($c.interfaceAlias)' (index $($c.interfaceIndex)) is $cat") }
}
$reason = 'every selected interface is Private'
if ($bad.Count -gt 0) { $reason = 'not Private: ' + (@($bad) -join '; ') }
ConvertTo-Json -InputObject ([ordered]@{ ok = ($bad.Count -eq 0); reason = $reason; warnings = @() }) -Depth 10 -Compress
