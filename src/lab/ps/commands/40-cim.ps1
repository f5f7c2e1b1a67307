# CIM/WMI: Get-CimInstance, Get-WmiObject, Invoke-CimMethod over the lab state.
# Classes: Win32_Service, Win32_OperatingSystem, Win32_ComputerSystem, Win32_UserProfile, Win32_SystemAccount and
# Win32_Group (the well-known ones, 41-accounts.ps1) (root\cimv2) and
# Win32_TSGeneralSetting, Win32_TerminalServiceSetting (root\cimv2\TerminalServices, ref C.3/C.4, section 7-section 9).
# The TS classes are views of the registry (local value vs policy value, ref C.2); their setters write the
# local value and fail with WBEM_E_INVALID_OPERATION when the policy value exists.

$script:LabTsKey = 'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Terminal Server'
$script:LabRdpTcpKey = 'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'
$script:LabTsPolicyKey = 'HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
$script:LabProfileListKey = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'
$script:LabCimClasses = @{
    'root\cimv2'                  = @('Win32_Service', 'Win32_OperatingSystem', 'Win32_ComputerSystem', 'Win32_UserProfile', 'Win32_SystemAccount', 'Win32_Group')
    'root\cimv2\TerminalServices' = @('Win32_TSGeneralSetting', 'Win32_TerminalServiceSetting')
}

# ---------------------------------------------------------------------------------------------------
# Helpers

function Get-LabRegRaw {
    <# A stored registry value converted as Get-ItemProperty returns it, or $null when absent. #>
    param([string]$Key, [string]$Name)
    $k = Get-LabRegKeyName $Key
    if ($null -eq $k) { return $null }
    $v = (Get-LabRegValueSet $k).PSObject.Properties[$Name]
    if ($null -eq $v) { return $null }
    return , (ConvertFrom-LabRegData $v.Value)
}

function Get-LabTsSetting {
    <# Effective value and source of an RDP setting: the policy value wins (ref C.2). Source 1 = group policy,
       0 = local. #>
    param([string]$LocalKey, [string]$Name, $Default, [string]$PolicyName)
    if (-not $PolicyName) { $PolicyName = $Name }
    $pol = Get-LabRegRaw $script:LabTsPolicyKey $PolicyName
    if ($null -ne $pol) { return @{ Value = $pol; Source = [uint32]1 } }
    $loc = Get-LabRegRaw $LocalKey $Name
    if ($null -eq $loc) { $loc = $Default }
    return @{ Value = $loc; Source = [uint32]0 }
}

function ConvertTo-LabDmtfDate {
    param([datetime]$Date)
    # WMI (not CIM) returns datetimes as DMTF strings.
    return $Date.ToUniversalTime().ToString('yyyyMMddHHmmss.ffffff', [cultureinfo]::InvariantCulture) + '+000'
}

