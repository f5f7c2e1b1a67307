# rdp-firewall-rules. Check (read-only: is a change needed, before/after, what blocks it) and verify (the
# post-condition: the same evaluation must find the step compliant) for both steps:
#   builtin-rules     RemoteDesktop-UserMode-In-TCP/-UDP enabled, their Profile covering the required profiles, and
#                     their RemoteAddress equal to remoteAddresses when that is given (shared reference 4.1-4.5).
#   custom-port-rule  when PortNumber (RDP-Tcp) is not 3389: that TCP port admitted on every required profile by
#                     an enabled inbound allow rule of the active store (reference 4.6).
# Block rules win over allow rules (MS-FASP 2.2.34), so an enabled block rule on the RDP port stops the step.
# Rules that come from group policy live in the GPO store, visible in ActiveStore only, and cannot be changed locally.
# Where group policy says "Apply local firewall rules: No" for a profile (AllowLocalFirewallRules False in the
# ActiveStore), only its own rules are in effect there: local rules are listed but do nothing, so the step is blocked by
# policy unless a group policy rule admits the port (docs/windows-facts/network-firewall-sessions-tasks.md section 2).
# One script for every phase and step (the engine passes $in.phase and $in.step); the shared prelude
# (playbooks/_shared/prelude.ps1) is inserted after the param block when the step is sent.
param([Parameter(Mandatory)][string]$InputJson)
$in = Read-RdpfixInput -Json $InputJson -Steps 'builtin-rules', 'custom-port-rule' -Parameters 'ttlMinutes', 'profiles', 'remoteAddresses'

# ---- Shared by every phase ----
$BuiltinNames = @('RemoteDesktop-UserMode-In-TCP', 'RemoteDesktop-UserMode-In-UDP')
$CustomName = 'rdpfix-RDP-Custom-Port'
$AllProfiles = @('Domain', 'Private', 'Public')
$Keywords = @('LocalSubnet', 'DNS', 'DHCP', 'WINS', 'DefaultGateway', 'Internet', 'Intranet', 'IntranetRemoteAccess', 'PlayToDevice', 'CaptivePortal')

function ConvertTo-ProfileNames($Value) {
    # 'Any' or the profiles a rule's Profile (flags enum, or its number) covers, in Domain/Private/Public order.
    $t = [string]$Value
    if ($t -match '^\d+$') {
        $n = [int]$t
        if ($n -eq 0) { return @('Any') }
        $names = @()
        if ($n -band 1) { $names += 'Domain' }
        if ($n -band 2) { $names += 'Private' }
        if ($n -band 4) { $names += 'Public' }
        return $names
    }
    $parts = @($t -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ -ne '' })
    if ($parts -contains 'Any' -or $parts.Count -eq 0) { return @('Any') }
    return @($AllProfiles | Where-Object { $parts -contains $_ })
}

function Test-ProfileCovers($Names, [string]$Profile) {
    return (@($Names) -contains 'Any') -or (@($Names) -contains $Profile)
}

function ConvertTo-IPv4Bytes([string]$Text) {
    if ($Text -notmatch '^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$') { return $null }
    $b = @([int]$Matches[1], [int]$Matches[2], [int]$Matches[3], [int]$Matches[4])
    if (@($b | Where-Object { $_ -gt 255 }).Count -gt 0) { return $null }
    return , $b
}

function ConvertTo-IPv6Text([string]$Text) {
    if ($Text -notmatch ':') { return $null }
    $ip = $null
    if (-not [System.Net.IPAddress]::TryParse($Text, [ref]$ip)) { return $null }
    if ($ip.AddressFamily -ne [System.Net.Sockets.AddressFamily]::InterNetworkV6) { return $null }
    return $ip.ToString()
}

