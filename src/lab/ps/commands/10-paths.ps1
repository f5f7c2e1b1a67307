# Path dispatch: the item/property/content cmdlets shadowed once, routed by the kind of path.
#
# PROVIDER CONTRACT (70-filesystem.ps1 and 71-certificates.ps1 code against this):
#
#   function Invoke-Lab<Kind>Provider {
#       param(
#           [Parameter(Mandatory)][string]$Verb,        # the shadowed cmdlet name, e.g. 'Get-Item', 'Set-ItemProperty'
#           [Parameter(Mandatory)][hashtable]$Parameters, # a copy of the shadow's $PSBoundParameters (see below)
#           [Parameter(Mandatory)]$Cmdlet                # the shadow's $PSCmdlet
#       )
#   }
#   Kinds: registry -> Invoke-LabRegistryProvider (20-registry.ps1), cert -> Invoke-LabCertProvider,
#          fs -> Invoke-LabFileSystemProvider. Missing provider function -> the shadow throws
#          "not implemented in the lab: <verb> on <path>".
#
#   * The dispatcher calls the provider once per path. In $Parameters exactly one of 'Path' or 'LiteralPath'
#     is present and holds ONE [string] (the element being processed); 'LiteralPath' means no wildcards.
#     Copy-Item/Move-Item 'Destination' is passed as given. All other bound parameters (Name, Value,
#     PropertyType/Type, Force, Recurse, NewName, PassThru, Filter, Include, Exclude, ItemType, Raw, Encoding,
#     AclObject, PathType, ...) are passed unchanged; switches are [SwitchParameter] (test with `.IsPresent`
#     or `-and $Parameters.Force`). Helper: Get-LabPathArgument $Parameters -> @{ Path; Literal }.
#   * Output: write result objects to the pipeline (the shadow returns them as its own output).
#   * Errors: $Cmdlet.WriteError(<ErrorRecord>) for non-terminating, $Cmdlet.ThrowTerminatingError(...) for
#     terminating; the FQID must be the full Windows one (e.g. 'PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand').
#     Build records with New-LabErrorRecord -Exception -ErrorId <full FQID> -Category -Target (a plain ErrorRecord
#     written by a function gets ',<function name>' appended to its FQID). Helpers: Get-LabCmdletFqidSuffix 'Get-Item' -> 'Microsoft.PowerShell.Commands.GetItemCommand';
#     New-LabPathNotFoundError -Path <as typed> -Verb <cmdlet> (the ItemNotFoundException every provider uses).
#   * -WhatIf/-Confirm: the mutating shadows declare SupportsShouldProcess; the provider calls
#     $Cmdlet.ShouldProcess(<target>, <action>) before each change and changes nothing when it returns $false.
#   * Mutations: the provider calls Save-LabState and Write-LabAudit itself (the shadow does not).
#   * The shadow has already called Use-LabCallerPreference, so $Cmdlet.WriteError honours the step script's
#     $ErrorActionPreference. Avoid try/catch in provider code: an exception caught inside still shows up in the
#     caller's -ErrorVariable; use ConvertTo-LabTypeOrNull for conversions that may fail.

function New-LabErrorRecord {
    <# An ErrorRecord whose FullyQualifiedErrorId is exactly -ErrorId. PowerShell appends ',<function name>' to
       the FQID of errors written by script functions (ErrorRecord.GetInvocationTypeName, PS-SRC ErrorPackage.cs);
       real cmdlets carry ',<Namespace.ClassName>'. Pinning the serialized FQID keeps the Windows text while the
       InvocationInfo (and so CategoryInfo.Activity '[Get-Service]') stays the shadow's. #>
    param([Parameter(Mandatory)][Exception]$Exception, [Parameter(Mandatory)][string]$ErrorId,
        [Parameter(Mandatory)][System.Management.Automation.ErrorCategory]$Category, [AllowNull()]$Target)
    $er = New-Object System.Management.Automation.ErrorRecord($Exception, $ErrorId, $Category, $Target)
    $field = [System.Management.Automation.ErrorRecord].GetField('_serializedFullyQualifiedErrorId', [System.Reflection.BindingFlags]'NonPublic,Instance')
    if ($null -ne $field) { $field.SetValue($er, $ErrorId) }
    return $er
}

