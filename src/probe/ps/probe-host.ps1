# Read-only RDP health probe, run on the host (Windows PowerShell 5.1 or later). Changes nothing. The step prelude
# (playbooks/_shared/prelude.ps1) is inserted after the param block when it is sent (src/probe/probe.ts).
# Returns exactly one JSON object. Each section is read on its own: one failing read does not hide the rest.
param([string]$InputJson = '{}')
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$tsKey = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server'
$rdpKey = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'
$policyKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
# hostname.exe, not $env:COMPUTERNAME: the environment is per process, the lab shadows commands.
$result = [ordered]@{ computerName = [string](hostname); sections = [ordered]@{}; errors = [ordered]@{} }

function Read-Section {
    # -List keeps a one-item list a list (PowerShell unrolls what a script block outputs).
    param([string]$Name, [scriptblock]$Read, [switch]$List)
    try {
        if ($List) { $result.sections[$Name] = @(& $Read) } else { $result.sections[$Name] = & $Read }
    }
    catch { $result.errors[$Name] = [ordered]@{ message = $_.ToString(); fqid = $_.FullyQualifiedErrorId } }
}

$regCache = @{}
function Get-RegValue {
    # A missing value or key reads as $null. Each key is read once, all its values at a time (Get-ItemProperty
    # without -Name), and kept for the rest of the probe: one call per key, not per value.
    param([string]$Key, [string]$Name)
    if (-not $regCache.ContainsKey($Key)) {
        $values = @{}
        $item = Get-ItemProperty -Path $Key -ErrorAction SilentlyContinue
        if ($null -ne $item) {
            foreach ($p in $item.PSObject.Properties) {
                if (@('PSPath', 'PSParentPath', 'PSChildName', 'PSDrive', 'PSProvider') -notcontains $p.Name) { $values[$p.Name] = $p.Value }
            }
        }
        $regCache[$Key] = $values
    }
    $cached = $regCache[$Key]
    if ($cached.ContainsKey($Name)) { return $cached[$Name] }
    return $null
}