function ConvertTo-NormalAddress([string]$Token) {
    # One RemoteAddress entry as Get-NetFirewallAddressFilter shows it: IPv4 subnets in mask notation with the host
    # bits cleared (10.1.2.3/16 -> 10.1.0.0/255.255.0.0), keywords in their documented spelling. $null: invalid.
    $t = $Token.Trim()
    if ($t -ieq 'Any') { return 'Any' }
    foreach ($k in $Keywords) { if ($t -match ('^' + $k + '([46]?)$')) { return $k + $Matches[1] } }
    $slash = $t.IndexOf('/')
    if ($slash -gt 0) {
        $addr = $t.Substring(0, $slash); $suffix = $t.Substring($slash + 1)
        $v4 = ConvertTo-IPv4Bytes $addr
        if ($null -ne $v4) {
            $mask = $null
            if ($suffix -match '^\d{1,2}$' -and [int]$suffix -le 32) {
                $m = [uint64]4294967296 - [uint64][math]::Pow(2, 32 - [int]$suffix)
                $mask = @([int](($m -shr 24) -band 255), [int](($m -shr 16) -band 255), [int](($m -shr 8) -band 255), [int]($m -band 255))
            } else {
                $mask = ConvertTo-IPv4Bytes $suffix
            }
            if ($null -eq $mask) { return $null }
            $net = @(0..3 | ForEach-Object { $v4[$_] -band $mask[$_] })
            return (($net -join '.') + '/' + ($mask -join '.'))
        }
        $v6 = ConvertTo-IPv6Text $addr
        if ($null -ne $v6 -and $suffix -match '^\d{1,3}$' -and [int]$suffix -le 128) { return "$v6/$([int]$suffix)" }
        return $null
    }
    $dash = $t.IndexOf('-')
    if ($dash -gt 0) {
        $a = $t.Substring(0, $dash); $b = $t.Substring($dash + 1)
        if ($null -ne (ConvertTo-IPv4Bytes $a) -and $null -ne (ConvertTo-IPv4Bytes $b)) { return "$a-$b" }
        $a6 = ConvertTo-IPv6Text $a; $b6 = ConvertTo-IPv6Text $b
        if ($null -ne $a6 -and $null -ne $b6) { return "$a6-$b6" }
        return $null
    }
    if ($null -ne (ConvertTo-IPv4Bytes $t)) { return $t }
    return (ConvertTo-IPv6Text $t)
}

function ConvertTo-AddressList($Value) {
    # A filter's RemoteAddress (one string, or an array), normalized and sorted for comparison.
    $list = @(@($Value) | ForEach-Object { ([string]$_).Split(',') } | ForEach-Object { $_.Trim() } | Where-Object { $_ -ne '' } | ForEach-Object {
        $n = ConvertTo-NormalAddress $_
        if ($null -eq $n) { $_ } else { $n }
    })
    if ($list.Count -eq 0) { return @('Any') }
    return @($list | Sort-Object -Unique)
}

function Test-SameAddresses($A, $B) {
    $x = @(ConvertTo-AddressList $A) -join ','
    $y = @(ConvertTo-AddressList $B) -join ','
    return ($x -ieq $y)
}

function Get-RequestedScope {
    # $null: remoteAddresses not given (leave the built-in rules' scope alone). Otherwise the normalized list.
    $raw = @($in.parameters.remoteAddresses | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_ })
    if ($raw.Count -eq 0) { return $null }
    $out = @()
    foreach ($r in $raw) {
        $n = ConvertTo-NormalAddress $r
        if ($null -eq $n) { throw "remoteAddresses: '$r' is not an IPv4/IPv6 address, subnet, range or address keyword (New-NetFirewallRule -RemoteAddress formats)." }
        $out += $n
    }
    if ($out -contains 'Any' -and $out.Count -gt 1) { throw "remoteAddresses: 'Any' must be the only entry (it admits every address)." }
    return , @($out | Sort-Object -Unique)
}

function Get-RequiredProfiles {
    # 'active': the firewall profiles of the connected networks (DomainAuthenticated -> Domain).
    $spec = [string]$in.parameters.profiles
    if ($spec -eq 'any') { return , $AllProfiles }
    if ($spec -eq 'active' -or $spec -eq '') {
        $cats = @(Get-NetConnectionProfile -ErrorAction Stop | ForEach-Object {
            $c = ConvertTo-RdpfixCategoryName $_.NetworkCategory
            if ($c -eq 'Public' -or $c -eq 'Private') { $c }
            elseif ($c -eq 'DomainAuthenticated') { 'Domain' }
        })
        return , @($AllProfiles | Where-Object { $cats -contains $_ })
    }
    $parts = @($spec -split ',' | ForEach-Object { $_.Trim() })
    return , @($AllProfiles | Where-Object { $parts -contains $_ })
}

function Get-RdpPort {
    $item = Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp' -Name 'PortNumber' -ErrorAction SilentlyContinue
    if ($null -eq $item) { return 3389 }
    return [int]$item.PortNumber
}

# ---- end of the shared part ----