function Use-LabCallerPreference {
    <# Call first in a shadow: copies the caller's $ErrorActionPreference into the shadow's scope. A module
       function otherwise sees the module's (global) preference, so `$ErrorActionPreference = 'Stop'` in the
       step script would not make the shadow's WriteError terminating as it does for a real cmdlet
       (PowerShell issue #4568). An explicit -ErrorAction still wins. #>
    param([Parameter(Mandatory)]$Cmdlet)
    if ($Cmdlet.MyInvocation.BoundParameters.ContainsKey('ErrorAction')) { return }
    $pref = $Cmdlet.SessionState.PSVariable.GetValue('ErrorActionPreference')
    if ($null -ne $pref) { Set-Variable -Name ErrorActionPreference -Value $pref -Scope 1 }
}

function ConvertTo-LabTypeOrNull {
    <# LanguagePrimitives conversion that returns $null instead of throwing: an exception caught inside a shadow
       would still land in the caller's -ErrorVariable (advanced-function behaviour), so shadows avoid try/catch. #>
    param([AllowNull()]$Value, [Parameter(Mandatory)][type]$Type)
    $out = $null
    if (-not [System.Management.Automation.LanguagePrimitives]::TryConvertTo($Value, $Type, [System.Globalization.CultureInfo]::CurrentCulture, [ref]$out)) { return $null }
    if ($out -is [array]) { return , $out }   # byte[] / string[] stay one object
    return $out
}

function Get-LabCmdletFqidSuffix {
    param([Parameter(Mandatory)][string]$Verb)
    # 'Get-ItemProperty' -> 'Microsoft.PowerShell.Commands.GetItemPropertyCommand'
    $ns = 'Microsoft.PowerShell.Commands.'
    return $ns + ($Verb -replace '-', '') + 'Command'
}

function New-LabPathNotFoundError {
    <# "Cannot find path 'X' because it does not exist." (SessionStateStrings.PathNotFound; ItemNotFoundException,
       category ObjectNotFound, target = the path; PS-SRC LocationGlobber.cs). #>
    param([Parameter(Mandatory)][string]$Path, [Parameter(Mandatory)][string]$Verb)
    $ex = New-Object System.Management.Automation.ItemNotFoundException("Cannot find path '$Path' because it does not exist.")
    New-LabErrorRecord -Exception $ex -ErrorId ('PathNotFound,' + (Get-LabCmdletFqidSuffix $Verb)) -Category ObjectNotFound -Target $Path
}

function Get-LabPathArgument {
    param([Parameter(Mandatory)][hashtable]$Parameters)
    if ($Parameters.ContainsKey('LiteralPath')) { return @{ Path = [string]$Parameters['LiteralPath']; Literal = $true } }
    if ($Parameters.ContainsKey('Path')) { return @{ Path = [string]$Parameters['Path']; Literal = $false } }
    return @{ Path = $null; Literal = $false }
}

