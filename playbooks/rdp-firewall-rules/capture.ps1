# The checkpoint undo restores exactly (and what rollback compares against the state the step left):
#   builtin-rules     per built-in rule of the local store: whether it exists, Enabled, Profile, RemoteAddress.
#   custom-port-rule  whether rdpfix-RDP-Custom-Port exists and, if it does, every setting apply may change
#                     (and what undo needs to recreate it).
param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson

function ConvertTo-List($Value) {
    $list = @(@($Value) | ForEach-Object { [string]$_ } | Where-Object { $_ -ne '' })
    if ($list.Count -eq 0) { return @('Any') }
    return $list
}

function Get-RuleState([string]$Name, [switch]$Full) {
    # Local (persistent) store only: group policy rules are not ours to change or restore.
    $r = @(Get-NetFirewallRule -Name $Name -ErrorAction SilentlyContinue)
    if ($r.Count -eq 0) { return [ordered]@{ name = $Name; exists = $false } }
    $af = Get-NetFirewallAddressFilter -AssociatedNetFirewallRule $r[0] -ErrorAction Stop
    $s = [ordered]@{
        name          = $Name
        exists        = $true
        enabled       = [string]$r[0].Enabled
        profile       = [string]$r[0].Profile
        remoteAddress = @(ConvertTo-List $af.RemoteAddress)
    }
    if ($Full) {
        $pf = Get-NetFirewallPortFilter -AssociatedNetFirewallRule $r[0] -ErrorAction Stop
        $app = Get-NetFirewallApplicationFilter -AssociatedNetFirewallRule $r[0] -ErrorAction Stop
        $svc = Get-NetFirewallServiceFilter -AssociatedNetFirewallRule $r[0] -ErrorAction Stop
        $s.displayName = [string]$r[0].DisplayName
        $s.description = [string]$r[0].Description
        $s.direction = [string]$r[0].Direction
        $s.action = [string]$r[0].Action
        $s.protocol = [string]$pf.Protocol
        $s.localPort = @(ConvertTo-List $pf.LocalPort)
        $s.program = [string]$app.Program
        $s.service = [string]$svc.Service
    }
    return $s
}

if ($in.step -eq 'builtin-rules') {
    $state = [ordered]@{ rules = @(@('RemoteDesktop-UserMode-In-TCP', 'RemoteDesktop-UserMode-In-UDP') | ForEach-Object { Get-RuleState $_ }) }
} else {
    $state = [ordered]@{ rule = (Get-RuleState 'rdpfix-RDP-Custom-Port' -Full) }
}
ConvertTo-Json -InputObject ([ordered]@{ state = $state; warnings = @() }) -Depth 10 -Compress
