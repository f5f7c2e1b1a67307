# Lab file system: state.files behind the path shadows (10-paths.ps1 calls Invoke-LabFileSystemProvider),
# SDDL / ACLs in plain PowerShell (the .NET ACL APIs throw PlatformNotSupported on Linux), Get-Acl /
# Set-Acl objects, and the native tools icacls and takeown.
# Windows facts and sources: docs/windows-facts/machinekeys-certificates.md.

# ---------------------------------------------------------------------------------------------------
# SIDs and names

# SDDL SID aliases (learn.microsoft.com/windows/win32/secauthz/sid-strings).
$script:LabSidAliases = @{
    'SY' = 'S-1-5-18'; 'LS' = 'S-1-5-19'; 'NS' = 'S-1-5-20'; 'BA' = 'S-1-5-32-544'; 'BU' = 'S-1-5-32-545'
    'BG' = 'S-1-5-32-546'; 'PU' = 'S-1-5-32-547'; 'BO' = 'S-1-5-32-551'; 'RD' = 'S-1-5-32-555'
    'WD' = 'S-1-1-0'; 'AU' = 'S-1-5-11'; 'CO' = 'S-1-3-0'; 'CG' = 'S-1-3-1'; 'NU' = 'S-1-5-2'
    'IU' = 'S-1-5-4'; 'SU' = 'S-1-5-6'; 'AN' = 'S-1-5-7'; 'PS' = 'S-1-5-10'; 'AC' = 'S-1-15-2-1'
}

# English account names as Windows translates them (NTAccount / icacls). A host in another display language
# answers with its own names (Get-LabSidNames; src/lab/locales.json): never use this table directly.
$script:LabSidNamesEnglish = @{
    'S-1-5-18' = 'NT AUTHORITY\SYSTEM'; 'S-1-5-19' = 'NT AUTHORITY\LOCAL SERVICE'
    'S-1-5-20' = 'NT AUTHORITY\NETWORK SERVICE'; 'S-1-5-32-544' = 'BUILTIN\Administrators'
    'S-1-5-32-545' = 'BUILTIN\Users'; 'S-1-5-32-546' = 'BUILTIN\Guests'; 'S-1-5-32-547' = 'BUILTIN\Power Users'
    'S-1-5-32-551' = 'BUILTIN\Backup Operators'; 'S-1-5-32-555' = 'BUILTIN\Remote Desktop Users'
    'S-1-1-0' = 'Everyone'; 'S-1-5-11' = 'NT AUTHORITY\Authenticated Users'; 'S-1-3-0' = 'CREATOR OWNER'
    'S-1-3-1' = 'CREATOR GROUP'; 'S-1-5-2' = 'NT AUTHORITY\NETWORK'; 'S-1-5-4' = 'NT AUTHORITY\INTERACTIVE'
    'S-1-5-6' = 'NT AUTHORITY\SERVICE'; 'S-1-5-7' = 'NT AUTHORITY\ANONYMOUS LOGON'; 'S-1-5-10' = 'NT AUTHORITY\SELF'
    'S-1-15-2-1' = 'APPLICATION PACKAGE AUTHORITY\ALL APPLICATION PACKAGES'
    'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464' = 'NT SERVICE\TrustedInstaller'
}

$script:LabProfileListKey = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'