function Invoke-LabPathCommand {
    <# Shared body of every shadow: one provider call per path; 'other' paths go to the real cmdlet. #>
    param(
        [Parameter(Mandatory)][string]$Verb,
        [Parameter(Mandatory)][string]$RealCommand,
        [Parameter(Mandatory)][System.Collections.IDictionary]$Bound,
        [Parameter(Mandatory)]$Cmdlet
    )
    $key = $null
    if ($Bound.ContainsKey('LiteralPath')) { $key = 'LiteralPath' } elseif ($Bound.ContainsKey('Path')) { $key = 'Path' }
    $paths = @()
    if ($null -ne $key) { $paths = @($Bound[$key]) }
    # Loops, not pipelines: every path command of every step passes here.
    $kinds = @(foreach ($one in $paths) { Get-LabPathKind ([string]$one) })
    $labOwned = $false
    foreach ($k in $kinds) { if ($k -ne 'other') { $labOwned = $true } }
    if ($paths.Count -eq 0 -or -not $labOwned) {
        # Nothing lab-owned: the real cmdlet with the caller's own arguments.
        & $RealCommand @Bound
        return
    }
    for ($i = 0; $i -lt $paths.Count; $i++) {
        $one = [string]$paths[$i]
        $kind = $kinds[$i]
        $params = @{}
        foreach ($k in $Bound.Keys) { $params[$k] = $Bound[$k] }
        $params[$key] = $one
        if ($kind -eq 'other') { & $RealCommand @params; continue }
        $fn = @{ registry = 'Invoke-LabRegistryProvider'; cert = 'Invoke-LabCertProvider'; fs = 'Invoke-LabFileSystemProvider' }[$kind]
        if ($null -eq $ExecutionContext.InvokeCommand.GetCommand($fn, 'Function')) {
            throw "not implemented in the lab: $Verb on $one"
        }
        & $fn -Verb $Verb -Parameters $params -Cmdlet $Cmdlet
    }
}

