# Restores the checkpoint exactly. Self-contained: it may run unattended on the host (the revert task) with only
# the checkpoint, and more than once: it compares first and writes only what differs, so a second run changes nothing.
#   builtin-rules     each built-in rule's Enabled, Profile and RemoteAddress as captured (never removes a built-in).
#   custom-port-rule  removes rdpfix-RDP-Custom-Port if it did not exist before; otherwise puts its settings back
#                     (recreating it if it was deleted meanwhile).
param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson
$cp = $in.checkpoint

function ConvertTo-Key($Value) {
    # Addresses and ports as Windows shows them, order- and case-insensitive.
    $list = @(@($Value) | ForEach-Object { [string]$_ } | Where-Object { $_ -ne '' })
    if ($list.Count -eq 0) { return 'any' }
    return ((@($list | Sort-Object -Unique) -join ',').ToLowerInvariant())
}

function ConvertTo-ProfileArg([string]$Text) {
    # 'Domain, Private' (as captured) -> 'Domain,Private' for -Profile.
    return ($Text -replace '\s', '')
}

$changed = $false
$warnings = New-Object System.Collections.ArrayList

if ($in.step -eq 'builtin-rules') {
    foreach ($c in @($cp.rules)) {
        if (-not $c.exists) { continue }
        $r = @(Get-NetFirewallRule -Name $c.name -ErrorAction SilentlyContinue)
        if ($r.Count -eq 0) { [void]$warnings.Add("$($c.name) no longer exists in the local store; nothing to restore."); continue }
        $set = @{}
        if ([string]$r[0].Enabled -ne [string]$c.enabled) { $set.Enabled = [string]$c.enabled }
        if (([string]$r[0].Profile -replace '\s', '') -ne (ConvertTo-ProfileArg $c.profile)) { $set.Profile = (ConvertTo-ProfileArg $c.profile) }
        $af = Get-NetFirewallAddressFilter -AssociatedNetFirewallRule $r[0] -ErrorAction Stop
        if ((ConvertTo-Key $af.RemoteAddress) -ne (ConvertTo-Key $c.remoteAddress)) { $set.RemoteAddress = @($c.remoteAddress | ForEach-Object { [string]$_ }) }
        if ($set.Count -gt 0) {
            Set-NetFirewallRule -Name $c.name @set -ErrorAction Stop
            $changed = $true
        }
    }
} else {
    $c = $cp.rule
    $r = @(Get-NetFirewallRule -Name $c.name -ErrorAction SilentlyContinue)
    if (-not $c.exists) {
        if ($r.Count -gt 0) {
            Remove-NetFirewallRule -Name $c.name -ErrorAction Stop
            $changed = $true
        }
    } else {
        $settings = @{
            Enabled = [string]$c.enabled; Profile = (ConvertTo-ProfileArg $c.profile); Direction = [string]$c.direction; Action = [string]$c.action
            Protocol = [string]$c.protocol; LocalPort = @($c.localPort | ForEach-Object { [string]$_ }); RemoteAddress = @($c.remoteAddress | ForEach-Object { [string]$_ })
            Program = [string]$c.program; Service = [string]$c.service
        }
        if ($r.Count -eq 0) {
            New-NetFirewallRule -Name $c.name -DisplayName $c.displayName -Description $c.description @settings -ErrorAction Stop | Out-Null
            $changed = $true
        } else {
            $pf = Get-NetFirewallPortFilter -AssociatedNetFirewallRule $r[0] -ErrorAction Stop
            $af = Get-NetFirewallAddressFilter -AssociatedNetFirewallRule $r[0] -ErrorAction Stop
            $app = Get-NetFirewallApplicationFilter -AssociatedNetFirewallRule $r[0] -ErrorAction Stop
            $svc = Get-NetFirewallServiceFilter -AssociatedNetFirewallRule $r[0] -ErrorAction Stop
            $set = @{}
            if ([string]$r[0].Enabled -ne $settings.Enabled) { $set.Enabled = $settings.Enabled }
            if (([string]$r[0].Profile -replace '\s', '') -ne $settings.Profile) { $set.Profile = $settings.Profile }
            if ([string]$r[0].Direction -ne $settings.Direction) { $set.Direction = $settings.Direction }
            if ([string]$r[0].Action -ne $settings.Action) { $set.Action = $settings.Action }
            if ([string]$pf.Protocol -ne $settings.Protocol -or (ConvertTo-Key $pf.LocalPort) -ne (ConvertTo-Key $settings.LocalPort)) {
                $set.Protocol = $settings.Protocol; $set.LocalPort = $settings.LocalPort
            }
            if ((ConvertTo-Key $af.RemoteAddress) -ne (ConvertTo-Key $settings.RemoteAddress)) { $set.RemoteAddress = $settings.RemoteAddress }
            if ([string]$app.Program -ne $settings.Program) { $set.Program = $settings.Program }
            if ([string]$svc.Service -ne $settings.Service) { $set.Service = $settings.Service }
            if ($set.Count -gt 0) {
                Set-NetFirewallRule -Name $c.name @set -ErrorAction Stop
                $changed = $true
            }
        }
    }
}
ConvertTo-Json -InputObject ([ordered]@{ changed = $changed; warnings = @($warnings) }) -Depth 10 -Compress