Read-Section 'clock' {
    # The host's clock (certificate expiry is judged by it) and its last boot (a lower bound of every service's start).
    $os = @(Get-CimInstance -ClassName Win32_OperatingSystem -ErrorAction Stop) | Select-Object -First 1
    $boot = $null
    if ($null -ne $os -and $null -ne $os.LastBootUpTime) { $boot = ([datetime]$os.LastBootUpTime).ToUniversalTime().ToString('o') }
    [ordered]@{ utcNow = (Get-Date).ToUniversalTime().ToString('o'); lastBoot = $boot }
}
Read-Section 'services' -List {
    # With the services that depend on each (UmRdpService depends on TermService, reference 1.1).
    @(Get-Service -Name TermService, UmRdpService, SessionEnv -ErrorAction Stop | ForEach-Object {
        [ordered]@{
            name       = $_.Name
            status     = $_.Status.ToString()
            startType  = $_.StartType.ToString()
            dependents = @($_.DependentServices | ForEach-Object { [ordered]@{ name = [string]$_.Name; status = $_.Status.ToString(); startType = $_.StartType.ToString() } })
        }
    })
}
Read-Section 'termService' {
    # When its process started: Schannel/TermService events older than that are history. The process may host
    # other services too (svchost -k NetworkService, reference 1.1): then it started no later than TermService
    # did - a lower bound, which is all the history test needs.
    $cim = @(Get-CimInstance -ClassName Win32_Service -Filter "Name='TermService'" -ErrorAction Stop) | Select-Object -First 1
    $procId = 0
    if ($null -ne $cim -and $null -ne $cim.ProcessId) { $procId = [int]$cim.ProcessId }
    $started = $null
    if ($procId -gt 0) {
        $proc = @(Get-CimInstance -ClassName Win32_Process -Filter "ProcessId=$procId" -ErrorAction SilentlyContinue) | Select-Object -First 1
        if ($null -ne $proc -and $null -ne $proc.CreationDate) { $started = ([datetime]$proc.CreationDate).ToUniversalTime().ToString('o') }
    }
    [ordered]@{ processId = $procId; processStart = $started }
}
Read-Section 'rdp' {
    [ordered]@{
        fDenyTSConnections       = Get-RegValue $tsKey 'fDenyTSConnections'
        policyFDenyTSConnections = Get-RegValue $policyKey 'fDenyTSConnections'
        portNumber               = Get-RegValue $rdpKey 'PortNumber'
        userAuthentication       = Get-RegValue $rdpKey 'UserAuthentication'
        policyUserAuthentication = Get-RegValue $policyKey 'UserAuthentication'
        securityLayer            = Get-RegValue $rdpKey 'SecurityLayer'
        policySecurityLayer      = Get-RegValue $policyKey 'SecurityLayer'
        # 1 Low, 2 Client Compatible, 3 High, 4 FIPS; TLS (SecurityLayer 2) is not valid with 1 (reference 7.1).
        minEncryptionLevel       = Get-RegValue $rdpKey 'MinEncryptionLevel'
        policyMinEncryptionLevel = Get-RegValue $policyKey 'MinEncryptionLevel'
        maxInstanceCount         = Get-RegValue $rdpKey 'MaxInstanceCount'
        policyMaxInstanceCount   = Get-RegValue $policyKey 'MaxInstanceCount'
        fSingleSessionPerUser    = Get-RegValue $tsKey 'fSingleSessionPerUser'
        # CredSSP "Encryption Oracle Remediation": 0 = Force Updated Clients (reference 7.2).
        allowEncryptionOracle    = Get-RegValue 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System\CredSSP\Parameters' 'AllowEncryptionOracle'
    }
}
Read-Section 'networkProfiles' -List {
    @(Get-NetConnectionProfile -ErrorAction Stop | ForEach-Object {
        [ordered]@{ interfaceAlias = $_.InterfaceAlias; interfaceIndex = $_.InterfaceIndex; category = $_.NetworkCategory.ToString() }
    })
}
Read-Section 'firewall' -List {
    @(Get-NetFirewallRule -Name 'RemoteDesktop-UserMode-In-TCP', 'RemoteDesktop-UserMode-In-UDP' -ErrorAction SilentlyContinue | ForEach-Object {
        [ordered]@{ name = $_.Name; enabled = "$($_.Enabled)" -eq 'True'; profile = $_.Profile.ToString() }
    })
}
Read-Section 'rdpPortFirewall' {
    # The rules that cover the RDP port actually in use (PortNumber), from every store (ActiveStore includes group
    # policy, reference 4.2), and the profiles' switches; diagnosis decides per active network profile. Filters are
    # read once each and joined by InstanceID (= the rule's Name): one query per filter class, not per rule.
    $port = Get-RegValue $rdpKey 'PortNumber'
    if ($null -eq $port) { $port = 3389 }
    $port = [int]$port
    $ports = @{}
    foreach ($f in @(Get-NetFirewallPortFilter -PolicyStore ActiveStore -ErrorAction Stop)) {
        $proto = [string]$f.Protocol
        if ($proto -ne 'TCP' -and $proto -ne 'Any' -and $proto -ne '6') { continue }
        $covered = $false
        foreach ($p in @($f.LocalPort)) {
            $t = ([string]$p).Trim()
            if ($t -eq 'Any') { $covered = $true }
            elseif ($t -match '^\d+$' -and [int]$t -eq $port) { $covered = $true }
            elseif ($t -match '^(\d+)-(\d+)$' -and $port -ge [int]$Matches[1] -and $port -le [int]$Matches[2]) { $covered = $true }
        }
        if ($covered) { $ports[[string]$f.InstanceID] = (@($f.LocalPort) | ForEach-Object { [string]$_ }) -join ',' }
    }
    $programs = @{}
    $services = @{}
    $rules = New-Object System.Collections.ArrayList   # not `+=`: a host may have tens of thousands of rules
    if ($ports.Count -gt 0) {
        foreach ($a in @(Get-NetFirewallApplicationFilter -PolicyStore ActiveStore -ErrorAction Stop)) {
            if ($ports.ContainsKey([string]$a.InstanceID)) { $programs[[string]$a.InstanceID] = [string]$a.Program }
        }
        foreach ($v in @(Get-NetFirewallServiceFilter -PolicyStore ActiveStore -ErrorAction Stop)) {
            if ($ports.ContainsKey([string]$v.InstanceID)) { $services[[string]$v.InstanceID] = [string]$v.Service }
        }
        foreach ($r in @(Get-NetFirewallRule -PolicyStore ActiveStore -ErrorAction Stop)) {
            $id = [string]$r.Name
            if (-not $ports.ContainsKey($id)) { continue }
            [void]$rules.Add([ordered]@{
                    name      = $id
                    enabled   = "$($r.Enabled)" -eq 'True'
                    direction = "$($r.Direction)"
                    action    = "$($r.Action)"
                    profile   = "$($r.Profile)"
                    localPort = $ports[$id]
                    program   = $programs[$id]
                    service   = $services[$id]
                    source    = "$($r.PolicyStoreSourceType)"
                })
        }
    }
    $profiles = @(Get-NetFirewallProfile -PolicyStore ActiveStore -ErrorAction Stop | ForEach-Object {
            # In ActiveStore an unset switch means Windows' default: firewall on, inbound blocked, local rules merged.
            # AllowLocalFirewallRules False: group policy's "Apply local firewall rules: No" (only GPO rules count).
            [ordered]@{ name = [string]$_.Name; enabled = "$($_.Enabled)" -ne 'False'; defaultInboundAction = "$($_.DefaultInboundAction)"; allowLocalRules = "$($_.AllowLocalFirewallRules)" -ne 'False' }
        })
    [ordered]@{ port = $port; profiles = $profiles; rules = @($rules) }
}
Read-Section 'sessions' -List {
    # Every session, through the WTS API (the prelude's Get-RdpfixSessions): states as WTS_CONNECTSTATE_CLASS
    # numbers, never quser's localized words. Fails (an error for this section) where TermService is not running.
    $all = Get-RdpfixSessions
    $all
}
Read-Section 'listener' {
    # TermService listens: a socket in state Listen on PortNumber owned by TermService's process (reference 1.5).
    # Not qwinsta: its STATE word is localized (docs/windows-facts/locales.md).
    $port = Get-RegValue $rdpKey 'PortNumber'
    if ($null -eq $port) { $port = 3389 }
    $cim = @(Get-CimInstance -ClassName Win32_Service -Filter "Name='TermService'" -ErrorAction Stop) | Select-Object -First 1
    $tsPid = 0; if ($null -ne $cim -and $null -ne $cim.ProcessId) { $tsPid = [int]$cim.ProcessId }
    $owners = @(Get-NetTCPConnection -State Listen -LocalPort ([int]$port) -ErrorAction SilentlyContinue | ForEach-Object { [int]$_.OwningProcess } | Sort-Object -Unique)
    [ordered]@{ port = [int]$port; termServicePid = $tsPid; owners = $owners; listening = ($tsPid -gt 0 -and $owners -contains $tsPid) }
}
Read-Section 'certificate' -List {
    # privateKeyReadable: whether THIS session (an administrator, not TermService's NETWORK SERVICE) opened the key;
    # privateKeyError: the HRESULT of the CryptographicException when it did not (NTE_BAD_KEYSET 0x80090016: missing,
    # or the ACL shuts this token out - as the documented RDP key ACL does; NTE_BAD_PROV_TYPE 0x80090014: a CNG key,
    # which .NET Framework cannot open). The diagnosis judges the service's view from these and the key file
    # (machineKeys section), as machinekeys-repair does. get_PrivateKey(): the property would hide the exception.
    @(Get-ChildItem -Path 'Cert:\LocalMachine\Remote Desktop' -ErrorAction Stop | ForEach-Object {
        $readable = $false
        $hr = $null
        if ($_.HasPrivateKey) {
            try { $readable = ($null -ne $_.get_PrivateKey()) }
            catch {
                $x = $_.Exception
                while ($null -ne $x -and -not ($x -is [System.Security.Cryptography.CryptographicException])) { $x = $x.InnerException }
                if ($null -ne $x) { $hr = [int]$x.HResult }
            }
        }
        [ordered]@{ thumbprint = $_.Thumbprint; notBefore = $_.NotBefore.ToUniversalTime().ToString('o'); notAfter = $_.NotAfter.ToUniversalTime().ToString('o'); hasPrivateKey = [bool]$_.HasPrivateKey; privateKeyReadable = $readable; privateKeyError = $hr }
    })
}
Read-Section 'rdpCertificateBinding' {
    # SSLCertificateSHA1Hash (REG_BINARY) names the certificate the listener uses; absent = the self-signed one (reference 5.1).
    $hash = Get-RegValue $rdpKey 'SSLCertificateSHA1Hash'
    $thumb = $null
    if ($null -ne $hash) { $thumb = (@($hash) | ForEach-Object { '{0:X2}' -f [int]$_ }) -join '' }
    $info = [ordered]@{ thumbprint = $thumb; inRemoteDesktopStore = $null; inMyStore = $null }
    if ($thumb -match '^[0-9A-F]{40}$') {
        if ($result.sections.Contains('certificate')) { $info.inRemoteDesktopStore = @($result.sections['certificate'] | ForEach-Object { [string]$_.thumbprint }) -contains $thumb }
        else { $info.inRemoteDesktopStore = [bool](Test-Path -Path "Cert:\LocalMachine\Remote Desktop\$thumb") }
        if (-not $info.inRemoteDesktopStore) { $info.inMyStore = [bool](Test-Path -Path "Cert:\LocalMachine\My\$thumb") }
    }
    $info
}
Read-Section 'machineKeys' {
    # The folder and the RDP key file f686aace..._<MachineGuid>, with their ACLs as SDDL (owner included; reference 5.3).
    # Get-Acl first; Test-Path only when it fails, to tell a missing item from one whose ACL cannot be read.
    # %ProgramData%, never C:\ProgramData (Windows may be on another drive); without the variable, the value Windows
    # derives it from (ProfileList's ProgramData, reference 6.1), as the playbooks' prelude does.
    $programData = [string]$env:ProgramData
    if (-not $programData) { $programData = [string](Get-RegValue 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList' 'ProgramData') }
    if (-not $programData) { throw 'Cannot find the ProgramData folder: neither %ProgramData% nor ProfileList\ProgramData is set.' }
    $dir = $programData + '\Microsoft\Crypto\RSA\MachineKeys'
    # A CNG key (key storage provider) of the certificate is in Crypto\Keys instead (learn.microsoft.com seccng).
    $cngDir = $programData + '\Microsoft\Crypto\Keys'
    $guid = [string](Get-RegValue 'HKLM:\SOFTWARE\Microsoft\Cryptography' 'MachineGuid')
    $info = [ordered]@{ path = $dir; exists = $true; sddl = $null; aclError = $null; machineGuid = $guid; rdpKey = $null }
    try { $info.sddl = (Get-Acl -LiteralPath $dir -ErrorAction Stop).Sddl }
    catch {
        $info.exists = [bool](Test-Path -LiteralPath $dir -PathType Container)
        if ($info.exists) { $info.aclError = $_.ToString() }
    }
    if ($guid -and ($info.exists -or (Test-Path -LiteralPath $cngDir -PathType Container))) {
        $name = 'f686aace6942fb7f7ceb231212eef4a4_' + $guid
        $file = $dir + '\' + $name
        $storage = 'capi'
        if (-not (Test-Path -LiteralPath $file -PathType Leaf) -and (Test-Path -LiteralPath ($cngDir + '\' + $name) -PathType Leaf)) { $file = $cngDir + '\' + $name; $storage = 'cng' }
        $key = [ordered]@{ name = $name; path = $file; storage = $storage; exists = $true; length = $null; sddl = $null; aclError = $null }
        $fi = Get-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue
        if ($null -ne $fi) { $key.length = [long]$fi.Length }
        try { $key.sddl = (Get-Acl -LiteralPath $file -ErrorAction Stop).Sddl }
        catch {
            # A key whose ACL shuts the administrators out cannot have its ACL read either: that is evidence too.
            $key.exists = [bool](Test-Path -LiteralPath $file -PathType Leaf)
            if ($key.exists) { $key.aclError = $_.ToString() }
        }
        $info.rdpKey = $key
    }
    $info
}
Read-Section 'pendingReboot' {
    # The three registry signals of a pending restart (docs/windows-facts/diagnosis.md).
    $renames = Get-RegValue 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' 'PendingFileRenameOperations'
    [ordered]@{
        componentBasedServicing     = [bool](Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending')
        windowsUpdate               = [bool](Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired')
        pendingFileRenameOperations = @($renames | Where-Object { $_ }).Count
    }
}
Read-Section 'events' -List {
    # The events that name a cause (reference 1.2, 5.2, 6.1), last 7 days, newest first. One query per provider:
    # other providers log the same IDs (Group Policy's 1058 fills the System log on many hosts), and a shared
    # -MaxEvents would let them crowd out the ones that matter.
    $since = (Get-Date).AddDays(-7)
    $found = @()
    foreach ($q in @(
            @{ LogName = 'System'; ProviderName = 'Schannel'; Id = 36870; StartTime = $since },
            @{ LogName = 'System'; ProviderName = 'Microsoft-Windows-TerminalServices-RemoteConnectionManager'; Id = 1057, 1058; StartTime = $since },
            @{ LogName = 'System'; ProviderName = 'Service Control Manager'; Id = 7022; StartTime = $since },
            @{ LogName = 'Application'; ProviderName = 'Microsoft-Windows-User Profiles Service'; Id = 1511, 1515; StartTime = $since })) {
        $found += @(Get-WinEvent -FilterHashtable $q -MaxEvents 50 -ErrorAction SilentlyContinue | ForEach-Object {
                [ordered]@{ log = $_.LogName; provider = $_.ProviderName; id = $_.Id; time = $_.TimeCreated.ToUniversalTime().ToString('o') }
            })
    }
    $found
}
Read-Section 'profileList' -List {
    # A <SID>.bak key, or a SID pointing at a TEMP folder, is the temporary-profile case (KB947215, reference 6.1).
    @(Get-ChildItem -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList' -ErrorAction Stop | ForEach-Object {
        [ordered]@{ key = $_.PSChildName; path = [string](Get-ItemProperty -Path $_.PSPath -Name ProfileImagePath -ErrorAction SilentlyContinue).ProfileImagePath }
    })
}

ConvertTo-Json -InputObject $result -Depth 10 -Compress