function ConvertTo-LabCimNamespace {
    <# 'root/cimv2/terminalservices' -> 'root\cimv2\TerminalServices' (canonical spelling); unknown ones as given. #>
    param([string]$Namespace)
    if (-not $Namespace) { return 'root\cimv2' }
    $n = ($Namespace -replace '/', '\').TrimStart('\')
    foreach ($known in 'root\cimv2', 'root\cimv2\TerminalServices') { if ($n -ieq $known) { return $known } }
    return $n
}

function New-LabCimObject {
    <# A CimInstance (or, -Wmi, ManagementObject) look-alike: the class's properties, PSComputerName and the
       type names PowerShell formats by. #>
    param([string]$Class, [string]$Namespace, [System.Collections.IDictionary]$Properties, [switch]$Wmi)
    $o = New-Object psobject
    $host_ = Get-LabHostName
    if ($Wmi) {
        foreach ($n in '__GENUS', '__CLASS', '__NAMESPACE', '__SERVER') {
            $v = @{ '__GENUS' = 2; '__CLASS' = $Class; '__NAMESPACE' = ($Namespace -replace '^root', 'ROOT'); '__SERVER' = $host_ }[$n]
            $o | Add-Member -NotePropertyName $n -NotePropertyValue $v
        }
    }
    foreach ($k in $Properties.Keys) {
        $v = $Properties[$k]
        if ($Wmi -and $v -is [datetime]) { $v = ConvertTo-LabDmtfDate $v }
        $o | Add-Member -NotePropertyName $k -NotePropertyValue $v
    }
    if ($Wmi) {
        $o | Add-Member -NotePropertyName PSComputerName -NotePropertyValue $host_
        $o.PSObject.TypeNames.Insert(0, "System.Management.ManagementObject#$Namespace\$Class")
    } else {
        $o | Add-Member -NotePropertyName PSComputerName -NotePropertyValue $null
        $sys = [pscustomobject]@{ Namespace = ($Namespace -replace '\\', '/'); ServerName = $host_; ClassName = $Class; Path = $null }
        $o | Add-Member -MemberType NoteProperty -Name CimSystemProperties -Value $sys
        $o.PSObject.TypeNames.Insert(0, 'Microsoft.Management.Infrastructure.CimInstance')
        $o.PSObject.TypeNames.Insert(0, "Microsoft.Management.Infrastructure.CimInstance#$Class")
        $o.PSObject.TypeNames.Insert(0, "Microsoft.Management.Infrastructure.CimInstance#$($Namespace -replace '\\', '/')/$Class")
    }
    return $o
}

function New-LabCimError {
    <# CimException records as the CIM cmdlets write them: message = WMI status text (with its trailing space),
       FQID 'HRESULT 0x8004xxxx,<cmdlet class>' (sample: 'Invalid class ', HRESULT 0x80041010, MetadataError). #>
    param([string]$Message, [string]$HResult, [System.Management.Automation.ErrorCategory]$Category, $Target, [string]$CmdletClass)
    $ex = New-Object Microsoft.Management.Infrastructure.CimException($Message)
    $er = New-LabErrorRecord -Exception $ex -ErrorId "HRESULT $HResult,Microsoft.Management.Infrastructure.CimCmdlets.$CmdletClass" -Category $Category -Target $Target
    $class = $null
    if ($null -ne $Target -and $Target -isnot [string]) { $class = Get-LabCimClassOf $Target }
    if ($class) {
        # A CimInstance target prints as 'Class (Key = "value")' of type CimInstance.
        $keyText = @{ Win32_TSGeneralSetting = 'TerminalName = "RDP-Tcp"'; Win32_TerminalServiceSetting = "ServerName = `"$(Get-LabHostName)`"" }[$class]
        $er.CategoryInfo.TargetName = "$class ($keyText)"
        $er.CategoryInfo.TargetType = 'CimInstance'
    }
    return $er
}

# ---------------------------------------------------------------------------------------------------
# Class instances (ordered property bags)

function Get-LabCimWin32Service {
    <# ProcessId is the hosting process while the service is not stopped (a start- or stop-pending service has
       one); AcceptStop is false while pending (StartService sets "controls accepted" to zero until the service
       reports running). #>
    $modes = @{ Automatic = 'Auto'; Manual = 'Manual'; Disabled = 'Disabled'; Boot = 'Boot'; System = 'System' }
    $states = @{ Running = 'Running'; Stopped = 'Stopped'; StartPending = 'Start Pending'; StopPending = 'Stop Pending'; Paused = 'Paused' }
    foreach ($s in @((Get-LabState).services | Sort-Object Name)) {
        $running = [string]$s.Status -ne 'Stopped'
        $procId = [uint32]0
        if ($running) { $procId = [uint32]$s.ProcessId }
        $startName = 'LocalSystem'
        if ($s.Name -ieq 'TermService') { $startName = 'NT Authority\NetworkService' }
        [ordered]@{
            Name = [string]$s.Name; Caption = [string]$s.DisplayName; DisplayName = [string]$s.DisplayName; Description = ''
            State = $states[[string]$s.Status]; StartMode = $modes[[string]$s.StartType]; Started = $running
            AcceptStop = ([string]$s.Status -eq 'Running' -and [bool]$s.CanStop); AcceptPause = $false; ProcessId = $procId
            ExitCode = [uint32]0; ServiceSpecificExitCode = [uint32]0; Status = 'OK'; ServiceType = 'Share Process'
            StartName = $startName; DelayedAutoStart = $false; SystemName = (Get-LabHostName)
        }
    }
}

function Get-LabCimTsGeneralSetting {
    $ua = Get-LabTsSetting -LocalKey $script:LabRdpTcpKey -Name 'UserAuthentication' -Default 0
    $sl = Get-LabTsSetting -LocalKey $script:LabRdpTcpKey -Name 'SecurityLayer' -Default 1
    $me = Get-LabTsSetting -LocalKey $script:LabRdpTcpKey -Name 'MinEncryptionLevel' -Default 2
    $hashBytes = Get-LabRegRaw $script:LabRdpTcpKey 'SSLCertificateSHA1Hash'
    $hash = ''
    $hashType = [uint32]0
    if ($null -ne $hashBytes) {
        $hash = (@($hashBytes | ForEach-Object { ([int]$_).ToString('X2') }) -join '')
        $hashType = Get-LabCimCertHashType $hash
    }
    [ordered]@{
        Caption = $null; Description = $null; InstallDate = $null; Name = $null; Status = $null
        TerminalName = 'RDP-Tcp'; CertificateName = ''; Certificates = [byte[]](New-Object byte[] 16); Comment = ''
        MinEncryptionLevel = [uint32]$me.Value; PolicySourceMinEncryptionLevel = $me.Source
        PolicySourceSecurityLayer = $sl.Source; PolicySourceUserAuthenticationRequired = $ua.Source
        SecurityLayer = [uint32]$sl.Value; SSLCertificateSHA1Hash = $hash; SSLCertificateSHA1HashType = $hashType
        TerminalProtocol = 'Microsoft RDP 8.0'; Transport = 'tcp'; UserAuthenticationRequired = [uint32]$ua.Value
        WindowsAuthentication = [uint32]0
    }
}

function Get-LabCimCertHashType {
    <# 1 = the self-signed cert in 'Remote Desktop', 3 = a custom cert in 'My', 0 = in no store (W32 doc: 0 not
       valid, 1 default self-signed, 2 GP-enforced, 3 custom). #>
    param([string]$Hash)
    $stores = (Get-LabState).certificates
    foreach ($pair in @(@('LocalMachine\Remote Desktop', 1), @('LocalMachine\My', 3))) {
        $p = $stores.PSObject.Properties[$pair[0]]
        if ($null -ne $p -and (@($p.Value) | Where-Object { $_.Thumbprint -ieq $Hash })) { return [uint32]$pair[1] }
    }
    return [uint32]0
}

function Get-LabCimTerminalServiceSetting {
    $deny = Get-LabTsSetting -LocalKey $script:LabTsKey -Name 'fDenyTSConnections' -Default 1
    $single = Get-LabTsSetting -LocalKey $script:LabTsKey -Name 'fSingleSessionPerUser' -Default 1
    $lic = Get-LabTsSetting -LocalKey $script:LabTsKey -Name 'LicensingMode' -Default 1
    $drain = Get-LabRegRaw $script:LabTsKey 'TSServerDrainMode'
    if ($null -eq $drain) { $drain = 0 }
    $logons = Get-LabRegRaw $script:LabTsKey 'WinStationsDisabled'
    if ($null -eq $logons) { $logons = 0 }
    [ordered]@{
        Caption = $null; Description = $null; InstallDate = $null; Name = $null; Status = $null
        ServerName = (Get-LabHostName); TerminalServerMode = [uint32]0; GetCapabilitiesID = [uint32]0
        LicensingType = [uint32]$lic.Value; PolicySourceLicensingType = $lic.Source; PossibleLicensingTypes = [uint32]4
        LicensingName = 'Remote Desktop for Administration'; LicensingDescription = ''; ActiveDesktop = [uint32]0; UserPermission = [uint32]0
        DeleteTempFolders = [uint32]1; PolicySourceDeleteTempFolders = [uint32]0; UseTempFolders = [uint32]1; PolicySourceUseTempFolders = [uint32]0
        AllowTSConnections = [uint32](1 - [int]([int]$deny.Value -ne 0)); PolicySourceAllowTSConnections = $deny.Source
        SingleSession = [uint32]([int]([int]$single.Value -ne 0)); PolicySourceSingleSession = $single.Source
        ProfilePath = ''; PolicySourceProfilePath = [uint32]0; HomeDirectory = ''; PolicySourceHomeDirectory = [uint32]0
        TimeZoneRedirection = [uint32]0; PolicySourceTimeZoneRedirection = [uint32]0; Logons = [string][int]$logons
        DirectConnectLicenseServers = ''; PolicySourceDirectConnectLicenseServers = [uint32]0; PolicySourceConfiguredLicenseServers = [uint32]0
        DisableForcibleLogoff = [uint32]0; PolicySourceDisableForcibleLogoff = [uint32]0; FallbackPrintDriverType = [uint32]0
        PolicySourceFallbackPrintDriverType = [uint32]0; SessionBrokerDrainMode = [uint32]$drain; LimitedUserSessions = [uint32]0
    }
}

function Get-LabCimUserProfile {
    <# Win32_UserProfile from ProfileList (+ .bak twins), the profile folders in state.files and the sessions.
       Status bits (1 temporary, 8 corrupted): derivation [UNSOURCED], see the facts file. #>
    $plKey = Get-LabRegKeyName $script:LabProfileListKey
    if ($null -eq $plKey) { return }
    $subs = @(Get-LabRegSubKeyNames $plKey | ForEach-Object { (Split-LabRegKey $_).Leaf })
    $sids = @($subs | ForEach-Object { $_ -replace '\.bak$', '' } | Select-Object -Unique)
    $sessions = @((Get-LabState).sessions | Where-Object { $_.UserName })
    foreach ($sid in $sids) {
        $hasMain = $subs -contains $sid
        $hasBak = $subs -contains "$sid.bak"
        $leaf = $sid
        if (-not $hasMain) { $leaf = "$sid.bak" }
        $key = "$plKey\$leaf"
        $path = Get-LabRegRaw $key 'ProfileImagePath'
        $special = $sid -in 'S-1-5-18', 'S-1-5-19', 'S-1-5-20'
        $user = ''
        if ($path) { $user = Split-Path -Leaf ([string]$path) }
        $session = @($sessions | Where-Object { $_.UserName -ieq $user } | Sort-Object LogonTime | Select-Object -First 1)
        $folder = $false
        if ($path) { $folder = $null -ne (Get-LabState).files.Find([string]$path) }
        $status = [uint32]0
        if ($path -match '\\TEMP(\.[^\\]*)?$') { $status = $status -bor 1 }
        if ($hasBak -or (-not $special -and -not $folder)) { $status = $status -bor 8 }
        $refCount = Get-LabRegRaw $key 'RefCount'
        if ($null -eq $refCount) { $refCount = 0 }
        $lastUse = $null
        if ($session.Count -gt 0 -and $session[0].LogonTime) { $lastUse = [datetime]::Parse([string]$session[0].LogonTime, [cultureinfo]::InvariantCulture, 'RoundtripKind').ToLocalTime() }
        [ordered]@{
            SID = $sid; LocalPath = [string]$path; Loaded = ($special -or $session.Count -gt 0); RefCount = [uint32]$refCount
            Special = $special; Status = $status; LastUseTime = $lastUse; RoamingConfigured = $false; RoamingPath = $null
            RoamingPreference = $null; LastDownloadTime = $null; LastUploadTime = $null; HealthStatus = [byte]3
        }
    }
}

function Get-LabCimOperatingSystem {
    $s = Get-LabState
    $boot = (Get-Date).AddDays(-1)
    $logons = @($s.sessions | Where-Object { $_.LogonTime } | ForEach-Object { [datetime]::Parse([string]$_.LogonTime, [cultureinfo]::InvariantCulture, 'RoundtripKind').ToLocalTime() } | Sort-Object)
    if ($logons.Count -gt 0) { $boot = $logons[0].AddHours(-1) }
    # A restart the lab's clock simulated (`rdpfix lab advance --reboot`) is the boot time.
    $rebooted = Get-LabBootTime
    if ($rebooted) { $boot = [datetime]::Parse([string]$rebooted, [cultureinfo]::InvariantCulture, 'RoundtripKind').ToLocalTime() }
    $ptype = [uint32]3
    if ($s.os.productType -eq 'Workstation') { $ptype = [uint32]1 }
    [ordered]@{
        Caption = [string]$s.os.caption; Version = [string]$s.os.version; BuildNumber = [string]$s.os.buildNumber
        CSName = [string]$s.computerName; LastBootUpTime = $boot; LocalDateTime = (Get-Date); OSArchitecture = '64-bit'
        ProductType = $ptype; OSType = [uint16]18; SystemDrive = (Get-LabSystemDrive); WindowsDirectory = ((Get-LabSystemDrive) + '\Windows'); Locale = '0409'
    }
}

function Get-LabCimComputerSystem {
    $s = Get-LabState
    $domain = 'WORKGROUP'
    $joined = $false
    if ($s.domain) { $domain = [string]$s.domain; $joined = $true }
    $role = [uint16]2
    if ($joined) { $role = [uint16]3 }
    if ($s.os.productType -eq 'Workstation') { $role = [uint16]([int]$joined) }
    $o = [ordered]@{
        Name = [string]$s.computerName; DNSHostName = ([string]$s.computerName).ToLowerInvariant(); Domain = $domain
        PartOfDomain = $joined; DomainRole = $role; Manufacturer = 'Microsoft Corporation'; Model = 'Virtual Machine'
        TotalPhysicalMemory = [uint64]8589934592
    }
    if (-not $joined) { $o['Workgroup'] = 'WORKGROUP' }
    $o
}

function Get-LabCimInstances {
    param([string]$Class)
    switch ($Class) {
        'Win32_Service' { Get-LabCimWin32Service }
        'Win32_TSGeneralSetting' { Get-LabCimTsGeneralSetting }
        'Win32_TerminalServiceSetting' { Get-LabCimTerminalServiceSetting }
        'Win32_UserProfile' { Get-LabCimUserProfile }
        'Win32_OperatingSystem' { Get-LabCimOperatingSystem }
        'Win32_ComputerSystem' { Get-LabCimComputerSystem }
        'Win32_SystemAccount' { Get-LabCimAccounts -Class 'Win32_SystemAccount' }
        'Win32_Group' { Get-LabCimAccounts -Class 'Win32_Group' }
    }
}

# ---------------------------------------------------------------------------------------------------
# WQL filter: conditions joined by AND, each  Prop = 'x' | "x" | number  (also <>, !=, LIKE with %).

function Test-LabWqlFilter {
    <# $true / $false, or 'invalid' for a filter the lab cannot parse or that names no property. #>
    param([System.Collections.IDictionary]$Props, [string]$Filter)
    if (-not $Filter) { return $true }
    foreach ($cond in ($Filter -split '\s+AND\s+', 0, 'IgnoreCase')) {
        if ($cond.Trim() -notmatch '^\(?\s*(?<p>\w+)\s*(?<op>=|<>|!=|LIKE)\s*(?<v>''[^'']*''|"[^"]*"|[-\w.]+)\s*\)?$') { return 'invalid' }
        $name = $Matches['p']; $op = $Matches['op'].ToUpperInvariant(); $want = $Matches['v']
        $key = @($Props.Keys | Where-Object { $_ -ieq $name })
        if ($key.Count -eq 0) { return 'invalid' }
        $have = $Props[$key[0]]
        if ($want -match '^[''"](.*)[''"]$') { $want = $Matches[1] }
        $equal = [string]$have -ieq $want
        if ($have -is [bool]) { $equal = ([string][int]$have -eq $want) -or ([string]$have -ieq $want) }
        switch ($op) {
            '=' { if (-not $equal) { return $false } }
            { $_ -in '<>', '!=' } { if ($equal) { return $false } }
            'LIKE' { if ([string]$have -notlike ($want -replace '%', '*' -replace '_', '?')) { return $false } }
        }
    }
    return $true
}

function Get-LabCimQueryResult {
    <# Shared by Get-CimInstance and Get-WmiObject: class lookup in the namespace, filter, object building. #>
    param([string]$Class, [string]$Namespace, [string]$Filter, [string]$Query, $Cmdlet, [string]$CmdletClass, [switch]$Wmi)
    $ns = ConvertTo-LabCimNamespace $Namespace
    if ($Query) {
        if ($Query -notmatch '^\s*SELECT\s+\*\s+FROM\s+(?<c>\w+)(\s+WHERE\s+(?<w>.+))?\s*$') { throw "not implemented in the lab: WQL query '$Query'" }
        $Class = $Matches['c']; $Filter = ''
        if ($Matches['w']) { $Filter = $Matches['w'] }
    }
    if (-not $script:LabCimClasses.ContainsKey($ns)) {
        $Cmdlet.WriteError((New-LabCimError -Message 'Invalid namespace ' -HResult '0x8004100e' -Category MetadataError -Target "$ns`:$Class" -CmdletClass $CmdletClass))
        return
    }
    $known = @($script:LabCimClasses[$ns] | Where-Object { $_ -ieq $Class })
    if ($known.Count -eq 0) {
        $Cmdlet.WriteError((New-LabCimError -Message 'Invalid class ' -HResult '0x80041010' -Category MetadataError -Target "$ns`:$Class" -CmdletClass $CmdletClass))
        return
    }
    $Class = $known[0]
    foreach ($props in @(Get-LabCimInstances $Class)) {
        $ok = Test-LabWqlFilter -Props $props -Filter $Filter
        if ($ok -is [string]) {
            $Cmdlet.WriteError((New-LabCimError -Message 'Invalid query ' -HResult '0x80041017' -Category InvalidArgument -Target $Filter -CmdletClass $CmdletClass))
            return
        }
        if ($ok) { New-LabCimObject -Class $Class -Namespace $ns -Properties $props -Wmi:$Wmi }
    }
}

# ---------------------------------------------------------------------------------------------------
# Methods of the TerminalServices classes

function Invoke-LabTsMethod {
    <# Runs a setter. Returns its ReturnValue (0), or $null when the policy value controls the setting. #>
    param([string]$Class, [string]$Method, [System.Collections.IDictionary]$Arguments)
    $arg = { param($n) $k = @($Arguments.Keys | Where-Object { $_ -ieq $n }); if ($k.Count -eq 0) { return $null }; return $Arguments[$k[0]] }
    $spec = @{
        'Win32_TSGeneralSetting.SetUserAuthenticationRequired' = @($script:LabRdpTcpKey, 'UserAuthentication', 'UserAuthenticationRequired')
        'Win32_TSGeneralSetting.SetSecurityLayer'              = @($script:LabRdpTcpKey, 'SecurityLayer', 'SecurityLayer')
        'Win32_TerminalServiceSetting.SetAllowTSConnections'   = @($script:LabTsKey, 'fDenyTSConnections', 'AllowTSConnections')
        'Win32_TerminalServiceSetting.SetSingleSession'        = @($script:LabTsKey, 'fSingleSessionPerUser', 'SingleSession')
    }["$Class.$Method"]
    if ($null -eq $spec) { throw "not implemented in the lab: $Class.$Method" }
    if ($null -ne (Get-LabRegRaw $script:LabTsPolicyKey $spec[1])) { return $null }
    $value = [int](& $arg $spec[2])
    if ($Method -eq 'SetAllowTSConnections') { $value = [int]($value -eq 0) }
    $key = Add-LabRegKey $spec[0]
    [void](Set-LabRegValue -KeyName $key -Name $spec[1] -Value $value -Kind 'DWord')
    $firewall = $false
    if ($Method -eq 'SetAllowTSConnections' -and [int](& $arg 'ModifyFirewallException') -eq 1) {
        # SetAllowTSConnections(..., ModifyFirewallException=1) also toggles the Remote Desktop exception (W32 doc).
        $enabled = 'True'
        if ($value -eq 1) { $enabled = 'False' }
        foreach ($r in @((Get-LabState).firewall.rules | Where-Object { $_.Group -eq '@FirewallAPI.dll,-28752' -and $_.PolicyStoreSourceType -ne 'GroupPolicy' })) { $r.Enabled = $enabled }
        $firewall = $true
    }
    Save-LabState
    Write-LabAudit -Command 'Invoke-CimMethod' -Detail ([ordered]@{ class = $Class; method = $Method; key = $key; name = $spec[1]; value = $value; firewall = $firewall })
    return [uint32]0
}

function Get-LabCimClassOf {
    param($Object)
    if ($null -ne $Object.PSObject.Properties['CimSystemProperties']) { return [string]$Object.CimSystemProperties.ClassName }
    if ($null -ne $Object.PSObject.Properties['__CLASS']) { return [string]$Object.__CLASS }
    return $null
}

# ---------------------------------------------------------------------------------------------------
# Cmdlets

function Get-CimInstance {
    [CmdletBinding(DefaultParameterSetName = 'ClassNameComputerSet')]
    param(
        [Parameter(ParameterSetName = 'ClassNameComputerSet', Mandatory, Position = 0)][string]$ClassName,
        [Parameter(ParameterSetName = 'QuerySessionSet', Mandatory)][Parameter(ParameterSetName = 'QueryComputerSet', Mandatory)][string]$Query,
        [string]$Namespace, [string]$Filter, [Alias('SelectProperties')][string[]]$Property, [Alias('CN', 'ServerName')][string[]]$ComputerName,
        [object[]]$CimSession, [Alias('OT')][uint32]$OperationTimeoutSec, [switch]$KeyOnly, [switch]$Shallow, [string]$QueryDialect
    )
    Invoke-LabFaultPoint 'Get-CimInstance'
    Use-LabCallerPreference $PSCmdlet
    Get-LabCimQueryResult -Class $ClassName -Namespace $Namespace -Filter $Filter -Query $Query -Cmdlet $PSCmdlet -CmdletClass 'GetCimInstanceCommand'
}

function Get-WmiObject {
    [CmdletBinding(DefaultParameterSetName = 'query')]
    param(
        [Parameter(ParameterSetName = 'query', Mandatory, Position = 0)][Alias('ClassName')][string]$Class,
        [Parameter(ParameterSetName = 'query', Position = 1)][string[]]$Property,
        [Parameter(ParameterSetName = 'WQLQuery', Mandatory)][string]$Query,
        [string]$Namespace, [string]$Filter, [Alias('Cn')][string[]]$ComputerName,
        [object]$Authentication, [object]$Impersonation,
        [pscredential]$Credential, [switch]$EnableAllPrivileges, [switch]$AsJob, [switch]$Amended, [switch]$DirectRead, [switch]$List
    )
    Invoke-LabFaultPoint 'Get-WmiObject'
    Use-LabCallerPreference $PSCmdlet
    foreach ($o in @(Get-LabCimQueryResult -Class $Class -Namespace $Namespace -Filter $Filter -Query $Query -Cmdlet $PSCmdlet -CmdletClass 'GetWmiObjectCommand' -Wmi)) {
        Add-LabWmiMethods $o
        $o
    }
}

function Add-LabWmiMethods {
    <# WMI objects carry their methods: $ts.SetUserAuthenticationRequired(0) returns a __PARAMETERS object with
       ReturnValue; under group policy the call throws (ManagementException 'Invalid operation '). #>
    param($Object)
    $methods = @{
        Win32_TSGeneralSetting       = @(@('SetUserAuthenticationRequired', 'UserAuthenticationRequired'), @('SetSecurityLayer', 'SecurityLayer'))
        Win32_TerminalServiceSetting = @(@('SetAllowTSConnections', 'AllowTSConnections', 'ModifyFirewallException'), @('SetSingleSession', 'SingleSession'))
    }[[string]$Object.__CLASS]
    foreach ($m in @($methods)) {
        if ($null -eq $m) { continue }
        $body = [scriptblock]::Create(@"
`$a = @{}
`$names = @('$($m[1..($m.Count - 1)] -join "','")')
for (`$i = 0; `$i -lt `$args.Count -and `$i -lt `$names.Count; `$i++) { `$a[`$names[`$i]] = `$args[`$i] }
`$rv = Invoke-LabTsMethod -Class '$($Object.__CLASS)' -Method '$($m[0])' -Arguments `$a
if (`$null -eq `$rv) { throw 'Invalid operation ' }
`$r = [pscustomobject]@{ ReturnValue = `$rv }
`$r.PSObject.TypeNames.Insert(0, 'System.Management.ManagementBaseObject#\__PARAMETERS')
return `$r
"@)
        $Object | Add-Member -MemberType ScriptMethod -Name $m[0] -Value $body
    }
}

function Invoke-CimMethod {
    [CmdletBinding(DefaultParameterSetName = 'CimInstanceComputerSet', SupportsShouldProcess = $true)]
    param(
        [Parameter(ParameterSetName = 'CimInstanceComputerSet', Mandatory, Position = 0, ValueFromPipeline)][Alias('CimInstance')][psobject]$InputObject,
        [Parameter(ParameterSetName = 'ClassNameComputerSet', Mandatory, Position = 0)][string]$ClassName,
        [Parameter(ParameterSetName = 'QueryComputerSet', Mandatory)][string]$Query,
        [Parameter(Mandatory, Position = 1)][Alias('Name')][string]$MethodName,
        [Parameter(Position = 2)][System.Collections.IDictionary]$Arguments,
        [string]$Namespace, [Alias('CN', 'ServerName')][string[]]$ComputerName, [object[]]$CimSession, [Alias('OT')][uint32]$OperationTimeoutSec
    )
    process {
        Invoke-LabFaultPoint 'Invoke-CimMethod'
        Use-LabCallerPreference $PSCmdlet
        $targets = @()
        if ($PSCmdlet.ParameterSetName -eq 'CimInstanceComputerSet') { $targets = @($InputObject) }
        else { $targets = @(Get-LabCimQueryResult -Class $ClassName -Namespace $Namespace -Query $Query -Cmdlet $PSCmdlet -CmdletClass 'InvokeCimMethodCommand') }
        if ($null -eq $Arguments) { $Arguments = @{} }
        foreach ($t in $targets) {
            $class = Get-LabCimClassOf $t
            if (-not $PSCmdlet.ShouldProcess("$class", $MethodName)) { continue }
            $rv = Invoke-LabTsMethod -Class $class -Method $MethodName -Arguments $Arguments
            if ($null -eq $rv) {
                # WBEM_E_INVALID_OPERATION: "returned on an attempt to modify a server-override property through
                # group policy control" (W32 win32-terminalservicesetting.md).
                $PSCmdlet.WriteError((New-LabCimError -Message 'Invalid operation ' -HResult '0x80041016' -Category InvalidOperation -Target $t -CmdletClass 'InvokeCimMethodCommand'))
                continue
            }
            $r = [pscustomobject]@{ ReturnValue = $rv; PSComputerName = $null }
            $r.PSObject.TypeNames.Insert(0, "Microsoft.Management.Infrastructure.CimMethodResult#$class#$MethodName")
            $r
        }
    }
}