# Check, and verify: the same evaluation must find the step compliant after apply.
if ($in.phase -eq 'check' -or $in.phase -eq 'verify') { . {
function Get-FirewallView {
    # Every rule of the active store (local and group policy) with its filters, joined on InstanceID: one bulk
    # query per class instead of one association per rule. Hosts can hold tens of thousands of rules, so this is
    # linear: a List (never `$array +=`, which copies the array on every add), hashtable joins, and the profile names
    # of each distinct Profile value worked out once.
    $index = @{}
    foreach ($kind in @('Port', 'Address', 'Application', 'Service')) {
        $map = @{}
        $items = @()
        if ($kind -eq 'Port') { $items = @(Get-NetFirewallPortFilter -PolicyStore ActiveStore -ErrorAction Stop) }
        if ($kind -eq 'Address') { $items = @(Get-NetFirewallAddressFilter -PolicyStore ActiveStore -ErrorAction Stop) }
        if ($kind -eq 'Application') { $items = @(Get-NetFirewallApplicationFilter -PolicyStore ActiveStore -ErrorAction Stop) }
        if ($kind -eq 'Service') { $items = @(Get-NetFirewallServiceFilter -PolicyStore ActiveStore -ErrorAction Stop) }
        foreach ($f in $items) { $id = [string]$f.InstanceID; if (-not $map.ContainsKey($id)) { $map[$id] = $f } }
        $index[$kind] = $map
    }
    $profileNames = @{}
    $view = New-Object System.Collections.Generic.List[object]
    foreach ($r in @(Get-NetFirewallRule -PolicyStore ActiveStore -ErrorAction Stop)) {
        $id = [string]$r.Name
        $port = $index['Port'][$id]; $addr = $index['Address'][$id]; $app = $index['Application'][$id]; $svc = $index['Service'][$id]
        $protocol = 'Any'; $localPort = @('Any'); $remote = @('Any'); $program = 'Any'; $service = 'Any'
        # Loops, not pipelines: this runs once per rule.
        if ($null -ne $port) {
            $protocol = [string]$port.Protocol
            $localPort = @(); foreach ($x in @($port.LocalPort)) { $localPort += [string]$x }
        }
        if ($null -ne $addr) {
            $remote = @(); foreach ($x in @($addr.RemoteAddress)) { if ([string]$x -ne '') { $remote += [string]$x } }
            if ($remote.Count -eq 0) { $remote = @('Any') }
        }
        if ($null -ne $app -and [string]$app.Program -ne '') { $program = [string]$app.Program }
        if ($null -ne $svc -and [string]$svc.Service -ne '') { $service = [string]$svc.Service }
        $profileKey = [string]$r.Profile
        if (-not $profileNames.ContainsKey($profileKey)) { $profileNames[$profileKey] = @(ConvertTo-ProfileNames $r.Profile) }
        $view.Add([pscustomobject]@{
            Name = $id; DisplayName = [string]$r.DisplayName
            Enabled = ([string]$r.Enabled -eq 'True' -or [string]$r.Enabled -eq '1')
            Inbound = ([string]$r.Direction -eq 'Inbound' -or [string]$r.Direction -eq '1')
            Action = [string]$r.Action
            Profiles = $profileNames[$profileKey]
            FromPolicy = ([string]$r.PolicyStoreSourceType -eq 'GroupPolicy' -or [string]$r.PolicyStoreSourceType -eq '2')
            Protocol = $protocol; LocalPort = $localPort; RemoteAddress = $remote; Program = $program; Service = $service
        })
    }
    return , $view.ToArray()
}

function Get-LocalRulesOff($FwProfiles) {
    # The firewall profiles on which local rules are not in effect: group policy's "Apply local firewall rules: No"
    # (AllowLocalPolicyMerge 0 under HKLM\SOFTWARE\Policies\Microsoft\WindowsFirewall\<Profile>, MS-GPFAS 2.2.3.13)
    # shows as AllowLocalFirewallRules False in the ActiveStore (GpoBoolean: False 0, True 1, NotConfigured 2).
    # Facts: docs/windows-facts/network-firewall-sessions-tasks.md section 2.
    $off = @{}
    foreach ($p in @($FwProfiles)) {
        $v = [string]$p.AllowLocalFirewallRules
        if ($v -eq 'False' -or $v -eq '0') { $off[[string]$p.Name] = $true }
    }
    return $off
}

function Test-InEffect($Rule, [string]$Profile, $LocalOff) {
    # Whether the rule applies to traffic on that profile: it covers the profile, and it is a group policy rule or
    # local rules are merged there.
    if (-not (Test-ProfileCovers $Rule.Profiles $Profile)) { return $false }
    return ($Rule.FromPolicy -or -not $LocalOff.ContainsKey($Profile))
}

function Test-PortCovered($LocalPort, [int]$Port) {
    foreach ($p in @($LocalPort)) {
        $s = ([string]$p).Trim()
        if ($s -eq 'Any') { return $true }
        if ($s -match '^(\d+)-(\d+)$' -and $Port -ge [int]$Matches[1] -and $Port -le [int]$Matches[2]) { return $true }
        if ($s -match '^\d+$' -and [int]$s -eq $Port) { return $true }
    }
    return $false
}

function Test-TouchesRdp($Rule, [int]$Port) {
    # Would this enabled inbound rule match RDP traffic to TCP <Port> (served by TermService in svchost)?
    if (-not $Rule.Enabled -or -not $Rule.Inbound) { return $false }
    if (@('TCP', '6', 'Any') -notcontains $Rule.Protocol) { return $false }
    if (-not (Test-PortCovered $Rule.LocalPort $Port)) { return $false }
    if ($Rule.Program -ne 'Any' -and $Rule.Program -notmatch '\\svchost\.exe$') { return $false }
    if ($Rule.Service -ne 'Any' -and $Rule.Service -ne '*' -and $Rule.Service -ine 'TermService') { return $false }
    return $true
}

function Get-BlockFindings($View, [int]$Port, $Required, $LocalOff) {
    # Enabled inbound block rules on the RDP port for a required profile: a full block (any remote address) stops
    # the step; one limited to some remote addresses is a warning. A local block rule on a profile where local rules
    # are not merged (Get-LocalRulesOff) blocks nothing there.
    $blocked = New-Object System.Collections.ArrayList; $warnings = New-Object System.Collections.ArrayList
    foreach ($r in $View) {
        if ($r.Action -ne 'Block' -and $r.Action -ne '4') { continue }
        if (-not $r.Enabled -or -not $r.Inbound) { continue }
        if (-not (Test-TouchesRdp $r $Port)) { continue }
        $hit = @($Required | Where-Object { Test-InEffect $r $_ $LocalOff })
        if ($Required.Count -eq 0) { $hit = @($r.Profiles | Where-Object { $r.FromPolicy -or -not $LocalOff.ContainsKey($_) }) }
        if ($hit.Count -eq 0) { continue }
        $who = "'$($r.DisplayName)' ($($r.Name))"
        $where = "inbound TCP $Port on the $($hit -join ', ') profile(s)"
        if (@($r.RemoteAddress) -contains 'Any') {
            if ($r.FromPolicy) {
                [void]$blocked.Add("blocked by policy: the group policy firewall rule $who blocks $where. Block rules take precedence over allow rules, and a rule from a GPO cannot be changed or removed locally; change the GPO (Computer Configuration > Windows Settings > Security Settings > Windows Defender Firewall with Advanced Security > Inbound Rules).")
            } else {
                [void]$blocked.Add("blocked: the local firewall rule $who blocks $where. Block rules take precedence over allow rules, so no allow rule can let RDP in while it is enabled. If it is not intended, disable it (Disable-NetFirewallRule -Name '$($r.Name)') and run again.")
            }
        } else {
            $src = 'local'; if ($r.FromPolicy) { $src = 'group policy' }
            [void]$warnings.Add("The $src firewall rule $who blocks $where from $(@($r.RemoteAddress) -join ', '); RDP from those addresses stays blocked (block rules win).")
        }
    }
    return @{ Blocked = $blocked; Warnings = $warnings }
}

function Get-BuiltinRule([string]$Name, $Named) {
    # The built-in rule as the local (persistent) store has it; or its group policy copy; or nothing.
    $r = @(Get-NetFirewallRule -Name $Name -ErrorAction SilentlyContinue)
    if ($r.Count -gt 0) {
        $af = Get-NetFirewallAddressFilter -AssociatedNetFirewallRule $r[0] -ErrorAction Stop
        return [pscustomobject]@{ Name = $Name; Exists = $true; FromPolicy = $false; Enabled = ([string]$r[0].Enabled -eq 'True' -or [string]$r[0].Enabled -eq '1'); Profiles = @(ConvertTo-ProfileNames $r[0].Profile); RemoteAddress = @(ConvertTo-AddressList $af.RemoteAddress) }
    }
    $g = @(@($Named[$Name]) | Where-Object { $null -ne $_ -and $_.FromPolicy })
    if ($g.Count -gt 0) {
        return [pscustomobject]@{ Name = $Name; Exists = $false; FromPolicy = $true; Enabled = $g[0].Enabled; Profiles = @($g[0].Profiles); RemoteAddress = @($g[0].RemoteAddress) }
    }
    return [pscustomobject]@{ Name = $Name; Exists = $false; FromPolicy = $false; Enabled = $false; Profiles = @(); RemoteAddress = @() }
}

function Get-ProfileText($Names) {
    if (@($Names) -contains 'Any') { return 'Any' }
    if (@($Names).Count -eq 0) { return '' }
    return (@($Names) -join ', ')
}

function Get-WidenedProfiles($Current, $Required) {
    if (@($Current) -contains 'Any') { return @('Any') }
    return @($AllProfiles | Where-Object { @($Current) -contains $_ -or @($Required) -contains $_ })
}

function Test-RuleSatisfies($Rule, $Required, $Scope) {
    if (-not $Rule.Enabled) { return $false }
    foreach ($p in $Required) { if (-not (Test-ProfileCovers $Rule.Profiles $p)) { return $false } }
    if ($null -ne $Scope -and -not (Test-SameAddresses $Rule.RemoteAddress $Scope)) { return $false }
    return $true
}

$scope = Get-RequestedScope
$required = Get-RequiredProfiles
$view = Get-FirewallView
$named = @{}
foreach ($v in $view) {
    if ($BuiltinNames -notcontains $v.Name -and $v.Name -ne $CustomName) { continue }
    if (-not $named.ContainsKey($v.Name)) { $named[$v.Name] = New-Object System.Collections.ArrayList }
    [void]$named[$v.Name].Add($v)
}
$fwProfiles = @(Get-NetFirewallProfile -PolicyStore ActiveStore -ErrorAction Stop)
$localOff = Get-LocalRulesOff $fwProfiles
$warnings = New-Object System.Collections.ArrayList
$blockedReasons = New-Object System.Collections.ArrayList
if ($required.Count -eq 0) { [void]$warnings.Add("No connected network has a connection profile, so 'active' names no firewall profile; only the rules' Enabled state (and scope) is checked.") }

function Get-PolicyAdmits([int]$Port, [string]$Profile) {
    # Whether TCP <Port> gets in on a profile where local rules are not merged: the profile's firewall is off or
    # admits by default, or an enabled group policy allow rule covers it (and no policy block rule: that is
    # Get-BlockFindings' verdict).
    $fp = @($fwProfiles | Where-Object { [string]$_.Name -eq $Profile })
    if ($fp.Count -gt 0 -and ([string]$fp[0].Enabled -eq 'False' -or [string]$fp[0].DefaultInboundAction -eq 'Allow')) { return $true }
    foreach ($r in $view) {
        if (-not $r.FromPolicy -or -not $r.Enabled -or -not $r.Inbound) { continue }
        if ($r.Action -ne 'Allow' -and $r.Action -ne '2') { continue }
        if ((Test-TouchesRdp $r $Port) -and (Test-ProfileCovers $r.Profiles $Profile)) { return $true }
    }
    return $false
}

function Get-PolicyOverride([int]$Port, [string]$What) {
    # The blocked-by-policy finding when a required profile ignores local rules and nothing from policy admits the port.
    $lost = @($required | Where-Object { $localOff.ContainsKey($_) -and -not (Get-PolicyAdmits $Port $_) })
    if ($lost.Count -eq 0) { return $null }
    return "blocked by policy: group policy sets 'Apply local firewall rules' to No for the $($lost -join ', ') profile(s) (AllowLocalFirewallRules False in the ActiveStore; AllowLocalPolicyMerge 0 under HKLM\SOFTWARE\Policies\Microsoft\WindowsFirewall), so local rules - $What included - are not in effect there, and no group policy rule admits TCP $Port. A local rule cannot fix this: admit RDP in the GPO (an inbound rule, or 'Windows Firewall: Allow inbound Remote Desktop exceptions'), or let it apply local rules."
}

if ($in.step -eq 'builtin-rules') {
    $rules = @($BuiltinNames | ForEach-Object { Get-BuiltinRule $_ $named })
    $tcp = $rules[0]
    $port = 3389
    $tcpView = @(@($named[$tcp.Name]) | Where-Object { $null -ne $_ })
    if ($tcpView.Count -gt 0) { foreach ($p in $tcpView[0].LocalPort) { if ([string]$p -match '^\d+$') { $port = [int]$p; break } } }
    $compliant = $true
    $beforeRules = @(); $afterRules = @()
    foreach ($r in $rules) {
        $isTcp = ($r.Name -eq $tcp.Name)
        if (-not $r.Exists -and -not $r.FromPolicy) {
            if ($isTcp) { [void]$blockedReasons.Add("The built-in rule $($r.Name) does not exist on this host (neither in the local store nor from group policy), so there is nothing to enable; rdpfix does not recreate built-in rules. Restore the Remote Desktop rule group, or add an inbound TCP $port allow rule for TermService.") }
            else { [void]$warnings.Add("The built-in rule $($r.Name) does not exist on this host; RDP works over TCP without it (no UDP transport).") }
            continue
        }
        $ok = Test-RuleSatisfies $r $required $scope
        $state = [ordered]@{ name = $r.Name; store = 'local'; enabled = $r.Enabled; profile = (Get-ProfileText $r.Profiles); remoteAddress = @($r.RemoteAddress) }
        if ($r.FromPolicy) {
            $state.store = 'group policy'
            $beforeRules += $state; $afterRules += $state
            if (-not $ok) {
                $msg = "blocked by policy: $($r.Name) comes from group policy (it is not in the local store) and is disabled or does not cover the profile(s) $($required -join ', '); a GPO rule cannot be changed locally. Change it in the GPO (Windows Defender Firewall with Advanced Security > Inbound Rules, or 'Windows Firewall: Allow inbound Remote Desktop exceptions')."
                if ($isTcp) { [void]$blockedReasons.Add($msg) } else { [void]$warnings.Add($msg) }
            }
            continue
        }
        $beforeRules += $state
        $next = [ordered]@{ name = $r.Name; store = 'local'; enabled = $true; profile = (Get-ProfileText (Get-WidenedProfiles $r.Profiles $required)); remoteAddress = @($r.RemoteAddress) }
        if ($null -ne $scope) { $next.remoteAddress = @($scope) }
        elseif (@($r.RemoteAddress) -notcontains 'Any') { [void]$warnings.Add("$($r.Name) admits only $(@($r.RemoteAddress) -join ', '); pass remoteAddresses to change that scope.") }
        $afterRules += $next
        if (-not $ok) { $compliant = $false }
        # An enabled local rule is not enough where group policy does not merge local rules.
        $override = Get-PolicyOverride $port "the local rule $($r.Name)"
        if ($null -ne $override) {
            if ($isTcp) { [void]$blockedReasons.Add($override) } else { [void]$warnings.Add($override) }
        }
    }
    $blocks = Get-BlockFindings $view $port $required $localOff
    foreach ($b in $blocks.Blocked) { [void]$blockedReasons.Add($b) }
    foreach ($w in $blocks.Warnings) { [void]$warnings.Add($w) }
    $before = [ordered]@{ profiles = @($required); rules = @($beforeRules) }
    $after = [ordered]@{ profiles = @($required); rules = @($afterRules) }
} else {
    $port = Get-RdpPort
    $own = @(@($named[$CustomName]) | Where-Object { $null -ne $_ -and -not $_.FromPolicy })
    $ownState = $null
    if ($own.Count -gt 0) { $ownState = [ordered]@{ name = $CustomName; enabled = $own[0].Enabled; localPort = @($own[0].LocalPort); profile = (Get-ProfileText $own[0].Profiles); remoteAddress = @($own[0].RemoteAddress) } }
    if ($port -eq 3389) {
        $compliant = $true
        $before = [ordered]@{ portNumber = $port; note = 'the listener uses the default port 3389, which the built-in rules cover'; rule = $ownState }
        $after = $before
    } else {
        # Which required profiles already let TCP <port> in: the profile's firewall is off, its default inbound
        # action is Allow, or an enabled inbound allow rule in effect there covers the port (and the requested scope).
        $allows = New-Object System.Collections.ArrayList
        foreach ($r in $view) {
            if (-not $r.Enabled -or -not $r.Inbound -or ($r.Action -ne 'Allow' -and $r.Action -ne '2')) { continue }
            if (-not (Test-TouchesRdp $r $port)) { continue }
            if ($null -ne $scope -and @($scope) -notcontains 'Any') {
                $ra = @($r.RemoteAddress)
                if (-not (($ra -contains 'Any') -or (Test-SameAddresses $ra $scope))) { continue }
            }
            [void]$allows.Add($r)
        }
        $admitted = @()
        $check = $required
        if ($check.Count -eq 0) { $check = $AllProfiles }
        foreach ($p in $check) {
            $fp = @($fwProfiles | Where-Object { [string]$_.Name -eq $p })
            $open = $false
            if ($fp.Count -gt 0 -and ([string]$fp[0].Enabled -eq 'False' -or [string]$fp[0].DefaultInboundAction -eq 'Allow')) { $open = $true }
            if (@($allows | Where-Object { Test-InEffect $_ $p $localOff }).Count -gt 0) { $open = $true }
            if ($open) { $admitted += $p }
        }
        if ($required.Count -eq 0) { $compliant = ($admitted.Count -gt 0) } else { $compliant = ($admitted.Count -eq $required.Count) }
        $profileText = 'Any'
        if ($required.Count -gt 0) { $profileText = ($required -join ', ') }
        $desired = [ordered]@{ name = $CustomName; enabled = $true; localPort = @([string]$port); profile = $profileText; remoteAddress = @('Any') }
        if ($null -ne $scope) { $desired.remoteAddress = @($scope) }
        $before = [ordered]@{ portNumber = $port; profiles = @($required); admittedOn = @($admitted); rule = $ownState }
        $after = [ordered]@{ portNumber = $port; profiles = @($required); admittedOn = @($check); rule = $desired }
        if ($compliant) { $after = $before }
        else {
            # The rule apply would add is local: where local rules are not merged it would change nothing.
            $override = Get-PolicyOverride $port "the rule $CustomName that this step would add"
            if ($null -ne $override) { [void]$blockedReasons.Add($override) }
        }
        $blocks = Get-BlockFindings $view $port $required $localOff
        foreach ($b in $blocks.Blocked) { [void]$blockedReasons.Add($b) }
        foreach ($w in $blocks.Warnings) { [void]$warnings.Add($w) }
    }
}

$blocked = $null
if ($blockedReasons.Count -gt 0) { $blocked = (@($blockedReasons) -join ' ') }
if ($in.phase -eq 'verify') {
    $reason = 'the rules admit RDP on the required profiles'
    if ($null -ne $blocked) { $reason = $blocked }
    elseif (-not $compliant) { $reason = 'still not compliant: ' + (ConvertTo-Json -InputObject $before -Depth 10 -Compress) }
    Write-RdpfixResult ([ordered]@{ ok = ($compliant -and $null -eq $blocked); reason = $reason; warnings = @($warnings) })
    return
}
Write-RdpfixResult ([ordered]@{
    compliant = ($compliant -and $null -eq $blocked)
    blocked   = $blocked
    before    = $before
    after     = $after
    warnings  = @($warnings)
})
} }

