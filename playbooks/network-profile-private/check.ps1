# Read-only: which connected interfaces are (or are named to be made) Private, and what stands in the way.
# Keyed on InterfaceIndex / InterfaceAlias, never on the localized profile Name (shared reference 3.1).
param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson

function ConvertTo-CategoryName($Value) {
    # The CDXML enum, or its number (Public 0, Private 1, DomainAuthenticated 2).
    $t = [string]$Value
    if ($t -eq '0') { return 'Public' }
    if ($t -eq '1') { return 'Private' }
    if ($t -eq '2') { return 'DomainAuthenticated' }
    return $t
}

function Get-Profiles {
    # CDXML cmdlets ignore the script's $ErrorActionPreference: -ErrorAction on every call (reference 3.3).
    $list = @(Get-NetConnectionProfile -ErrorAction Stop | ForEach-Object {
        [pscustomobject][ordered]@{ interfaceIndex = [int]$_.InterfaceIndex; interfaceAlias = [string]$_.InterfaceAlias; category = (ConvertTo-CategoryName $_.NetworkCategory) }
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

$want = @($in.parameters.interfaces | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_ })
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
$result = [ordered]@{
    compliant   = ($null -eq $blocked -and $toChange.Count -eq 0)
    blocked     = $blocked
    predictable = $predictable
    before      = [ordered]@{ interfaces = $before }
    after       = [ordered]@{ interfaces = $after }
    warnings    = @($warnings)
}
ConvertTo-Json -InputObject $result -Depth 10 -Compress
