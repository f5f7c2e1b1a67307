# builtin-rules:    enables RemoteDesktop-UserMode-In-TCP/-UDP (by Name: locale independent; never
#                   Enable-NetFirewallRule without a selector, which enables every rule), widens their Profile to
#                   the required profiles and, when remoteAddresses is given, sets their RemoteAddress.
# custom-port-rule: creates (or corrects) rdpfix-RDP-Custom-Port, inbound TCP <PortNumber> to TermService, with a
#                   deterministic Name so that a re-run never creates a duplicate (shared reference 4.4).
# Only what differs is written. CDXML cmdlets get -ErrorAction on every call (reference 3.3).
param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson

$AllProfiles = @('Domain', 'Private', 'Public')
$Keywords = @('LocalSubnet', 'DNS', 'DHCP', 'WINS', 'DefaultGateway', 'Internet', 'Intranet', 'IntranetRemoteAccess', 'PlayToDevice', 'CaptivePortal')

function ConvertTo-ProfileNames($Value) {
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
    # As Get-NetFirewallAddressFilter shows it (IPv4 subnets in mask notation, host bits cleared); $null: invalid.
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

function ConvertTo-AddressKey($Value) {
    $list = @(@($Value) | ForEach-Object { ([string]$_).Split(',') } | ForEach-Object { $_.Trim() } | Where-Object { $_ -ne '' } | ForEach-Object {
        $n = ConvertTo-NormalAddress $_
        if ($null -eq $n) { $_ } else { $n }
    })
    if ($list.Count -eq 0) { return 'any' }
    return ((@($list | Sort-Object -Unique) -join ',').ToLowerInvariant())
}

function Get-RequestedScope {
    $raw = @($in.parameters.remoteAddresses | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_ })
    if ($raw.Count -eq 0) { return $null }
    foreach ($r in $raw) { if ($null -eq (ConvertTo-NormalAddress $r)) { throw "remoteAddresses: '$r' is not an IPv4/IPv6 address, subnet, range or address keyword." } }
    if (@($raw | Where-Object { $_ -ieq 'Any' }).Count -gt 0 -and $raw.Count -gt 1) { throw "remoteAddresses: 'Any' must be the only entry." }
    return , $raw
}

function Get-RequiredProfiles {
    $spec = [string]$in.parameters.profiles
    if ($spec -eq 'any') { return , $AllProfiles }
    if ($spec -eq 'active' -or $spec -eq '') {
        $cats = @(Get-NetConnectionProfile -ErrorAction Stop | ForEach-Object {
            $c = [string]$_.NetworkCategory
            if ($c -eq '0' -or $c -eq 'Public') { 'Public' }
            elseif ($c -eq '1' -or $c -eq 'Private') { 'Private' }
            elseif ($c -eq '2' -or $c -eq 'DomainAuthenticated') { 'Domain' }
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

$scope = Get-RequestedScope
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
            if ((ConvertTo-AddressKey $af.RemoteAddress) -ne (ConvertTo-AddressKey $scope)) {
                Set-NetFirewallRule -Name $name -RemoteAddress $scope -ErrorAction Stop
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
        if ($null -ne $scope) { $remote = $scope }
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
                ((ConvertTo-AddressKey $af.RemoteAddress) -eq (ConvertTo-AddressKey $remote)) -and
                ([string]$app.Program -eq $rule.Program) -and ([string]$svc.Service -eq $rule.Service)
            if (-not $same) {
                Set-NetFirewallRule -Name $name @rule -ErrorAction Stop
                $changed = $true
            }
        }
    }
}
ConvertTo-Json -InputObject ([ordered]@{ changed = $changed; rebootRequired = $false; warnings = @($warnings) }) -Depth 10 -Compress