# The checkpoint undo restores exactly (and what rollback compares against the state the step left):
#   builtin-rules     per built-in rule of the local store: whether it exists, Enabled, Profile, RemoteAddress.
#   custom-port-rule  whether rdpfix-RDP-Custom-Port exists and, if it does, every setting apply may change
#                     (and what undo needs to recreate it).
elseif ($in.phase -eq 'capture') { . {
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
Write-RdpfixResult ([ordered]@{ state = $state; warnings = @() })
} }

# builtin-rules:    enables RemoteDesktop-UserMode-In-TCP/-UDP (by Name: locale independent; never
#                   Enable-NetFirewallRule without a selector, which enables every rule), widens their Profile to
#                   the required profiles and, when remoteAddresses is given, sets their RemoteAddress.
# custom-port-rule: creates (or corrects) rdpfix-RDP-Custom-Port, inbound TCP <PortNumber> to TermService, with a
#                   deterministic Name so that a re-run never creates a duplicate (shared reference 4.4).
# Only what differs is written. CDXML cmdlets get -ErrorAction on every call (reference 3.3).
elseif ($in.phase -eq 'apply') { . {
# Compared normalized; written as given (Windows stores them normalized).
$scope = Get-RequestedScope
$remoteGiven = $null
if ($null -ne $scope) { $remoteGiven = @($in.parameters.remoteAddresses | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_ }) }
$required = Get-RequiredProfiles
$changed = $false
$warnings = New-Object System.Collections.ArrayList

if ($in.step -eq 'builtin-rules') {
    foreach ($name in @('RemoteDesktop-UserMode-In-TCP', 'RemoteDesktop-UserMode-In-UDP')) {
        $r = @(Get-NetFirewallRule -Name $name -ErrorAction SilentlyContinue)
        if ($r.Count -eq 0) { [void]$warnings.Add("$name is not in the local store; left alone."); continue }
        if ([string]$r[0].Enabled -ne 'True' -and [string]$r[0].Enabled -ne '1') {
            Enable-NetFirewallRule -Name $name -ErrorAction Stop
            $changed = $true
        }
        $names = @(ConvertTo-ProfileNames $r[0].Profile)
        if ($names -notcontains 'Any') {
            $missing = @($required | Where-Object { $names -notcontains $_ })
            if ($missing.Count -gt 0) {
                $widened = @($AllProfiles | Where-Object { $names -contains $_ -or $required -contains $_ })
                Set-NetFirewallRule -Name $name -Profile ($widened -join ',') -ErrorAction Stop
                $changed = $true
            }
        }
        if ($null -ne $scope) {
            $af = Get-NetFirewallAddressFilter -AssociatedNetFirewallRule $r[0] -ErrorAction Stop
            if (-not (Test-SameAddresses $af.RemoteAddress $scope)) {
                Set-NetFirewallRule -Name $name -RemoteAddress $remoteGiven -ErrorAction Stop
                $changed = $true
            }
        }
    }
} else {
    $port = Get-RdpPort
    if ($port -ne 3389) {
        $profileText = 'Any'
        if ($required.Count -gt 0) { $profileText = ($required -join ',') }
        $remote = @('Any')
        if ($null -ne $scope) { $remote = $remoteGiven }
        $name = 'rdpfix-RDP-Custom-Port'
        $rule = @{
            Direction = 'Inbound'; Action = 'Allow'; Enabled = 'True'; Protocol = 'TCP'; LocalPort = [string]$port
            Profile = $profileText; RemoteAddress = $remote; Program = '%SystemRoot%\system32\svchost.exe'; Service = 'TermService'
        }
        $existing = @(Get-NetFirewallRule -Name $name -ErrorAction SilentlyContinue)
        if ($existing.Count -eq 0) {
            New-NetFirewallRule -Name $name -DisplayName 'Remote Desktop - Custom Port (TCP-In) [rdpfix]' `
                -Description "Created by rdpfix: admits the RDP listener port $port (PortNumber under HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp)." `
                @rule -ErrorAction Stop | Out-Null
            $changed = $true
        } else {
            # Our rule from an earlier run: correct it only if it differs (a second write would change nothing).
            $e = $existing[0]
            $pf = Get-NetFirewallPortFilter -AssociatedNetFirewallRule $e -ErrorAction Stop
            $af = Get-NetFirewallAddressFilter -AssociatedNetFirewallRule $e -ErrorAction Stop
            $app = Get-NetFirewallApplicationFilter -AssociatedNetFirewallRule $e -ErrorAction Stop
            $svc = Get-NetFirewallServiceFilter -AssociatedNetFirewallRule $e -ErrorAction Stop
            $same = ([string]$e.Enabled -eq 'True') -and ([string]$e.Direction -eq 'Inbound') -and ([string]$e.Action -eq 'Allow') -and
                ([string]$pf.Protocol -eq 'TCP') -and ((@($pf.LocalPort) -join ',') -eq [string]$port) -and
                ((@(ConvertTo-ProfileNames $e.Profile) -join ',') -eq (@(ConvertTo-ProfileNames $profileText) -join ',')) -and
                (Test-SameAddresses $af.RemoteAddress $remote) -and
                ([string]$app.Program -eq $rule.Program) -and ([string]$svc.Service -eq $rule.Service)
            if (-not $same) {
                Set-NetFirewallRule -Name $name @rule -ErrorAction Stop
                $changed = $true
            }
        }
    }
}
Write-RdpfixResult ([ordered]@{ changed = $changed; rebootRequired = $false; warnings = @($warnings) })

} }

# Restores the checkpoint exactly. Self-contained: it may run unattended on the host (the revert task) with only
# the checkpoint, and more than once: it compares first and writes only what differs, so a second run changes nothing.
#   builtin-rules     each built-in rule's Enabled, Profile and RemoteAddress as captured (never removes a built-in).
#   custom-port-rule  removes rdpfix-RDP-Custom-Port if it did not exist before; otherwise puts its settings back
#                     (recreating it if it was deleted meanwhile).
elseif ($in.phase -eq 'undo') { . {
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
Write-RdpfixResult ([ordered]@{ changed = $changed; warnings = @($warnings) })

} }
else { throw "rdp-firewall-rules has no phase '$($in.phase)'." }
