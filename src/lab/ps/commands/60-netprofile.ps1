# Network connection profiles (NetConnection CDXML module, class ROOT/StandardCimv2/MSFT_NetConnectionProfile),
# plus helpers shared by the CDXML-shaped shadows of 61-firewall.ps1 and 90-scheduledtasks.ps1.
# Facts and sources: docs/windows-facts/network-firewall-sessions-tasks.md.

# The CDXML module generates these enums from its <Enums> block (MSFT_NetConnectionProfile.cdxml:
# EnumName="NetConnectionProfile.NetworkCategory" UnderlyingType="System.UInt32" -> type
# Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetConnectionProfile.NetworkCategory).
# The enum types are defined in ../LabTypes.cs, compiled when the module loads.

# ---------------------------------------------------------------------------------------------------
# Shared CDXML helpers (PowerShell cmdletization: QueryJobBase.cs / clientSideQuery.cs / CimJobException.cs).
# Error ids are passed WITHOUT the ',<Cmdlet>' suffix: $PSCmdlet.WriteError of a function appends ',<function
# name>' itself (ErrorRecord.GetInvocationTypeName), exactly as it does for the real CDXML functions.

function Get-LabNfsCallerEap {
    <# The caller's $ErrorActionPreference. Module functions do not see it (they resolve variables in the
       module's scope chain), but native tools in Windows PowerShell 5.1 obey it: walk the call stack. #>
    foreach ($frame in @(Get-PSCallStack | Select-Object -Skip 2)) {
        $vars = $frame.GetFrameVariables()
        if ($vars.ContainsKey('ErrorActionPreference')) { return [string]$vars['ErrorActionPreference'].Value }
    }
    return [string]$global:ErrorActionPreference
}

function New-LabNfsNotFoundError {
    <# One granular CDXML not-found error: "No <Class> objects found with property '<Prop>' equal to '<v>'.
       Verify the value of the property and retry." (two spaces), FQID CmdletizationQuery_NotFound_<Prop>,<Cmdlet>,
       category ObjectNotFound, TargetObject = the value. #>
    param([string]$ClassName, [string]$Property, $Value, [string]$Cmdlet)
    $msg = "No $ClassName objects found with property '$Property' equal to '$Value'.  Verify the value of the property and retry."
    $ex = New-Object Microsoft.PowerShell.Cmdletization.Cim.CimJobException($msg)
    New-Object System.Management.Automation.ErrorRecord($ex, "CmdletizationQuery_NotFound_$Property", [System.Management.Automation.ErrorCategory]::ObjectNotFound, $Value)
}

function New-LabNfsComplexNotFoundError {
    <# The not-found error when more than one filter was given and nothing matched (CimJob_NotFound_ComplexCase). #>
    param([string]$ClassName, [string]$Namespace, [string]$Where, [string]$Cmdlet)
    $desc = "CIM query for instances of the $Namespace/$ClassName class on the  CIM server: SELECT * FROM $ClassName  WHERE $Where"
    $ex = New-Object Microsoft.PowerShell.Cmdletization.Cim.CimJobException("No matching $ClassName objects found by $desc. Verify query parameters and retry.")
    New-Object System.Management.Automation.ErrorRecord($ex, 'CmdletizationQuery_NotFound', [System.Management.Automation.ErrorCategory]::ObjectNotFound, $null)
}

function New-LabNfsCimError {
    <# An error a CIM provider returned: CimException with the provider's text; FQID '<MessageId>,<Cmdlet>'. #>
    param([string]$Message, [string]$MessageId, [string]$Cmdlet, [System.Management.Automation.ErrorCategory]$Category, $Target)
    $ex = New-Object Microsoft.Management.Infrastructure.CimException($Message)
    New-Object System.Management.Automation.ErrorRecord($ex, $MessageId, $Category, $Target)
}

function New-LabNfsPattern {
    <# Case-insensitive wildcard pattern, as CDXML client-side filters match (AllowGlobbing="true"). ::new, not
       New-Object: New-Object resolves the type name anew on every call (about 0.1 ms). #>
    param([string]$Pattern)
    return [System.Management.Automation.WildcardPattern]::new($Pattern, [System.Management.Automation.WildcardOptions]::IgnoreCase)
}

function Test-LabNfsHasWildcard {
    param([string]$Text)
    return [System.Management.Automation.WildcardPattern]::ContainsWildcardCharacters($Text)
}

