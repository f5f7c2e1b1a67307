# Windows Firewall: NetSecurity CDXML cmdlets (class root/standardcimv2/MSFT_NetFirewallRule and its filters,
# MSFT_NetFirewallProfile), a minimal `netsh advfirewall` and the read helper Test-LabRdpFirewallOpen.
# Uses the CDXML helpers of 60-netprofile.ps1. Facts: docs/windows-facts/network-firewall-sessions-tasks.md.

# Enum definitions copied from the <Enums> blocks of NetFirewallRule/NetFirewallProfile/NetFirewallPortFilter
# .cmdletDefinition.cdxml (Windows NetSecurity module 2.0.0.0).
# The enum types are defined in ../LabTypes.cs, compiled when the module loads.

$script:LabFwNs = 'Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity'
$script:LabFwRuleClass = 'MSFT_NetFirewallRule'

# Hosts can hold tens of thousands of rules: the per-rule helpers below avoid pipelines and cache enum values, so
# that listing every rule stays linear and cheap (one type lookup per enum value, not per rule).
$script:LabFwEnumCache = @{}

function ConvertTo-LabFwEnum {
    param([string]$Enum, $Value)
    $key = $Enum + '|' + [string]$Value
    if (-not $script:LabFwEnumCache.ContainsKey($key)) { $script:LabFwEnumCache[$key] = ([string]$Value -as [type]"$script:LabFwNs.$Enum") }
    return $script:LabFwEnumCache[$key]
}

function Add-LabFwTypeName {
    param($Object, [string]$Class)
    $Object.PSObject.TypeNames.Insert(0, "Microsoft.Management.Infrastructure.CimInstance#$Class")
    $Object.PSObject.TypeNames.Insert(0, "Microsoft.Management.Infrastructure.CimInstance#root/standardcimv2/$Class")
    return $Object
}

function ConvertTo-LabFwRuleObject {
    <# One rule as Get-NetFirewallRule shows it: property order = NetFirewallRule_Listview of NetSecurity.formats.ps1xml
       (the reference section 4.1 list sample), enum-typed Enabled/Profile/Direction/Action/PolicyStoreSourceType,
       PolicyStoreSource 'GroupPolicy' for GPO rules ([UNSOURCED] GPO rules name their GPO there) else 'PersistentStore'.
       Built by [RdpfixLab.LabFirewall] (LabTypes.cs): a host can hold tens of thousands of rules. #>
    param($Rule)
    return [RdpfixLab.LabFirewall]::Rule($Rule)
}

function Get-LabFwRulesInStore {
    <# PersistentStore (the default) holds the local rules only; GPO rules show in ActiveStore/RSOP (WPD Get-NetFirewallRule -PolicyStore). #>
    param([string]$PolicyStore)
    $all = @((Get-LabState).firewall.rules)
    $store = [string]$PolicyStore
    $gpo = $null
    if ($store -eq '' -or $store -eq 'PersistentStore' -or $store -eq 'localhost') { $gpo = $false }
    elseif ($store -eq 'RSOP') { $gpo = $true }
    if ($null -eq $gpo) { return , $all }
    $kept = [System.Collections.Generic.List[object]]::new()
    foreach ($r in $all) { if (([string]$r.PolicyStoreSourceType -eq 'GroupPolicy') -eq $gpo) { $kept.Add($r) } }
    return , $kept.ToArray()
}

function Find-LabFwRules {
    <# The CDXML query shared by Get/Enable/Disable/Set/Remove-NetFirewallRule. $Sel is a hashtable of the
       bound selector parameters. No selector = every rule in the store (default parameter set GetAll). #>
    param($Cmdlet, [string]$CmdletName, [hashtable]$Sel, [string]$PolicyStore)
    $items = Get-LabFwRulesInStore $PolicyStore
    # [property in state, CIM property for errors, values, wildcards]
    $map = @(
        @('Name', 'InstanceID', $true), @('DisplayName', 'DisplayName', $true), @('Description', 'Description', $true),
        @('DisplayGroup', 'DisplayGroup', $true), @('Group', 'RuleGroup', $true), @('Enabled', 'Enabled', $false),
        @('Direction', 'Direction', $false), @('Action', 'Action', $false), @('PolicyStoreSourceType', 'PolicyStoreSourceType', $false)
    )
    $filters = @()
    foreach ($m in $map) {
        if (-not $Sel.ContainsKey($m[0]) -or $null -eq $Sel[$m[0]]) { continue }
        $values = [System.Collections.Generic.List[string]]::new()
        foreach ($v in @($Sel[$m[0]])) { $values.Add([string]$v) }
        $filters += , @($m[0], $m[1], $values.ToArray(), $m[2])
    }
    $result = $items
    $misses = @()
    foreach ($f in $filters) {
        $r = Select-LabNfsByFilter -Items $result -Property $f[0] -Values $f[2] -Glob:([bool]$f[3])
        $result = @($r.Items)
        foreach ($x in $r.Misses) { $misses += , @($f[1], $x) }
    }
    if ($filters.Count -eq 1) {
        foreach ($x in $misses) { $Cmdlet.WriteError((New-LabNfsNotFoundError $script:LabFwRuleClass $x[0] $x[1] $CmdletName)) }
    } elseif ($filters.Count -gt 1 -and $result.Count -eq 0 -and $misses.Count -gt 0) {
        $wql = Format-LabNfsWql @($filters | ForEach-Object { , @($_[1], $_[2], $_[3]) })
        $Cmdlet.WriteError((New-LabNfsComplexNotFoundError $script:LabFwRuleClass 'root/standardcimv2' $wql $CmdletName))
    }
    return , $result
}

function Get-LabFwSelector {
    param([hashtable]$Bound)
    $sel = @{}
    foreach ($k in 'Name', 'DisplayName', 'Description', 'DisplayGroup', 'Group', 'Enabled', 'Direction', 'Action', 'PolicyStoreSourceType') {
        if ($Bound.ContainsKey($k)) { $sel[$k] = $Bound[$k] }
    }
    return $sel
}

function Resolve-LabFwInput {
    <# Rules named by -InputObject / associated filter objects (their InstanceID is the rule's Name). #>
    param($InputObject)
    $rules = @()
    foreach ($io in @($InputObject)) {
        if ($null -eq $io) { continue }
        $id = $null
        if ($io.PSObject.Properties['InstanceID']) { $id = [string]$io.InstanceID } elseif ($io.PSObject.Properties['Name']) { $id = [string]$io.Name } else { $id = [string]$io }
        $rules += @((Get-LabState).firewall.rules | Where-Object { $_.Name -eq $id })
    }
    return , $rules
}

