# Registry provider of the lab (reached through 10-paths.ps1) and reg.exe.
# Windows facts: docs/windows-facts/registry-services-cim.md; shared reference C.1, section 5.1, section 6.
# Semantics follow PowerShell's RegistryProvider.cs (PS-SRC): messages, FQIDs, kind inference.
#
# State: state.registry maps a key path ('HKEY_LOCAL_MACHINE\...', original case) to its values. A key exists
# iff it is listed (hive roots always exist). The map is a LabMap (LabTypes.cs): lookups are case-insensitive, and a
# key keeps the case it was created with.
# The default value is stored under the name '(default)': ConvertFrom-Json cannot load an empty property name.

$script:LabRegHives = @{
    HKLM = 'HKEY_LOCAL_MACHINE'; HKCU = 'HKEY_CURRENT_USER'; HKU = 'HKEY_USERS'; HKCR = 'HKEY_CLASSES_ROOT'; HKCC = 'HKEY_CURRENT_CONFIG'
}
$script:LabRegProviderPrefix = 'Microsoft.PowerShell.Core\Registry::'
$script:LabRegDefaultName = '(default)'
# What %VAR% expands to on a lab host (REG_EXPAND_SZ reads expand, as RegistryKey.GetValue does). Windows may be
# installed on another drive than C: (state.systemDrive): every value follows it.
function Get-LabSystemDrive {
    $s = Get-LabState
    if ($s.PSObject.Properties['systemDrive'] -and $s.systemDrive) { return [string]$s.systemDrive }
    return 'C:'
}

function Get-LabEnvironment {
    $d = Get-LabSystemDrive
    return @{
        SystemDrive = $d; SystemRoot = "$d\Windows"; windir = "$d\Windows"; ProgramData = "$d\ProgramData"
        ProgramFiles = "$d\Program Files"; 'ProgramFiles(x86)' = "$d\Program Files (x86)"; ALLUSERSPROFILE = "$d\ProgramData"
        PUBLIC = "$d\Users\Public"; USERPROFILE = "$d\Windows\system32\config\systemprofile"
    }
}

# ---------------------------------------------------------------------------------------------------
# Paths and keys