function Get-LabLocalAccounts {
    <# Local user accounts (SID -> 'COMPUTER\name') from the ProfileList keys base-host.ts seeds. #>
    $state = Get-LabState
    $map = @{}
    $prefix = $script:LabProfileListKey + '\'
    foreach ($p in $state.registry.GetEntries()) {
        if (-not $p.Name.StartsWith($prefix, [StringComparison]::OrdinalIgnoreCase)) { continue }
        $sid = $p.Name.Substring($prefix.Length) -replace '\.bak$', ''
        if ($sid -notmatch '^S-1-5-21-') { continue }
        $img = $p.Value.PSObject.Properties['ProfileImagePath']
        if ($null -eq $img) { continue }
        $leaf = ([string]$img.Value.data).Split('\')[-1]
        $dom = $state.computerName
        if ($state.domain) { $dom = ([string]$state.domain).Split('.')[0].ToUpperInvariant() }
        $map[$sid] = "$dom\$leaf"
    }
    return $map
}

function Get-LabSidNames {
    <# Well-known SID -> name in the host's display language. LookupAccountSid/LookupAccountName use the localized
       names only: on a fr-FR host 'SYSTEM' does not resolve (docs/windows-facts/locales.md). SIDs the language
       table does not list keep their English name, under the language's NT AUTHORITY / BUILTIN domain names. #>
    $accounts = (Get-LabLocale).accounts
    $ntDomain = ([string]$accounts.'S-1-5-18').Split('\')[0]
    $builtin = ([string]$accounts.'S-1-5-32-544').Split('\')[0]
    $names = @{}
    foreach ($sid in $script:LabSidNamesEnglish.Keys) {
        $n = $script:LabSidNamesEnglish[$sid]
        if ($n.StartsWith('NT AUTHORITY\')) { $n = $ntDomain + $n.Substring(12) }
        elseif ($n.StartsWith('BUILTIN\')) { $n = $builtin + $n.Substring(7) }
        $names[$sid] = $n
    }
    foreach ($p in $accounts.PSObject.Properties) { $names[$p.Name] = [string]$p.Value }
    return $names
}

function Get-LabSidName {
    param([string]$Sid)
    $names = Get-LabSidNames
    if ($names.ContainsKey($Sid)) { return $names[$Sid] }
    $local = Get-LabLocalAccounts
    if ($local.ContainsKey($Sid)) { return $local[$Sid] }
    return $null
}

function ConvertTo-LabSid {
    <# Account name, '*S-1-...', 'S-1-...' or SDDL alias -> SID string; $null when it does not map. The one place
       the lab turns names into SIDs (LookupAccountName): names are the host language's (Get-LabSidNames). #>
    param([string]$Name)
    if ([string]::IsNullOrEmpty($Name)) { return $null }
    $n = $Name.Trim()
    if ($n.StartsWith('*')) { $n = $n.Substring(1) }
    if ($n -match '^S-1-\d+(-\d+)*$') { return $n.ToUpperInvariant() }
    if ($n.Length -eq 2 -and $script:LabSidAliases.ContainsKey($n.ToUpperInvariant()) -and $n -ceq $n.ToUpperInvariant()) { return $script:LabSidAliases[$n.ToUpperInvariant()] }
    $all = Get-LabSidNames
    $local = Get-LabLocalAccounts
    foreach ($k in $local.Keys) { $all[$k] = $local[$k] }
    foreach ($sid in $all.Keys) {
        $full = $all[$sid]
        $short = $full.Split('\')[-1]
        if ($n -ieq $full -or $n -ieq $short) { return $sid }
    }
    # Bare-name lookups Windows also resolves (LookupAccountName): '.\name', 'COMPUTER\name'.
    if ($n -match '^(\.|[^\\]+)\\(.+)$') {
        foreach ($sid in $local.Keys) { if ($local[$sid].Split('\')[-1] -ieq $Matches[2]) { return $sid } }
    }
    return $null
}

function Get-LabCallerSid {
    <# The remoting caller: the built-in Administrator account (RID 500) of the lab host. #>
    foreach ($sid in (Get-LabLocalAccounts).Keys) { if ($sid -match '-500$') { return $sid } }
    return 'S-1-5-21-0-0-0-500'
}

function Get-LabCallerSids {
    <# Groups in an elevated network-logon admin token (remoting): user, Administrators, Everyone,
       Authenticated Users, NETWORK, Users. #>
    return @((Get-LabCallerSid), 'S-1-5-32-544', 'S-1-1-0', 'S-1-5-11', 'S-1-5-2', 'S-1-5-32-545')
}

# ---------------------------------------------------------------------------------------------------
# SDDL (learn.microsoft.com/windows/win32/secauthz/security-descriptor-string-format, ace-strings)

$script:LabRightCodes = [ordered]@{
    'FA' = 0x1F01FF; 'FR' = 0x120089; 'FW' = 0x120116; 'FX' = 0x1200A0
    'KA' = 0xF003F; 'KR' = 0x20019; 'KW' = 0x20006; 'KX' = 0x20019
    'GA' = 0x10000000; 'GX' = 0x20000000; 'GW' = 0x40000000; 'GR' = [long]0x80000000
    'RC' = 0x20000; 'SD' = 0x10000; 'WD' = 0x40000; 'WO' = 0x80000
    'CC' = 0x1; 'DC' = 0x2; 'LC' = 0x4; 'SW' = 0x8; 'RP' = 0x10; 'WP' = 0x20; 'DT' = 0x40; 'LO' = 0x80; 'CR' = 0x100
}
# Single-bit codes in ascending bit order: Windows writes decomposable masks this way
# ('CCDCLCSWRPWPDTLOCRSDRCWDWO', 'GXGR').
$script:LabRightBits = @('CC', 'DC', 'LC', 'SW', 'RP', 'WP', 'DT', 'LO', 'CR', 'SD', 'RC', 'WD', 'WO', 'GA', 'GX', 'GW', 'GR')

function ConvertFrom-LabRights {
    param([string]$Text)
    if ($Text -match '^0[xX]([0-9a-fA-F]+)$') { return [Convert]::ToInt64($Matches[1], 16) }
    if ($Text -match '^\d+$') { return [long]$Text }
    [long]$m = 0
    for ($i = 0; $i -lt $Text.Length; $i += 2) {
        $code = $Text.Substring($i, [Math]::Min(2, $Text.Length - $i)).ToUpperInvariant()
        if (-not $script:LabRightCodes.Contains($code)) { throw "Invalid SDDL rights '$Text'." }
        $m = $m -bor [long]$script:LabRightCodes[$code]
    }
    return $m
}

function ConvertTo-LabRightsText {
    param([long]$Mask)
    foreach ($c in @('FA', 'FR', 'FW', 'FX', 'KA', 'KR', 'KW')) { if ([long]$script:LabRightCodes[$c] -eq $Mask) { return $c } }
    [long]$rest = $Mask
    $out = ''
    foreach ($c in $script:LabRightBits) {
        $b = [long]$script:LabRightCodes[$c]
        if (($rest -band $b) -eq $b) { $out += $c; $rest = $rest -band (-bnot $b) }
    }
    if ($rest -eq 0 -and $out) { return $out }
    return ('0x{0:x}' -f $Mask)
}

function ConvertTo-LabSidText {
    param([string]$Sid)
    foreach ($a in $script:LabSidAliases.Keys) { if ($script:LabSidAliases[$a] -eq $Sid) { return $a } }
    return $Sid
}

function New-LabAce {
    param([string]$Type = 'A', [string[]]$Flags = @(), [long]$Mask, [string]$Sid)
    return @{ Type = $Type; Flags = @($Flags | Where-Object { $_ }); Mask = $Mask; Sid = $Sid }
}

function ConvertFrom-LabSddl {
    <# SDDL -> @{ Owner; Group; HasDacl; Protected; AutoInherited; Aces = List } (DACL only; SACL dropped). #>
    param([string]$Sddl)
    $sd = @{ Owner = $null; Group = $null; HasDacl = $false; Protected = $false; AutoInherited = $false; Aces = (New-Object System.Collections.ArrayList) }
    if ([string]::IsNullOrEmpty($Sddl)) { return $sd }
    $sidRx = '(S-1-[0-9-]+|[A-Z]{2})'
    if ($Sddl -match "O:$sidRx") { $sd.Owner = ConvertTo-LabSid $Matches[1] }
    if ($Sddl -match "G:$sidRx") { $sd.Group = ConvertTo-LabSid $Matches[1] }
    if ($Sddl -match 'D:(?<flags>[A-Z_]*)(?<aces>(\([^)]*\))*)') {
        $sd.HasDacl = $true
        $flags = $Matches['flags']
        $acesText = $Matches['aces']
        if ($flags -eq 'NO_ACCESS_CONTROL') { $sd.HasDacl = $false }
        $sd.Protected = $flags.Contains('P')
        $sd.AutoInherited = $flags.Contains('AI')
        foreach ($m in [regex]::Matches($acesText, '\(([^)]*)\)')) {
            $parts = $m.Groups[1].Value.Split(';')
            if ($parts.Count -lt 6) { throw "Invalid ACE '$($m.Value)'." }
            $fl = @()
            for ($i = 0; $i -lt $parts[1].Length; $i += 2) { $fl += $parts[1].Substring($i, 2).ToUpperInvariant() }
            [void]$sd.Aces.Add((New-LabAce -Type $parts[0].ToUpperInvariant() -Flags $fl -Mask (ConvertFrom-LabRights $parts[2]) -Sid (ConvertTo-LabSid $parts[5])))
        }
    }
    return $sd
}

function ConvertTo-LabDaclText {
    param($Sd)
    if (-not $Sd.HasDacl) { return 'D:NO_ACCESS_CONTROL' }
    $t = 'D:'
    if ($Sd.Protected) { $t += 'P' }
    if ($Sd.AutoInherited) { $t += 'AI' }
    foreach ($a in $Sd.Aces) {
        $order = @('OI', 'CI', 'NP', 'IO', 'ID')
        $fl = ($order | Where-Object { $a.Flags -contains $_ }) -join ''
        $t += '({0};{1};{2};;;{3})' -f $a.Type, $fl, (ConvertTo-LabRightsText $a.Mask), (ConvertTo-LabSidText $a.Sid)
    }
    return $t
}

function ConvertTo-LabSddl {
    param($Sd, [string[]]$Sections = @('Owner', 'Group', 'Access'))
    $t = ''
    if ($Sections -contains 'Owner' -and $Sd.Owner) { $t += 'O:' + (ConvertTo-LabSidText $Sd.Owner) }
    if ($Sections -contains 'Group' -and $Sd.Group) { $t += 'G:' + (ConvertTo-LabSidText $Sd.Group) }
    if ($Sections -contains 'Access') { $t += ConvertTo-LabDaclText $Sd }
    return $t
}

function Get-LabMappedMask {
    <# Generic rights mapped to file rights (FILE_GENERIC_* / FILE_ALL_ACCESS). #>
    param([long]$Mask)
    [long]$m = $Mask -band 0x0FFFFFFF
    if ($Mask -band 0x10000000) { $m = $m -bor 0x1F01FF }
    if ($Mask -band 0x20000000) { $m = $m -bor 0x1200A0 }
    if ($Mask -band 0x40000000) { $m = $m -bor 0x120116 }
    if ($Mask -band [long]0x80000000) { $m = $m -bor 0x120089 }
    return $m
}

function Get-LabEffectiveAccess {
    <# Rights a token with these SIDs gets (canonical DACL walk; owner implicitly gets READ_CONTROL|WRITE_DAC). #>
    param($Sd, [string[]]$Sids)
    if (-not $Sd.HasDacl) { return [long]0x1F01FF }
    [long]$granted = 0
    [long]$denied = 0
    foreach ($a in $Sd.Aces) {
        if ($a.Flags -contains 'IO') { continue }
        if ($Sids -notcontains $a.Sid) { continue }
        $m = Get-LabMappedMask $a.Mask
        if ($a.Type -eq 'D') { $denied = $denied -bor ($m -band (-bnot $granted)) }
        else { $granted = $granted -bor ($m -band (-bnot $denied)) }
    }
    if ($Sd.Owner -and $Sids -contains $Sd.Owner) { $granted = $granted -bor (0x60000 -band (-bnot $denied)) -bor 0x60000 }
    return $granted
}

function Get-LabServiceSids {
    <# Token groups of the accounts the RD key checks use [INFERENCE: standard service tokens]. #>
    param([ValidateSet('SYSTEM', 'NETWORK SERVICE')][string]$Account)
    if ($Account -eq 'SYSTEM') { return @('S-1-5-18', 'S-1-5-32-544', 'S-1-1-0', 'S-1-5-11') }
    return @('S-1-5-20', 'S-1-1-0', 'S-1-5-11', 'S-1-5-6', 'S-1-5-32-545')
}

# ---------------------------------------------------------------------------------------------------
# The store: state.files (keys are Windows paths, case-insensitive; parent directories may be implied)

$script:LabImpliedDirSddl = 'O:SYG:SYD:(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)'
$script:LabDefaultTime = '2021-05-08T08:00:00.0000000Z'

function ConvertTo-LabFsPath {
    <# 'C:/x/', 'FileSystem::C:\x', 'c:' -> 'C:\x' / 'C:\'. #>
    param([string]$Path)
    $p = $Path -replace '^(Microsoft\.PowerShell\.Core\\)?FileSystem::', ''
    $p = $p.Replace('/', '\')
    while ($p.Contains('\\')) { $p = $p.Replace('\\', '\') }
    if ($p -match '^[A-Za-z]:$') { $p += '\' }
    if ($p.Length -gt 3) { $p = $p.TrimEnd('\') }
    if ($p -match '^[a-z]:') { $p = $p.Substring(0, 1).ToUpperInvariant() + $p.Substring(1) }
    return $p
}

function Get-LabFsParent {
    param([string]$Path)
    if ($Path -match '^[A-Z]:\\$') { return $null }
    $i = $Path.LastIndexOf('\')
    $parent = $Path.Substring(0, $i)
    if ($parent -match '^[A-Z]:$') { $parent += '\' }
    return $parent
}

function Get-LabFsLeaf {
    param([string]$Path)
    if ($Path -match '^[A-Z]:\\$') { return $Path }
    return $Path.Substring($Path.LastIndexOf('\') + 1)
}

function Join-LabFsPath {
    param([string]$Parent, [string]$Child)
    if ($Parent.EndsWith('\')) { return $Parent + $Child }
    return $Parent + '\' + $Child
}

function Get-LabFsItem {
    <# The item at Path: @{ Path (stored case); Type; Entry ($null when implied) } or $null. #>
    param([string]$Path)
    $files = (Get-LabState).files
    $p = ConvertTo-LabFsPath $Path
    $prop = $files.Find($p)
    if ($null -ne $prop) { return @{ Path = $prop.Name; Type = [string]$prop.Value.type; Entry = $prop.Value } }
    if ($p -match '^[A-Z]:\\$') { return @{ Path = $p; Type = 'directory'; Entry = $null } }
    $prefix = $p + '\'
    foreach ($q in $files.GetEntries()) {
        if ($q.Name.StartsWith($prefix, [StringComparison]::OrdinalIgnoreCase)) {
            return @{ Path = $q.Name.Substring(0, $p.Length); Type = 'directory'; Entry = $null }
        }
    }
    return $null
}

function Get-LabFsChildItems {
    <# Immediate children (explicit and implied), directories first, each sorted by name as NTFS returns them. #>
    param([string]$Path)
    $files = (Get-LabState).files
    $prefix = $Path
    if (-not $prefix.EndsWith('\')) { $prefix += '\' }
    $seen = @{}
    $items = New-Object System.Collections.ArrayList
    foreach ($q in $files.GetEntries()) {
        if (-not $q.Name.StartsWith($prefix, [StringComparison]::OrdinalIgnoreCase)) { continue }
        $rest = $q.Name.Substring($prefix.Length)
        if ($rest.Length -eq 0) { continue }
        $name = $rest.Split('\')[0]
        if ($seen.ContainsKey($name.ToLowerInvariant())) { continue }
        $seen[$name.ToLowerInvariant()] = $true
        [void]$items.Add((Get-LabFsItem ($prefix + $name)))
    }
    $dirs = @($items | Where-Object { $_.Type -eq 'directory' } | Sort-Object { $_.Path.ToLowerInvariant() })
    $fls = @($items | Where-Object { $_.Type -ne 'directory' } | Sort-Object { $_.Path.ToLowerInvariant() })
    return @($dirs + $fls)
}

function Get-LabFsDescendants {
    <# Depth-first: each directory's children, then the children's subtrees. #>
    param([string]$Path)
    $out = New-Object System.Collections.ArrayList
    foreach ($c in (Get-LabFsChildItems $Path)) {
        [void]$out.Add($c)
        if ($c.Type -eq 'directory') { foreach ($d in (Get-LabFsDescendants $c.Path)) { [void]$out.Add($d) } }
    }
    return @($out)
}

function Get-LabFsSd {
    param($Item)
    if ($null -ne $Item.Entry -and $Item.Entry.PSObject.Properties['sddl'] -and $Item.Entry.sddl) { return ConvertFrom-LabSddl ([string]$Item.Entry.sddl) }
    return ConvertFrom-LabSddl $script:LabImpliedDirSddl
}

function Set-LabFsEntry {
    param([string]$Path, $Entry)
    $files = (Get-LabState).files
    $null = $files.Remove($Path)
    $null = $files.Add($Path, $Entry)
}

function Set-LabFsSd {
    <# Writes an SD back; an implied directory becomes an explicit entry. #>
    param($Item, $Sd)
    $sddl = ConvertTo-LabSddl $Sd
    if ($null -eq $Item.Entry) {
        $Item.Entry = [pscustomobject]@{ type = 'directory'; sddl = $sddl }
        Set-LabFsEntry $Item.Path $Item.Entry
    } else { $Item.Entry.sddl = $sddl }
}

function Get-LabFsInheritedSd {
    <# SD of a new child of Parent: inheritable ACEs of the parent, marked ID; token default DACL when none.
       Owner BUILTIN\Administrators (elevated admin token). Simplified Windows inheritance [INFERENCE]. #>
    param($ParentItem, [bool]$IsDirectory)
    $psd = Get-LabFsSd $ParentItem
    $sd = @{ Owner = 'S-1-5-32-544'; Group = 'S-1-5-18'; HasDacl = $true; Protected = $false; AutoInherited = $true; Aces = (New-Object System.Collections.ArrayList) }
    foreach ($a in (Get-LabFsInheritableAces $psd $IsDirectory)) { [void]$sd.Aces.Add($a) }
    if ($sd.Aces.Count -eq 0) {
        $sd.AutoInherited = $false
        [void]$sd.Aces.Add((New-LabAce -Mask 0x1F01FF -Sid 'S-1-5-32-544'))
        [void]$sd.Aces.Add((New-LabAce -Mask 0x1F01FF -Sid 'S-1-5-18'))
    }
    return $sd
}

function Get-LabFsInheritableAces {
    param($ParentSd, [bool]$IsDirectory)
    $out = @()
    if (-not $ParentSd.HasDacl) { return $out }
    foreach ($a in $ParentSd.Aces) {
        $oi = $a.Flags -contains 'OI'; $ci = $a.Flags -contains 'CI'; $np = $a.Flags -contains 'NP'
        $sid = $a.Sid
        if ($sid -eq 'S-1-3-0') { $sid = 'S-1-5-32-544' }
        if (-not $IsDirectory) {
            if ($oi) { $out += New-LabAce -Type $a.Type -Flags @('ID') -Mask $a.Mask -Sid $sid }
        } elseif ($ci -and -not $np) {
            $out += New-LabAce -Type $a.Type -Flags (@($a.Flags | Where-Object { $_ -in 'OI', 'CI' }) + 'ID') -Mask $a.Mask -Sid $a.Sid
        } elseif ($ci) {
            $out += New-LabAce -Type $a.Type -Flags @('ID') -Mask $a.Mask -Sid $sid
        } elseif ($oi -and -not $np) {
            $out += New-LabAce -Type $a.Type -Flags @('OI', 'IO', 'ID') -Mask $a.Mask -Sid $a.Sid
        }
    }
    return $out
}

function Test-LabFsAccess {
    <# Whether the remoting caller (elevated Administrator) gets Mask on the item. #>
    param($Item, [long]$Mask)
    $granted = Get-LabEffectiveAccess (Get-LabFsSd $Item) (Get-LabCallerSids)
    return (($granted -band $Mask) -eq $Mask)
}

function Test-LabFsCanDelete {
    <# DELETE on the item or FILE_DELETE_CHILD on its parent. #>
    param($Item)
    if (Test-LabFsAccess $Item 0x10000) { return $true }
    $parent = Get-LabFsItem (Get-LabFsParent $Item.Path)
    return ($null -ne $parent -and (Test-LabFsAccess $parent 0x40))
}

# ---------------------------------------------------------------------------------------------------
# Output objects

function ConvertTo-LabLocalTime {
    param([string]$Iso)
    if ([string]::IsNullOrEmpty($Iso)) { $Iso = $script:LabDefaultTime }
    return [DateTime]::Parse($Iso, [Globalization.CultureInfo]::InvariantCulture, [Globalization.DateTimeStyles]::RoundtripKind).ToLocalTime()
}

function Get-LabFsBytes {
    param($Entry)
    if ($null -eq $Entry -or -not $Entry.PSObject.Properties['content'] -or $null -eq $Entry.content) { return ,([byte[]]@()) }
    return ,([Convert]::FromBase64String([string]$Entry.content))
}

function New-LabFsDirRef {
    param([string]$Path)
    $o = [pscustomobject]@{ Name = (Get-LabFsLeaf $Path); FullName = $Path; Exists = $true }
    $o.PSObject.TypeNames.Insert(0, 'System.IO.DirectoryInfo')
    return $o
}

function New-LabFsItemObject {
    <# FileInfo / DirectoryInfo-shaped object with the provider's PS* note properties. #>
    param($Item)
    $isDir = $Item.Type -eq 'directory'
    $full = $Item.Path
    $name = Get-LabFsLeaf $full
    $parent = Get-LabFsParent $full
    $lw = $null
    if ($null -ne $Item.Entry -and $Item.Entry.PSObject.Properties['lastWriteTime']) { $lw = [string]$Item.Entry.lastWriteTime }
    $t = ConvertTo-LabLocalTime $lw
    $ext = ''
    if ($name.LastIndexOf('.') -gt 0) { $ext = $name.Substring($name.LastIndexOf('.')) }
    $o = [ordered]@{
        PSPath = 'Microsoft.PowerShell.Core\FileSystem::' + $full
        PSParentPath = ''
        PSChildName = $name
        PSDrive = $full.Substring(0, 1)
        PSProvider = 'Microsoft.PowerShell.Core\FileSystem'
        PSIsContainer = $isDir
        Mode = '-a----'
        BaseName = $name
        Name = $name
        FullName = $full
        Extension = $ext
        Exists = $true
        CreationTime = $t
        LastWriteTime = $t
        LastWriteTimeUtc = $t.ToUniversalTime()
        LastAccessTime = $t
        Attributes = [System.IO.FileAttributes]::Archive
    }
    if ($null -ne $parent) { $o.PSParentPath = 'Microsoft.PowerShell.Core\FileSystem::' + $parent }
    if ($isDir) {
        $o.Mode = 'd-----'
        $o.Attributes = [System.IO.FileAttributes]::Directory
        if ($null -ne $Item.Entry -and $Item.Entry.PSObject.Properties['reparseTarget'] -and $Item.Entry.reparseTarget) {
            # A junction (mount point), as Get-Item shows one. Paths beneath it are not redirected to its target.
            $o.Mode = 'd----l'
            $o.Attributes = [System.IO.FileAttributes]::Directory -bor [System.IO.FileAttributes]::ReparsePoint
            $o.LinkType = 'Junction'
            $o.Target = @([string]$Item.Entry.reparseTarget)
        }
        $o.Parent = $null
        if ($null -ne $parent) { $o.Parent = New-LabFsDirRef $parent }
        $o.Root = New-LabFsDirRef ($full.Substring(0, 3))
    } else {
        if ($ext) { $o.BaseName = $name.Substring(0, $name.Length - $ext.Length) }
        $o.Length = [long](Get-LabFsBytes $Item.Entry).Length
        $o.DirectoryName = $parent
        $o.Directory = New-LabFsDirRef $parent
        $o.IsReadOnly = $false
    }
    $obj = [pscustomobject]$o
    $tn = 'System.IO.FileInfo'
    if ($isDir) { $tn = 'System.IO.DirectoryInfo' }
    $obj.PSObject.TypeNames.Insert(0, 'System.IO.FileSystemInfo')
    $obj.PSObject.TypeNames.Insert(0, $tn)
    $obj | Add-Member -MemberType ScriptMethod -Name GetAccessControl -Value { param($Sections) New-LabAclObject -Path $this.FullName }
    $obj | Add-Member -MemberType ScriptMethod -Name ToString -Value { $this.FullName } -Force
    return $obj
}

function ConvertTo-LabInt32 {
    <# An access mask (0..0xFFFFFFFF) as the Int32 .NET enums hold it. #>
    param([long]$Mask)
    return [BitConverter]::ToInt32([BitConverter]::GetBytes($Mask), 0)
}

function New-LabIdentityReference {
    param([string]$Sid)
    $name = Get-LabSidName $Sid
    $tn = 'System.Security.Principal.NTAccount'
    if ($null -eq $name) { $name = $Sid; $tn = 'System.Security.Principal.SecurityIdentifier' }
    $o = [pscustomobject]@{ Value = $name }
    $o.PSObject.TypeNames.Insert(0, 'System.Security.Principal.IdentityReference')
    $o.PSObject.TypeNames.Insert(0, $tn)
    $o | Add-Member -MemberType ScriptMethod -Name ToString -Value { $this.Value } -Force
    return $o
}

function New-LabAccessRule {
    <# FileSystemAccessRule-shaped view of one ACE. #>
    param($Ace)
    $inh = 0; $prop = 0
    if ($Ace.Flags -contains 'CI') { $inh = $inh -bor 1 }
    if ($Ace.Flags -contains 'OI') { $inh = $inh -bor 2 }
    if ($Ace.Flags -contains 'NP') { $prop = $prop -bor 1 }
    if ($Ace.Flags -contains 'IO') { $prop = $prop -bor 2 }
    $type = [System.Security.AccessControl.AccessControlType]::Allow
    if ($Ace.Type -eq 'D') { $type = [System.Security.AccessControl.AccessControlType]::Deny }
    $o = [pscustomobject]@{
        FileSystemRights  = [Enum]::ToObject([System.Security.AccessControl.FileSystemRights], (ConvertTo-LabInt32 $Ace.Mask))
        AccessControlType = $type
        IdentityReference = New-LabIdentityReference $Ace.Sid
        IsInherited       = ($Ace.Flags -contains 'ID')
        InheritanceFlags  = [System.Security.AccessControl.InheritanceFlags]$inh
        PropagationFlags  = [System.Security.AccessControl.PropagationFlags]$prop
    }
    $o.PSObject.TypeNames.Insert(0, 'System.Security.AccessControl.AccessRule')
    $o.PSObject.TypeNames.Insert(0, 'System.Security.AccessControl.FileSystemAccessRule')
    return $o
}

function Get-LabRuleSid {
    <# SID from a rule's IdentityReference / an identity given as string or object with .Value. #>
    param($Identity)
    $v = $Identity
    if ($null -ne $Identity -and $Identity.PSObject.Properties['Value']) { $v = $Identity.Value }
    $sid = ConvertTo-LabSid ([string]$v)
    if ($null -eq $sid) {
        $ex = New-Object System.Security.Principal.IdentityNotMappedException('Some or all identity references could not be translated.')
        throw $ex
    }
    return $sid
}

function ConvertFrom-LabAccessRule {
    <# A FileSystemAccessRule-shaped object (lab rule or any object with the same properties) -> ACE. #>
    param($Rule)
    $rights = $Rule.FileSystemRights
    [long]$mask = 0
    if ($rights -is [string]) { $mask = [long][int][System.Security.AccessControl.FileSystemRights]$rights }
    else { $mask = [long][int]$rights }
    if ($mask -lt 0) { $mask += 4294967296 }
    $inh = [int]$Rule.InheritanceFlags; $prop = [int]$Rule.PropagationFlags
    $fl = @()
    if ($inh -band 2) { $fl += 'OI' }
    if ($inh -band 1) { $fl += 'CI' }
    if ($prop -band 1) { $fl += 'NP' }
    if ($prop -band 2) { $fl += 'IO' }
    $type = 'A'
    if ([string]$Rule.AccessControlType -eq 'Deny') { $type = 'D' }
    return New-LabAce -Type $type -Flags $fl -Mask $mask -Sid (Get-LabRuleSid $Rule.IdentityReference)
}

function Get-LabAclSections {
    param($Sections)
    if ($null -eq $Sections) { return @('Owner', 'Group', 'Access') }
    $t = [string]$Sections
    if ($t -match 'All') { return @('Owner', 'Group', 'Access') }
    $out = @()
    foreach ($s in @('Owner', 'Group', 'Access')) { if ($t -match $s) { $out += $s } }
    return $out
}

function Add-LabAclMethods {
    <# The ObjectSecurity methods scripts use on Get-Acl output; they edit the object's Sddl. #>
    param($Acl)
    $Acl | Add-Member -MemberType ScriptMethod -Name GetSecurityDescriptorSddlForm -Value {
        param($Sections) ConvertTo-LabSddl (ConvertFrom-LabSddl $this.Sddl) (Get-LabAclSections $Sections)
    }
    $Acl | Add-Member -MemberType ScriptMethod -Name SetSecurityDescriptorSddlForm -Value {
        param([string]$SddlForm, $Sections)
        $cur = ConvertFrom-LabSddl $this.Sddl
        $new = ConvertFrom-LabSddl $SddlForm
        $secs = Get-LabAclSections $Sections
        if ($secs -contains 'Owner' -and $new.Owner) { $cur.Owner = $new.Owner }
        if ($secs -contains 'Group' -and $new.Group) { $cur.Group = $new.Group }
        if ($secs -contains 'Access' -and $SddlForm -match 'D:') { $cur.HasDacl = $new.HasDacl; $cur.Protected = $new.Protected; $cur.AutoInherited = $new.AutoInherited; $cur.Aces = $new.Aces }
        $this.Sddl = ConvertTo-LabSddl $cur
    }
    $Acl | Add-Member -MemberType ScriptMethod -Name SetOwner -Value {
        param($Identity)
        $sd = ConvertFrom-LabSddl $this.Sddl; $sd.Owner = Get-LabRuleSid $Identity; $this.Sddl = ConvertTo-LabSddl $sd
    }
    $Acl | Add-Member -MemberType ScriptMethod -Name GetOwner -Value { param($TargetType) $sd = ConvertFrom-LabSddl $this.Sddl; New-LabIdentityReference $sd.Owner }
    $Acl | Add-Member -MemberType ScriptMethod -Name GetGroup -Value { param($TargetType) $sd = ConvertFrom-LabSddl $this.Sddl; New-LabIdentityReference $sd.Group }
    $Acl | Add-Member -MemberType ScriptMethod -Name SetAccessRuleProtection -Value {
        param([bool]$IsProtected, [bool]$PreserveInheritance)
        $sd = ConvertFrom-LabSddl $this.Sddl
        $sd.Protected = $IsProtected
        if ($IsProtected) {
            $kept = New-Object System.Collections.ArrayList
            foreach ($a in $sd.Aces) {
                if ($a.Flags -notcontains 'ID') { [void]$kept.Add($a) }
                elseif ($PreserveInheritance) { $a.Flags = @($a.Flags | Where-Object { $_ -ne 'ID' }); [void]$kept.Add($a) }
            }
            $sd.Aces = $kept
        }
        $this.Sddl = ConvertTo-LabSddl $sd
    }
    $Acl | Add-Member -MemberType ScriptMethod -Name AddAccessRule -Value { param($Rule) $this.Sddl = Edit-LabSddlRule $this.Sddl $Rule 'Add' }
    $Acl | Add-Member -MemberType ScriptMethod -Name SetAccessRule -Value { param($Rule) $this.Sddl = Edit-LabSddlRule $this.Sddl $Rule 'Set' }
    $Acl | Add-Member -MemberType ScriptMethod -Name RemoveAccessRuleAll -Value { param($Rule) $this.Sddl = Edit-LabSddlRule $this.Sddl $Rule 'RemoveAll' }
    $Acl | Add-Member -MemberType ScriptMethod -Name PurgeAccessRules -Value {
        param($Identity)
        $sid = Get-LabRuleSid $Identity
        $sd = ConvertFrom-LabSddl $this.Sddl
        $sd.Aces = New-Object System.Collections.ArrayList (, @($sd.Aces | Where-Object { $_.Sid -ne $sid -or $_.Flags -contains 'ID' }))
        $this.Sddl = ConvertTo-LabSddl $sd
    }
    $Acl | Add-Member -MemberType ScriptMethod -Name GetAccessRules -Value {
        param([bool]$IncludeExplicit, [bool]$IncludeInherited, $TargetType)
        @($this.Access | Where-Object { ($_.IsInherited -and $IncludeInherited) -or (-not $_.IsInherited -and $IncludeExplicit) })
    }
}

function Edit-LabSddlRule {
    <# AddAccessRule merges into an explicit ACE of the same SID/type/flags; SetAccessRule replaces the
       SID's explicit ACEs of that type; RemoveAccessRuleAll drops them (.NET CommonObjectSecurity semantics). #>
    param([string]$Sddl, $Rule, [string]$Mode)
    $ace = ConvertFrom-LabAccessRule $Rule
    $sd = ConvertFrom-LabSddl $Sddl
    $explicitSame = { param($a) $a.Sid -eq $ace.Sid -and $a.Type -eq $ace.Type -and $a.Flags -notcontains 'ID' }
    if ($Mode -ne 'Add') {
        $sd.Aces = New-Object System.Collections.ArrayList (, @($sd.Aces | Where-Object { -not (& $explicitSame $_) }))
        if ($Mode -eq 'RemoveAll') { return ConvertTo-LabSddl $sd }
    }
    $key = ($ace.Flags | Sort-Object) -join ''
    foreach ($a in $sd.Aces) {
        if ((& $explicitSame $a) -and (($a.Flags | Sort-Object) -join '') -eq $key) { $a.Mask = $a.Mask -bor $ace.Mask; return ConvertTo-LabSddl $sd }
    }
    Add-LabCanonicalAce $sd $ace
    return ConvertTo-LabSddl $sd
}

function Add-LabCanonicalAce {
    <# Canonical order: explicit deny, explicit allow, inherited. #>
    param($Sd, $Ace)
    $i = 0
    foreach ($a in $Sd.Aces) {
        if ($a.Flags -contains 'ID') { break }
        if ($Ace.Type -eq 'D' -and $a.Type -ne 'D') { break }
        $i++
    }
    $Sd.Aces.Insert($i, $Ace)
}

function New-LabAclObject {
    <# FileSecurity / DirectorySecurity-shaped Get-Acl output for a lab path. #>
    param([string]$Path)
    $item = Get-LabFsItem $Path
    $isDir = $item.Type -eq 'directory'
    $sd = Get-LabFsSd $item
    $parent = Get-LabFsParent $item.Path
    $o = [pscustomobject]@{
        PSPath = 'Microsoft.PowerShell.Core\FileSystem::' + $item.Path
        PSParentPath = ''
        PSChildName = Get-LabFsLeaf $item.Path
        PSDrive = $item.Path.Substring(0, 1)
        PSProvider = 'Microsoft.PowerShell.Core\FileSystem'
        Sddl = ConvertTo-LabSddl $sd
    }
    if ($null -ne $parent) { $o.PSParentPath = 'Microsoft.PowerShell.Core\FileSystem::' + $parent }
    $tn = 'System.Security.AccessControl.FileSecurity'
    if ($isDir) { $tn = 'System.Security.AccessControl.DirectorySecurity' }
    foreach ($t in @('System.Security.AccessControl.ObjectSecurity', 'System.Security.AccessControl.CommonObjectSecurity', 'System.Security.AccessControl.NativeObjectSecurity', 'System.Security.AccessControl.FileSystemSecurity', $tn)) {
        $o.PSObject.TypeNames.Insert(0, $t)
    }
    $o | Add-Member -MemberType ScriptProperty -Name Path -Value { $this.PSPath }
    $o | Add-Member -MemberType ScriptProperty -Name Owner -Value { $sd = ConvertFrom-LabSddl $this.Sddl; Get-LabAccountText $sd.Owner }
    $o | Add-Member -MemberType ScriptProperty -Name Group -Value { $sd = ConvertFrom-LabSddl $this.Sddl; Get-LabAccountText $sd.Group }
    $o | Add-Member -MemberType ScriptProperty -Name Access -Value { $sd = ConvertFrom-LabSddl $this.Sddl; , @($sd.Aces | ForEach-Object { New-LabAccessRule $_ }) }
    $o | Add-Member -MemberType ScriptProperty -Name AccessToString -Value {
        (@($this.Access | ForEach-Object { $_.IdentityReference.ToString() + ' ' + $_.AccessControlType.ToString() + '  ' + $_.FileSystemRights.ToString() }) -join "`n")
    }
    $o | Add-Member -MemberType ScriptProperty -Name AuditToString -Value { '' }
    $o | Add-Member -MemberType ScriptProperty -Name AreAccessRulesProtected -Value { (ConvertFrom-LabSddl $this.Sddl).Protected }
    $o | Add-Member -MemberType ScriptProperty -Name AreAuditRulesProtected -Value { $false }
    $o | Add-Member -MemberType ScriptProperty -Name AreAccessRulesCanonical -Value { $true }
    $o | Add-Member -MemberType NoteProperty -Name AccessRightType -Value ([System.Security.AccessControl.FileSystemRights])
    $o | Add-Member -MemberType NoteProperty -Name AccessRuleType -Value 'System.Security.AccessControl.FileSystemAccessRule'
    Add-LabAclMethods $o
    return $o
}

function Get-LabAccountText {
    <# Owner / Group text as Get-Acl prints it: the account name, or the SID string when it does not translate. #>
    param([string]$Sid)
    if (-not $Sid) { return $null }
    $n = Get-LabSidName $Sid
    if ($null -eq $n) { return $Sid }
    return $n
}

# ---------------------------------------------------------------------------------------------------
# Provider verbs (called by the path shadows in 10-paths.ps1)

function New-LabFsErrorRecord {
    <# An ErrorRecord whose FullyQualifiedErrorId is exactly FullId and whose InvocationInfo has no command,
       as for a native program's stderr ('NotSpecified: (...) [], RemoteException'). WriteError in a function
       would stamp the function (FQID ',icacls'); PreserveInvocationInfoOnce keeps ours, as Write-Error does. #>
    param([Exception]$Exception, [string]$FullId, [System.Management.Automation.ErrorCategory]$Category, $Target, [string]$Activity)
    $rec = New-Object System.Management.Automation.ErrorRecord($Exception, $FullId, $Category, $Target)
    $flags = [Reflection.BindingFlags]'NonPublic,Instance'
    $ii = [System.Management.Automation.InvocationInfo]::Create($null, $null)
    [void][System.Management.Automation.ErrorRecord].GetMethod('SetInvocationInfo', $flags).Invoke($rec, @($ii))
    [System.Management.Automation.ErrorRecord].GetProperty('PreserveInvocationInfoOnce', $flags).SetValue($rec, $true)
    if ($Activity) { $rec.CategoryInfo.Activity = $Activity }
    return $rec
}

function Write-LabProviderError {
    <# FQID '<id>,Microsoft.PowerShell.Commands.<Verb>Command', as the real cmdlet reports it. Terminating
       errors are thrown as the record itself (ThrowTerminatingError would re-stamp the function name). #>
    param($Cmdlet, [string]$Verb, [Exception]$Exception, [string]$Id, [System.Management.Automation.ErrorCategory]$Category, $Target, [string]$Details, [switch]$Terminating)
    $fq = $Id + ',Microsoft.PowerShell.Commands.' + ($Verb -replace '-', '') + 'Command'
    $rec = New-LabErrorRecord -Exception $Exception -ErrorId $fq -Category $Category -Target $Target
    if ($Details) { $rec.ErrorDetails = New-Object System.Management.Automation.ErrorDetails($Details) }
    if ($Terminating) { throw $rec }
    $Cmdlet.WriteError($rec)
}

function Write-LabPathNotFound {
    param($Cmdlet, [string]$Verb, [string]$Path, [string]$Id = 'PathNotFound')
    $ex = New-Object System.Management.Automation.ItemNotFoundException("Cannot find path '$Path' because it does not exist.")
    Write-LabProviderError $Cmdlet $Verb $ex $Id ([System.Management.Automation.ErrorCategory]::ObjectNotFound) $Path
}

function New-LabAccessDenied {
    param([string]$Path)
    New-Object System.UnauthorizedAccessException("Access to the path '$Path' is denied.")
}

function Get-LabParam {
    param($Parameters, [string]$Name, $Default = $null)
    if ($Parameters.ContainsKey($Name) -and $null -ne $Parameters[$Name]) { return $Parameters[$Name] }
    return $Default
}

function Get-LabSwitch {
    param($Parameters, [string]$Name)
    return ($Parameters.ContainsKey($Name) -and [bool]$Parameters[$Name])
}

function Get-LabRequestedPaths {
    <# @{ Text; Literal } for each -LiteralPath / -Path value. #>
    param($Parameters)
    $out = @()
    if ($Parameters.ContainsKey('LiteralPath') -and $null -ne $Parameters['LiteralPath']) {
        foreach ($p in @($Parameters['LiteralPath'])) { $out += @{ Text = [string]$p; Literal = $true } }
    } elseif ($Parameters.ContainsKey('Path') -and $null -ne $Parameters['Path']) {
        foreach ($p in @($Parameters['Path'])) { $out += @{ Text = [string]$p; Literal = $false } }
    }
    return $out
}

function Get-LabAllFsPaths {
    <# Every existing path: explicit entries and their implied ancestors. #>
    $set = @{}
    foreach ($q in (Get-LabState).files.GetEntries()) {
        $p = $q.Name
        while ($null -ne $p) {
            if (-not $set.ContainsKey($p.ToLowerInvariant())) { $set[$p.ToLowerInvariant()] = $p }
            $p = Get-LabFsParent $p
        }
    }
    return @($set.Values | Sort-Object { $_.ToLowerInvariant() })
}

function Resolve-LabFsPath {
    <# Items for one requested path; wildcards (non-literal) match existing paths, no match = no items. #>
    param([string]$Text, [bool]$Literal)
    $norm = ConvertTo-LabFsPath $Text
    if (-not $Literal -and [System.Management.Automation.WildcardPattern]::ContainsWildcardCharacters($norm)) {
        $wp = New-Object System.Management.Automation.WildcardPattern($norm, [System.Management.Automation.WildcardOptions]::IgnoreCase)
        return @{ Wildcard = $true; Items = @(Get-LabAllFsPaths | Where-Object { $wp.IsMatch($_) } | ForEach-Object { Get-LabFsItem $_ }) }
    }
    $item = Get-LabFsItem $norm
    if ($null -eq $item) { return @{ Wildcard = $false; Items = @() } }
    return @{ Wildcard = $false; Items = @($item) }
}

function Invoke-LabFileSystemProvider {
    <# Entry point for the path shadows on C:\ paths. Parameters = the shadow's $PSBoundParameters;
       Cmdlet = the shadow's $PSCmdlet (errors are written through it, with the real cmdlet's FQIDs). #>
    param([Parameter(Mandatory)][string]$Verb, [Parameter(Mandatory)]$Parameters, [Parameter(Mandatory)]$Cmdlet)
    switch ($Verb) {
        'Test-Path' { Invoke-LabFsTestPath $Parameters $Cmdlet }
        'Get-Item' { Invoke-LabFsGetItem $Parameters $Cmdlet $Verb }
        'Get-ItemProperty' { Invoke-LabFsGetItemProperty $Parameters $Cmdlet }
        'Set-ItemProperty' { Invoke-LabFsSetItemProperty $Parameters $Cmdlet }
        'Get-ChildItem' { Invoke-LabFsGetChildItem $Parameters $Cmdlet }
        'New-Item' { Invoke-LabFsNewItem $Parameters $Cmdlet }
        'Remove-Item' { Invoke-LabFsRemoveItem $Parameters $Cmdlet }
        'Rename-Item' { Invoke-LabFsRenameItem $Parameters $Cmdlet }
        'Move-Item' { Invoke-LabFsCopyMove $Parameters $Cmdlet 'Move-Item' }
        'Copy-Item' { Invoke-LabFsCopyMove $Parameters $Cmdlet 'Copy-Item' }
        'Get-Content' { Invoke-LabFsGetContent $Parameters $Cmdlet }
        'Set-Content' { Invoke-LabFsSetContent $Parameters $Cmdlet }
        'Get-Acl' { Invoke-LabFsGetAcl $Parameters $Cmdlet }
        'Set-Acl' { Invoke-LabFsSetAcl $Parameters $Cmdlet }
        default { throw "Invoke-LabFileSystemProvider: verb '$Verb' is not simulated." }
    }
}

function Invoke-LabFsTestPath {
    param($Parameters, $Cmdlet)
    $type = [string](Get-LabParam $Parameters 'PathType' 'Any')
    foreach ($rp in (Get-LabRequestedPaths $Parameters)) {
        if (Get-LabSwitch $Parameters 'IsValid') { $true; continue }
        $items = @((Resolve-LabFsPath $rp.Text $rp.Literal).Items)
        if ($type -eq 'Leaf') { $items = @($items | Where-Object { $_.Type -ne 'directory' }) }
        elseif ($type -eq 'Container') { $items = @($items | Where-Object { $_.Type -eq 'directory' }) }
        $items.Count -gt 0
    }
}

function Invoke-LabFsGetItem {
    param($Parameters, $Cmdlet, [string]$Verb)
    foreach ($rp in (Get-LabRequestedPaths $Parameters)) {
        $r = Resolve-LabFsPath $rp.Text $rp.Literal
        if ($r.Items.Count -eq 0 -and -not $r.Wildcard) { Write-LabPathNotFound $Cmdlet $Verb $rp.Text; continue }
        foreach ($i in $r.Items) { New-LabFsItemObject $i }
    }
}

function Invoke-LabFsGetItemProperty {
    param($Parameters, $Cmdlet)
    $names = @(Get-LabParam $Parameters 'Name' @())
    foreach ($o in (Invoke-LabFsGetItem $Parameters $Cmdlet 'Get-ItemProperty')) {
        if ($names.Count -eq 0) { $o; continue }
        $sel = [ordered]@{}
        foreach ($n in $names) { if ($o.PSObject.Properties[$n]) { $sel[$o.PSObject.Properties[$n].Name] = $o.$n } }
        foreach ($n in 'PSPath', 'PSParentPath', 'PSChildName', 'PSDrive', 'PSProvider') { $sel[$n] = $o.$n }
        [pscustomobject]$sel
    }
}

function Invoke-LabFsSetItemProperty {
    <# Only the time stamps are writable in the lab [lab scope]. #>
    param($Parameters, $Cmdlet)
    $name = [string](Get-LabParam $Parameters 'Name')
    foreach ($rp in (Get-LabRequestedPaths $Parameters)) {
        $r = Resolve-LabFsPath $rp.Text $rp.Literal
        if ($r.Items.Count -eq 0 -and -not $r.Wildcard) { Write-LabPathNotFound $Cmdlet 'Set-ItemProperty' $rp.Text; continue }
        foreach ($i in $r.Items) {
            if ($name -notmatch '^LastWriteTime(Utc)?$' -or $null -eq $i.Entry) { throw "Set-ItemProperty '$name' on a file system item is not simulated by the lab." }
            $t = [DateTime](Get-LabParam $Parameters 'Value')
            $i.Entry | Add-Member -NotePropertyName lastWriteTime -NotePropertyValue $t.ToUniversalTime().ToString('o') -Force
            Save-LabState
            Write-LabAudit -Command 'Set-ItemProperty' -Detail @{ path = $i.Path; name = $name }
        }
    }
}

function Invoke-LabFsGetChildItem {
    param($Parameters, $Cmdlet)
    $filter = Get-LabParam $Parameters 'Filter'
    $wp = $null
    if ($filter) { $wp = New-Object System.Management.Automation.WildcardPattern([string]$filter, [System.Management.Automation.WildcardOptions]::IgnoreCase) }
    foreach ($rp in (Get-LabRequestedPaths $Parameters)) {
        $r = Resolve-LabFsPath $rp.Text $rp.Literal
        if ($r.Items.Count -eq 0 -and -not $r.Wildcard) { Write-LabPathNotFound $Cmdlet 'Get-ChildItem' $rp.Text; continue }
        foreach ($i in $r.Items) {
            if ($i.Type -ne 'directory') { $found = @($i) }
            elseif (-not (Test-LabFsAccess $i 0x1)) {
                Write-LabProviderError $Cmdlet 'Get-ChildItem' (New-LabAccessDenied $i.Path) 'DirUnauthorizedAccessError' ([System.Management.Automation.ErrorCategory]::PermissionDenied) $i.Path
                continue
            } elseif (Get-LabSwitch $Parameters 'Recurse') { $found = Get-LabFsDescendants $i.Path }
            else { $found = Get-LabFsChildItems $i.Path }
            foreach ($f in $found) {
                if ($null -ne $wp -and -not $wp.IsMatch((Get-LabFsLeaf $f.Path))) { continue }
                if ((Get-LabSwitch $Parameters 'File') -and $f.Type -eq 'directory') { continue }
                if ((Get-LabSwitch $Parameters 'Directory') -and $f.Type -ne 'directory') { continue }
                if (Get-LabSwitch $Parameters 'Name') { $f.Path.Substring($i.Path.TrimEnd('\').Length + 1); continue }
                New-LabFsItemObject $f
            }
        }
    }
}

function New-LabFsFileEntry {
    param([string]$Type, $Sd, [byte[]]$Bytes)
    $e = [ordered]@{ type = $Type; sddl = (ConvertTo-LabSddl $Sd) }
    if ($Type -eq 'file') { $e.content = [Convert]::ToBase64String($Bytes) }
    $e.lastWriteTime = (Get-LabUtcNow).ToString('o')
    return [pscustomobject]$e
}

function New-LabFsDirectoryTree {
    <# Creates Path and missing ancestors (Directory.CreateDirectory), each inheriting from its parent. #>
    param([string]$Path)
    $parent = Get-LabFsParent $Path
    $pItem = Get-LabFsItem $parent
    if ($null -eq $pItem) { $pItem = New-LabFsDirectoryTree $parent }
    Set-LabFsEntry $Path (New-LabFsFileEntry 'directory' (Get-LabFsInheritedSd $pItem $true) $null)
    return (Get-LabFsItem $Path)
}

function Invoke-LabFsNewItem {
    param($Parameters, $Cmdlet)
    $type = [string](Get-LabParam $Parameters 'ItemType' 'File')
    $isDir = $type -match '^(Directory|Container)$'
    $value = Get-LabParam $Parameters 'Value'
    foreach ($raw in @(Get-LabParam $Parameters 'Path' @())) {
        $path = ConvertTo-LabFsPath ([string]$raw)
        $name = Get-LabParam $Parameters 'Name'
        if ($name) { $path = Join-LabFsPath $path ([string]$name) }
        $existing = Get-LabFsItem $path
        if ($null -ne $existing -and $isDir -and $existing.Type -eq 'directory') {
            if (Get-LabSwitch $Parameters 'Force') { New-LabFsItemObject $existing; continue }
            $ex = New-Object System.IO.IOException("An item with the specified name $path already exists.")
            Write-LabProviderError $Cmdlet 'New-Item' $ex 'DirectoryExist' ([System.Management.Automation.ErrorCategory]::ResourceExists) $path
            continue
        }
        if ($null -ne $existing -and -not (Get-LabSwitch $Parameters 'Force')) {
            $ex = New-Object System.IO.IOException("The file '$path' already exists.")
            Write-LabProviderError $Cmdlet 'New-Item' $ex 'NewItemIOError' ([System.Management.Automation.ErrorCategory]::WriteError) $path
            continue
        }
        $pItem = Get-LabFsItem (Get-LabFsParent $path)
        if ($null -eq $pItem -and -not $isDir) {
            $ex = New-Object System.IO.DirectoryNotFoundException("Could not find a part of the path '$path'.")
            Write-LabProviderError $Cmdlet 'New-Item' $ex 'NewItemIOError' ([System.Management.Automation.ErrorCategory]::WriteError) $path
            continue
        }
        $need = 0x2; $id = 'NewItemUnauthorizedAccessError'
        if ($isDir) { $need = 0x4; $id = 'CreateDirectoryUnauthorizedAccessError' }
        if ($null -ne $pItem -and -not (Test-LabFsAccess $pItem $need)) {
            Write-LabProviderError $Cmdlet 'New-Item' (New-LabAccessDenied $path) $id ([System.Management.Automation.ErrorCategory]::PermissionDenied) $path
            continue
        }
        if ($isDir) { $item = New-LabFsDirectoryTree $path }
        else {
            $bytes = [byte[]]@()
            if ($null -ne $value) { $bytes = (New-Object System.Text.UTF8Encoding($false)).GetBytes([string]$value) }
            $sd = Get-LabFsInheritedSd $pItem $false
            if ($null -ne $existing -and $null -ne $existing.Entry) { $sd = Get-LabFsSd $existing }
            Set-LabFsEntry $path (New-LabFsFileEntry 'file' $sd $bytes)
            $item = Get-LabFsItem $path
        }
        Save-LabState
        Write-LabAudit -Command 'New-Item' -Detail @{ path = $path; itemType = $type }
        New-LabFsItemObject $item
    }
}

function Remove-LabFsTree {
    <# Deletes Item (children first). Returns $false when something could not be deleted. #>
    param($Item, $Cmdlet)
    $ok = $true
    if ($Item.Type -eq 'directory') {
        foreach ($c in (Get-LabFsChildItems $Item.Path)) { if (-not (Remove-LabFsTree $c $Cmdlet)) { $ok = $false } }
    }
    if (-not $ok) {
        $ex = New-Object System.IO.IOException('The directory is not empty.')
        Write-LabProviderError $Cmdlet 'Remove-Item' $ex 'RemoveFileSystemItemIOError' ([System.Management.Automation.ErrorCategory]::WriteError) $Item.Path -Details "Cannot remove item $($Item.Path): The directory is not empty."
        return $false
    }
    if (-not (Test-LabFsCanDelete $Item)) {
        $ex = New-LabAccessDenied $Item.Path
        Write-LabProviderError $Cmdlet 'Remove-Item' $ex 'RemoveFileSystemItemUnAuthorizedAccess' ([System.Management.Automation.ErrorCategory]::PermissionDenied) $Item.Path -Details "Cannot remove item $($Item.Path): $($ex.Message)"
        return $false
    }
    $files = (Get-LabState).files
    $null = $files.Remove($Item.Path)
    return $true
}

function Invoke-LabFsRemoveItem {
    param($Parameters, $Cmdlet)
    foreach ($rp in (Get-LabRequestedPaths $Parameters)) {
        $r = Resolve-LabFsPath $rp.Text $rp.Literal
        if ($r.Items.Count -eq 0 -and -not $r.Wildcard) { Write-LabPathNotFound $Cmdlet 'Remove-Item' $rp.Text; continue }
        foreach ($i in $r.Items) {
            if ($i.Type -eq 'directory' -and -not (Get-LabSwitch $Parameters 'Recurse') -and @(Get-LabFsChildItems $i.Path).Count -gt 0) {
                # Real Remove-Item asks to confirm (RemoveItemWithChildren); a remoting session cannot prompt [UNSOURCED].
                $ex = New-Object System.Management.Automation.PSInvalidOperationException('Windows PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.')
                Write-LabProviderError $Cmdlet 'Remove-Item' $ex 'InvalidOperation' ([System.Management.Automation.ErrorCategory]::InvalidOperation) $i.Path -Terminating
            }
            if (-not $Cmdlet.ShouldProcess($i.Path, 'Remove')) { continue }
            [void](Remove-LabFsTree $i $Cmdlet)
            Save-LabState
            Write-LabAudit -Command 'Remove-Item' -Detail @{ path = $i.Path }
        }
    }
}

function Move-LabFsTree {
    <# Re-keys Item and every descendant from Item.Path to NewPath (SDDL kept, as a same-volume move keeps it). #>
    param($Item, [string]$NewPath)
    $files = (Get-LabState).files
    $old = $Item.Path
    $moves = @()
    foreach ($q in $files.GetEntries()) {
        if ($q.Name -ieq $old -or $q.Name.StartsWith($old + '\', [StringComparison]::OrdinalIgnoreCase)) { $moves += $q }
    }
    foreach ($q in $moves) {
        $null = $files.Remove($q.Name)
        $null = $files.Add(($NewPath + $q.Name.Substring($old.Length)), $q.Value)
    }
}

function Invoke-LabFsRenameItem {
    param($Parameters, $Cmdlet)
    $newName = [string](Get-LabParam $Parameters 'NewName')
    foreach ($rp in (Get-LabRequestedPaths $Parameters)) {
        $item = @((Resolve-LabFsPath $rp.Text $rp.Literal).Items) | Select-Object -First 1
        if ($null -eq $item) {
            $ex = New-Object System.Management.Automation.PSInvalidOperationException("Cannot rename because item at '$($rp.Text)' does not exist.")
            Write-LabProviderError $Cmdlet 'Rename-Item' $ex 'InvalidOperation' ([System.Management.Automation.ErrorCategory]::InvalidOperation) $null
            continue
        }
        $leaf = $newName
        if ($newName.Contains('\')) {
            $nn = ConvertTo-LabFsPath $newName
            if ((Get-LabFsParent $nn) -ine (Get-LabFsParent $item.Path)) {
                $ex = New-Object System.Management.Automation.PSArgumentException('Cannot rename the specified target, because it represents a path or device name.')
                Write-LabProviderError $Cmdlet 'Rename-Item' $ex 'Argument' ([System.Management.Automation.ErrorCategory]::InvalidArgument) $item.Path
                continue
            }
            $leaf = Get-LabFsLeaf $nn
        }
        $target = Join-LabFsPath (Get-LabFsParent $item.Path) $leaf
        if (-not (Move-LabFsChecked $item $target 'Rename-Item' 'RenameItem' $Cmdlet)) { continue }
        if (Get-LabSwitch $Parameters 'PassThru') { New-LabFsItemObject (Get-LabFsItem $target) }
    }
}

function Move-LabFsChecked {
    <# Rename / same-volume move with the checks Windows makes: target free, DELETE on the source,
       add-file/add-subdirectory on the target parent. #>
    param($Item, [string]$Target, [string]$Verb, [string]$IdPrefix, $Cmdlet, [bool]$Overwrite = $false)
    $kind = 'FileInfoItem'
    if ($Item.Type -eq 'directory') { $kind = 'DirectoryItem' }
    if ($Verb -eq 'Rename-Item') { $kind = '' }
    $existing = Get-LabFsItem $Target
    if ($null -ne $existing -and $Target -ine $Item.Path -and -not ($Overwrite -and $existing.Type -ne 'directory')) {
        $ex = New-Object System.IO.IOException('Cannot create a file when that file already exists.')
        Write-LabProviderError $Cmdlet $Verb $ex ($IdPrefix + $kind + 'IOError') ([System.Management.Automation.ErrorCategory]::WriteError) $Item.Path
        return $false
    }
    $tParent = Get-LabFsItem (Get-LabFsParent $Target)
    if ($null -eq $tParent) {
        $ex = New-Object System.IO.DirectoryNotFoundException('Could not find a part of the path.')
        Write-LabProviderError $Cmdlet $Verb $ex ($IdPrefix + $kind + 'IOError') ([System.Management.Automation.ErrorCategory]::WriteError) $Item.Path
        return $false
    }
    $need = 0x2
    if ($Item.Type -eq 'directory') { $need = 0x4 }
    if (-not (Test-LabFsCanDelete $Item) -or -not (Test-LabFsAccess $tParent $need)) {
        Write-LabProviderError $Cmdlet $Verb (New-LabAccessDenied $Item.Path) ($IdPrefix + $kind + 'UnauthorizedAccessError') ([System.Management.Automation.ErrorCategory]::PermissionDenied) $Item.Path
        return $false
    }
    if (-not $Cmdlet.ShouldProcess("Item: $($Item.Path) Destination: $Target", $Verb)) { return $false }
    if ($null -ne $existing -and $Target -ine $Item.Path) { $null = (Get-LabState).files.Remove($existing.Path) }
    Move-LabFsTree $Item $Target
    Save-LabState
    Write-LabAudit -Command $Verb -Detail @{ path = $Item.Path; destination = $Target }
    return $true
}

function Copy-LabFsTree {
    param($Item, [string]$Target, [bool]$Recurse, $Cmdlet)
    $tParent = Get-LabFsItem (Get-LabFsParent $Target)
    if ($Item.Type -ne 'directory') {
        if (-not (Test-LabFsAccess $Item 0x1)) {
            Write-LabProviderError $Cmdlet 'Copy-Item' (New-LabAccessDenied $Item.Path) 'CopyFileInfoItemUnauthorizedAccessError' ([System.Management.Automation.ErrorCategory]::PermissionDenied) $Item.Path
            return
        }
        $existing = Get-LabFsItem $Target
        $sd = Get-LabFsInheritedSd $tParent $false
        if ($null -ne $existing -and $null -ne $existing.Entry) { $sd = Get-LabFsSd $existing }
        Set-LabFsEntry $Target (New-LabFsFileEntry 'file' $sd (Get-LabFsBytes $Item.Entry))
        return
    }
    if ($null -eq (Get-LabFsItem $Target)) { Set-LabFsEntry $Target (New-LabFsFileEntry 'directory' (Get-LabFsInheritedSd $tParent $true) $null) }
    if (-not $Recurse) { return }
    foreach ($c in (Get-LabFsChildItems $Item.Path)) { Copy-LabFsTree $c (Join-LabFsPath $Target (Get-LabFsLeaf $c.Path)) $true $Cmdlet }
}

function Invoke-LabFsCopyMove {
    param($Parameters, $Cmdlet, [string]$Verb)
    $destRaw = ConvertTo-LabFsPath ([string](Get-LabParam $Parameters 'Destination'))
    foreach ($rp in (Get-LabRequestedPaths $Parameters)) {
        $r = Resolve-LabFsPath $rp.Text $rp.Literal
        if ($r.Items.Count -eq 0 -and -not $r.Wildcard) { Write-LabPathNotFound $Cmdlet $Verb $rp.Text; continue }
        foreach ($i in $r.Items) {
            $target = $destRaw
            $d = Get-LabFsItem $destRaw
            if ($null -ne $d -and $d.Type -eq 'directory') { $target = Join-LabFsPath $d.Path (Get-LabFsLeaf $i.Path) }
            if ($Verb -eq 'Move-Item') {
                if (Move-LabFsChecked $i $target 'Move-Item' 'Move' $Cmdlet (Get-LabSwitch $Parameters 'Force')) {
                    if (Get-LabSwitch $Parameters 'PassThru') { New-LabFsItemObject (Get-LabFsItem $target) }
                }
                continue
            }
            if ($null -eq (Get-LabFsItem (Get-LabFsParent $target))) {
                $ex = New-Object System.IO.DirectoryNotFoundException("Could not find a part of the path '$target'.")
                Write-LabProviderError $Cmdlet $Verb $ex 'CopyFileInfoItemIOError' ([System.Management.Automation.ErrorCategory]::WriteError) $i.Path
                continue
            }
            Copy-LabFsTree $i $target (Get-LabSwitch $Parameters 'Recurse') $Cmdlet
            Save-LabState
            Write-LabAudit -Command 'Copy-Item' -Detail @{ path = $i.Path; destination = $target }
            if (Get-LabSwitch $Parameters 'PassThru') { $n = Get-LabFsItem $target; if ($n) { New-LabFsItemObject $n } }
        }
    }
}

function Get-LabTextEncoding {
    <# -Encoding names of Windows PowerShell 5.1; 'Default' is the ANSI code page (Latin-1 here) [INFERENCE]. #>
    param([string]$Name)
    switch -Regex ($Name) {
        '^(Unicode|UTF-?16(LE)?)$' { return New-Object System.Text.UnicodeEncoding($false, $true) }
        '^BigEndianUnicode$' { return New-Object System.Text.UnicodeEncoding($true, $true) }
        '^UTF-?8(BOM)?$' { return New-Object System.Text.UTF8Encoding($true) }
        '^UTF8NoBOM$' { return New-Object System.Text.UTF8Encoding($false) }
        '^(ASCII)$' { return [System.Text.Encoding]::ASCII }
        default { return [System.Text.Encoding]::GetEncoding(28591) }
    }
}

function ConvertFrom-LabFileBytes {
    <# Bytes -> text, honouring a BOM first (as Get-Content does). #>
    param([byte[]]$Bytes, [string]$Encoding)
    if ($Bytes.Length -ge 3 -and $Bytes[0] -eq 0xEF -and $Bytes[1] -eq 0xBB -and $Bytes[2] -eq 0xBF) { return [System.Text.Encoding]::UTF8.GetString($Bytes, 3, $Bytes.Length - 3) }
    if ($Bytes.Length -ge 2 -and $Bytes[0] -eq 0xFF -and $Bytes[1] -eq 0xFE) { return [System.Text.Encoding]::Unicode.GetString($Bytes, 2, $Bytes.Length - 2) }
    if ($Bytes.Length -ge 2 -and $Bytes[0] -eq 0xFE -and $Bytes[1] -eq 0xFF) { return [System.Text.Encoding]::BigEndianUnicode.GetString($Bytes, 2, $Bytes.Length - 2) }
    return (Get-LabTextEncoding $Encoding).GetString($Bytes)
}

function Invoke-LabFsGetContent {
    param($Parameters, $Cmdlet)
    $enc = [string](Get-LabParam $Parameters 'Encoding' '')
    $asBytes = ($enc -eq 'Byte') -or (Get-LabSwitch $Parameters 'AsByteStream')
    foreach ($rp in (Get-LabRequestedPaths $Parameters)) {
        $r = Resolve-LabFsPath $rp.Text $rp.Literal
        if ($r.Items.Count -eq 0 -and -not $r.Wildcard) { Write-LabPathNotFound $Cmdlet 'Get-Content' $rp.Text; continue }
        foreach ($i in $r.Items) {
            # 5.1 reports a directory like a denied file (UnauthorizedAccessException from FileStream).
            if ($i.Type -eq 'directory' -or -not (Test-LabFsAccess $i 0x1)) {
                Write-LabProviderError $Cmdlet 'Get-Content' (New-LabAccessDenied $i.Path) 'GetContentReaderUnauthorizedAccessError' ([System.Management.Automation.ErrorCategory]::PermissionDenied) $i.Path
                continue
            }
            $bytes = Get-LabFsBytes $i.Entry
            if ($asBytes) {
                if (Get-LabSwitch $Parameters 'Raw') { , $bytes } else { foreach ($b in $bytes) { $b } }
                continue
            }
            $text = ConvertFrom-LabFileBytes $bytes $enc
            if (Get-LabSwitch $Parameters 'Raw') { $text; continue }
            $lines = [regex]::Split($text, "`r`n|`n|`r")
            $n = $lines.Count
            if ($n -gt 0 -and $lines[$n - 1] -eq '') { $n-- }
            for ($k = 0; $k -lt $n; $k++) { $lines[$k] }
        }
    }
}

function Invoke-LabFsSetContent {
    param($Parameters, $Cmdlet)
    $enc = [string](Get-LabParam $Parameters 'Encoding' 'Default')
    $value = @(Get-LabParam $Parameters 'Value' @())
    if ($enc -eq 'Byte' -or (Get-LabSwitch $Parameters 'AsByteStream')) { $bytes = [byte[]]@($value | ForEach-Object { [byte]$_ }) }
    else {
        $text = ($value | ForEach-Object { [string]$_ }) -join "`r`n"
        if (-not (Get-LabSwitch $Parameters 'NoNewline')) { $text += "`r`n" }
        $e = Get-LabTextEncoding $enc
        $bytes = [byte[]]($e.GetPreamble() + $e.GetBytes($text))
    }
    foreach ($rp in (Get-LabRequestedPaths $Parameters)) {
        $path = ConvertTo-LabFsPath $rp.Text
        $item = Get-LabFsItem $path
        $pItem = Get-LabFsItem (Get-LabFsParent $path)
        if ($null -eq $pItem) {
            $ex = New-Object System.IO.DirectoryNotFoundException("Could not find a part of the path '$path'.")
            Write-LabProviderError $Cmdlet 'Set-Content' $ex 'GetContentWriterDirectoryNotFoundError' ([System.Management.Automation.ErrorCategory]::ObjectNotFound) $path
            continue
        }
        $denied = ($null -ne $item -and ($item.Type -eq 'directory' -or -not (Test-LabFsAccess $item 0x2))) -or ($null -eq $item -and -not (Test-LabFsAccess $pItem 0x2))
        if ($denied) {
            Write-LabProviderError $Cmdlet 'Set-Content' (New-LabAccessDenied $path) 'GetContentWriterUnauthorizedAccessError' ([System.Management.Automation.ErrorCategory]::PermissionDenied) $path
            continue
        }
        $sd = Get-LabFsInheritedSd $pItem $false
        if ($null -ne $item -and $null -ne $item.Entry) { $sd = Get-LabFsSd $item; $path = $item.Path }
        Set-LabFsEntry $path (New-LabFsFileEntry 'file' $sd $bytes)
        Save-LabState
        Write-LabAudit -Command 'Set-Content' -Detail @{ path = $path; bytes = $bytes.Length }
    }
}

function Invoke-LabFsGetAcl {
    param($Parameters, $Cmdlet)
    foreach ($rp in (Get-LabRequestedPaths $Parameters)) {
        $r = Resolve-LabFsPath $rp.Text $rp.Literal
        if ($r.Items.Count -eq 0 -and -not $r.Wildcard) {
            # AclCommands.cs: GetAcl_PathNotFound (literal) / GetAcl_PathNotFound_Exception (resolved).
            $id = 'GetAcl_PathNotFound_Exception'
            if ($rp.Literal) { $id = 'GetAcl_PathNotFound' }
            Write-LabPathNotFound $Cmdlet 'Get-Acl' $rp.Text $id
            continue
        }
        foreach ($i in $r.Items) {
            if (-not (Test-LabFsAccess $i 0x20000)) {
                $ex = New-Object System.UnauthorizedAccessException('Attempted to perform an unauthorized operation.')
                Write-LabProviderError $Cmdlet 'Get-Acl' $ex 'System.UnauthorizedAccessException' ([System.Management.Automation.ErrorCategory]::NotSpecified) $i.Path
                continue
            }
            New-LabAclObject $i.Path
        }
    }
}

function Update-LabFsInheritance {
    <# Re-derives the inherited ACEs of Item's subtree after its DACL changed (SetNamedSecurityInfo
       propagates to children whose DACL is not protected). #>
    param($Item)
    if ($Item.Type -ne 'directory') { return }
    foreach ($c in (Get-LabFsChildItems $Item.Path)) {
        if ($null -ne $c.Entry) {
            $sd = Get-LabFsSd $c
            if (-not $sd.Protected) {
                $sd.Aces = New-Object System.Collections.ArrayList (, @(@($sd.Aces | Where-Object { $_.Flags -notcontains 'ID' }) + @(Get-LabFsInheritableAces (Get-LabFsSd $Item) ($c.Type -eq 'directory'))))
                Set-LabFsSd $c $sd
            }
        }
        Update-LabFsInheritance $c
    }
}

function Set-LabFsDacl {
    <# New DACL on an item: unprotected DACLs get their inherited part from the parent; the subtree follows. #>
    param($Item, $Sd)
    if ($Sd.HasDacl -and -not $Sd.Protected) {
        $parent = Get-LabFsItem (Get-LabFsParent $Item.Path)
        $explicit = @($Sd.Aces | Where-Object { $_.Flags -notcontains 'ID' })
        $inh = @()
        if ($null -ne $parent) { $inh = @(Get-LabFsInheritableAces (Get-LabFsSd $parent) ($Item.Type -eq 'directory')) }
        $Sd.Aces = New-Object System.Collections.ArrayList (, @($explicit + $inh))
    }
    Set-LabFsSd $Item $Sd
    Update-LabFsInheritance $Item
}

function Invoke-LabFsSetAcl {
    param($Parameters, $Cmdlet)
    $acl = Get-LabParam $Parameters 'AclObject'
    if ($null -eq $acl -or $null -eq $acl.PSObject.Properties['Sddl']) {
        $ex = New-Object System.ArgumentException('AclObject')
        Write-LabProviderError $Cmdlet 'Set-Acl' $ex 'SetAcl_AclObject' ([System.Management.Automation.ErrorCategory]::InvalidArgument) $acl -Terminating
    }
    $new = ConvertFrom-LabSddl ([string]$acl.Sddl)
    foreach ($rp in (Get-LabRequestedPaths $Parameters)) {
        $r = Resolve-LabFsPath $rp.Text $rp.Literal
        if ($r.Items.Count -eq 0 -and -not $r.Wildcard) { Write-LabPathNotFound $Cmdlet 'Set-Acl' $rp.Text; continue }
        foreach ($i in $r.Items) { Set-LabFsAclOne $i $new $Parameters $Cmdlet }
    }
}

function Set-LabFsAclOne {
    param($Item, $New, $Parameters, $Cmdlet)
    $cur = Get-LabFsSd $Item
    # Windows PowerShell 5.1 writes the whole descriptor, owner included; an owner the caller may not
    # assign (anything but itself / Administrators) fails even when unchanged (ref section 5.7; ansible#20555).
    if ($New.Owner -and @((Get-LabCallerSid), 'S-1-5-32-544') -notcontains $New.Owner) {
        $ex = New-Object System.InvalidOperationException('The security identifier is not allowed to be the owner of this object.')
        Write-LabProviderError $Cmdlet 'Set-Acl' $ex 'System.InvalidOperationException' ([System.Management.Automation.ErrorCategory]::InvalidOperation) $Item.Path
        return
    }
    [long]$need = 0x40000
    if ($New.Owner -and $New.Owner -ne $cur.Owner) { $need = $need -bor 0x80000 }
    if (-not (Test-LabFsAccess $Item $need)) {
        $ex = New-Object System.UnauthorizedAccessException('Attempted to perform an unauthorized operation.')
        Write-LabProviderError $Cmdlet 'Set-Acl' $ex 'System.UnauthorizedAccessException' ([System.Management.Automation.ErrorCategory]::PermissionDenied) $Item.Path
        return
    }
    if (-not $Cmdlet.ShouldProcess($Item.Path)) { return }
    $sd = $cur
    if ($New.Owner) { $sd.Owner = $New.Owner }
    if ($New.Group) { $sd.Group = $New.Group }
    $sd.HasDacl = $New.HasDacl; $sd.Protected = $New.Protected; $sd.AutoInherited = $New.AutoInherited; $sd.Aces = $New.Aces
    Set-LabFsDacl $Item $sd
    Save-LabState
    Write-LabAudit -Command 'Set-Acl' -Detail @{ path = $Item.Path; sddl = (ConvertTo-LabSddl $sd) }
    if (Get-LabSwitch $Parameters 'Passthru') { New-LabAclObject $Item.Path }
}

# ---------------------------------------------------------------------------------------------------
# Native tools: icacls, takeown (WSD administration/windows-commands/icacls.md, takeown.md)

function Write-LabNativeResult {
    <# stdout lines to the output, stderr lines as NativeCommandError records (5.1 behaviour), after
       $LASTEXITCODE is set: the tool has finished its work by the time its output is read. #>
    param($Cmdlet, $Result)
    $global:LASTEXITCODE = $Result.ExitCode
    foreach ($l in $Result.Lines) {
        if ($l.Err) {
            $ex = New-Object System.Management.Automation.RemoteException($l.Text)
            $Cmdlet.WriteError((New-LabFsErrorRecord $ex 'NativeCommandError' ([System.Management.Automation.ErrorCategory]::NotSpecified) $l.Text))
        } else { $l.Text }
    }
}

function New-LabNativeResult { @{ Lines = (New-Object System.Collections.ArrayList); ExitCode = 0 } }
function Add-LabOut { param($Res, [string]$Text, [switch]$Err) [void]$Res.Lines.Add(@{ Err = [bool]$Err; Text = $Text }) }

# icacls perm letters -> access masks (FILE_GENERIC_* for the simple rights).
$script:LabIcaclsSimple = [ordered]@{ 'F' = 0x1F01FF; 'M' = 0x1301BF; 'RX' = 0x1200A9; 'R' = 0x120089; 'W' = 0x120116; 'N' = 0 }
$script:LabIcaclsSpecific = [ordered]@{
    'D' = 0x10000; 'RC' = 0x20000; 'WDAC' = 0x40000; 'WO' = 0x80000; 'S' = 0x100000; 'AS' = 0x1000000; 'MA' = 0x2000000
    'GR' = [long]0x80000000; 'GW' = 0x40000000; 'GE' = 0x20000000; 'GA' = 0x10000000
    'RD' = 0x1; 'WD' = 0x2; 'AD' = 0x4; 'REA' = 0x8; 'WEA' = 0x10; 'X' = 0x20; 'DC' = 0x40; 'RA' = 0x80; 'WA' = 0x100
}

function ConvertTo-LabIcaclsPerm {
    <# Mask -> '(F)', '(R,W)', '(M,DC)', '(GR,GE)' (composite rights first, then the specific rest). #>
    param([long]$Mask)
    if ($Mask -eq 0x10000000) { return '(F)' }
    $parts = @()
    [long]$covered = 0
    if (($Mask -band 0x1F01FF) -eq 0x1F01FF) { $parts += 'F'; $covered = 0x1F01FF }
    else {
        foreach ($c in @('M', 'RX', 'R')) {
            $b = [long]$script:LabIcaclsSimple[$c]
            if (($Mask -band $b) -eq $b) { $parts += $c; $covered = $b; break }
        }
        if ($parts -notcontains 'M' -and ($Mask -band 0x120116) -eq 0x120116) { $parts += 'W'; $covered = $covered -bor 0x120116 }
    }
    [long]$rest = $Mask -band (-bnot $covered)
    foreach ($c in $script:LabIcaclsSpecific.Keys) {
        $b = [long]$script:LabIcaclsSpecific[$c]
        if (($rest -band $b) -eq $b) { $parts += $c }
    }
    return '(' + ($parts -join ',') + ')'
}

function ConvertTo-LabIcaclsAce {
    param($Ace)
    $name = Get-LabSidName $Ace.Sid
    if ($null -eq $name) { $name = $Ace.Sid }
    $t = $name + ':'
    foreach ($f in @('ID', 'OI', 'CI', 'NP', 'IO')) {
        if ($Ace.Flags -contains $f) { if ($f -eq 'ID') { $t += '(I)' } else { $t += "($f)" } }
    }
    if ($Ace.Type -eq 'D') { $t += '(DENY)' }
    return $t + (ConvertTo-LabIcaclsPerm $Ace.Mask)
}

function ConvertFrom-LabIcaclsPerm {
    <# 'NT AUTHORITY\NETWORK SERVICE:(R)', '*S-1-5-20:(OI)(CI)(F)', 'Everyone:(R,W)', 'alice:RX' -> ACE, or a string error. #>
    param([string]$Spec, [string]$Type, [bool]$IsDirectory)
    if ($Spec -notmatch '^(?<acct>.+):(?<perm>[^:]+)$') { return "Invalid parameter `"$Spec`"" }
    $sid = ConvertTo-LabSid $Matches['acct']
    if ($null -eq $sid) { return "$($Matches['acct']): No mapping between account names and security IDs was done." }
    $flags = @(); [long]$mask = 0
    foreach ($tok in [regex]::Matches($Matches['perm'], '\(([^)]*)\)|([A-Za-z]+)')) {
        $inner = $tok.Groups[1].Value
        if (-not $tok.Groups[1].Success) { $inner = $tok.Groups[2].Value }
        if ($inner -in 'OI', 'CI', 'IO', 'NP') { if ($IsDirectory) { $flags += $inner.ToUpperInvariant() }; continue }
        foreach ($r in $inner.Split(',')) {
            $r = $r.Trim().ToUpperInvariant()
            if ($script:LabIcaclsSimple.Contains($r)) { $mask = $mask -bor [long]$script:LabIcaclsSimple[$r] }
            elseif ($script:LabIcaclsSpecific.Contains($r)) { $mask = $mask -bor [long]$script:LabIcaclsSpecific[$r] }
            else { return "Invalid parameter `"$Spec`"" }
        }
    }
    return (New-LabAce -Type $Type -Flags $flags -Mask $mask -Sid $sid)
}

function Get-LabIcaclsTargets {
    <# The name argument (wildcard in the leaf allowed) plus, with /t, every item below it. #>
    param([string]$Name, [bool]$Recurse)
    $norm = ConvertTo-LabFsPath $Name
    $r = Resolve-LabFsPath $norm $false
    $out = @()
    foreach ($i in $r.Items) {
        $out += $i
        if ($Recurse) { $out += @(Get-LabFsListableDescendants $i) }
    }
    return @{ Items = $out; Wildcard = $r.Wildcard; Path = $norm }
}

function Get-LabFsListableDescendants {
    <# /T walks only folders the caller can list (FILE_LIST_DIRECTORY); the rest stay unseen [INFERENCE]. #>
    param($Item)
    $out = @()
    if ($Item.Type -ne 'directory' -or -not (Test-LabFsAccess $Item 0x1)) { return $out }
    foreach ($c in (Get-LabFsChildItems $Item.Path)) { $out += $c; $out += @(Get-LabFsListableDescendants $c) }
    return $out
}

function Get-LabNotFoundText {
    param([string]$Path)
    if ($null -eq (Get-LabFsItem (Get-LabFsParent $Path))) { return @{ Text = 'The system cannot find the path specified.'; Code = 3 } }
    return @{ Text = 'The system cannot find the file specified.'; Code = 2 }
}

function Read-LabIcaclsArgs {
    param([string[]]$Argv)
    $o = @{ Name = $null; T = $false; C = $false; Q = $false; Save = $null; Restore = $null; SetOwner = $null; Reset = $false
        Inheritance = $null; Grants = @(); GrantReplace = $false; Denies = @(); Removes = @(); RemoveKind = ''; Error = $null }
    $i = 0
    $list = $null
    while ($i -lt $Argv.Count) {
        $a = $Argv[$i]
        if ($a -notmatch '^/') {
            if ($null -ne $list) { $o[$list] += $a }
            elseif ($null -eq $o.Name) { $o.Name = $a }
            else { $o.Error = "Invalid parameter `"$a`"" }
            $i++; continue
        }
        $list = $null
        switch -Regex ($a) {
            '^/[tT]$' { $o.T = $true }
            '^/[cC]$' { $o.C = $true }
            '^/[qQ]$' { $o.Q = $true }
            '^/[lL]$' { }
            '^/save$' { $i++; $o.Save = $Argv[$i] }
            '^/restore$' { $i++; $o.Restore = $Argv[$i] }
            '^/setowner$' { $i++; $o.SetOwner = $Argv[$i] }
            '^/reset$' { $o.Reset = $true }
            '^/inheritance(level)?:([edrEDR])$' { $o.Inheritance = $Matches[2].ToLowerInvariant() }
            '^/grant(:r)?$' { $list = 'Grants'; if ($Matches[1]) { $o.GrantReplace = $true } }
            '^/deny$' { $list = 'Denies' }
            '^/remove(:[gdGD])?$' { $list = 'Removes'; if ($Matches[1]) { $o.RemoveKind = $Matches[1].Substring(1).ToLowerInvariant() } }
            default { $o.Error = "Invalid parameter `"$a`"" }
        }
        $i++
    }
    if ($null -eq $o.Name -and $null -eq $o.Error) { $o.Error = 'Invalid parameter' }
    return $o
}

function Edit-LabIcaclsDacl {
    <# Applies /grant, /deny, /remove, /reset, /inheritance to one SD; returns the error text or $null. #>
    param($Item, $Sd, $Opt)
    $isDir = $Item.Type -eq 'directory'
    $parent = Get-LabFsItem (Get-LabFsParent $Item.Path)
    if ($Opt.Reset) {
        $Sd.Protected = $false
        $Sd.Aces = New-Object System.Collections.ArrayList
    }
    if ($Opt.Inheritance -eq 'e') { $Sd.Protected = $false }
    elseif ($Opt.Inheritance -eq 'r' -or $Opt.Inheritance -eq 'd') {
        $keepInherited = $Opt.Inheritance -eq 'd'
        $new = New-Object System.Collections.ArrayList
        foreach ($a in $Sd.Aces) {
            if ($a.Flags -notcontains 'ID') { [void]$new.Add($a) }
            elseif ($keepInherited) { $a.Flags = @($a.Flags | Where-Object { $_ -ne 'ID' }); [void]$new.Add($a) }
        }
        $Sd.Aces = $new; $Sd.Protected = $true
    }
    foreach ($spec in $Opt.Removes) {
        $sid = ConvertTo-LabSid $spec
        if ($null -eq $sid) { return "${spec}: No mapping between account names and security IDs was done." }
        $Sd.Aces = New-Object System.Collections.ArrayList (, @($Sd.Aces | Where-Object {
            -not ($_.Sid -eq $sid -and $_.Flags -notcontains 'ID' -and ($Opt.RemoveKind -eq '' -or ($Opt.RemoveKind -eq 'g' -and $_.Type -eq 'A') -or ($Opt.RemoveKind -eq 'd' -and $_.Type -eq 'D'))) }))
    }
    foreach ($pair in @(@($Opt.Denies | ForEach-Object { @{ Spec = $_; Type = 'D' } }) + @($Opt.Grants | ForEach-Object { @{ Spec = $_; Type = 'A' } }))) {
        $ace = ConvertFrom-LabIcaclsPerm $pair.Spec $pair.Type $isDir
        if ($ace -is [string]) { return $ace }
        Add-LabIcaclsAce $Sd $ace ($pair.Type -eq 'A' -and $Opt.GrantReplace)
    }
    if (-not $Sd.Protected) {
        $explicit = @($Sd.Aces | Where-Object { $_.Flags -notcontains 'ID' })
        $inh = @()
        if ($null -ne $parent) { $inh = @(Get-LabFsInheritableAces (Get-LabFsSd $parent) $isDir) }
        $Sd.Aces = New-Object System.Collections.ArrayList (, @($explicit + $inh))
    }
    return $null
}

function Add-LabIcaclsAce {
    <# /grant adds to an explicit ACE of the same SID and flags (/grant:r replaces the SID's grants);
       /deny adds a deny ACE and strips those rights from the SID's explicit grants. #>
    param($Sd, $Ace, [bool]$Replace)
    $key = ($Ace.Flags | Sort-Object) -join ''
    if ($Replace) { $Sd.Aces = New-Object System.Collections.ArrayList (, @($Sd.Aces | Where-Object { -not ($_.Sid -eq $Ace.Sid -and $_.Type -eq 'A' -and $_.Flags -notcontains 'ID') })) }
    if ($Ace.Type -eq 'D') {
        foreach ($a in @($Sd.Aces)) {
            if ($a.Sid -eq $Ace.Sid -and $a.Type -eq 'A' -and $a.Flags -notcontains 'ID') {
                $a.Mask = $a.Mask -band (-bnot $Ace.Mask)
                if ($a.Mask -eq 0) { $Sd.Aces.Remove($a) }
            }
        }
    }
    foreach ($a in $Sd.Aces) {
        if ($a.Sid -eq $Ace.Sid -and $a.Type -eq $Ace.Type -and $a.Flags -notcontains 'ID' -and (($a.Flags | Sort-Object) -join '') -eq $key) {
            $a.Mask = $a.Mask -bor $Ace.Mask
            return
        }
    }
    Add-LabCanonicalAce $Sd $Ace
}

function Write-LabFsFileBytes {
    <# Creates or overwrites a lab file as the caller (icacls /save). Returns error text or $null. #>
    param([string]$Path, [byte[]]$Bytes)
    $parent = Get-LabFsItem (Get-LabFsParent $Path)
    if ($null -eq $parent) { return 'The system cannot find the path specified.' }
    $item = Get-LabFsItem $Path
    if (($null -ne $item -and -not (Test-LabFsAccess $item 0x2)) -or ($null -eq $item -and -not (Test-LabFsAccess $parent 0x2))) { return 'Access is denied.' }
    $sd = Get-LabFsInheritedSd $parent $false
    if ($null -ne $item -and $null -ne $item.Entry) { $sd = Get-LabFsSd $item; $Path = $item.Path }
    Set-LabFsEntry $Path (New-LabFsFileEntry 'file' $sd $Bytes)
    return $null
}

function ConvertTo-LabDocumentsPath {
    <# Relative paths resolve against the remoting session's start folder (the caller's Documents). #>
    param([string]$Path)
    if ($Path -match '^[A-Za-z]:') { return ConvertTo-LabFsPath $Path }
    $user = (Get-LabSidName (Get-LabCallerSid)).Split('\')[-1]
    return ConvertTo-LabFsPath ((Get-LabSystemDrive) + "\Users\$user\Documents\" + $Path)
}

function Invoke-LabIcacls {
    param([string[]]$Argv)
    $res = New-LabNativeResult
    $opt = Read-LabIcaclsArgs $Argv
    if ($opt.Error) { Add-LabOut $res $opt.Error -Err; $res.ExitCode = 87; return $res }
    if ($opt.Restore) { return (Invoke-LabIcaclsRestore $opt $res) }
    $t = Get-LabIcaclsTargets $opt.Name $opt.T
    $ok = 0; $failed = 0; $changed = $false
    $saveLines = New-Object System.Collections.ArrayList
    $base = Get-LabFsParent $t.Path
    if ($t.Items.Count -eq 0) {
        $nf = Get-LabNotFoundText $t.Path
        Add-LabOut $res "$($opt.Name): $($nf.Text)" -Err
        $res.ExitCode = $nf.Code; $failed = 1
    }
    $modify = $opt.Grants.Count -gt 0 -or $opt.Denies.Count -gt 0 -or $opt.Removes.Count -gt 0 -or $opt.Reset -or $opt.Inheritance -or $opt.SetOwner
    foreach ($i in $t.Items) {
        $need = 0x20000
        if ($modify) { $need = 0x40000 }
        if ($opt.SetOwner) { $need = $need -bor 0x80000 }
        if (-not (Test-LabFsAccess $i $need)) {
            Add-LabOut $res "$($i.Path): Access is denied." -Err
            $failed++; $res.ExitCode = 5
            if (-not $opt.C) { break } else { continue }
        }
        $sd = Get-LabFsSd $i
        if ($opt.Save) {
            $rel = $i.Path
            if ($null -ne $base) { $rel = $i.Path.Substring($base.TrimEnd('\').Length + 1) }
            [void]$saveLines.Add($rel); [void]$saveLines.Add((ConvertTo-LabDaclText $sd))
            if (-not $opt.Q) { Add-LabOut $res "processed file: $($i.Path)" }
            $ok++; continue
        }
        if (-not $modify) {
            $aces = @($sd.Aces | ForEach-Object { ConvertTo-LabIcaclsAce $_ })
            $pad = ' ' * ($i.Path.Length + 1)
            for ($k = 0; $k -lt $aces.Count; $k++) {
                if ($k -eq 0) { Add-LabOut $res ($i.Path + ' ' + $aces[0]) } else { Add-LabOut $res ($pad + $aces[$k]) }
            }
            if ($aces.Count -eq 0) { Add-LabOut $res ($i.Path + ' ') }
            Add-LabOut $res ''
            $ok++; continue
        }
        if ($opt.SetOwner) {
            $sid = ConvertTo-LabSid $opt.SetOwner
            if ($null -eq $sid) { Add-LabOut $res "$($opt.SetOwner): No mapping between account names and security IDs was done." -Err; $failed++; $res.ExitCode = 1332; break }
            $sd.Owner = $sid
        }
        $err = Edit-LabIcaclsDacl $i $sd $opt
        if ($err) { Add-LabOut $res $err -Err; $failed++; $res.ExitCode = 1332; if ($err -match '^Invalid') { $res.ExitCode = 87 }; break }
        Set-LabFsSd $i $sd
        Update-LabFsInheritance $i
        $changed = $true
        if (-not $opt.Q) { Add-LabOut $res "processed file: $($i.Path)" }
        $ok++
    }
    if ($opt.Save -and $ok -gt 0) {
        # /save file: UTF-16LE, per file a name line (relative to the name's folder) and a DACL-only SDDL line.
        $text = (@($saveLines) -join "`r`n") + "`r`n"
        $aclPath = ConvertTo-LabDocumentsPath $opt.Save
        $werr = Write-LabFsFileBytes $aclPath ([System.Text.Encoding]::Unicode.GetBytes($text))
        if ($werr) { Add-LabOut $res "${aclPath}: $werr" -Err; $res.ExitCode = 5; if ($werr -match 'path') { $res.ExitCode = 3 } }
        else { $changed = $true }
    }
    if ($changed) { Save-LabState; Write-LabAudit -Command 'icacls' -Detail @{ args = $Argv } }
    Add-LabOut $res "Successfully processed $ok files; Failed processing $failed files"
    return $res
}

function Invoke-LabIcaclsRestore {
    <# icacls <directory> /restore <aclfile>: names in the file are relative to <directory>. #>
    param($Opt, $Res)
    $dir = ConvertTo-LabFsPath $Opt.Name
    $aclPath = ConvertTo-LabDocumentsPath $Opt.Restore
    $file = Get-LabFsItem $aclPath
    if ($null -eq $file -or $file.Type -eq 'directory') {
        $nf = Get-LabNotFoundText $aclPath
        Add-LabOut $Res "$($Opt.Restore): $($nf.Text)" -Err
        $Res.ExitCode = $nf.Code
        Add-LabOut $Res 'Successfully processed 0 files; Failed processing 0 files'
        return $Res
    }
    $bytes = Get-LabFsBytes $file.Entry
    $text = ConvertFrom-LabFileBytes $bytes 'Unicode'
    if (-not ($bytes.Length -ge 2 -and $bytes[0] -eq 0xFF) -and -not ($bytes.Length -ge 3 -and $bytes[0] -eq 0xEF)) { $text = [System.Text.Encoding]::Unicode.GetString($bytes) }
    $lines = @([regex]::Split($text, "`r`n|`n") | Where-Object { $_ -ne '' })
    $ok = 0; $failed = 0
    for ($k = 0; $k + 1 -lt $lines.Count; $k += 2) {
        $target = Join-LabFsPath $dir $lines[$k]
        $item = Get-LabFsItem $target
        if ($null -eq $item) {
            Add-LabOut $Res "${target}: $((Get-LabNotFoundText $target).Text)" -Err
            $failed++; $Res.ExitCode = 2
            if (-not $Opt.C) { break } else { continue }
        }
        if (-not (Test-LabFsAccess $item 0x40000)) {
            Add-LabOut $Res "$($item.Path): Access is denied." -Err
            $failed++; $Res.ExitCode = 5
            if (-not $Opt.C) { break } else { continue }
        }
        $saved = ConvertFrom-LabSddl $lines[$k + 1]
        $sd = Get-LabFsSd $item
        $sd.HasDacl = $saved.HasDacl; $sd.Protected = $saved.Protected; $sd.AutoInherited = $saved.AutoInherited; $sd.Aces = $saved.Aces
        Set-LabFsDacl $item $sd
        if (-not $Opt.Q) { Add-LabOut $Res "processed file: $($item.Path)" }
        $ok++
    }
    if ($ok -gt 0) { Save-LabState; Write-LabAudit -Command 'icacls' -Detail @{ restore = $aclPath; directory = $dir } }
    Add-LabOut $Res "Successfully processed $ok files; Failed processing $failed files"
    return $Res
}

function icacls {
    <# Shadow of icacls.exe: listing, /save, /restore, /grant[:r], /deny, /remove[:g|:d], /setowner,
       /reset, /inheritance:e|d|r, /t, /c, /q. #>
    [CmdletBinding()]
    param([Parameter(ValueFromRemainingArguments = $true)][string[]]$Arguments)
    Invoke-LabFaultPoint 'icacls'
    Use-LabCallerPreference $PSCmdlet
    Write-LabNativeResult $PSCmdlet (Invoke-LabIcacls @($Arguments | Where-Object { $null -ne $_ }))
}

function Invoke-LabTakeown {
    param([string[]]$Argv)
    $res = New-LabNativeResult
    $path = $null; $admins = $false; $recurse = $false; $answer = $null
    for ($i = 0; $i -lt $Argv.Count; $i++) {
        switch -Regex ($Argv[$i]) {
            '^/[fF]$' { $i++; $path = $Argv[$i] }
            '^/[aA]$' { $admins = $true }
            '^/[rR]$' { $recurse = $true }
            '^/[dD]$' { $i++; $answer = ([string]$Argv[$i]).ToUpperInvariant() }
            '^/[sSuUpP]$' { $i++ }
            default { Add-LabOut $res "ERROR: Invalid argument/option - '$($Argv[$i])'." -Err; Add-LabOut $res 'Type "TAKEOWN /?" for usage.' -Err; $res.ExitCode = 1; return $res }
        }
    }
    if (-not $path) { Add-LabOut $res 'ERROR: Invalid syntax. /F must be specified.' -Err; $res.ExitCode = 1; return $res }
    $r = Resolve-LabFsPath (ConvertTo-LabFsPath $path) $false
    if ($r.Items.Count -eq 0) { Add-LabOut $res 'ERROR: The system cannot find the file specified.' -Err; $res.ExitCode = 1; return $res }
    $owner = 'S-1-5-32-544'
    $who = 'the administrators group'
    if (-not $admins) { $owner = Get-LabCallerSid; $who = 'user "' + (Get-LabSidName $owner) + '"' }
    foreach ($i in $r.Items) { Set-LabTakeownTree $i $owner $who $recurse $answer $res }
    Save-LabState
    Write-LabAudit -Command 'takeown' -Detail @{ args = $Argv }
    return $res
}

function Set-LabTakeownTree {
    <# takeown enables SeTakeOwnershipPrivilege: the owner changes whatever the DACL says. With /R a folder
       the caller cannot list triggers the replace-permissions question (/D answers it). #>
    param($Item, [string]$Owner, [string]$Who, [bool]$Recurse, $Answer, $Res)
    $sd = Get-LabFsSd $Item
    $sd.Owner = $Owner
    Set-LabFsSd $Item $sd
    Add-LabOut $Res ''
    Add-LabOut $Res "SUCCESS: The file (or folder): `"$($Item.Path)`" now owned by $Who."
    if (-not $Recurse -or $Item.Type -ne 'directory') { return }
    if (-not (Test-LabFsAccess $Item 0x1)) {
        if ($null -eq $Answer) {
            # Real takeown asks (text from a transcript); a remoting session has no console to answer,
            # taken as N here [UNSOURCED]. /D Y or /D N answers it.
            Add-LabOut $Res 'Do you want to replace the directory permissions with permissions granting you'
            Add-LabOut $Res 'full control ("Y" for YES, "N" for NO or "C" to CANCEL)? '
        }
        if ($Answer -ne 'Y') { return }
        $sd = Get-LabFsSd $Item
        $sd.Protected = $true
        $sd.Aces = New-Object System.Collections.ArrayList
        [void]$sd.Aces.Add((New-LabAce -Mask 0x1F01FF -Sid $Owner))
        Set-LabFsSd $Item $sd
    }
    foreach ($c in (Get-LabFsChildItems $Item.Path)) { Set-LabTakeownTree $c $Owner $Who $true $Answer $Res }
}

function takeown {
    <# Shadow of takeown.exe: /F path [/A] [/R [/D Y|N]]. #>
    [CmdletBinding()]
    param([Parameter(ValueFromRemainingArguments = $true)][string[]]$Arguments)
    Invoke-LabFaultPoint 'takeown'
    Use-LabCallerPreference $PSCmdlet
    Write-LabNativeResult $PSCmdlet (Invoke-LabTakeown @($Arguments | Where-Object { $null -ne $_ }))
}