function Get-LabFwTargets {
    param($Cmdlet, [string]$CmdletName, [hashtable]$Bound, $InputObject)
    if ($Bound.ContainsKey('InputObject')) { return (Resolve-LabFwInput $InputObject) }
    $store = $null
    if ($Bound.ContainsKey('PolicyStore')) { $store = [string]$Bound['PolicyStore'] }
    return (Find-LabFwRules -Cmdlet $Cmdlet -CmdletName $CmdletName -Sel (Get-LabFwSelector $Bound) -PolicyStore $store)
}

function Test-LabFwWritable {
    <# GPO-delivered rules cannot be changed locally (reference section 4.2). Text and FQID: [UNSOURCED]. #>
    param($Cmdlet, [string]$CmdletName, $Rule)
    if ([string]$Rule.PolicyStoreSourceType -ne 'GroupPolicy') { return $true }
    $Cmdlet.WriteError((New-LabNfsCimError -Message 'Access is denied.' -MessageId 'Windows System Error 5' -Cmdlet $CmdletName -Category PermissionDenied -Target ([string]$Rule.Name)))
    return $false
}

function Get-NetFirewallRule {
    [CmdletBinding(DefaultParameterSetName = 'GetAll')]
    param(
        [Parameter(ParameterSetName = 'GetAll')][switch]$All,
        [Parameter(ParameterSetName = 'ByName', Mandatory = $true, Position = 0)][Alias('ID')][string[]]$Name,
        [Parameter(ParameterSetName = 'ByDisplayName', Mandatory = $true)][string[]]$DisplayName,
        [Parameter(ParameterSetName = 'ByQuery')][string[]]$Description,
        [Parameter(ParameterSetName = 'ByQuery')][string[]]$DisplayGroup,
        [Parameter(ParameterSetName = 'ByQuery')][string[]]$Group,
        [Parameter(ParameterSetName = 'ByQuery')][Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity.Enabled[]]$Enabled,
        [Parameter(ParameterSetName = 'ByQuery')][Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity.Direction[]]$Direction,
        [Parameter(ParameterSetName = 'ByQuery')][Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity.Action[]]$Action,
        [Parameter(ParameterSetName = 'ByQuery')][Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity.PolicyStoreType[]]$PolicyStoreSourceType,
        [Parameter(ParameterSetName = 'ByAssociatedFilter', Mandatory = $true, ValueFromPipeline = $true)]$AssociatedNetFirewallPortFilter,
        [Parameter(ParameterSetName = 'ByAssociatedAddressFilter', Mandatory = $true)]$AssociatedNetFirewallAddressFilter,
        [Parameter(ParameterSetName = 'ByAssociatedApplicationFilter', Mandatory = $true)]$AssociatedNetFirewallApplicationFilter,
        [string]$PolicyStore, [string]$GPOSession, [switch]$TracePolicyStore,
        $CimSession, [int]$ThrottleLimit, [switch]$AsJob
    )
    process {
        Invoke-LabFaultPoint 'Get-NetFirewallRule'
        $assoc = $null
        foreach ($k in 'AssociatedNetFirewallPortFilter', 'AssociatedNetFirewallAddressFilter', 'AssociatedNetFirewallApplicationFilter') {
            if ($PSBoundParameters.ContainsKey($k)) { $assoc = $PSBoundParameters[$k] }
        }
        if ($null -ne $assoc) { $rules = Resolve-LabFwInput $assoc }
        else { $rules = Find-LabFwRules -Cmdlet $PSCmdlet -CmdletName 'Get-NetFirewallRule' -Sel (Get-LabFwSelector $PSBoundParameters) -PolicyStore $PolicyStore }
        foreach ($o in [RdpfixLab.LabFirewall]::Rules(@($rules))) { $o }
    }
}

function Set-LabFwEnabled {
    param($Cmdlet, [string]$CmdletName, [hashtable]$Bound, $InputObject, [string]$Value, [switch]$PassThru)
    $targets = Get-LabFwTargets -Cmdlet $Cmdlet -CmdletName $CmdletName -Bound $Bound -InputObject $InputObject
    $changed = @()
    foreach ($r in $targets) {
        if (-not $Cmdlet.ShouldProcess("$CmdletName DisplayName: $($r.Name)", $CmdletName)) { continue }
        if (-not (Test-LabFwWritable $Cmdlet $CmdletName $r)) { continue }
        if ([string]$r.Enabled -ne $Value) { $r.Enabled = $Value; $changed += [string]$r.Name }
        if ($PassThru) { ConvertTo-LabFwRuleObject $r }
    }
    if ($changed.Count -gt 0) {
        Save-LabState
        Write-LabAudit -Command $CmdletName -Detail ([ordered]@{ rules = $changed; enabled = $Value })
    }
}