function Get-Item {
    [CmdletBinding(DefaultParameterSetName = 'Path')]
    param(
        [Parameter(ParameterSetName = 'Path', Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(ParameterSetName = 'LiteralPath', Mandatory, ValueFromPipelineByPropertyName)][Alias('PSPath')][string[]]$LiteralPath,
        [string]$Filter, [string[]]$Include, [string[]]$Exclude, [switch]$Force, [string[]]$Stream
    )
    process {
        Invoke-LabFaultPoint 'Get-Item'
        Use-LabCallerPreference $PSCmdlet
        Invoke-LabPathCommand -Verb 'Get-Item' -RealCommand 'Microsoft.PowerShell.Management\Get-Item' -Bound $PSBoundParameters -Cmdlet $PSCmdlet
    }
}

function Get-ChildItem {
    [CmdletBinding(DefaultParameterSetName = 'Items')]
    param(
        [Parameter(ParameterSetName = 'Items', Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(ParameterSetName = 'LiteralItems', Mandatory, ValueFromPipelineByPropertyName)][Alias('PSPath')][string[]]$LiteralPath,
        [Parameter(Position = 1)][string]$Filter, [string[]]$Include, [string[]]$Exclude,
        [Alias('s')][switch]$Recurse, [uint32]$Depth, [switch]$Force, [switch]$Name,
        [switch]$Directory, [switch]$File, [switch]$Hidden, [switch]$ReadOnly, [switch]$System,
        [System.IO.FileAttributes]$Attributes
    )
    process {
        Invoke-LabFaultPoint 'Get-ChildItem'
        Use-LabCallerPreference $PSCmdlet
        Invoke-LabPathCommand -Verb 'Get-ChildItem' -RealCommand 'Microsoft.PowerShell.Management\Get-ChildItem' -Bound $PSBoundParameters -Cmdlet $PSCmdlet
    }
}

function Test-Path {
    [CmdletBinding(DefaultParameterSetName = 'Path')]
    param(
        [Parameter(ParameterSetName = 'Path', Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(ParameterSetName = 'LiteralPath', Mandatory, ValueFromPipelineByPropertyName)][Alias('PSPath')][string[]]$LiteralPath,
        [string]$Filter, [string[]]$Include, [string[]]$Exclude,
        [Alias('Type')][Microsoft.PowerShell.Commands.TestPathType]$PathType, [switch]$IsValid,
        [datetime]$OlderThan, [datetime]$NewerThan
    )
    process {
        Invoke-LabFaultPoint 'Test-Path'
        Use-LabCallerPreference $PSCmdlet
        Invoke-LabPathCommand -Verb 'Test-Path' -RealCommand 'Microsoft.PowerShell.Management\Test-Path' -Bound $PSBoundParameters -Cmdlet $PSCmdlet
    }
}

function New-Item {
    [CmdletBinding(DefaultParameterSetName = 'pathSet', SupportsShouldProcess = $true)]
    param(
        [Parameter(ParameterSetName = 'pathSet', Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Parameter(ParameterSetName = 'nameSet', Position = 0, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(ParameterSetName = 'nameSet', Mandatory, ValueFromPipelineByPropertyName)][AllowNull()][AllowEmptyString()][string]$Name,
        [Alias('Type')][string]$ItemType,
        [Parameter(ValueFromPipeline, ValueFromPipelineByPropertyName)][Alias('Target')][object]$Value,
        [switch]$Force
    )
    process {
        Invoke-LabFaultPoint 'New-Item'
        Use-LabCallerPreference $PSCmdlet
        Invoke-LabPathCommand -Verb 'New-Item' -RealCommand 'Microsoft.PowerShell.Management\New-Item' -Bound $PSBoundParameters -Cmdlet $PSCmdlet
    }
}

function Remove-Item {
    [CmdletBinding(DefaultParameterSetName = 'Path', SupportsShouldProcess = $true)]
    param(
        [Parameter(ParameterSetName = 'Path', Mandatory, Position = 0, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(ParameterSetName = 'LiteralPath', Mandatory, ValueFromPipelineByPropertyName)][Alias('PSPath')][string[]]$LiteralPath,
        [string]$Filter, [string[]]$Include, [string[]]$Exclude, [switch]$Recurse, [switch]$Force,
        [string[]]$Stream, [switch]$DeleteKey
    )
    process {
        Invoke-LabFaultPoint 'Remove-Item'
        Use-LabCallerPreference $PSCmdlet
        Invoke-LabPathCommand -Verb 'Remove-Item' -RealCommand 'Microsoft.PowerShell.Management\Remove-Item' -Bound $PSBoundParameters -Cmdlet $PSCmdlet
    }
}

function Rename-Item {
    [CmdletBinding(DefaultParameterSetName = 'ByPath', SupportsShouldProcess = $true)]
    param(
        [Parameter(ParameterSetName = 'ByPath', Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)][string]$Path,
        [Parameter(ParameterSetName = 'ByLiteralPath', Mandatory, ValueFromPipelineByPropertyName)][Alias('PSPath')][string]$LiteralPath,
        [Parameter(Mandatory, Position = 1, ValueFromPipelineByPropertyName)][string]$NewName,
        [switch]$Force, [switch]$PassThru
    )
    process {
        Invoke-LabFaultPoint 'Rename-Item'
        Use-LabCallerPreference $PSCmdlet
        Invoke-LabPathCommand -Verb 'Rename-Item' -RealCommand 'Microsoft.PowerShell.Management\Rename-Item' -Bound $PSBoundParameters -Cmdlet $PSCmdlet
    }
}

function Copy-Item {
    [CmdletBinding(DefaultParameterSetName = 'Path', SupportsShouldProcess = $true)]
    param(
        [Parameter(ParameterSetName = 'Path', Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(ParameterSetName = 'LiteralPath', Mandatory, ValueFromPipelineByPropertyName)][Alias('PSPath')][string[]]$LiteralPath,
        [Parameter(Position = 1, ValueFromPipelineByPropertyName)][string]$Destination,
        [switch]$Container, [switch]$Force, [string]$Filter, [string[]]$Include, [string[]]$Exclude,
        [switch]$Recurse, [switch]$PassThru
    )
    process {
        Invoke-LabFaultPoint 'Copy-Item'
        Use-LabCallerPreference $PSCmdlet
        Invoke-LabPathCommand -Verb 'Copy-Item' -RealCommand 'Microsoft.PowerShell.Management\Copy-Item' -Bound $PSBoundParameters -Cmdlet $PSCmdlet
    }
}

function Move-Item {
    [CmdletBinding(DefaultParameterSetName = 'Path', SupportsShouldProcess = $true)]
    param(
        [Parameter(ParameterSetName = 'Path', Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(ParameterSetName = 'LiteralPath', Mandatory, ValueFromPipelineByPropertyName)][Alias('PSPath')][string[]]$LiteralPath,
        [Parameter(Position = 1, ValueFromPipelineByPropertyName)][string]$Destination,
        [switch]$Force, [string]$Filter, [string[]]$Include, [string[]]$Exclude, [switch]$PassThru
    )
    process {
        Invoke-LabFaultPoint 'Move-Item'
        Use-LabCallerPreference $PSCmdlet
        Invoke-LabPathCommand -Verb 'Move-Item' -RealCommand 'Microsoft.PowerShell.Management\Move-Item' -Bound $PSBoundParameters -Cmdlet $PSCmdlet
    }
}

function Get-ItemProperty {
    [CmdletBinding(DefaultParameterSetName = 'Path')]
    param(
        [Parameter(ParameterSetName = 'Path', Mandatory, Position = 0, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(ParameterSetName = 'LiteralPath', Mandatory, ValueFromPipelineByPropertyName)][Alias('PSPath')][string[]]$LiteralPath,
        [Parameter(Position = 1)][Alias('PSProperty')][string[]]$Name,
        [string]$Filter, [string[]]$Include, [string[]]$Exclude
    )
    process {
        Invoke-LabFaultPoint 'Get-ItemProperty'
        Use-LabCallerPreference $PSCmdlet
        Invoke-LabPathCommand -Verb 'Get-ItemProperty' -RealCommand 'Microsoft.PowerShell.Management\Get-ItemProperty' -Bound $PSBoundParameters -Cmdlet $PSCmdlet
    }
}

function Get-ItemPropertyValue {
    [CmdletBinding(DefaultParameterSetName = 'Path')]
    param(
        [Parameter(ParameterSetName = 'Path', Position = 0, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(ParameterSetName = 'LiteralPath', Mandatory, ValueFromPipelineByPropertyName)][Alias('PSPath')][string[]]$LiteralPath,
        [Parameter(Mandatory, Position = 1)][Alias('PSProperty')][string[]]$Name,
        [string]$Filter, [string[]]$Include, [string[]]$Exclude
    )
    process {
        Invoke-LabFaultPoint 'Get-ItemPropertyValue'
        Use-LabCallerPreference $PSCmdlet
        Invoke-LabPathCommand -Verb 'Get-ItemPropertyValue' -RealCommand 'Microsoft.PowerShell.Management\Get-ItemPropertyValue' -Bound $PSBoundParameters -Cmdlet $PSCmdlet
    }
}

function Set-ItemProperty {
    [CmdletBinding(DefaultParameterSetName = 'propertyValuePathSet', SupportsShouldProcess = $true)]
    param(
        [Parameter(ParameterSetName = 'propertyValuePathSet', Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Parameter(ParameterSetName = 'propertyPSObjectPathSet', Mandatory, Position = 0, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(ParameterSetName = 'propertyValueLiteralPathSet', Mandatory, ValueFromPipelineByPropertyName)]
        [Parameter(ParameterSetName = 'propertyPSObjectLiteralPathSet', Mandatory, ValueFromPipelineByPropertyName)][Alias('PSPath')][string[]]$LiteralPath,
        [Parameter(ParameterSetName = 'propertyValuePathSet', Mandatory, Position = 1, ValueFromPipelineByPropertyName)]
        [Parameter(ParameterSetName = 'propertyValueLiteralPathSet', Mandatory, Position = 1, ValueFromPipelineByPropertyName)][Alias('PSProperty')][string]$Name,
        [Parameter(ParameterSetName = 'propertyValuePathSet', Position = 2, ValueFromPipelineByPropertyName)]
        [Parameter(ParameterSetName = 'propertyValueLiteralPathSet', Position = 2, ValueFromPipelineByPropertyName)][AllowNull()][object]$Value,
        [Parameter(ParameterSetName = 'propertyPSObjectPathSet', Mandatory, ValueFromPipeline)]
        [Parameter(ParameterSetName = 'propertyPSObjectLiteralPathSet', Mandatory, ValueFromPipeline)][psobject]$InputObject,
        [Microsoft.Win32.RegistryValueKind]$Type,
        [switch]$PassThru, [switch]$Force, [string]$Filter, [string[]]$Include, [string[]]$Exclude
    )
    process {
        Invoke-LabFaultPoint 'Set-ItemProperty'
        Use-LabCallerPreference $PSCmdlet
        Invoke-LabPathCommand -Verb 'Set-ItemProperty' -RealCommand 'Microsoft.PowerShell.Management\Set-ItemProperty' -Bound $PSBoundParameters -Cmdlet $PSCmdlet
    }
}

function New-ItemProperty {
    [CmdletBinding(DefaultParameterSetName = 'Path', SupportsShouldProcess = $true)]
    param(
        [Parameter(ParameterSetName = 'Path', Mandatory, Position = 0, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(ParameterSetName = 'LiteralPath', Mandatory, ValueFromPipelineByPropertyName)][Alias('PSPath')][string[]]$LiteralPath,
        [Parameter(Mandatory, Position = 1, ValueFromPipelineByPropertyName)][Alias('PSProperty')][string]$Name,
        [Parameter(ValueFromPipelineByPropertyName)][Alias('Type')][string]$PropertyType,
        [Parameter(ValueFromPipelineByPropertyName)][AllowNull()][object]$Value,
        [switch]$Force, [string]$Filter, [string[]]$Include, [string[]]$Exclude
    )
    process {
        Invoke-LabFaultPoint 'New-ItemProperty'
        Use-LabCallerPreference $PSCmdlet
        Invoke-LabPathCommand -Verb 'New-ItemProperty' -RealCommand 'Microsoft.PowerShell.Management\New-ItemProperty' -Bound $PSBoundParameters -Cmdlet $PSCmdlet
    }
}

function Remove-ItemProperty {
    [CmdletBinding(DefaultParameterSetName = 'Path', SupportsShouldProcess = $true)]
    param(
        [Parameter(ParameterSetName = 'Path', Mandatory, Position = 0, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(ParameterSetName = 'LiteralPath', Mandatory, ValueFromPipelineByPropertyName)][Alias('PSPath')][string[]]$LiteralPath,
        [Parameter(Mandatory, Position = 1, ValueFromPipelineByPropertyName)][Alias('PSProperty')][string[]]$Name,
        [switch]$Force, [string]$Filter, [string[]]$Include, [string[]]$Exclude
    )
    process {
        Invoke-LabFaultPoint 'Remove-ItemProperty'
        Use-LabCallerPreference $PSCmdlet
        Invoke-LabPathCommand -Verb 'Remove-ItemProperty' -RealCommand 'Microsoft.PowerShell.Management\Remove-ItemProperty' -Bound $PSBoundParameters -Cmdlet $PSCmdlet
    }
}

function Get-Acl {
    [CmdletBinding(DefaultParameterSetName = 'ByPath')]
    param(
        [Parameter(ParameterSetName = 'ByPath', Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(ParameterSetName = 'ByLiteralPath', ValueFromPipelineByPropertyName)][Alias('PSPath')][string[]]$LiteralPath,
        [switch]$Audit, [string]$Filter, [string[]]$Include, [string[]]$Exclude
    )
    process {
        Invoke-LabFaultPoint 'Get-Acl'
        Use-LabCallerPreference $PSCmdlet
        Invoke-LabPathCommand -Verb 'Get-Acl' -RealCommand 'Microsoft.PowerShell.Security\Get-Acl' -Bound $PSBoundParameters -Cmdlet $PSCmdlet
    }
}

function Set-Acl {
    [CmdletBinding(DefaultParameterSetName = 'ByPath', SupportsShouldProcess = $true)]
    param(
        [Parameter(ParameterSetName = 'ByPath', Mandatory, Position = 0, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(ParameterSetName = 'ByLiteralPath', Mandatory, ValueFromPipelineByPropertyName)][Alias('PSPath')][string[]]$LiteralPath,
        [Parameter(Mandatory, Position = 1, ValueFromPipeline, ValueFromPipelineByPropertyName)][object]$AclObject,
        [switch]$ClearCentralAccessPolicy, [switch]$Passthru, [string]$Filter, [string[]]$Include, [string[]]$Exclude
    )
    process {
        Invoke-LabFaultPoint 'Set-Acl'
        Use-LabCallerPreference $PSCmdlet
        Invoke-LabPathCommand -Verb 'Set-Acl' -RealCommand 'Microsoft.PowerShell.Security\Set-Acl' -Bound $PSBoundParameters -Cmdlet $PSCmdlet
    }
}

function Get-Content {
    [CmdletBinding(DefaultParameterSetName = 'Path')]
    param(
        [Parameter(ParameterSetName = 'Path', Mandatory, Position = 0, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(ParameterSetName = 'LiteralPath', Mandatory, ValueFromPipelineByPropertyName)][Alias('PSPath')][string[]]$LiteralPath,
        [long]$ReadCount, [Alias('First', 'Head')][long]$TotalCount, [Alias('Last')][int]$Tail,
        [string]$Filter, [string[]]$Include, [string[]]$Exclude, [switch]$Force,
        [string]$Delimiter, [switch]$Wait, [switch]$Raw, [object]$Encoding, [string]$Stream
    )
    process {
        Invoke-LabFaultPoint 'Get-Content'
        Use-LabCallerPreference $PSCmdlet
        Invoke-LabPathCommand -Verb 'Get-Content' -RealCommand 'Microsoft.PowerShell.Management\Get-Content' -Bound $PSBoundParameters -Cmdlet $PSCmdlet
    }
}

function Set-Content {
    [CmdletBinding(DefaultParameterSetName = 'Path', SupportsShouldProcess = $true)]
    param(
        [Parameter(ParameterSetName = 'Path', Mandatory, Position = 0, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(ParameterSetName = 'LiteralPath', Mandatory, ValueFromPipelineByPropertyName)][Alias('PSPath')][string[]]$LiteralPath,
        [Parameter(Mandatory, Position = 1, ValueFromPipeline, ValueFromPipelineByPropertyName)][AllowNull()][AllowEmptyCollection()][object[]]$Value,
        [switch]$PassThru, [string]$Filter, [string[]]$Include, [string[]]$Exclude, [switch]$Force,
        [switch]$NoNewline, [object]$Encoding, [string]$Stream
    )
    begin { $values = New-Object System.Collections.Generic.List[object]; $bound = $null }
    # Pipeline input is one write of all values, as the real cmdlet does.
    process {
        foreach ($v in @($Value)) { $values.Add($v) }
        $bound = @{}
        foreach ($k in $PSBoundParameters.Keys) { $bound[$k] = $PSBoundParameters[$k] }
    }
    end {
        Invoke-LabFaultPoint 'Set-Content'
        Use-LabCallerPreference $PSCmdlet
        $bound['Value'] = $values.ToArray()
        Invoke-LabPathCommand -Verb 'Set-Content' -RealCommand 'Microsoft.PowerShell.Management\Set-Content' -Bound $bound -Cmdlet $PSCmdlet
    }
}
