# Sets Public -> Private on the selected interfaces that the checkpoint recorded as Public (so undo knows every
# interface this step changes). Windows' refusals are reported with what to do about them.
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
$captured = @($in.checkpoint.interfaces)
$changed = $false
$warnings = New-Object System.Collections.ArrayList
foreach ($c in $captured) {
    if ([string]$c.category -ne 'Public') { continue }
    if ($want.Count -gt 0 -and -not ($want | Where-Object { ($_ -match '^\d+$' -and [int64]$_ -eq [int64]$c.interfaceIndex) -or $_ -ieq [string]$c.interfaceAlias })) { continue }
    $idx = [uint32]$c.interfaceIndex
    $label = "'$($c.interfaceAlias)' (index $idx)"
    $now = @(Get-NetConnectionProfile -InterfaceIndex $idx -ErrorAction SilentlyContinue)
    if ($now.Count -eq 0) { [void]$warnings.Add("Interface $label is no longer connected; left alone."); continue }
    $cat = ConvertTo-CategoryName $now[0].NetworkCategory
    if ($cat -ne 'Public') { [void]$warnings.Add("Interface $label is $cat now; left alone."); continue }
    try {
        Set-NetConnectionProfile -InterfaceIndex $idx -NetworkCategory Private -ErrorAction Stop
    } catch {
        $msg = $_.Exception.Message
        if ($msg -match 'Identifying') {
            throw "Windows is still identifying the network on interface $label and refuses to change its category now; run again in a minute. (Windows: $msg)"
        }
        if ([string]$_.CategoryInfo.Category -eq 'PermissionDenied' -or [string]$_.FullyQualifiedErrorId -like 'MI RESULT 2,*') {
            throw ("Windows refused to make interface $label Private. On an elevated session that means a Network List Manager policy ('User cannot change location') or a domain-authenticated network. " +
                "Set the location type in the policy instead (Computer Configuration > Windows Settings > Security Settings > Network List Manager Policies), or fix RDP through the firewall rules (playbook rdp-firewall-rules). (Windows: $msg)")
        }
        throw
    }
    $changed = $true
}
ConvertTo-Json -InputObject ([ordered]@{ changed = $changed; rebootRequired = $false; warnings = @($warnings) }) -Depth 10 -Compress