function Enable-NetFirewallRule {
    # No selector: every rule on the machine (WPD Enable-NetFirewallRule "IMPORTANT NOTE"; default set GetAll).
    [CmdletBinding(DefaultParameterSetName = 'GetAll', SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [Parameter(ParameterSetName = 'GetAll')][switch]$All,
        [Parameter(ParameterSetName = 'ByName', Mandatory = $true, Position = 0)][Alias('ID')][string[]]$Name,
        [Parameter(ParameterSetName = 'ByDisplayName', Mandatory = $true)][string[]]$DisplayName,
        [Parameter(ParameterSetName = 'ByQuery')][string[]]$Description,
        [Parameter(ParameterSetName = 'ByQuery')][string[]]$DisplayGroup,
        [Parameter(ParameterSetName = 'ByQuery')][string[]]$Group,
        [Parameter(ParameterSetName = 'ByQuery')][Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity.Direction[]]$Direction,
        [Parameter(ParameterSetName = 'InputObject (cdxml)', Mandatory = $true, ValueFromPipeline = $true)]$InputObject,
        [string]$PolicyStore, [string]$GPOSession, [switch]$PassThru,
        $CimSession, [int]$ThrottleLimit, [switch]$AsJob
    )
    process {
        Invoke-LabFaultPoint 'Enable-NetFirewallRule'
        Set-LabFwEnabled -Cmdlet $PSCmdlet -CmdletName 'Enable-NetFirewallRule' -Bound $PSBoundParameters -InputObject $InputObject -Value 'True' -PassThru:$PassThru
    }
}

function Disable-NetFirewallRule {
    [CmdletBinding(DefaultParameterSetName = 'GetAll', SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [Parameter(ParameterSetName = 'GetAll')][switch]$All,
        [Parameter(ParameterSetName = 'ByName', Mandatory = $true, Position = 0)][Alias('ID')][string[]]$Name,
        [Parameter(ParameterSetName = 'ByDisplayName', Mandatory = $true)][string[]]$DisplayName,
        [Parameter(ParameterSetName = 'ByQuery')][string[]]$Description,
        [Parameter(ParameterSetName = 'ByQuery')][string[]]$DisplayGroup,
        [Parameter(ParameterSetName = 'ByQuery')][string[]]$Group,
        [Parameter(ParameterSetName = 'ByQuery')][Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity.Direction[]]$Direction,
        [Parameter(ParameterSetName = 'InputObject (cdxml)', Mandatory = $true, ValueFromPipeline = $true)]$InputObject,
        [string]$PolicyStore, [string]$GPOSession, [switch]$PassThru,
        $CimSession, [int]$ThrottleLimit, [switch]$AsJob
    )
    process {
        Invoke-LabFaultPoint 'Disable-NetFirewallRule'
        Set-LabFwEnabled -Cmdlet $PSCmdlet -CmdletName 'Disable-NetFirewallRule' -Bound $PSBoundParameters -InputObject $InputObject -Value 'False' -PassThru:$PassThru
    }
}

function ConvertTo-LabFwProtocol {
    param([string]$Protocol)
    if ($Protocol -match '^(tcp|udp)$') { return $Protocol.ToUpperInvariant() }
    if ($Protocol -eq '' -or $Protocol -match '^any$') { return 'Any' }
    return $Protocol
}

function Join-LabFwList {
    param($Value)
    return ((@($Value) | ForEach-Object { [string]$_ }) -join ',')
}

# RemoteAddress: the forms WPD New-NetFirewallRule -RemoteAddress lists (address, subnet by bit count or mask, a-b
# range, keyword with an optional 4/6 suffix). The firewall stores IPv4 subnets in mask notation with the host bits
# cleared (Get-NetFirewallAddressFilter shows 10.1.0.0/255.255.0.0 for 10.1.2.3/16: NetworkingDsc issues #169/#404
# and its Convert-CIDRToSubnetMask). Anything else: the provider's "The address is invalid." error (HRESULT 0x80070057,
# verbatim in eShopOnContainers issue #43). Keyword case and IPv6 spelling are normalized [INFERENCE].
$script:LabFwAddressKeywords = @('LocalSubnet', 'DNS', 'DHCP', 'WINS', 'DefaultGateway', 'Internet', 'Intranet', 'IntranetRemoteAccess', 'PlayToDevice', 'CaptivePortal')
$script:LabFwAddressError = 'The address is invalid.  Addresses may be specified as IP addresses, ranges, or subnets.  Also, the following address keywords are allowed in certain places: LocalSubnet, DNS, DHCP, WINS, DefaultGateway, Internet, Intranet, IntranetRemoteAccess, PlayToDevice.  Keywords can be restricted to IPv4 or IPv6 by appending a 4 or 6.'

function ConvertTo-LabFwIPv4 {
    param([string]$Text)
    if ($Text -notmatch '^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$') { return $null }
    $b = @([int]$Matches[1], [int]$Matches[2], [int]$Matches[3], [int]$Matches[4])
    if (@($b | Where-Object { $_ -gt 255 }).Count -gt 0) { return $null }
    return , $b
}

function ConvertTo-LabFwIPv6 {
    param([string]$Text)
    if ($Text -notmatch ':') { return $null }
    $ip = $null
    if (-not [System.Net.IPAddress]::TryParse($Text, [ref]$ip)) { return $null }
    if ($ip.AddressFamily -ne [System.Net.Sockets.AddressFamily]::InterNetworkV6) { return $null }
    return $ip.ToString()
}

function ConvertTo-LabFwAddress {
    <# One RemoteAddress token as the firewall stores it, or $null when Windows would refuse it. #>
    param([string]$Token)
    $t = $Token.Trim()
    foreach ($k in $script:LabFwAddressKeywords) {
        if ($t -match ('^' + $k + '([46]?)$')) { return $k + $Matches[1] }
    }
    $slash = $t.IndexOf('/')
    if ($slash -gt 0) {
        $addr = $t.Substring(0, $slash); $suffix = $t.Substring($slash + 1)
        $v4 = ConvertTo-LabFwIPv4 $addr
        if ($null -ne $v4) {
            $mask = $null
            if ($suffix -match '^\d{1,2}$' -and [int]$suffix -le 32) {
                $m = [uint64]4294967296 - [uint64][math]::Pow(2, 32 - [int]$suffix)
                $mask = @([int](($m -shr 24) -band 255), [int](($m -shr 16) -band 255), [int](($m -shr 8) -band 255), [int]($m -band 255))
            } else {
                $mask = ConvertTo-LabFwIPv4 $suffix
            }
            if ($null -eq $mask) { return $null }
            $net = @(0..3 | ForEach-Object { $v4[$_] -band $mask[$_] })
            return (($net -join '.') + '/' + ($mask -join '.'))
        }
        $v6 = ConvertTo-LabFwIPv6 $addr
        if ($null -ne $v6 -and $suffix -match '^\d{1,3}$' -and [int]$suffix -le 128) { return "$v6/$([int]$suffix)" }
        return $null
    }
    $dash = $t.IndexOf('-')
    if ($dash -gt 0) {
        $a = $t.Substring(0, $dash); $b = $t.Substring($dash + 1)
        if ($null -ne (ConvertTo-LabFwIPv4 $a) -and $null -ne (ConvertTo-LabFwIPv4 $b)) { return "$a-$b" }
        $a6 = ConvertTo-LabFwIPv6 $a; $b6 = ConvertTo-LabFwIPv6 $b
        if ($null -ne $a6 -and $null -ne $b6) { return "$a6-$b6" }
        return $null
    }
    if ($null -ne (ConvertTo-LabFwIPv4 $t)) { return $t }
    return (ConvertTo-LabFwIPv6 $t)
}

function ConvertTo-LabFwAddressList {
    <# The stored RemoteAddress text for a -RemoteAddress argument, or $null (invalid). 'Any' stands alone. #>
    param([string[]]$Value)
    $tokens = @($Value | ForEach-Object { ([string]$_).Split(',') } | ForEach-Object { $_.Trim() } | Where-Object { $_ -ne '' })
    if ($tokens.Count -eq 0) { return $null }
    if (@($tokens | Where-Object { $_ -ieq 'Any' }).Count -gt 0) {
        if ($tokens.Count -eq 1) { return 'Any' }
        return $null   # [INFERENCE] 'Any' mixed with addresses (INetFwRule: '*' must be the only token)
    }
    $out = @()
    foreach ($t in $tokens) {
        $n = ConvertTo-LabFwAddress $t
        if ($null -eq $n) { return $null }
        $out += $n
    }
    return ($out -join ',')
}

function Write-LabFwAddressError {
    param($Cmdlet)
    $Cmdlet.WriteError((New-LabNfsCimError -Message $script:LabFwAddressError -MessageId 'HRESULT 0x80070057' -Cmdlet '' -Category InvalidArgument -Target 'MSFT_NetFirewallRule'))
}

function Set-NetFirewallRule {
    [CmdletBinding(DefaultParameterSetName = 'ByName', SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [Parameter(ParameterSetName = 'ByName', Mandatory = $true, Position = 0)][Alias('ID')][string[]]$Name,
        [Parameter(ParameterSetName = 'ByDisplayName', Mandatory = $true)][string[]]$DisplayName,
        [Parameter(ParameterSetName = 'ByQuery')][string[]]$DisplayGroup,
        [Parameter(ParameterSetName = 'ByQuery')][string[]]$Group,
        [Parameter(ParameterSetName = 'InputObject (cdxml)', Mandatory = $true, ValueFromPipeline = $true)]$InputObject,
        [string]$NewDisplayName, [string]$Description,
        [Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity.Enabled]$Enabled,
        [Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity.Profile]$Profile,
        [Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity.Direction]$Direction,
        [Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity.Action]$Action,
        [string]$Protocol, [string[]]$LocalPort, [string[]]$RemotePort, [string[]]$RemoteAddress,
        [string]$Program, [string]$Service,
        [string]$PolicyStore, [string]$GPOSession, [switch]$PassThru,
        $CimSession, [int]$ThrottleLimit, [switch]$AsJob
    )
    process {
        Invoke-LabFaultPoint 'Set-NetFirewallRule'
        $sel = @{}
        foreach ($k in 'Name', 'DisplayName', 'DisplayGroup', 'Group', 'InputObject', 'PolicyStore') { if ($PSBoundParameters.ContainsKey($k)) { $sel[$k] = $PSBoundParameters[$k] } }
        $targets = Get-LabFwTargets -Cmdlet $PSCmdlet -CmdletName 'Set-NetFirewallRule' -Bound $sel -InputObject $InputObject
        $changes = [ordered]@{}
        if ($PSBoundParameters.ContainsKey('NewDisplayName')) { $changes.DisplayName = $NewDisplayName }
        if ($PSBoundParameters.ContainsKey('Description')) { $changes.Description = $Description }
        if ($PSBoundParameters.ContainsKey('Enabled')) { $changes.Enabled = $Enabled.ToString() }
        if ($PSBoundParameters.ContainsKey('Profile')) { $changes.Profile = $Profile.ToString() }
        if ($PSBoundParameters.ContainsKey('Direction')) { $changes.Direction = $Direction.ToString() }
        if ($PSBoundParameters.ContainsKey('Action')) { $changes.Action = $Action.ToString() }
        if ($PSBoundParameters.ContainsKey('Protocol')) { $changes.Protocol = ConvertTo-LabFwProtocol $Protocol }
        if ($PSBoundParameters.ContainsKey('LocalPort')) { $changes.LocalPort = Join-LabFwList $LocalPort }
        if ($PSBoundParameters.ContainsKey('RemotePort')) { $changes.RemotePort = Join-LabFwList $RemotePort }
        if ($PSBoundParameters.ContainsKey('RemoteAddress')) {
            $changes.RemoteAddress = ConvertTo-LabFwAddressList $RemoteAddress
            if ($null -eq $changes.RemoteAddress) { Write-LabFwAddressError $PSCmdlet; return }
        }
        if ($PSBoundParameters.ContainsKey('Program')) { $changes.Program = $Program }
        if ($PSBoundParameters.ContainsKey('Service')) { $changes.Service = $Service }
        $done = @()
        foreach ($r in $targets) {
            # -WhatIf text as the reference section 4.1 sample: "Set-NetFirewallRule DisplayName: <Name>".
            if (-not $PSCmdlet.ShouldProcess("Set-NetFirewallRule DisplayName: $($r.Name)", 'Set-NetFirewallRule')) { continue }
            if (-not (Test-LabFwWritable $PSCmdlet 'Set-NetFirewallRule' $r)) { continue }
            foreach ($k in $changes.Keys) { $r.$k = $changes[$k] }
            $done += [string]$r.Name
            if ($PassThru) { ConvertTo-LabFwRuleObject $r }
        }
        if ($done.Count -gt 0 -and $changes.Count -gt 0) {
            Save-LabState
            Write-LabAudit -Command 'Set-NetFirewallRule' -Detail ([ordered]@{ rules = $done; set = $changes })
        }
    }
}

function New-NetFirewallRule {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [string]$Name,
        [Parameter(Mandatory = $true)][string]$DisplayName,
        [string]$Description = '', [string]$Group = '',
        [Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity.Enabled]$Enabled = 'True',
        [Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity.Profile]$Profile = 'Any',
        [Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity.Direction]$Direction = 'Inbound',
        [Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity.Action]$Action = 'Allow',
        [string]$Protocol = 'Any', [string[]]$LocalPort, [string[]]$RemotePort, [string[]]$RemoteAddress,
        [string]$Program = 'Any', [string]$Service = 'Any',
        [string]$PolicyStore, [string]$GPOSession,
        $CimSession, [int]$ThrottleLimit, [switch]$AsJob
    )
    Invoke-LabFaultPoint 'New-NetFirewallRule'
    $state = Get-LabState
    # Without -Name the firewall names the rule with a fresh GUID, so re-runs create duplicates (reference section 4.4).
    if (-not $PSBoundParameters.ContainsKey('Name') -or [string]::IsNullOrEmpty($Name)) { $Name = '{' + [guid]::NewGuid().ToString() + '}' }
    if (@($state.firewall.rules | Where-Object { $_.Name -eq $Name }).Count -gt 0) {
        # CimException ERROR_ALREADY_EXISTS: MessageId "Windows System Error 183" (FQID seen in a NetSecurity
        # GPO script); category ResourceExists [INFERENCE].
        $PSCmdlet.WriteError((New-LabNfsCimError -Message 'Cannot create a file when that file already exists.' -MessageId 'Windows System Error 183' -Cmdlet 'New-NetFirewallRule' -Category ResourceExists -Target $Name))
        return
    }
    if (-not $PSCmdlet.ShouldProcess($DisplayName, 'New-NetFirewallRule')) { return }
    $lp = 'Any'; if ($LocalPort) { $lp = Join-LabFwList $LocalPort }
    $rp = 'Any'; if ($RemotePort) { $rp = Join-LabFwList $RemotePort }
    $ra = 'Any'
    if ($PSBoundParameters.ContainsKey('RemoteAddress')) {
        $ra = ConvertTo-LabFwAddressList $RemoteAddress
        if ($null -eq $ra) { Write-LabFwAddressError $PSCmdlet; return }
    }
    $proto = ConvertTo-LabFwProtocol $Protocol
    $rule = [pscustomobject][ordered]@{
        Name = $Name; DisplayName = $DisplayName; Description = $Description; DisplayGroup = $Group; Group = $Group
        Enabled = $Enabled.ToString(); Profile = $Profile.ToString(); Direction = $Direction.ToString(); Action = $Action.ToString()
        Protocol = $proto; LocalPort = $lp; RemotePort = $rp; RemoteAddress = $ra; Program = $Program; Service = $Service
        PolicyStoreSourceType = 'Local'
    }
    $state.firewall.rules = @($state.firewall.rules) + $rule
    Save-LabState
    Write-LabAudit -Command 'New-NetFirewallRule' -Detail ([ordered]@{ name = $Name; displayName = $DisplayName; localPort = $lp; protocol = $proto })
    ConvertTo-LabFwRuleObject $rule
}

function Remove-NetFirewallRule {
    [CmdletBinding(DefaultParameterSetName = 'GetAll', SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [Parameter(ParameterSetName = 'GetAll')][switch]$All,
        [Parameter(ParameterSetName = 'ByName', Mandatory = $true, Position = 0)][Alias('ID')][string[]]$Name,
        [Parameter(ParameterSetName = 'ByDisplayName', Mandatory = $true)][string[]]$DisplayName,
        [Parameter(ParameterSetName = 'ByQuery')][string[]]$DisplayGroup,
        [Parameter(ParameterSetName = 'ByQuery')][string[]]$Group,
        [Parameter(ParameterSetName = 'InputObject (cdxml)', Mandatory = $true, ValueFromPipeline = $true)]$InputObject,
        [string]$PolicyStore, [string]$GPOSession,
        $CimSession, [int]$ThrottleLimit, [switch]$AsJob
    )
    process {
        Invoke-LabFaultPoint 'Remove-NetFirewallRule'
        $targets = Get-LabFwTargets -Cmdlet $PSCmdlet -CmdletName 'Remove-NetFirewallRule' -Bound $PSBoundParameters -InputObject $InputObject
        $gone = @()
        foreach ($r in $targets) {
            if (-not $PSCmdlet.ShouldProcess("Remove-NetFirewallRule DisplayName: $($r.Name)", 'Remove-NetFirewallRule')) { continue }
            if (-not (Test-LabFwWritable $PSCmdlet 'Remove-NetFirewallRule' $r)) { continue }
            $gone += $r
        }
        if ($gone.Count -gt 0) {
            $state = Get-LabState
            $state.firewall.rules = @($state.firewall.rules | Where-Object { $gone -notcontains $_ })
            Save-LabState
            Write-LabAudit -Command 'Remove-NetFirewallRule' -Detail ([ordered]@{ rules = @($gone | ForEach-Object { [string]$_.Name }) })
        }
    }
}

# ---------------------------------------------------------------------------------------------------
# Filters (one per rule, InstanceID = the rule's Name)

function Get-LabFwFilterRules {
    param($Cmdlet, [string]$CmdletName, [hashtable]$Bound, $Assoc)
    if ($Bound.ContainsKey('AssociatedNetFirewallRule')) { return (Resolve-LabFwInput $Assoc) }
    $store = $null
    if ($Bound.ContainsKey('PolicyStore')) { $store = [string]$Bound['PolicyStore'] }
    return (Get-LabFwRulesInStore $store)
}

function Get-NetFirewallPortFilter {
    [CmdletBinding(DefaultParameterSetName = 'GetAll')]
    param(
        [Parameter(ParameterSetName = 'GetAll')][switch]$All,
        [Parameter(ParameterSetName = 'ByAssociatedNetFirewallRule', Mandatory = $true, ValueFromPipeline = $true)]$AssociatedNetFirewallRule,
        [string]$PolicyStore, [string]$GPOSession, $CimSession, [int]$ThrottleLimit, [switch]$AsJob
    )
    process {
        Invoke-LabFaultPoint 'Get-NetFirewallPortFilter'
        # Built by [RdpfixLab.LabFirewall] (LabTypes.cs): one object per rule, InstanceID = the rule's Name.
        foreach ($o in [RdpfixLab.LabFirewall]::Filters('Port', @(Get-LabFwFilterRules $PSCmdlet 'Get-NetFirewallPortFilter' $PSBoundParameters $AssociatedNetFirewallRule))) { $o }
    }
}

function Get-NetFirewallAddressFilter {
    [CmdletBinding(DefaultParameterSetName = 'GetAll')]
    param(
        [Parameter(ParameterSetName = 'GetAll')][switch]$All,
        [Parameter(ParameterSetName = 'ByAssociatedNetFirewallRule', Mandatory = $true, ValueFromPipeline = $true)]$AssociatedNetFirewallRule,
        [string]$PolicyStore, [string]$GPOSession, $CimSession, [int]$ThrottleLimit, [switch]$AsJob
    )
    process {
        Invoke-LabFaultPoint 'Get-NetFirewallAddressFilter'
        # Built by [RdpfixLab.LabFirewall] (LabTypes.cs): one object per rule, InstanceID = the rule's Name.
        foreach ($o in [RdpfixLab.LabFirewall]::Filters('Address', @(Get-LabFwFilterRules $PSCmdlet 'Get-NetFirewallAddressFilter' $PSBoundParameters $AssociatedNetFirewallRule))) { $o }
    }
}

function Get-NetFirewallApplicationFilter {
    [CmdletBinding(DefaultParameterSetName = 'GetAll')]
    param(
        [Parameter(ParameterSetName = 'GetAll')][switch]$All,
        [Parameter(ParameterSetName = 'ByAssociatedNetFirewallRule', Mandatory = $true, ValueFromPipeline = $true)]$AssociatedNetFirewallRule,
        [string]$PolicyStore, [string]$GPOSession, $CimSession, [int]$ThrottleLimit, [switch]$AsJob
    )
    process {
        Invoke-LabFaultPoint 'Get-NetFirewallApplicationFilter'
        # Built by [RdpfixLab.LabFirewall] (LabTypes.cs): one object per rule, InstanceID = the rule's Name.
        foreach ($o in [RdpfixLab.LabFirewall]::Filters('Application', @(Get-LabFwFilterRules $PSCmdlet 'Get-NetFirewallApplicationFilter' $PSBoundParameters $AssociatedNetFirewallRule))) { $o }
    }
}

function Get-NetFirewallServiceFilter {
    [CmdletBinding(DefaultParameterSetName = 'GetAll')]
    param(
        [Parameter(ParameterSetName = 'GetAll')][switch]$All,
        [Parameter(ParameterSetName = 'ByAssociatedNetFirewallRule', Mandatory = $true, ValueFromPipeline = $true)]$AssociatedNetFirewallRule,
        [string]$PolicyStore, [string]$GPOSession, $CimSession, [int]$ThrottleLimit, [switch]$AsJob
    )
    process {
        Invoke-LabFaultPoint 'Get-NetFirewallServiceFilter'
        # Built by [RdpfixLab.LabFirewall] (LabTypes.cs): one object per rule, InstanceID = the rule's Name.
        foreach ($o in [RdpfixLab.LabFirewall]::Filters('Service', @(Get-LabFwFilterRules $PSCmdlet 'Get-NetFirewallServiceFilter' $PSBoundParameters $AssociatedNetFirewallRule))) { $o }
    }
}

function Get-NetFirewallProfile {
    [CmdletBinding(DefaultParameterSetName = 'GetAll')]
    param(
        [Parameter(ParameterSetName = 'GetAll')][switch]$All,
        [Parameter(ParameterSetName = 'ByName', Mandatory = $true, Position = 0)][Alias('Profile')][string[]]$Name,
        [string]$PolicyStore, [string]$GPOSession, $CimSession, [int]$ThrottleLimit, [switch]$AsJob
    )
    process {
        Invoke-LabFaultPoint 'Get-NetFirewallProfile'
        $items = @((Get-LabState).firewall.profiles)
        if ($PSBoundParameters.ContainsKey('Name')) {
            $r = Select-LabNfsByFilter -Items $items -Property 'Name' -Values $Name -Glob
            foreach ($m in $r.Misses) { $PSCmdlet.WriteError((New-LabNfsNotFoundError 'MSFT_NetFirewallProfile' 'Name' $m 'Get-NetFirewallProfile')) }
            $items = $r.Items
        }
        foreach ($p in $items) {
            $en = 'False'; if ($p.Enabled) { $en = 'True' }
            # "Apply local firewall rules" is a group policy switch (AllowLocalPolicyMerge, MS-GPFAS 2.2.3.13): the
            # ActiveStore and RSOP show what policy set, the local (persistent) store its own NotConfigured [INFERENCE].
            $merge = 'NotConfigured'
            $fromPolicy = @('ActiveStore', 'RSOP') -contains [string]$PolicyStore
            if ($fromPolicy -and $p.PSObject.Properties['AllowLocalFirewallRules'] -and [string]$p.AllowLocalFirewallRules -ne '') { $merge = [string]$p.AllowLocalFirewallRules }
            # The first six properties of NetFirewallProfile_Listview; the other Allow*/Log* settings are not modelled.
            $o = [pscustomobject][ordered]@{
                Name                    = [string]$p.Name
                Enabled                 = ConvertTo-LabFwEnum 'GpoBoolean' $en
                DefaultInboundAction    = ConvertTo-LabFwEnum 'Action' $p.DefaultInboundAction
                DefaultOutboundAction   = ConvertTo-LabFwEnum 'Action' $p.DefaultOutboundAction
                AllowInboundRules       = ConvertTo-LabFwEnum 'GpoBoolean' 'NotConfigured'
                AllowLocalFirewallRules = ConvertTo-LabFwEnum 'GpoBoolean' $merge
            }
            Add-LabFwTypeName $o 'MSFT_NetFirewallProfile'
        }
    }
}

# ---------------------------------------------------------------------------------------------------
# Test-LabRdpFirewallOpen: does the simulated firewall let TCP <Port> in? (read-only, for other lab code)

function Test-LabFwPortCovered {
    param([string]$Spec, [int]$Port)
    foreach ($part in ([string]$Spec).Split(',')) {
        $p = $part.Trim()
        if ($p -eq '' ) { continue }
        if ($p -eq 'Any') { return $true }
        if ($p -match '^(\d+)-(\d+)$') { if ($Port -ge [int]$Matches[1] -and $Port -le [int]$Matches[2]) { return $true } ; continue }
        if ($p -match '^\d+$' -and [int]$p -eq $Port) { return $true }
    }
    return $false
}

function Test-LabFwRuleApplies {
    <# Whether an enabled inbound TCP rule covers <Port> on <Category> for the listener: 'rdp' (TermService in
       svchost -k NetworkService) or 'winrm' (http.sys: program 'System'). #>
    param($Rule, [string]$Category, [int]$Port, [string]$Listener = 'rdp')
    if ([string]$Rule.Enabled -ne 'True' -or [string]$Rule.Direction -ne 'Inbound') { return $false }
    if (@('TCP', 'Any') -notcontains [string]$Rule.Protocol) { return $false }
    if (-not (Test-LabFwPortCovered $Rule.LocalPort $Port)) { return $false }
    $prog = [string]$Rule.Program
    if ($Listener -eq 'winrm') {
        if ($prog -ne '' -and $prog -ne 'Any' -and $prog -ine 'System') { return $false }
    } else {
        # Application/service conditions must admit TermService (svchost -k NetworkService) [INFERENCE: WFP
        # conditions]; e.g. the Shadow rule (RdpSa.exe, any port) does not open the listener port.
        if ($prog -ne '' -and $prog -ne 'Any' -and $prog -notmatch '\\svchost\.exe$') { return $false }
        $svc = [string]$Rule.Service
        if ($svc -ne '' -and $svc -ne 'Any' -and $svc -ine 'TermService') { return $false }
    }
    $prof = [string]$Rule.Profile
    return ($prof -eq 'Any' -or @($prof.Split(',') | ForEach-Object { $_.Trim() }) -contains $Category)
}

function Test-LabRdpFirewallOpen {
    <# $true when inbound TCP <Port> is allowed for at least one connected network: its firewall profile is
       off, or its default inbound action is Allow, or an enabled inbound Allow rule (any store) covers the port
       and the profile, with no enabled Block rule doing the same (block rules win).
       -Listener winrm asks the same for WinRM (program 'System') instead of TermService. #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][int]$Port, [ValidateSet('rdp', 'winrm')][string]$Listener = 'rdp')
    $state = Get-LabState
    foreach ($np in @($state.netConnectionProfiles)) {
        $cat = [string]$np.NetworkCategory
        if ($cat -eq 'DomainAuthenticated') { $cat = 'Domain' }
        $fp = @($state.firewall.profiles | Where-Object { $_.Name -eq $cat }) | Select-Object -First 1
        if ($null -ne $fp -and -not $fp.Enabled) { return $true }
        # Group policy's "Apply local firewall rules: No": only its own rules are in effect on this profile.
        $policyOnly = ($null -ne $fp -and $fp.PSObject.Properties['AllowLocalFirewallRules'] -and [string]$fp.AllowLocalFirewallRules -eq 'False')
        $rules = @($state.firewall.rules | Where-Object { (-not $policyOnly -or [string]$_.PolicyStoreSourceType -eq 'GroupPolicy') -and (Test-LabFwRuleApplies $_ $cat $Port $Listener) })
        if (@($rules | Where-Object { $_.Action -eq 'Block' }).Count -gt 0) { continue }
        if (@($rules | Where-Object { $_.Action -eq 'Allow' }).Count -gt 0) { return $true }
        if ($null -ne $fp -and [string]$fp.DefaultInboundAction -eq 'Allow') { return $true }
    }
    return $false
}

# ---------------------------------------------------------------------------------------------------
# netsh advfirewall (minimal). Matches rules by display name (name=) and localized group (group=), local
# store only. Texts: reference section 4.4 and real transcripts ("Updated N rule(s).", "Deleted N rule(s).", "Ok.").

function ConvertFrom-LabNetshArgs {
    <# 'k=v' tokens -> ordered hashtable (keys lower-case); tokens after 'new' go to .New. #>
    param([string[]]$Tokens)
    $crit = [ordered]@{}; $new = [ordered]@{}; $target = $crit
    foreach ($t in $Tokens) {
        if ($t -ieq 'new') { $target = $new; continue }
        $i = $t.IndexOf('=')
        if ($i -gt 0) { $target[$t.Substring(0, $i).ToLowerInvariant()] = $t.Substring($i + 1).Trim('"') }
        else { $target[$t.ToLowerInvariant()] = $true }
    }
    return @{ Criteria = $crit; New = $new }
}

function ConvertTo-LabNetshProfiles {
    param([string]$Profile)
    if ($Profile -eq 'Any' -or $Profile -eq '') { return 'Domain,Private,Public' }
    return (($Profile.Split(',') | ForEach-Object { $_.Trim() }) -join ',')
}

function ConvertFrom-LabNetshProfiles {
    param([string]$Text)
    $names = @($Text.Split(',') | ForEach-Object { $_.Trim().ToLowerInvariant() } | Where-Object { $_ })
    if ($names -contains 'any' -or $names.Count -eq 0) { return 'Any' }
    $out = @()
    foreach ($n in 'Domain', 'Private', 'Public') { if ($names -contains $n.ToLowerInvariant()) { $out += $n } }
    return ($out -join ', ')
}

function Select-LabNetshRules {
    param($Crit)
    $rules = @((Get-LabState).firewall.rules | Where-Object { [string]$_.PolicyStoreSourceType -ne 'GroupPolicy' })
    if ($Crit.Contains('name') -and $Crit['name'] -ine 'all') { $rules = @($rules | Where-Object { $_.DisplayName -ieq $Crit['name'] }) }
    if ($Crit.Contains('group')) { $rules = @($rules | Where-Object { $_.DisplayGroup -ieq $Crit['group'] }) }
    if ($Crit.Contains('dir')) { $d = 'Inbound'; if ($Crit['dir'] -ieq 'out') { $d = 'Outbound' }; $rules = @($rules | Where-Object { $_.Direction -eq $d }) }
    if ($Crit.Contains('protocol')) { $rules = @($rules | Where-Object { $_.Protocol -ieq $Crit['protocol'] }) }
    if ($Crit.Contains('localport')) { $rules = @($rules | Where-Object { $_.LocalPort -ieq $Crit['localport'] }) }
    return , $rules
}

function Format-LabNetshRule {
    param($Rule)
    $f = '{0,-38}{1}'
    $yes = 'No'; if ($Rule.Enabled -eq 'True') { $yes = 'Yes' }
    $dir = 'In'; if ($Rule.Direction -eq 'Outbound') { $dir = 'Out' }
    $lines = @('', ($f -f 'Rule Name:', $Rule.DisplayName), ('-' * 70),
        ($f -f 'Enabled:', $yes), ($f -f 'Direction:', $dir), ($f -f 'Profiles:', (ConvertTo-LabNetshProfiles $Rule.Profile)),
        ($f -f 'Grouping:', $Rule.DisplayGroup).TrimEnd(), ($f -f 'LocalIP:', 'Any'), ($f -f 'RemoteIP:', $Rule.RemoteAddress),
        ($f -f 'Protocol:', $Rule.Protocol))
    if (@('TCP', 'UDP') -contains [string]$Rule.Protocol) { $lines += ($f -f 'LocalPort:', $Rule.LocalPort); $lines += ($f -f 'RemotePort:', $Rule.RemotePort) }
    $lines += ($f -f 'Edge traversal:', 'No')
    $lines += ($f -f 'Action:', $Rule.Action)
    return $lines
}

function Invoke-LabNetshRule {
    param([string]$Verb, [string[]]$Tokens)
    $p = ConvertFrom-LabNetshArgs $Tokens
    $crit = $p.Criteria; $new = $p.New
    if ($Verb -eq 'add') { return (Add-LabNetshRule $crit) }
    if (-not $crit.Contains('name') -and -not $crit.Contains('group')) { return @{ Lines = @('A specified value is not valid.', ''); Code = 1 } }   # [UNSOURCED] usage error text
    $rules = Select-LabNetshRules $crit
    if ($rules.Count -eq 0) { return @{ Lines = @('No rules match the specified criteria.'); Code = 1 } }
    if ($Verb -eq 'show') {
        $lines = @(); foreach ($r in $rules) { $lines += Format-LabNetshRule $r }
        return @{ Lines = ($lines + @('Ok.', '')); Code = 0 }
    }
    $state = Get-LabState
    if ($Verb -eq 'delete') {
        $state.firewall.rules = @($state.firewall.rules | Where-Object { $rules -notcontains $_ })
        Save-LabState
        Write-LabAudit -Command 'netsh' -Detail ([ordered]@{ verb = 'delete rule'; rules = @($rules | ForEach-Object { [string]$_.Name }) })
        return @{ Lines = @('', "Deleted $($rules.Count) rule(s).", 'Ok.', ''); Code = 0 }
    }
    foreach ($r in $rules) {
        if ($new.Contains('enable')) { if ($new['enable'] -ieq 'yes') { $r.Enabled = 'True' } else { $r.Enabled = 'False' } }
        if ($new.Contains('localport')) { $r.LocalPort = [string]$new['localport'] }
        if ($new.Contains('remoteip')) { $r.RemoteAddress = [string]$new['remoteip'] }
        if ($new.Contains('action')) { $r.Action = (Get-Culture).TextInfo.ToTitleCase(([string]$new['action']).ToLowerInvariant()) }
        if ($new.Contains('profile')) { $r.Profile = ConvertFrom-LabNetshProfiles $new['profile'] }
        if ($new.Contains('name')) { $r.DisplayName = [string]$new['name'] }
    }
    Save-LabState
    Write-LabAudit -Command 'netsh' -Detail ([ordered]@{ verb = 'set rule'; rules = @($rules | ForEach-Object { [string]$_.Name }); new = $new })
    return @{ Lines = @('', "Updated $($rules.Count) rule(s).", 'Ok.', ''); Code = 0 }
}

function Add-LabNetshRule {
    param($Crit)
    foreach ($k in 'name', 'dir', 'action') { if (-not $Crit.Contains($k)) { return @{ Lines = @('A specified value is not valid.', ''); Code = 1 } } }
    $dir = 'Inbound'; if ($Crit['dir'] -ieq 'out') { $dir = 'Outbound' }
    $en = 'True'; if ($Crit.Contains('enable') -and $Crit['enable'] -ieq 'no') { $en = 'False' }
    $get = { param($k, $d) if ($Crit.Contains($k)) { [string]$Crit[$k] } else { $d } }
    # netsh never de-duplicates: a second add with the same name creates a second rule (reference section 4.4).
    $rule = [pscustomobject][ordered]@{
        Name = '{' + [guid]::NewGuid().ToString().ToUpperInvariant() + '}'; DisplayName = [string]$Crit['name']
        Description = (& $get 'description' ''); DisplayGroup = ''; Group = ''
        Enabled = $en; Profile = (ConvertFrom-LabNetshProfiles (& $get 'profile' 'any')); Direction = $dir
        Action = (Get-Culture).TextInfo.ToTitleCase(([string]$Crit['action']).ToLowerInvariant())
        Protocol = (ConvertTo-LabFwProtocol (& $get 'protocol' 'any')); LocalPort = (& $get 'localport' 'Any'); RemotePort = (& $get 'remoteport' 'Any')
        RemoteAddress = (& $get 'remoteip' 'Any'); Program = (& $get 'program' 'Any'); Service = (& $get 'service' 'Any')
        PolicyStoreSourceType = 'Local'
    }
    $state = Get-LabState
    $state.firewall.rules = @($state.firewall.rules) + $rule
    Save-LabState
    Write-LabAudit -Command 'netsh' -Detail ([ordered]@{ verb = 'add rule'; name = $rule.DisplayName; localPort = $rule.LocalPort })
    return @{ Lines = @('Ok.', ''); Code = 0 }
}

function Invoke-LabNetshProfileState {
    param([string]$Which, [string[]]$Tokens)
    $p = (ConvertFrom-LabNetshArgs $Tokens).Criteria
    $names = @{ allprofiles = @('Domain', 'Private', 'Public'); domainprofile = @('Domain'); privateprofile = @('Private'); publicprofile = @('Public') }[$Which.ToLowerInvariant()]
    if ($null -eq $names -or -not $p.Contains('state')) { return @{ Lines = @('A specified value is not valid.', ''); Code = 1 } }
    $on = ($p['state'] -ieq 'on')
    foreach ($fp in @((Get-LabState).firewall.profiles | Where-Object { $names -contains $_.Name })) { $fp.Enabled = $on }
    Save-LabState
    Write-LabAudit -Command 'netsh' -Detail ([ordered]@{ verb = "set $Which state"; enabled = $on })
    return @{ Lines = @('Ok.', ''); Code = 0 }
}

function netsh {
    Invoke-LabFaultPoint 'netsh'
    $a = @($args | ForEach-Object { [string]$_ })
    if ($a.Count -ge 2 -and $a[0] -ieq '-r') { $a = @($a | Select-Object -Skip 2) }   # remote target: the lab host itself
    $res = $null
    if ($a.Count -ge 4 -and $a[0] -ieq 'advfirewall' -and $a[1] -ieq 'firewall' -and $a[3] -ieq 'rule' -and @('show', 'set', 'add', 'delete') -contains $a[2].ToLowerInvariant()) {
        $res = Invoke-LabNetshRule -Verb $a[2].ToLowerInvariant() -Tokens @($a | Select-Object -Skip 4)
    } elseif ($a.Count -ge 4 -and $a[0] -ieq 'advfirewall' -and $a[1] -ieq 'set') {
        $res = Invoke-LabNetshProfileState -Which $a[2] -Tokens @($a | Select-Object -Skip 3)
    } else {
        $res = @{ Lines = @("The following command was not found: $($a -join ' ')."); Code = 1 }   # [UNSOURCED]
    }
    $global:LASTEXITCODE = $res.Code
    foreach ($l in $res.Lines) { $l }
}
