# Read-only RDP health probe, run on the host (Windows PowerShell 5.1 or later). Changes nothing.
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

function Get-RegValue {
    # A missing value or key reads as $null (Get-ItemProperty reports both as non-terminating errors).
    param([string]$Key, [string]$Name)
    $item = Get-ItemProperty -Path $Key -Name $Name -ErrorAction SilentlyContinue
    if ($null -eq $item) { return $null }
    return $item.$Name
}

Read-Section 'services' -List {
    @(Get-Service -Name TermService, UmRdpService, SessionEnv -ErrorAction Stop | ForEach-Object {
        [ordered]@{ name = $_.Name; status = $_.Status.ToString(); startType = $_.StartType.ToString() }
    })
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
Read-Section 'sessions' {
    # quser writes 'No User exists for *' to stderr with exit code 1 when nobody is logged on.
    $ErrorActionPreference = 'Continue'
    $lines = @(quser 2>&1 | ForEach-Object { "$_" })
    [ordered]@{ exitCode = $LASTEXITCODE; lines = $lines }
}
Read-Section 'listener' {
    # qwinsta shows the rdp-tcp listener (state Listen) only while Remote Desktop Services listens (reference 2.3).
    $ErrorActionPreference = 'Continue'
    $lines = @(qwinsta 2>&1 | ForEach-Object { "$_" })
    [ordered]@{ exitCode = $LASTEXITCODE; lines = $lines }
}
Read-Section 'certificate' -List {
    # .PrivateKey is $null (or throws) when the key file is missing or unreadable: that is the signal (reference 5.1).
    @(Get-ChildItem -Path 'Cert:\LocalMachine\Remote Desktop' -ErrorAction Stop | ForEach-Object {
        $readable = $false
        try { $readable = ($null -ne $_.PrivateKey) } catch { $readable = $false }
        [ordered]@{ thumbprint = $_.Thumbprint; notAfter = $_.NotAfter.ToUniversalTime().ToString('o'); hasPrivateKey = [bool]$_.HasPrivateKey; privateKeyReadable = $readable }
    })
}
Read-Section 'events' -List {
    # The events that name a cause (reference 1.2, 5.2, 6.1), last 7 days, newest first.
    $since = (Get-Date).AddDays(-7)
    $found = @()
    foreach ($q in @(
            @{ LogName = 'System'; Id = 36870, 1057, 1058, 7022; StartTime = $since },
            @{ LogName = 'Application'; Id = 1511, 1515; StartTime = $since })) {
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