function Format-LabNfsWql {
    <# The WHERE clause the cmdletization adapter shows in its complex not-found message:
       "((TaskName LIKE 'x')) AND ((TaskPath LIKE '\\'))" - backslashes doubled (WQL escaping). #>
    param([object[]]$Filters)
    $parts = foreach ($f in $Filters) {
        $terms = foreach ($v in @($f[1])) {
            $text = ([string]$v).Replace('\', '\\').Replace("'", "\'")
            if ($f[2]) { "($($f[0]) LIKE '$text')" } else { "($($f[0]) = '$text')" }
        }
        '(' + ($terms -join ' OR ') + ')'
    }
    return ($parts -join ' AND ')
}

function Select-LabNfsByFilter {
    <# Applies one CDXML filter (values OR-ed) to $Items and records per-value misses.
       Returns @{ Items; Misses } where Misses are the non-wildcard values that matched nothing (those
       are the ones the real cmdlet reports; a wildcard miss is silent). #>
    param([object[]]$Items, [string]$Property, [object[]]$Values, [switch]$Glob)
    $kept = New-Object System.Collections.ArrayList
    $misses = New-Object System.Collections.ArrayList
    # A store can hold tens of thousands of rules: one pattern per value, and loops rather than pipelines.
    foreach ($v in $Values) {
        $hit = $false
        $wp = $null
        if ($Glob) { $wp = New-LabNfsPattern ([string]$v) }
        foreach ($it in $Items) {
            $actual = [string]$it.$Property
            $ok = $false
            if ($Glob) { $ok = $wp.IsMatch($actual) }
            else { $ok = [string]::Equals($actual, [string]$v, [System.StringComparison]::OrdinalIgnoreCase) }
            if ($ok) { $hit = $true; if (-not $kept.Contains($it)) { [void]$kept.Add($it) } }
        }
        $silent = $Glob -and (Test-LabNfsHasWildcard ([string]$v))
        if (-not $hit -and -not $silent) { [void]$misses.Add($v) }
    }
    # Keep the store's order, not the order of the values.
    $ordered = [System.Collections.Generic.List[object]]::new()
    if ($kept.Count -gt 0) { foreach ($it in $Items) { if ($kept.Contains($it)) { $ordered.Add($it) } } }
    return @{ Items = $ordered.ToArray(); Misses = @($misses) }
}

# ---------------------------------------------------------------------------------------------------
# Get-NetConnectionProfile / Set-NetConnectionProfile

$script:LabNetProfileClass = 'MSFT_NetConnectionProfile'
$script:LabNetProfileRefusal = "Unable to set the NetworkCategory due to one of the following possible reasons: not running PowerShell elevated; the NetworkCategory cannot be changed from 'DomainAuthenticated'; user initiated changes to NetworkCategory are being prevented due to the Group Policy setting 'Network List Manager Policies'."
# Network List Manager Policies (secpol: Computer Configuration > Windows Settings > Security Settings) land as one key
# per network signature, values Category / CategoryReadOnly (1 = 'User cannot change location'). The well-known key
# below is 'Unidentified Networks'.
$script:LabNlmPolicyKey = 'HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Windows NT\CurrentVersion\NetworkList\Signatures'
$script:LabNlmUnidentified = '010103000F0000F0010000000F0000F0C967A3643C3AD745950DA7859209176EF5B87C875FA20DF21951640E807D7C24'

function Test-LabNlmLocked {
    <# Does a Network List Manager policy forbid changing this network's location? The lab does not compute
       network signatures: the 'Unidentified Networks' key locks profiles named 'Unidentified network', any other
       signature key with CategoryReadOnly=1 locks every network [INFERENCE: simplification]. #>
    param($NetProfile)
    $root = Get-LabRegKeyName $script:LabNlmPolicyKey
    if ($null -eq $root) { return $false }
    foreach ($sub in (Get-LabRegSubKeyNames $root)) {
        $ro = (Get-LabRegValueSet $sub).PSObject.Properties['CategoryReadOnly']
        if ($null -eq $ro -or [int64]$ro.Value.data -ne 1) { continue }
        $leaf = (Split-LabRegKey $sub).Leaf
        if ($leaf -ine $script:LabNlmUnidentified) { return $true }
        if ([string]$NetProfile.Name -eq 'Unidentified network') { return $true }
    }
    return $false
}

function ConvertTo-LabNetProfileObject {
    param($P)
    $ns = 'Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetConnectionProfile'
    $dak = 'None'
    if ($P.PSObject.Properties['DomainAuthenticationKind'] -and $P.DomainAuthenticationKind) { $dak = [string]$P.DomainAuthenticationKind }
    # Property order = the list view of MSFT_NetConnectionProfile.format.ps1xml (Windows 11 22621 / Server 2022 build).
    $o = [pscustomobject][ordered]@{
        Name                     = [string]$P.Name
        InterfaceAlias           = [string]$P.InterfaceAlias
        InterfaceIndex           = [uint32]$P.InterfaceIndex
        NetworkCategory          = ([string]$P.NetworkCategory -as [type]"$ns.NetworkCategory")
        DomainAuthenticationKind = ($dak -as [type]"$ns.DomainAuthenticationKind")
        IPv4Connectivity         = ([string]$P.IPv4Connectivity -as [type]"$ns.IPv4Connectivity")
        IPv6Connectivity         = ([string]$P.IPv6Connectivity -as [type]"$ns.IPv6Connectivity")
    }
    $o.PSObject.TypeNames.Insert(0, 'Microsoft.Management.Infrastructure.CimInstance#MSFT_NetConnectionProfile')
    $o.PSObject.TypeNames.Insert(0, 'Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetConnectionProfile')
    return $o
}

function Find-LabNetProfiles {
    <# Runs the CDXML query of Get/Set-NetConnectionProfile over state.netConnectionProfiles.
       Writes the not-found errors through $Cmdlet and returns the matching state entries. #>
    param($Cmdlet, [string]$CmdletName, [string[]]$Name, [string[]]$InterfaceAlias, [uint32[]]$InterfaceIndex, [string[]]$NetworkCategory)
    $items = @((Get-LabState).netConnectionProfiles)
    $filters = @()
    if ($Name) { $filters += , @('Name', $Name, $true) }
    if ($InterfaceAlias) { $filters += , @('InterfaceAlias', $InterfaceAlias, $true) }
    if ($null -ne $InterfaceIndex -and $InterfaceIndex.Count -gt 0) { $filters += , @('InterfaceIndex', $InterfaceIndex, $false) }
    if ($NetworkCategory) { $filters += , @('NetworkCategory', $NetworkCategory, $false) }
    $result = $items
    $allMisses = @()
    foreach ($f in $filters) {
        $r = Select-LabNfsByFilter -Items $result -Property $f[0] -Values $f[1] -Glob:([bool]$f[2])
        $result = @($r.Items)
        foreach ($m in $r.Misses) { $allMisses += , @($f[0], $m) }
    }
    if ($filters.Count -eq 1) {
        foreach ($m in $allMisses) { $Cmdlet.WriteError((New-LabNfsNotFoundError $script:LabNetProfileClass $m[0] $m[1] $CmdletName)) }
    } elseif ($filters.Count -gt 1 -and $result.Count -eq 0 -and $allMisses.Count -gt 0) {
        $where = Format-LabNfsWql $filters
        $Cmdlet.WriteError((New-LabNfsComplexNotFoundError $script:LabNetProfileClass 'ROOT/StandardCimv2' $where $CmdletName))
    }
    return , $result
}

function Get-NetConnectionProfile {
    [CmdletBinding(DefaultParameterSetName = 'ByName')]
    param(
        [Parameter(ParameterSetName = 'ByName')][string[]]$Name,
        [Parameter(ParameterSetName = 'ByName', ValueFromPipelineByPropertyName = $true)][Alias('ifAlias')][string[]]$InterfaceAlias,
        [Parameter(ParameterSetName = 'ByName', ValueFromPipelineByPropertyName = $true)][Alias('ifIndex')][uint32[]]$InterfaceIndex,
        [Parameter(ParameterSetName = 'ByName')][Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetConnectionProfile.NetworkCategory[]]$NetworkCategory,
        [Parameter(ParameterSetName = 'ByName')][Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetConnectionProfile.IPv4Connectivity[]]$IPv4Connectivity,
        [Parameter(ParameterSetName = 'ByName')][Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetConnectionProfile.IPv6Connectivity[]]$IPv6Connectivity,
        $CimSession, [int]$ThrottleLimit, [switch]$AsJob
    )
    process {
        Invoke-LabFaultPoint 'Get-NetConnectionProfile'
        $cats = $null
        # ContainsKey, not truthiness: Public / Disconnected are enum value 0.
        if ($PSBoundParameters.ContainsKey('NetworkCategory')) { $cats = @($NetworkCategory | ForEach-Object { $_.ToString() }) }
        $found = Find-LabNetProfiles -Cmdlet $PSCmdlet -CmdletName 'Get-NetConnectionProfile' -Name $Name -InterfaceAlias $InterfaceAlias -InterfaceIndex $InterfaceIndex -NetworkCategory $cats
        foreach ($p in $found) {
            if ($PSBoundParameters.ContainsKey('IPv4Connectivity') -and -not (@($IPv4Connectivity | ForEach-Object { $_.ToString() }) -contains [string]$p.IPv4Connectivity)) { continue }
            if ($PSBoundParameters.ContainsKey('IPv6Connectivity') -and -not (@($IPv6Connectivity | ForEach-Object { $_.ToString() }) -contains [string]$p.IPv6Connectivity)) { continue }
            ConvertTo-LabNetProfileObject $p
        }
    }
}

function Set-NetConnectionProfile {
    [CmdletBinding(DefaultParameterSetName = 'ByName', SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [Parameter(ParameterSetName = 'ByName')][string[]]$Name,
        [Parameter(ParameterSetName = 'ByName', ValueFromPipelineByPropertyName = $true)][Alias('ifAlias')][string[]]$InterfaceAlias,
        [Parameter(ParameterSetName = 'ByName', ValueFromPipelineByPropertyName = $true)][Alias('ifIndex')][uint32[]]$InterfaceIndex,
        [Parameter(ParameterSetName = 'InputObject (cdxml)', Mandatory = $true, ValueFromPipeline = $true)]$InputObject,
        [Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetConnectionProfile.NetworkCategory]$NetworkCategory,
        [switch]$PassThru,
        $CimSession, [int]$ThrottleLimit, [switch]$AsJob
    )
    process {
        Invoke-LabFaultPoint 'Set-NetConnectionProfile'
        if ($PSCmdlet.ParameterSetName -eq 'ByName') {
            $targets = Find-LabNetProfiles -Cmdlet $PSCmdlet -CmdletName 'Set-NetConnectionProfile' -Name $Name -InterfaceAlias $InterfaceAlias -InterfaceIndex $InterfaceIndex
        } else {
            $targets = @()
            foreach ($io in @($InputObject)) {
                $targets += @((Get-LabState).netConnectionProfiles | Where-Object { [uint32]$_.InterfaceIndex -eq [uint32]$io.InterfaceIndex })
            }
        }
        foreach ($p in $targets) { Set-LabNetProfileCategory -Cmdlet $PSCmdlet -NetProfile $p -NetworkCategory $NetworkCategory -HasCategory:$PSBoundParameters.ContainsKey('NetworkCategory') -PassThru:$PassThru }
    }
}

function Set-LabNetProfileCategory {
    param($Cmdlet, $NetProfile, $NetworkCategory, [switch]$HasCategory, [switch]$PassThru)
    $target = "MSFT_NetConnectionProfile (Name = `"$($NetProfile.Name)`", InterfaceIndex = $($NetProfile.InterfaceIndex))"
    if (-not $Cmdlet.ShouldProcess($target, 'Set')) { return }
    if ($HasCategory) {
        $cat = $NetworkCategory.ToString()
        if ($cat -eq 'DomainAuthenticated') {
            # Texts: reference section 3.3 (two spaces after the first period). MessageId/category: [UNSOURCED].
            $Cmdlet.WriteError((New-LabNfsCimError -Message "Unable to set NetworkCategory to 'DomainAuthenticated'.  This NetworkCategory type will be set automatically when authenticated to a domain network." -MessageId 'MI RESULT 4' -Cmdlet 'Set-NetConnectionProfile' -Category InvalidArgument -Target $target))
            return
        }
        if ($NetProfile.PSObject.Properties['identifying'] -and $NetProfile.identifying) {
            $Cmdlet.WriteError((New-LabNfsCimError -Message ([string](Get-LabLocale).identifyingMessage) -MessageId 'MI RESULT 4' -Cmdlet 'Set-NetConnectionProfile' -Category InvalidArgument -Target $target))
            return
        }
        # A domain-authenticated network keeps its category, and a Network List Manager policy with 'User cannot
        # change location' refuses every change: one provider error names the possible reasons (three public
        # transcripts; docs/windows-facts/network-firewall-sessions-tasks.md section 1).
        if ([string]$NetProfile.NetworkCategory -eq 'DomainAuthenticated' -or (Test-LabNlmLocked $NetProfile)) {
            $Cmdlet.WriteError((New-LabNfsCimError -Message $script:LabNetProfileRefusal -MessageId 'MI RESULT 2' -Cmdlet 'Set-NetConnectionProfile' -Category PermissionDenied -Target $target))
            return
        }
        $old = [string]$NetProfile.NetworkCategory
        $NetProfile.NetworkCategory = $cat
        Save-LabState
        Write-LabAudit -Command 'Set-NetConnectionProfile' -Detail ([ordered]@{ InterfaceIndex = $NetProfile.InterfaceIndex; InterfaceAlias = $NetProfile.InterfaceAlias; from = $old; to = $cat })
    }
    if ($PassThru) { ConvertTo-LabNetProfileObject $NetProfile }
}