function ConvertTo-LabRegPath {
    <# HKLM:\X, Registry::HKEY_LOCAL_MACHINE\X, Microsoft.PowerShell.Core\Registry::HKLM\X ->
       @{ Key = 'HKEY_LOCAL_MACHINE\X'; Drive = 'HKLM' or $null; Display = path for error messages } #>
    param([Parameter(Mandatory)][string]$Path)
    $drive = $null
    if ($Path -match '^(?<d>HKLM|HKCU|HKU|HKCR|HKCC):\\?(?<rest>.*)$') {
        $drive = $Matches['d'].ToUpperInvariant()
        $root = $script:LabRegHives[$drive]
        $rest = $Matches['rest']
    } elseif ($Path -match '^(Microsoft\.PowerShell\.Core\\)?Registry::(?<root>[^\\]+)\\?(?<rest>.*)$') {
        $root = $Matches['root']
        $rest = $Matches['rest']
        if ($script:LabRegHives.ContainsKey($root.ToUpperInvariant())) { $root = $script:LabRegHives[$root.ToUpperInvariant()] }
        else { $root = $root.ToUpperInvariant() }
    } else {
        throw "not a registry path: $Path"
    }
    $parts = @($rest.Split([char[]]@([char]'\'), [StringSplitOptions]::RemoveEmptyEntries))
    $key = (@($root) + $parts) -join '\'
    # Drive paths are reported as typed; provider paths as the provider path (PS-SRC LocationGlobber.cs).
    $display = $Path
    if ($null -eq $drive) { $display = $key }
    return @{ Key = $key; Drive = $drive; Display = $display }
}

function Test-LabRegRoot { param([string]$Key) return ($script:LabRegHives.Values -contains $Key.ToUpperInvariant()) -and ($Key -notmatch '\\') }

function Get-LabRegKeyName {
    <# The stored (original-case) name of a key, or $null when it does not exist. #>
    param([Parameter(Mandatory)][string]$Key)
    if (Test-LabRegRoot $Key) { return $Key.ToUpperInvariant() }
    $p = (Get-LabState).registry.Find($Key)
    if ($null -eq $p) { return $null }
    return $p.Name
}

function Get-LabRegValueSet {
    param([Parameter(Mandatory)][string]$KeyName)
    $p = (Get-LabState).registry.Find($KeyName)
    if ($null -eq $p) { return [pscustomobject]@{} }
    return $p.Value
}

function Get-LabRegSubKeyNames {
    <# Direct subkeys (full stored names), sorted as RegEnumKeyEx returns them. #>
    param([Parameter(Mandatory)][string]$KeyName)
    $prefix = $KeyName + '\'
    $result = foreach ($p in (Get-LabState).registry.GetEntries()) {
        if ($p.Name.Length -gt $prefix.Length -and $p.Name.StartsWith($prefix, [StringComparison]::OrdinalIgnoreCase) -and $p.Name.IndexOf('\', $prefix.Length) -lt 0) { $p.Name }
    }
    return @($result | Sort-Object)
}

function Get-LabRegDescendantNames {
    param([Parameter(Mandatory)][string]$KeyName)
    $prefix = $KeyName + '\'
    return @(foreach ($p in (Get-LabState).registry.GetEntries()) { if ($p.Name.StartsWith($prefix, [StringComparison]::OrdinalIgnoreCase)) { $p.Name } })
}

function Resolve-LabRegKeys {
    <# Keys a path names: one for a literal path, the matches for a wildcard path. #>
    param([Parameter(Mandatory)][string]$Key, [switch]$Literal)
    if ($Literal -or -not [System.Management.Automation.WildcardPattern]::ContainsWildcardCharacters($Key)) {
        $name = Get-LabRegKeyName $Key
        if ($null -eq $name) { return @() }
        return @($name)
    }
    $pattern = New-Object System.Management.Automation.WildcardPattern($Key, [System.Management.Automation.WildcardOptions]::IgnoreCase)
    $depth = ($Key -split '\\').Count
    return @((Get-LabState).registry.GetEntries() | ForEach-Object { $_.Name } |
        Where-Object { ($_ -split '\\').Count -eq $depth -and $pattern.IsMatch($_) } | Sort-Object)
}

function Split-LabRegKey {
    param([Parameter(Mandatory)][string]$KeyName)
    $i = $KeyName.LastIndexOf('\')
    if ($i -lt 0) { return @{ Parent = ''; Leaf = $KeyName } }
    return @{ Parent = $KeyName.Substring(0, $i); Leaf = $KeyName.Substring($i + 1) }
}

function Add-LabRegKey {
    <# Creates a key and any missing parents; returns the stored name. #>
    param([Parameter(Mandatory)][string]$Key)
    $existing = Get-LabRegKeyName $Key
    if ($null -ne $existing) { return $existing }
    $split = Split-LabRegKey $Key
    $parent = Add-LabRegKey $split.Parent
    $name = $parent + '\' + $split.Leaf
    $null = (Get-LabState).registry.Add($name, [pscustomobject]@{})
    return $name
}

function Remove-LabRegKeyTree {
    param([Parameter(Mandatory)][string]$KeyName)
    $reg = (Get-LabState).registry
    foreach ($n in @(Get-LabRegDescendantNames $KeyName)) { $null = $reg.Remove($n) }
    $null = $reg.Remove($KeyName)
}

function Copy-LabRegKeyTree {
    <# Copies a key's values (and with -Recurse its subkeys) to a new key name. #>
    param([Parameter(Mandatory)][string]$From, [Parameter(Mandatory)][string]$To, [switch]$Recurse)
    $target = Add-LabRegKey $To
    $src = Get-LabRegValueSet $From
    $dst = Get-LabRegValueSet $target
    foreach ($v in $src.PSObject.Properties) {
        $copy = [pscustomobject]@{ kind = $v.Value.kind; data = $v.Value.data }
        if ($null -ne $dst.PSObject.Properties[$v.Name]) { $dst.PSObject.Properties.Remove($v.Name) }
        $dst | Add-Member -NotePropertyName $v.Name -NotePropertyValue $copy
    }
    if ($Recurse) {
        foreach ($sub in @(Get-LabRegSubKeyNames $From)) {
            Copy-LabRegKeyTree -From $sub -To ($target + '\' + (Split-LabRegKey $sub).Leaf) -Recurse
        }
    }
    return $target
}

# ---------------------------------------------------------------------------------------------------
# Values: stored data <-> .NET values

function Expand-LabRegString {
    param([string]$Text)
    if ($null -eq $Text) { return $null }
    return [regex]::Replace($Text, '%([^%]+)%', {
            param($m)
            $envVars = Get-LabEnvironment
            foreach ($k in $envVars.Keys) { if ($k -ieq $m.Groups[1].Value) { return $envVars[$k] } }
            return $m.Value
        })
}

function ConvertFrom-LabRegData {
    <# Stored value -> what RegistryKey.GetValue returns: DWORD as Int32 (4294967295 -> -1), QWORD Int64,
       REG_EXPAND_SZ expanded unless -Raw, MULTI_SZ string[], BINARY byte[]. #>
    param([Parameter(Mandatory)]$Value, [switch]$Raw)
    $data = $Value.data
    switch ([string]$Value.kind) {
        'DWord' {
            $n = [long]$data
            if ($n -gt [int]::MaxValue) { $n = $n - 4294967296L }
            return [int]$n
        }
        'QWord' {
            $d = [decimal]$data
            if ($d -gt [long]::MaxValue) { $d = $d - [decimal]18446744073709551616 }
            return [long]$d
        }
        'ExpandString' { if ($Raw) { return [string]$data } return (Expand-LabRegString ([string]$data)) }
        'MultiString' { return , ([string[]]@($data | ForEach-Object { [string]$_ })) }
        'Binary' { return , ([byte[]]@($data | ForEach-Object { [byte]$_ })) }
        default { return [string]$data }
    }
}

function ConvertTo-LabRegValueKindData {
    <# ConvertValueToKind (PS-SRC RegistryProvider.cs): the .NET value converted for a kind, stored JSON-friendly
       (DWORD/QWORD unsigned). Returns @{ Ok; Data } instead of throwing (see ConvertTo-LabTypeOrNull). #>
    param([AllowNull()]$Value, [Parameter(Mandatory)][string]$Kind)
    $fail = @{ Ok = $false; Data = $null }
    switch ($Kind) {
        'DWord' {
            if ($null -eq $Value) { return @{ Ok = $true; Data = 0L } }
            $n = ConvertTo-LabTypeOrNull $Value ([int])
            if ($null -eq $n) { $n = ConvertTo-LabTypeOrNull $Value ([uint32]) }
            if ($null -eq $n) { return $fail }
            $n = [long]$n
            if ($n -lt 0) { $n = $n + 4294967296L }
            return @{ Ok = $true; Data = $n }
        }
        'QWord' {
            if ($null -eq $Value) { return @{ Ok = $true; Data = 0L } }
            $q = ConvertTo-LabTypeOrNull $Value ([long])
            if ($null -eq $q) { $q = ConvertTo-LabTypeOrNull $Value ([uint64]) }
            if ($null -eq $q) { return $fail }
            $q = [decimal]$q
            if ($q -lt 0) { $q = $q + [decimal]18446744073709551616 }
            return @{ Ok = $true; Data = $q }
        }
        'Binary' {
            if ($null -eq $Value) { return @{ Ok = $true; Data = @() } }
            $bytes = ConvertTo-LabTypeOrNull $Value ([byte[]])
            if ($null -eq $bytes) { return $fail }
            return @{ Ok = $true; Data = [int[]]@($bytes | ForEach-Object { [int]$_ }) }
        }
        'MultiString' {
            if ($null -eq $Value) { return @{ Ok = $true; Data = @() } }
            $arr = ConvertTo-LabTypeOrNull $Value ([string[]])
            if ($null -eq $arr) { return $fail }
            return @{ Ok = $true; Data = [string[]]$arr }
        }
        default {
            if ($null -eq $Value) { return @{ Ok = $true; Data = '' } }
            $str = ConvertTo-LabTypeOrNull $Value ([string])
            if ($null -eq $str) { return $fail }
            return @{ Ok = $true; Data = [string]$str }
        }
    }
}

function Get-LabRegKindForObject {
    <# GetValueKindFromObject + .NET RegistryKey.SetValue(Unknown): byte[] Binary, int DWord, string String,
       string[] MultiString, long QWord; any other array is unsupported ($null); anything else is written as its string. #>
    param([AllowNull()]$Value)
    if ($null -eq $Value) { return 'String' }
    if ($Value -is [byte[]]) { return 'Binary' }
    if ($Value -is [int]) { return 'DWord' }
    if ($Value -is [string]) { return 'String' }
    if ($Value -is [string[]]) { return 'MultiString' }
    if ($Value -is [long]) { return 'QWord' }
    if ($Value -is [array]) { return $null }
    return 'String'
}

function Get-LabRegBaseObject {
    param([AllowNull()]$Value)
    if ($Value -is [System.Management.Automation.PSObject]) { $Value = $Value.PSObject.BaseObject }
    if ($Value -is [array]) { return , $Value }   # keep byte[] / string[] intact (no pipeline unrolling)
    return $Value
}

function Get-LabRegStoredName {
    <# Value names are stored case-preserving; '' and '(default)' both name the default value. #>
    param([AllowNull()][AllowEmptyString()][string]$Name)
    if ([string]::IsNullOrEmpty($Name)) { return $script:LabRegDefaultName }
    return $Name
}

function Set-LabRegValue {
    <# Writes one value. $Kind = $null: keep an existing value's kind when the data converts to it, else infer
       from the .NET type (PS-SRC SetRegistryValue). Returns @{ Name = stored name } or @{ Error = exception }. #>
    param([Parameter(Mandatory)][string]$KeyName, [Parameter(Mandatory)][AllowEmptyString()][string]$Name, [AllowNull()]$Value, [string]$Kind)
    $Value = Get-LabRegBaseObject $Value
    $vals = Get-LabRegValueSet $KeyName
    $storeName = Get-LabRegStoredName $Name
    $existing = $vals.PSObject.Properties[$storeName]
    $conv = @{ Ok = $false }
    if ([string]::IsNullOrEmpty($Kind) -and $null -ne $existing) {
        $conv = ConvertTo-LabRegValueKindData -Value $Value -Kind ([string]$existing.Value.kind)
        if ($conv.Ok) { $Kind = [string]$existing.Value.kind }
    }
    if (-not $conv.Ok) {
        if ([string]::IsNullOrEmpty($Kind)) { $Kind = [string](Get-LabRegKindForObject $Value) }
        if ([string]::IsNullOrEmpty($Kind)) {
            return @{ Error = (New-Object System.ArgumentException("RegistryKey.SetValue does not support arrays of type '$($Value.GetType().Name)'. Only Byte[] and String[] are supported.")) }
        }
        $conv = ConvertTo-LabRegValueKindData -Value $Value -Kind $Kind
        if (-not $conv.Ok) {
            return @{ Error = (New-Object System.Management.Automation.PSInvalidCastException("Cannot convert value `"$Value`" to the registry kind $Kind.")) }
        }
    }
    if ($null -ne $existing) { $storeName = $existing.Name; $vals.PSObject.Properties.Remove($existing.Name) }
    $vals | Add-Member -NotePropertyName $storeName -NotePropertyValue ([pscustomobject]@{ kind = $Kind; data = $conv.Data })
    return @{ Name = $storeName }
}

# ---------------------------------------------------------------------------------------------------
# Output objects

function Get-LabRegPSPath { param([string]$KeyName) return $script:LabRegProviderPrefix + $KeyName }

function Add-LabRegProviderNotes {
    <# PSPath, PSParentPath, PSChildName, [PSDrive,] PSProvider as the provider attaches them (PS-SRC ProviderBase.cs:
       PSDrive only when the path went through a drive). PSDrive/PSProvider are their display strings. #>
    param([Parameter(Mandatory)]$Object, [Parameter(Mandatory)][string]$KeyName, [AllowNull()][string]$Drive)
    $split = Split-LabRegKey $KeyName
    $parent = ''
    if ($split.Parent) { $parent = Get-LabRegPSPath $split.Parent }
    # PSObject.Properties.Add is Add-Member -NotePropertyName without a cmdlet call per property.
    $props = $Object.PSObject.Properties
    $props.Add([System.Management.Automation.PSNoteProperty]::new('PSPath', (Get-LabRegPSPath $KeyName)))
    $props.Add([System.Management.Automation.PSNoteProperty]::new('PSParentPath', $parent))
    $props.Add([System.Management.Automation.PSNoteProperty]::new('PSChildName', $split.Leaf))
    if ($Drive) { $props.Add([System.Management.Automation.PSNoteProperty]::new('PSDrive', $Drive)) }
    $props.Add([System.Management.Automation.PSNoteProperty]::new('PSProvider', 'Microsoft.PowerShell.Core\Registry'))
}

function New-LabRegKeyObject {
    <# A Microsoft.Win32.RegistryKey look-alike. Its methods read the live lab state, as RegistryKey does. #>
    param([Parameter(Mandatory)][string]$KeyName, [AllowNull()][string]$Drive)
    $vals = Get-LabRegValueSet $KeyName
    $names = @($vals.PSObject.Properties | ForEach-Object { $_.Name })
    $o = [pscustomobject]@{ Property = [string[]]$names }
    Add-LabRegProviderNotes -Object $o -KeyName $KeyName -Drive $Drive
    $o | Add-Member -NotePropertyName PSIsContainer -NotePropertyValue $true
    $o | Add-Member -NotePropertyName SubKeyCount -NotePropertyValue @(Get-LabRegSubKeyNames $KeyName).Count
    $o | Add-Member -NotePropertyName View -NotePropertyValue 'Default'
    $o | Add-Member -NotePropertyName ValueCount -NotePropertyValue $names.Count
    $o | Add-Member -NotePropertyName Name -NotePropertyValue $KeyName
    $o | Add-Member -MemberType ScriptMethod -Name GetValue -Value {
        # GetValue(name[, default[, RegistryValueOptions]]): DoNotExpandEnvironmentNames returns REG_EXPAND_SZ
        # data as stored (%SystemDrive%\Users\x), as .NET RegistryKey.GetValue does.
        param([string]$Name, $DefaultValue = $null, $Options = $null)
        $v = (Get-LabRegValueSet $this.Name).PSObject.Properties[(Get-LabRegStoredName $Name)]
        if ($null -eq $v) { return $DefaultValue }
        $raw = $false
        if ($null -ne $Options) {
            $opt = ConvertTo-LabTypeOrNull $Options ([Microsoft.Win32.RegistryValueOptions])
            $raw = ($null -ne $opt) -and (($opt -band [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames) -ne 0)
        }
        return , (ConvertFrom-LabRegData $v.Value -Raw:$raw)
    }
    $o | Add-Member -MemberType ScriptMethod -Name GetValueKind -Value {
        param([string]$Name)
        $v = (Get-LabRegValueSet $this.Name).PSObject.Properties[(Get-LabRegStoredName $Name)]
        # RegistryKey.GetValueKind on a missing value: IOException (ERROR_FILE_NOT_FOUND).
        if ($null -eq $v) { throw (New-Object System.IO.IOException('The system cannot find the file specified.')) }
        return [Microsoft.Win32.RegistryValueKind]([string]$v.Value.kind)
    }
    $o | Add-Member -MemberType ScriptMethod -Name GetValueNames -Value { return [string[]]@((Get-LabRegValueSet $this.Name).PSObject.Properties | ForEach-Object { $_.Name }) }
    $o | Add-Member -MemberType ScriptMethod -Name GetSubKeyNames -Value { return [string[]]@(Get-LabRegSubKeyNames $this.Name | ForEach-Object { (Split-LabRegKey $_).Leaf }) }
    $o | Add-Member -MemberType ScriptMethod -Name ToString -Value { return $this.Name } -Force
    $o.PSObject.TypeNames.Insert(0, 'Microsoft.Win32.RegistryKey')
    return $o
}

function New-LabRegPropertyObject {
    <# What Get-ItemProperty / New-ItemProperty write: the values, then the provider notes (ref section 4.6 sample). #>
    param([Parameter(Mandatory)][string]$KeyName, [AllowNull()][string]$Drive, [string[]]$Names)
    $o = New-Object psobject
    $vals = Get-LabRegValueSet $KeyName
    foreach ($n in $Names) {
        $v = $vals.PSObject.Properties[$n]
        if ($null -ne $v) { $o.PSObject.Properties.Add([System.Management.Automation.PSNoteProperty]::new($v.Name, (ConvertFrom-LabRegData $v.Value))) }
    }
    Add-LabRegProviderNotes -Object $o -KeyName $KeyName -Drive $Drive
    return $o
}

# ---------------------------------------------------------------------------------------------------
# Errors

function New-LabRegError {
    param([Parameter(Mandatory)][Exception]$Exception, [Parameter(Mandatory)][string]$Verb,
        [Parameter(Mandatory)][System.Management.Automation.ErrorCategory]$Category, $Target, [string]$Id)
    if (-not $Id) { $Id = $Exception.GetType().FullName }
    New-LabErrorRecord -Exception $Exception -ErrorId ($Id + ',' + (Get-LabCmdletFqidSuffix $Verb)) -Category $Category -Target $Target
}

function Write-LabRegPropertyNotFound {
    <# PropertyNotAtPath: PSArgumentException, InvalidArgument, target = the name (PS-SRC WriteErrorIfPerfectMatchNotFound). #>
    param($Cmdlet, [string]$Verb, [string]$Name, [string]$KeyName)
    $ex = New-Object System.Management.Automation.PSArgumentException("Property $Name does not exist at path $KeyName.")
    $Cmdlet.WriteError((New-LabRegError -Exception $ex -Verb $Verb -Category InvalidArgument -Target $Name))
}

function Save-LabRegChange {
    param([string]$Verb, $Detail)
    Save-LabState
    Write-LabAudit -Command $Verb -Detail $Detail
}

# ---------------------------------------------------------------------------------------------------
# The provider

function Invoke-LabRegistryProvider {
    param([Parameter(Mandatory)][string]$Verb, [Parameter(Mandatory)][hashtable]$Parameters, [Parameter(Mandatory)]$Cmdlet)
    $arg = Get-LabPathArgument $Parameters
    $p = ConvertTo-LabRegPath $arg.Path
    $keys = @(Resolve-LabRegKeys -Key $p.Key -Literal:$arg.Literal)
    switch ($Verb) {
        'Test-Path' { Invoke-LabRegTestPath -P $p -Keys $keys -Parameters $Parameters; return }
        'New-Item' { Invoke-LabRegNewItem -P $p -Parameters $Parameters -Cmdlet $Cmdlet; return }
        { $_ -in 'Get-Acl', 'Set-Acl' } { throw "not implemented in the lab: $Verb on $($arg.Path)" }
        { $_ -in 'Get-Content', 'Set-Content' } {
            $ex = New-Object System.Management.Automation.PSNotSupportedException('Cannot use interface. The IContentCmdletProvider interface is not implemented by this provider.')
            $Cmdlet.WriteError((New-LabRegError -Exception $ex -Verb $Verb -Category NotImplemented -Target $arg.Path -Id 'NotSupported'))
            return
        }
    }
    if ($keys.Count -eq 0) {
        if ([System.Management.Automation.WildcardPattern]::ContainsWildcardCharacters($p.Key) -and -not $arg.Literal) { return }
        $Cmdlet.WriteError((New-LabPathNotFoundError -Path $p.Display -Verb $Verb))
        return
    }
    foreach ($k in $keys) {
        switch ($Verb) {
            'Get-Item' { New-LabRegKeyObject -KeyName $k -Drive $p.Drive }
            'Get-ChildItem' { Invoke-LabRegGetChildItem -KeyName $k -Drive $p.Drive -Parameters $Parameters -Base $k }
            'Get-ItemProperty' { Invoke-LabRegGetItemProperty -KeyName $k -Drive $p.Drive -Parameters $Parameters -Cmdlet $Cmdlet -Verb $Verb }
            'Get-ItemPropertyValue' { Invoke-LabRegGetItemPropertyValue -KeyName $k -Parameters $Parameters -Cmdlet $Cmdlet }
            'Set-ItemProperty' { Invoke-LabRegSetItemProperty -KeyName $k -Drive $p.Drive -Parameters $Parameters -Cmdlet $Cmdlet }
            'New-ItemProperty' { Invoke-LabRegNewItemProperty -KeyName $k -Drive $p.Drive -Parameters $Parameters -Cmdlet $Cmdlet }
            'Remove-ItemProperty' { Invoke-LabRegRemoveItemProperty -KeyName $k -Parameters $Parameters -Cmdlet $Cmdlet }
            'Remove-Item' { Invoke-LabRegRemoveItem -KeyName $k -Parameters $Parameters -Cmdlet $Cmdlet }
            'Rename-Item' { Invoke-LabRegRenameItem -KeyName $k -Drive $p.Drive -Parameters $Parameters -Cmdlet $Cmdlet }
            { $_ -in 'Copy-Item', 'Move-Item' } { Invoke-LabRegCopyOrMove -Verb $Verb -KeyName $k -Drive $p.Drive -Parameters $Parameters -Cmdlet $Cmdlet }
            default { throw "not implemented in the lab: $Verb on $($arg.Path)" }
        }
    }
}

function Invoke-LabRegTestPath {
    param($P, $Keys, $Parameters)
    if ($Parameters.ContainsKey('IsValid') -and $Parameters['IsValid']) { return $true }
    $exists = $Keys.Count -gt 0
    if ($Parameters.ContainsKey('PathType') -and [string]$Parameters['PathType'] -eq 'Leaf') { return $false }
    return $exists
}

function Invoke-LabRegGetChildItem {
    param([string]$KeyName, [AllowNull()][string]$Drive, $Parameters, [string]$Base)
    $recurse = $Parameters.ContainsKey('Recurse') -and $Parameters['Recurse']
    $nameOnly = $Parameters.ContainsKey('Name') -and $Parameters['Name']
    foreach ($sub in @(Get-LabRegSubKeyNames $KeyName)) {
        if ($nameOnly) { $sub.Substring($Base.Length + 1) } else { New-LabRegKeyObject -KeyName $sub -Drive $Drive }
        if ($recurse) { Invoke-LabRegGetChildItem -KeyName $sub -Drive $Drive -Parameters $Parameters -Base $Base }
    }
}

function Select-LabRegValueNames {
    <# Value names matching -Name (wildcards allowed); writes PropertyNotAtPath for exact names that miss. #>
    param([string]$KeyName, [string[]]$Requested, $Cmdlet, [string]$Verb)
    $all = @(foreach ($p in (Get-LabRegValueSet $KeyName).PSObject.Properties) { $p.Name })
    if ($null -eq $Requested) { return $all }
    $picked = New-Object System.Collections.Generic.List[string]
    foreach ($r in $Requested) {
        $want = Get-LabRegStoredName $r
        $pattern = New-Object System.Management.Automation.WildcardPattern($want, [System.Management.Automation.WildcardOptions]::IgnoreCase)
        $hit = $false
        foreach ($n in $all) { if ($pattern.IsMatch($n)) { $hit = $true; if (-not $picked.Contains($n)) { $picked.Add($n) } } }
        if (-not $hit -and -not [System.Management.Automation.WildcardPattern]::ContainsWildcardCharacters($want)) {
            Write-LabRegPropertyNotFound -Cmdlet $Cmdlet -Verb $Verb -Name $r -KeyName $KeyName
        }
    }
    return $picked.ToArray()
}

function Invoke-LabRegGetItemProperty {
    param([string]$KeyName, [AllowNull()][string]$Drive, $Parameters, $Cmdlet, [string]$Verb)
    $requested = $null
    if ($Parameters.ContainsKey('Name') -and $null -ne $Parameters['Name']) { $requested = [string[]]@($Parameters['Name']) }
    $names = @(Select-LabRegValueNames -KeyName $KeyName -Requested $requested -Cmdlet $Cmdlet -Verb $Verb)
    if ($null -ne $requested -and $names.Count -eq 0) { return }
    New-LabRegPropertyObject -KeyName $KeyName -Drive $Drive -Names $names
}

function Invoke-LabRegGetItemPropertyValue {
    param([string]$KeyName, $Parameters, $Cmdlet)
    $vals = Get-LabRegValueSet $KeyName
    foreach ($n in @(Select-LabRegValueNames -KeyName $KeyName -Requested ([string[]]@($Parameters['Name'])) -Cmdlet $Cmdlet -Verb 'Get-ItemPropertyValue')) {
        ConvertFrom-LabRegData $vals.PSObject.Properties[$n].Value
    }
}

function Invoke-LabRegSetItemProperty {
    param([string]$KeyName, [AllowNull()][string]$Drive, $Parameters, $Cmdlet)
    $pairs = New-Object System.Collections.Generic.List[object]
    if ($Parameters.ContainsKey('InputObject')) {
        foreach ($prop in $Parameters['InputObject'].PSObject.Properties) { $pairs.Add(@($prop.Name, $prop.Value)) }
    } else {
        $v = $null
        if ($Parameters.ContainsKey('Value')) { $v = $Parameters['Value'] }
        $pairs.Add(@([string]$Parameters['Name'], $v))
    }
    $kind = $null
    if ($Parameters.ContainsKey('Type')) { $kind = [string]$Parameters['Type']; if ($kind -eq 'Unknown') { $kind = $null } }
    foreach ($pair in $pairs) {
        $name = [string]$pair[0]
        if (-not $Cmdlet.ShouldProcess("Item: $KeyName Property: $name", 'Set Property')) { continue }
        $res = Set-LabRegValue -KeyName $KeyName -Name $name -Value $pair[1] -Kind $kind
        if ($res.ContainsKey('Error')) {
            $Cmdlet.WriteError((New-LabRegError -Exception $res.Error -Verb 'Set-ItemProperty' -Category WriteError -Target $KeyName))
            continue
        }
        $stored = $res.Name
        Save-LabRegChange 'Set-ItemProperty' ([ordered]@{ key = $KeyName; name = $stored; value = (Get-LabRegValueSet $KeyName).PSObject.Properties[$stored].Value })
        if ($Parameters.ContainsKey('PassThru') -and $Parameters['PassThru']) { New-LabRegPropertyObject -KeyName $KeyName -Drive $Drive -Names @($stored) }
    }
}

function Invoke-LabRegNewItemProperty {
    param([string]$KeyName, [AllowNull()][string]$Drive, $Parameters, $Cmdlet)
    $name = [string]$Parameters['Name']
    $value = $null
    if ($Parameters.ContainsKey('Value')) { $value = $Parameters['Value'] }
    $kind = $null
    if ($Parameters.ContainsKey('PropertyType') -and $Parameters['PropertyType']) {
        $t = [string]$Parameters['PropertyType']
        $parsed = [Microsoft.Win32.RegistryValueKind]::Unknown
        if (-not [Enum]::TryParse($t, $true, [ref]$parsed) -or $t -match '^\d+$') {
            $ex = New-Object System.ArgumentException("Could not bind parameter 'Type'. Could not convert `"$t`" to `"Microsoft.Win32.RegistryValueKind`". The possible enumeration values are `"String, ExpandString, Binary, DWord, MultiString, QWord, Unknown`".")
            $Cmdlet.WriteError((New-LabRegError -Exception $ex -Verb 'New-ItemProperty' -Category InvalidArgument -Target $t))
            return
        }
        if ($parsed -ne [Microsoft.Win32.RegistryValueKind]::Unknown) { $kind = $parsed.ToString() }
    }
    if (-not $Cmdlet.ShouldProcess("Item: $KeyName Property: $name", 'New Property')) { return }
    $force = $Parameters.ContainsKey('Force') -and $Parameters['Force']
    $vals = Get-LabRegValueSet $KeyName
    $existing = $vals.PSObject.Properties[(Get-LabRegStoredName $name)]
    if ($null -ne $existing -and -not $force) {
        $ex = New-Object System.IO.IOException('The property already exists.')
        $Cmdlet.WriteError((New-LabRegError -Exception $ex -Verb 'New-ItemProperty' -Category ResourceExists -Target $KeyName))
        return
    }
    # New-ItemProperty replaces the value outright: no kind carried over (NewProperty passes the parsed kind).
    if ($null -ne $existing) { $vals.PSObject.Properties.Remove($existing.Name) }
    $res = Set-LabRegValue -KeyName $KeyName -Name $name -Value $value -Kind $kind
    if ($res.ContainsKey('Error')) {
        $Cmdlet.WriteError((New-LabRegError -Exception $res.Error -Verb 'New-ItemProperty' -Category WriteError -Target $KeyName))
        return
    }
    $stored = $res.Name
    Save-LabRegChange 'New-ItemProperty' ([ordered]@{ key = $KeyName; name = $stored; value = (Get-LabRegValueSet $KeyName).PSObject.Properties[$stored].Value })
    New-LabRegPropertyObject -KeyName $KeyName -Drive $Drive -Names @($stored)
}

function Invoke-LabRegRemoveItemProperty {
    param([string]$KeyName, $Parameters, $Cmdlet)
    $vals = Get-LabRegValueSet $KeyName
    foreach ($n in @(Select-LabRegValueNames -KeyName $KeyName -Requested ([string[]]@($Parameters['Name'])) -Cmdlet $Cmdlet -Verb 'Remove-ItemProperty')) {
        if (-not $Cmdlet.ShouldProcess("Item: $KeyName Property: $n", 'Remove Property')) { continue }
        $vals.PSObject.Properties.Remove($n)
        Save-LabRegChange 'Remove-ItemProperty' ([ordered]@{ key = $KeyName; name = $n })
    }
}

function Invoke-LabRegNewItem {
    <# New-Item on the registry (PS-SRC RegistryProvider.NewItem): existing key -> 'A key in this path already
       exists.' unless -Force, which DELETES the key and recreates it empty; -Force creates missing parents. #>
    param($P, $Parameters, $Cmdlet)
    $key = $P.Key
    $display = $P.Display
    if ($Parameters.ContainsKey('Name') -and $Parameters['Name']) { $key = $key + '\' + $Parameters['Name']; $display = $display.TrimEnd('\') + '\' + $Parameters['Name'] }
    $force = $Parameters.ContainsKey('Force') -and $Parameters['Force']
    if (-not $Cmdlet.ShouldProcess("Item: $key", 'New Item')) { return }
    $existing = Get-LabRegKeyName $key
    if ($null -ne $existing) {
        if (-not $force) {
            $ex = New-Object System.IO.IOException('A key in this path already exists.')
            $Cmdlet.WriteError((New-LabRegError -Exception $ex -Verb 'New-Item' -Category ResourceExists -Target $existing))
            return
        }
        Remove-LabRegKeyTree $existing
    }
    $parent = (Split-LabRegKey $key).Parent
    if (-not $force -and $null -eq (Get-LabRegKeyName $parent)) {
        $ex = New-Object System.ArgumentException('The registry key at the specified path does not exist.')
        $Cmdlet.WriteError((New-LabRegError -Exception $ex -Verb 'New-Item' -Category InvalidArgument -Target $parent))
        return
    }
    $name = Add-LabRegKey $key
    if ($Parameters.ContainsKey('Value') -and $null -ne $Parameters['Value']) { [void](Set-LabRegValue -KeyName $name -Name '' -Value $Parameters['Value'] -Kind 'String') }
    Save-LabRegChange 'New-Item' ([ordered]@{ key = $name; replaced = ($null -ne $existing) })
    New-LabRegKeyObject -KeyName $name -Drive $P.Drive
}

function Invoke-LabRegRemoveItem {
    param([string]$KeyName, $Parameters, $Cmdlet)
    if (Test-LabRegRoot $KeyName) { throw "not implemented in the lab: Remove-Item of a hive root ($KeyName)" }
    $recurse = $Parameters.ContainsKey('Recurse') -and $Parameters['Recurse']
    if (-not $recurse -and @(Get-LabRegSubKeyNames $KeyName).Count -gt 0) {
        # RemoveItemCommand asks ShouldContinue (RemoveItemWithChildren); a remoting/automation host cannot prompt.
        $ex = New-Object System.Management.Automation.PSInvalidOperationException('Windows PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.')
        $Cmdlet.ThrowTerminatingError((New-LabRegError -Exception $ex -Verb 'Remove-Item' -Category InvalidOperation -Target $KeyName))
    }
    if (-not $Cmdlet.ShouldProcess("Item: $KeyName", 'Remove Key')) { return }
    Remove-LabRegKeyTree $KeyName
    Save-LabRegChange 'Remove-Item' ([ordered]@{ key = $KeyName; recurse = [bool]$recurse })
}

function Invoke-LabRegRenameItem {
    param([string]$KeyName, [AllowNull()][string]$Drive, $Parameters, $Cmdlet)
    $newLeaf = [string]$Parameters['NewName']
    $parent = (Split-LabRegKey $KeyName).Parent
    $newKey = $parent + '\' + $newLeaf
    if ($null -ne (Get-LabRegKeyName $newKey) -and $newKey -ine $KeyName) {
        $ex = New-Object System.ArgumentException('The item cannot be renamed because an item with that name already exists in the same container.')
        $Cmdlet.WriteError((New-LabRegError -Exception $ex -Verb 'Rename-Item' -Category InvalidArgument -Target $newKey))
        return
    }
    if (-not $Cmdlet.ShouldProcess("Item: $KeyName NewName: $newLeaf", 'Rename Item')) { return }
    $reg = (Get-LabState).registry
    $moves = @(@($KeyName) + @(Get-LabRegDescendantNames $KeyName))
    foreach ($old in $moves) {
        $val = $reg.Find($old).Value
        $null = $reg.Remove($old)
        $null = $reg.Add(($newKey + $old.Substring($KeyName.Length)), $val)
    }
    Save-LabRegChange 'Rename-Item' ([ordered]@{ key = $KeyName; newName = $newLeaf })
    if ($Parameters.ContainsKey('PassThru') -and $Parameters['PassThru']) { New-LabRegKeyObject -KeyName $newKey -Drive $Drive }
}

function Invoke-LabRegCopyOrMove {
    <# Copy-Item / Move-Item of a key: into Destination when it exists, else as Destination. #>
    param([string]$Verb, [string]$KeyName, [AllowNull()][string]$Drive, $Parameters, $Cmdlet)
    if (-not $Parameters.ContainsKey('Destination') -or (Get-LabPathKind ([string]$Parameters['Destination'])) -ne 'registry') {
        throw "not implemented in the lab: $Verb of a registry key to a non-registry destination"
    }
    $dest = (ConvertTo-LabRegPath ([string]$Parameters['Destination'])).Key
    $destName = Get-LabRegKeyName $dest
    if ($null -ne $destName) { $dest = $destName + '\' + (Split-LabRegKey $KeyName).Leaf }
    $action = 'Copy Key'
    if ($Verb -eq 'Move-Item') { $action = 'Move Item' }
    if (-not $Cmdlet.ShouldProcess("Item: $KeyName Destination: $dest", $action)) { return }
    $recurse = ($Verb -eq 'Move-Item') -or ($Parameters.ContainsKey('Recurse') -and $Parameters['Recurse'])
    $target = Copy-LabRegKeyTree -From $KeyName -To $dest -Recurse:$recurse
    if ($Verb -eq 'Move-Item') { Remove-LabRegKeyTree $KeyName }
    Save-LabRegChange $Verb ([ordered]@{ key = $KeyName; destination = $target })
    if ($Parameters.ContainsKey('PassThru') -and $Parameters['PassThru']) { New-LabRegKeyObject -KeyName $target -Drive $Drive }
}

# ---------------------------------------------------------------------------------------------------
# reg.exe (query / export / import). Exit codes: 0 success, 1 failure (WSD reg-export.md). Errors go to stderr.

$script:LabRegTypeNames = @{ String = 'REG_SZ'; ExpandString = 'REG_EXPAND_SZ'; Binary = 'REG_BINARY'; DWord = 'REG_DWORD'; MultiString = 'REG_MULTI_SZ'; QWord = 'REG_QWORD' }

function Write-LabRegNativeError {
    <# A native stderr line as Windows PowerShell 5.1 surfaces it: RemoteException, NativeCommandError. #>
    param($Cmdlet, [string]$Line)
    $ex = New-Object System.Management.Automation.RemoteException($Line)
    $Cmdlet.WriteError((New-LabErrorRecord -Exception $ex -ErrorId 'NativeCommandError' -Category NotSpecified -Target $Line))
}

function ConvertTo-LabRegNativeKey {
    <# reg.exe key argument (HKLM\X or HKEY_LOCAL_MACHINE\X) -> full key, or $null for a bad root. #>
    param([string]$Arg)
    if ($Arg -notmatch '^(?<root>[^\\]+)(\\(?<rest>.*))?$') { return $null }
    $root = $Matches['root'].ToUpperInvariant()
    if ($script:LabRegHives.ContainsKey($root)) { $root = $script:LabRegHives[$root] }
    elseif ($script:LabRegHives.Values -notcontains $root) { return $null }
    $rest = ''
    if ($Matches['rest']) { $rest = $Matches['rest'] }
    return (@($root) + @($rest -split '\\' | Where-Object { $_ -ne '' })) -join '\'
}

function Format-LabRegQueryData {
    param($Value)
    switch ([string]$Value.kind) {
        'DWord' { return '0x' + ([long]$Value.data).ToString('x') }
        'QWord' { return '0x' + ([uint64][decimal]$Value.data).ToString('x') }
        'Binary' { return (@($Value.data | ForEach-Object { ([int]$_).ToString('X2') }) -join '') }
        'MultiString' { return (@($Value.data) -join '\0') }
        default { return [string]$Value.data }
    }
}

function Format-LabRegQueryLine {
    param([string]$Name, $Value)
    $shown = $Name
    if ($Name -eq $script:LabRegDefaultName) { $shown = '(Default)' }
    return '    ' + $shown + '    ' + $script:LabRegTypeNames[[string]$Value.kind] + '    ' + (Format-LabRegQueryData $Value)
}

function Invoke-LabRegQuery {
    param($Cmdlet, [string[]]$Rest)
    $key = ConvertTo-LabRegNativeKey $Rest[0]
    $name = $null
    for ($i = 1; $i -lt $Rest.Count; $i++) {
        if ($Rest[$i] -ieq '/v' -and $i + 1 -lt $Rest.Count) { $name = $Rest[$i + 1]; $i++ }
        elseif ($Rest[$i] -ieq '/ve') { $name = $script:LabRegDefaultName }
    }
    $stored = $null
    if ($null -ne $key) { $stored = Get-LabRegKeyName $key }
    $vals = $null
    if ($null -ne $stored) { $vals = Get-LabRegValueSet $stored }
    if ($null -eq $stored -or ($null -ne $name -and $null -eq $vals.PSObject.Properties[$name])) {
        $global:LASTEXITCODE = 1
        Write-LabRegNativeError $Cmdlet 'ERROR: The system was unable to find the specified registry key or value.'
        return
    }
    $global:LASTEXITCODE = 0
    ''
    $stored
    foreach ($v in $vals.PSObject.Properties) {
        if ($null -eq $name -or $v.Name -ieq $name) { Format-LabRegQueryLine -Name $v.Name -Value $v.Value }
    }
    ''
    if ($null -eq $name) { foreach ($sub in @(Get-LabRegSubKeyNames $stored)) { $sub } }
}

function Format-LabRegFileHex {
    <# regedit's hex list: bytes 'xx,' wrapped with '\' + CRLF + two spaces so lines stay within 80 columns. #>
    param([string]$Prefix, [byte[]]$Bytes)
    $sb = New-Object System.Text.StringBuilder
    [void]$sb.Append($Prefix)
    $col = $Prefix.Length
    for ($i = 0; $i -lt $Bytes.Length; $i++) {
        $piece = $Bytes[$i].ToString('x2')
        if ($i -lt $Bytes.Length - 1) { $piece += ',' }
        if ($col + $piece.Length -gt 77 -and $i -lt $Bytes.Length - 1) { [void]$sb.Append("\`r`n  "); $col = 2 }
        [void]$sb.Append($piece); $col += $piece.Length
    }
    return $sb.ToString()
}

function Format-LabRegFileValue {
    param([string]$Name, $Value)
    $lhs = '@'
    if ($Name -ne $script:LabRegDefaultName) { $lhs = '"' + ($Name -replace '\\', '\\' -replace '"', '\"') + '"' }
    $lhs += '='
    $u16 = [System.Text.Encoding]::Unicode
    switch ([string]$Value.kind) {
        'String' { return $lhs + '"' + (([string]$Value.data) -replace '\\', '\\' -replace '"', '\"') + '"' }
        'DWord' { return $lhs + 'dword:' + ([long]$Value.data).ToString('x8') }
        'QWord' { return Format-LabRegFileHex ($lhs + 'hex(b):') ([BitConverter]::GetBytes([uint64][decimal]$Value.data)) }
        'Binary' { return Format-LabRegFileHex ($lhs + 'hex:') ([byte[]]@($Value.data | ForEach-Object { [byte]$_ })) }
        'ExpandString' { return Format-LabRegFileHex ($lhs + 'hex(2):') ($u16.GetBytes([string]$Value.data + [char]0)) }
        'MultiString' { return Format-LabRegFileHex ($lhs + 'hex(7):') ($u16.GetBytes(((@($Value.data) | ForEach-Object { [string]$_ + [char]0 }) -join '') + [char]0)) }
    }
}

function Get-LabRegExportText {
    param([string]$KeyName)
    $lines = New-Object System.Collections.Generic.List[string]
    $lines.Add('Windows Registry Editor Version 5.00'); $lines.Add('')
    foreach ($k in @(@($KeyName) + @(Get-LabRegDescendantNames $KeyName | Sort-Object))) {
        $lines.Add("[$k]")
        foreach ($v in (Get-LabRegValueSet $k).PSObject.Properties) { $lines.Add((Format-LabRegFileValue -Name $v.Name -Value $v.Value)) }
        $lines.Add('')
    }
    return (($lines -join "`r`n") + "`r`n")
}

function Find-LabFileEntry {
    param([string]$Path)
    return (Get-LabState).files.Find($Path)
}

function Invoke-LabRegExport {
    param($Cmdlet, [string[]]$Rest)
    $key = $null
    if ($Rest.Count -ge 1) { $key = ConvertTo-LabRegNativeKey $Rest[0] }
    $file = $null
    if ($Rest.Count -ge 2) { $file = $Rest[1] }
    $overwrite = @($Rest | Where-Object { $_ -ieq '/y' }).Count -gt 0
    $stored = $null
    if ($null -ne $key) { $stored = Get-LabRegKeyName $key }
    if ($null -eq $stored -or -not $file) {
        $global:LASTEXITCODE = 1
        Write-LabRegNativeError $Cmdlet 'ERROR: The system was unable to find the specified registry key or value.'
        return
    }
    $entry = Find-LabFileEntry $file
    if ($null -ne $entry -and -not $overwrite) {
        # reg asks "File ... already exists. Overwrite (Yes/No)?" and reads no answer in a remote session.
        $global:LASTEXITCODE = 1
        Write-LabRegNativeError $Cmdlet 'ERROR: The operation was canceled by the user.'
        return
    }
    $bytes = [byte[]](@(0xFF, 0xFE) + [System.Text.Encoding]::Unicode.GetBytes((Get-LabRegExportText $stored)))
    $doc = [pscustomobject]@{ type = 'file'; sddl = 'O:BAG:SYD:(A;;FA;;;SY)(A;;FA;;;BA)'; content = [Convert]::ToBase64String($bytes); lastWriteTime = (Get-LabUtcNow).ToString('o') }
    $files = (Get-LabState).files
    if ($null -ne $entry) { $file = $entry.Name; $null = $files.Remove($entry.Name) }
    $null = $files.Add($file, $doc)
    Save-LabRegChange 'reg export' ([ordered]@{ key = $stored; file = $file })
    $global:LASTEXITCODE = 0
    'The operation completed successfully.'
}

function ConvertFrom-LabRegFileHexBytes {
    param([string]$Text)
    $t = ($Text -replace '[\s\\]', '')
    if ($t -eq '') { return , ([byte[]]@()) }
    return , ([byte[]]@($t -split ',' | Where-Object { $_ -ne '' } | ForEach-Object { [Convert]::ToByte($_, 16) }))
}

function ConvertFrom-LabRegFileValue {
    <# One .reg value's right-hand side -> @{ kind; data } for the state, or 'delete'. #>
    param([string]$Rhs)
    $u16 = [System.Text.Encoding]::Unicode
    if ($Rhs -eq '-') { return 'delete' }
    if ($Rhs -match '^"(?<s>.*)"$') { return @{ kind = 'String'; data = ($Matches['s'] -replace '\\"', '"' -replace '\\\\', '\') } }
    if ($Rhs -match '^dword:(?<h>[0-9a-fA-F]{1,8})$') { return @{ kind = 'DWord'; data = [long][Convert]::ToUInt32($Matches['h'], 16) } }
    if ($Rhs -match '^hex:(?<b>.*)$') { return @{ kind = 'Binary'; data = [int[]]@((ConvertFrom-LabRegFileHexBytes $Matches['b']) | ForEach-Object { [int]$_ }) } }
    if ($Rhs -match '^hex\((?<t>[0-9a-fA-F]+)\):(?<b>.*)$') {
        $bytes = ConvertFrom-LabRegFileHexBytes $Matches['b']
        switch ($Matches['t'].ToLowerInvariant()) {
            '2' { return @{ kind = 'ExpandString'; data = $u16.GetString($bytes).TrimEnd([char]0) } }
            '7' { return @{ kind = 'MultiString'; data = [string[]]@($u16.GetString($bytes).TrimEnd([char]0) -split [char]0 | Where-Object { $_ -ne '' }) } }
            'b' { return @{ kind = 'QWord'; data = [decimal][BitConverter]::ToUInt64(([byte[]]($bytes + (New-Object byte[] 8)))[0..7], 0) } }
            '4' { return @{ kind = 'DWord'; data = [long][BitConverter]::ToUInt32(([byte[]]($bytes + (New-Object byte[] 4)))[0..3], 0) } }
            '1' { return @{ kind = 'String'; data = $u16.GetString($bytes).TrimEnd([char]0) } }
            default { return @{ kind = 'Binary'; data = [int[]]@($bytes | ForEach-Object { [int]$_ }) } }
        }
    }
    throw "bad .reg value: $Rhs"
}

function Import-LabRegText {
    <# Merges a .reg document into the registry: keys created, listed values written, [-key] deleted. #>
    param([string]$Text)
    $logical = New-Object System.Collections.Generic.List[string]
    $acc = ''
    foreach ($raw in ($Text -split "`r?`n")) {
        $line = $raw
        if ($acc) { $line = $line.TrimStart() }
        if ($line.EndsWith('\') -and $line -notmatch '^\s*\[') { $acc += $line.Substring(0, $line.Length - 1); continue }
        $logical.Add($acc + $line); $acc = ''
    }
    $current = $null
    foreach ($line in $logical) {
        $l = $line.Trim()
        if ($l -eq '' -or $l.StartsWith(';') -or $l -like 'Windows Registry Editor*' -or $l -eq 'REGEDIT4') { continue }
        if ($l -match '^\[-(?<k>.+)\]$') { $n = Get-LabRegKeyName (ConvertTo-LabRegNativeKey $Matches['k']); if ($n) { Remove-LabRegKeyTree $n }; $current = $null; continue }
        if ($l -match '^\[(?<k>.+)\]$') { $current = Add-LabRegKey (ConvertTo-LabRegNativeKey $Matches['k']); continue }
        if ($null -eq $current) { continue }
        if ($l -match '^(@|"(?<n>(\\.|[^"\\])*)")=(?<v>.*)$') {
            $name = $script:LabRegDefaultName
            if ($l[0] -ne '@') { $name = $Matches['n'] -replace '\\"', '"' -replace '\\\\', '\' }
            $val = ConvertFrom-LabRegFileValue $Matches['v']
            $vals = Get-LabRegValueSet $current
            $old = $vals.PSObject.Properties[$name]
            if ($null -ne $old) { $name = $old.Name; $vals.PSObject.Properties.Remove($old.Name) }
            if ($val -ne 'delete') { $vals | Add-Member -NotePropertyName $name -NotePropertyValue ([pscustomobject]$val) }
        }
    }
}

function Invoke-LabRegImport {
    param($Cmdlet, [string[]]$Rest)
    $entry = $null
    if ($Rest.Count -ge 1) { $entry = Find-LabFileEntry $Rest[0] }
    if ($null -eq $entry -or $entry.Value.type -ne 'file') {
        $global:LASTEXITCODE = 1
        Write-LabRegNativeError $Cmdlet 'ERROR: Error opening the file. There may be a disk or file system error.'
        return
    }
    $bytes = [Convert]::FromBase64String([string]$entry.Value.content)
    if ($bytes.Length -ge 2 -and $bytes[0] -eq 0xFF -and $bytes[1] -eq 0xFE) { $text = [System.Text.Encoding]::Unicode.GetString($bytes, 2, $bytes.Length - 2) }
    else { $text = [System.Text.Encoding]::UTF8.GetString($bytes) }
    Import-LabRegText $text
    Save-LabRegChange 'reg import' ([ordered]@{ file = $entry.Name })
    $global:LASTEXITCODE = 0
    # reg import writes its success message to stderr (MicrosoftDocs/windowsserverdocs#2060).
    Write-LabRegNativeError $Cmdlet 'The operation completed successfully.'
}

function reg {
    [CmdletBinding()]
    param([Parameter(ValueFromRemainingArguments = $true)][string[]]$Arguments)
    Invoke-LabFaultPoint 'reg'
    Use-LabCallerPreference $PSCmdlet
    $all = @($Arguments)
    $op = ''
    if ($all.Count -gt 0) { $op = $all[0].ToLowerInvariant() }
    $rest = [string[]]@()
    if ($all.Count -gt 1) { $rest = [string[]]$all[1..($all.Count - 1)] }
    switch ($op) {
        'query' { Invoke-LabRegQuery $PSCmdlet $rest }
        'export' { Invoke-LabRegExport $PSCmdlet $rest }
        'import' { Invoke-LabRegImport $PSCmdlet $rest }
        default { throw "not implemented in the lab: reg $op" }
    }
}
