# network-profile-private: the network category of connected interfaces from Public to Private, keyed on
# InterfaceIndex / InterfaceAlias, never on the localized profile Name (shared reference 3.1). One script for every
# phase (the engine passes $in.phase); the shared prelude (playbooks/_shared/prelude.ps1) is inserted after the param
# block when the step is sent.
param([Parameter(Mandatory)][string]$InputJson)
$in = Read-RdpfixInput -Json $InputJson -Steps 'set-private' -Parameters 'ttlMinutes', 'interfaces'

# ---- Shared by every phase ----
function Get-Wanted {
    # The interfaces parameter: InterfaceAlias or InterfaceIndex of each; empty (or left out) is every Public one.
    if ($null -eq $in.parameters.PSObject.Properties['interfaces']) { return , @() }
    return , @($in.parameters.interfaces | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_ })
}

function Test-Selected($Want, $Captured) {
    # Whether a checkpoint entry is one of the interfaces the parameter names (every one when it names none).
    if ($Want.Count -eq 0) { return $true }
    return [bool]($Want | Where-Object { ($_ -match '^\d+$' -and [int64]$_ -eq [int64]$Captured.interfaceIndex) -or $_ -ieq [string]$Captured.interfaceAlias })
}
# ---- end of the shared part ----

# Read-only: which connected interfaces are (or are named to be made) Private, and what stands in the way.
if ($in.phase -eq 'check') { . {
function Get-Profiles {
    # CDXML cmdlets ignore the script's $ErrorActionPreference: -ErrorAction on every call (reference 3.3).
    $list = @(Get-NetConnectionProfile -ErrorAction Stop | ForEach-Object {
        [pscustomobject][ordered]@{ interfaceIndex = [int]$_.InterfaceIndex; interfaceAlias = [string]$_.InterfaceAlias; category = (ConvertTo-RdpfixCategoryName $_.NetworkCategory) }
    })
    return , @($list | Sort-Object -Property interfaceIndex)
}

function Get-Targets($Profiles, $Want) {
    # Empty: every Public interface. Otherwise each entry names an interface by index (digits) or alias.
    $targets = New-Object System.Collections.ArrayList
    $missing = New-Object System.Collections.ArrayList
    if ($Want.Count -eq 0) {
        foreach ($p in $Profiles) { if ($p.category -eq 'Public') { [void]$targets.Add($p) } }
    } else {
        foreach ($w in $Want) {
            $hit = @($Profiles | Where-Object { ($w -match '^\d+$' -and $_.interfaceIndex -eq [int64]$w) -or $_.interfaceAlias -ieq $w })
            if ($hit.Count -eq 0) { [void]$missing.Add($w); continue }
            foreach ($h in $hit) { if (-not $targets.Contains($h)) { [void]$targets.Add($h) } }
        }
    }
    return @{ Targets = @($targets); Missing = @($missing) }
}

$want = Get-Wanted
$profiles = Get-Profiles
$sel = Get-Targets $profiles $want
$describe = { param($p) "'$($p.interfaceAlias)' (index $($p.interfaceIndex), $($p.category))" }
if ($sel.Missing.Count -gt 0) {
    $known = @($profiles | ForEach-Object { & $describe $_ }) -join ', '
    if ($known -eq '') { $known = 'none' }
    throw ("No connected network interface matches " + (@($sel.Missing | ForEach-Object { "'$_'" }) -join ', ') +
        " (parameter interfaces). Connected interfaces with a connection profile: $known. Name an InterfaceAlias or InterfaceIndex from that list; a disconnected adapter has no connection profile.")
}

$warnings = New-Object System.Collections.ArrayList
$blocked = $null
$domain = @($sel.Targets | Where-Object { $_.category -eq 'DomainAuthenticated' })
if ($domain.Count -gt 0) {
    $blocked = "refused: interface " + (@($domain | ForEach-Object { "'$($_.interfaceAlias)' (index $($_.interfaceIndex))" }) -join ', ') +
        " is DomainAuthenticated. That category is not a setting: Windows assigns it while the host is authenticated to a domain controller over that network, and Set-NetConnectionProfile cannot set or change it (`"You cannot set the DomainAuthenticated type by using this cmdlet`"). The Domain firewall profile applies there, so if RDP is blocked the fix is the Remote Desktop rules for the Domain profile (playbook rdp-firewall-rules); if the category itself looks wrong, check the host's connectivity to its domain controllers (DNS, time) and the Network Location Awareness service (NlaSvc), not the category."
}
$toChange = @($sel.Targets | Where-Object { $_.category -eq 'Public' })

# Network List Manager Policies ('User cannot change location') make Windows refuse the change. Which network a
# policy signature key covers is not readable here, so this is a warning and the apply reports the refusal.
$predictable = $true
$nlmKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\CurrentVersion\NetworkList\Signatures'
if ($toChange.Count -gt 0 -and (Test-Path -Path $nlmKey)) {
    foreach ($k in @(Get-ChildItem -Path $nlmKey -ErrorAction Stop)) {
        $ro = Get-ItemProperty -Path ($nlmKey + '\' + $k.PSChildName) -Name 'CategoryReadOnly' -ErrorAction SilentlyContinue
        if ($null -ne $ro -and [int64]$ro.CategoryReadOnly -eq 1) {
            $predictable = $false
            [void]$warnings.Add("A Network List Manager policy forbids changing the network location (HKLM\SOFTWARE\Policies\Microsoft\Windows NT\CurrentVersion\NetworkList\Signatures\$($k.PSChildName): CategoryReadOnly=1, 'User cannot change location'); if it covers these networks Windows will refuse the change. Set the location type in that policy instead (Computer Configuration > Windows Settings > Security Settings > Network List Manager Policies).")
        }
    }
}

$before = @($profiles | ForEach-Object { [ordered]@{ interfaceIndex = $_.interfaceIndex; interfaceAlias = $_.interfaceAlias; category = $_.category } })
$after = @($profiles | ForEach-Object {
    $c = $_.category
    if ($toChange -contains $_ -and $null -eq $blocked) { $c = 'Private' }
    [ordered]@{ interfaceIndex = $_.interfaceIndex; interfaceAlias = $_.interfaceAlias; category = $c }
})
if ($profiles.Count -eq 0) { [void]$warnings.Add('No connected network interface has a connection profile: nothing to change.') }
Write-RdpfixResult ([ordered]@{
    compliant   = ($null -eq $blocked -and $toChange.Count -eq 0)
    blocked     = $blocked
    predictable = $predictable
    before      = [ordered]@{ interfaces = $before }
    after       = [ordered]@{ interfaces = $after }
    warnings    = @($warnings)
})
} }

# The checkpoint: the category of every connected interface, keyed by InterfaceIndex and InterfaceAlias.
# Also what rollback compares against the state the step left (drift).
elseif ($in.phase -eq 'capture') { . {
$interfaces = @(Get-NetConnectionProfile -ErrorAction Stop | Sort-Object -Property InterfaceIndex | ForEach-Object {
    [ordered]@{ interfaceIndex = [int]$_.InterfaceIndex; interfaceAlias = [string]$_.InterfaceAlias; category = (ConvertTo-RdpfixCategoryName $_.NetworkCategory) }
})
Write-RdpfixResult ([ordered]@{ state = [ordered]@{ interfaces = $interfaces }; warnings = @() })
} }

# Sets Public -> Private on the selected interfaces that the checkpoint recorded as Public (so undo knows every
# interface this step changes). Windows' refusals are reported with what to do about them.
elseif ($in.phase -eq 'apply') { . {
$want = Get-Wanted
$captured = @($in.checkpoint.interfaces)
$changed = $false
$warnings = New-Object System.Collections.ArrayList
foreach ($c in $captured) {
    if ([string]$c.category -ne 'Public') { continue }
    if (-not (Test-Selected $want $c)) { continue }
    $idx = [uint32]$c.interfaceIndex
    $label = "'$($c.interfaceAlias)' (index $idx)"
    $now = @(Get-NetConnectionProfile -InterfaceIndex $idx -ErrorAction SilentlyContinue)
    if ($now.Count -eq 0) { [void]$warnings.Add("Interface $label is no longer connected; left alone."); continue }
    $cat = ConvertTo-RdpfixCategoryName $now[0].NetworkCategory
    if ($cat -ne 'Public') { [void]$warnings.Add("Interface $label is $cat now; left alone."); continue }
    try {
        Set-NetConnectionProfile -InterfaceIndex $idx -NetworkCategory Private -ErrorAction Stop
    } catch {
        $msg = $_.Exception.Message
        # Still identifying: the profile refuses with MI RESULT 4 (invalid parameter) although Private is valid for
        # it (DomainAuthenticated was ruled out above: the category is Public). The message is localized
        # ('Identifying...', 'Identifizierung...'): judged by the id, never the text (docs/windows-facts/locales.md).
        if ([string]$_.FullyQualifiedErrorId -like 'MI RESULT 4,*') {
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
Write-RdpfixResult ([ordered]@{ changed = $changed; rebootRequired = $false; warnings = @($warnings) })
} }

# Post-condition: every selected interface that was Public is Private now.
elseif ($in.phase -eq 'verify') { . {
$want = Get-Wanted
$bad = New-Object System.Collections.ArrayList
foreach ($c in @($in.checkpoint.interfaces)) {
    if ([string]$c.category -ne 'Public') { continue }
    if (-not (Test-Selected $want $c)) { continue }
    $now = @(Get-NetConnectionProfile -InterfaceIndex ([uint32]$c.interfaceIndex) -ErrorAction SilentlyContinue)
    if ($now.Count -eq 0) { [void]$bad.Add("'$($c.interfaceAlias)' (index $($c.interfaceIndex)) is no longer connected"); continue }
    $cat = ConvertTo-RdpfixCategoryName $now[0].NetworkCategory
    if ($cat -ne 'Private') { [void]$bad.Add("'$($c.interfaceAlias)' (index $($c.interfaceIndex)) is $cat") }
}
$reason = 'every selected interface is Private'
if ($bad.Count -gt 0) { $reason = 'not Private: ' + (@($bad) -join '; ') }
Write-RdpfixResult ([ordered]@{ ok = ($bad.Count -eq 0); reason = $reason; warnings = @() })
} }

# Restores the checkpoint: each interface the checkpoint recorded as Public and that is Private now goes back to
# Public. Self-contained (it may run unattended, from the revert task, with only the checkpoint) and idempotent: an
# interface already Public is left alone. Interfaces are found by InterfaceIndex, or by InterfaceAlias when the
# adapter was re-created with a new index (shared reference 3.4).
elseif ($in.phase -eq 'undo') { . {
$changed = $false
$warnings = New-Object System.Collections.ArrayList
$current = @(Get-NetConnectionProfile -ErrorAction Stop)
foreach ($c in @($in.checkpoint.interfaces)) {
    if ([string]$c.category -ne 'Public') { continue }
    $label = "'$($c.interfaceAlias)' (index $($c.interfaceIndex))"
    $now = @($current | Where-Object { [int64]$_.InterfaceIndex -eq [int64]$c.interfaceIndex })
    if ($now.Count -eq 0) { $now = @($current | Where-Object { [string]$_.InterfaceAlias -ieq [string]$c.interfaceAlias }) }
    if ($now.Count -eq 0) { [void]$warnings.Add("Interface $label is not connected; its category cannot be restored now."); continue }
    $cat = ConvertTo-RdpfixCategoryName $now[0].NetworkCategory
    if ($cat -eq 'Public') { continue }
    if ($cat -ne 'Private') { [void]$warnings.Add("Interface $label is $cat now (set by Windows); left alone."); continue }
    Set-NetConnectionProfile -InterfaceIndex ([uint32]$now[0].InterfaceIndex) -NetworkCategory Public -ErrorAction Stop
    $changed = $true
}
Write-RdpfixResult ([ordered]@{ changed = $changed; warnings = @($warnings) })
} }
else { throw "network-profile-private has no phase '$($in.phase)'." }
