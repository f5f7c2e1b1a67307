# Read-only: the raw facts rdpfix's host-side scripts and the lab rely on, as this host answers them (Windows
# PowerShell 5.1 or later). Kinds, shapes, enum values, names, ACLs, not judgements: `rdpfix conform` compares them
# with what the lab answers for the same build and display language. Changes nothing; one JSON object out. The step
# prelude (playbooks/_shared/prelude.ps1) is inserted after the param block when it is sent (src/conform/facts.ts).
param([string]$InputJson = '{}')
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$result = [ordered]@{ facts = [ordered]@{}; errors = [ordered]@{} }
function Read-Fact {
    param([string]$Name, [scriptblock]$Read)
    try { $result.facts[$Name] = & $Read }
    catch { $result.errors[$Name] = [ordered]@{ message = $_.ToString(); fqid = $_.FullyQualifiedErrorId } }
}
# An enum-valued property as both its number and its name: scripts must judge by the number.
function Get-EnumFact {
    param($Value)
    if ($null -eq $Value) { return $null }
    $n = $null
    try { $n = [long]$Value } catch { $n = $null }
    [ordered]@{ type = $Value.GetType().Name; value = $n; name = [string]$Value }
}

Read-Fact 'os' {
    $os = @(Get-CimInstance -ClassName Win32_OperatingSystem -ErrorAction Stop) | Select-Object -First 1
    [ordered]@{
        caption     = [string]$os.Caption
        version     = [string]$os.Version
        buildNumber = [string]$os.BuildNumber
        productType = [int]$os.ProductType
        locale      = [string]$os.Locale
        uiCulture   = [string](Get-UICulture).Name
        psVersion   = [string]$PSVersionTable.PSVersion
        psEdition   = [string]$PSVersionTable.PSEdition
    }
}
Read-Fact 'commands' {
    # Every command our host-side scripts call: present or not (a real host's kind differs from the lab's shadow).
    $names = @('Get-Service', 'Start-Service', 'Stop-Service', 'Get-CimInstance', 'Invoke-CimMethod', 'Get-ItemProperty',
        'Set-ItemProperty', 'Get-Acl', 'Set-Acl', 'Get-NetConnectionProfile', 'Set-NetConnectionProfile', 'Get-NetFirewallRule',
        'Enable-NetFirewallRule', 'Get-NetFirewallPortFilter', 'Get-NetFirewallApplicationFilter', 'Get-NetFirewallServiceFilter',
        'Get-NetFirewallProfile', 'Get-NetTCPConnection', 'Get-WinEvent', 'Get-ScheduledTask', 'Register-ScheduledTask',
        'Unregister-ScheduledTask', 'Start-ScheduledTask', 'New-ScheduledTaskAction', 'New-ScheduledTaskTrigger',
        'New-ScheduledTaskPrincipal', 'New-ScheduledTaskSettingsSet', 'Get-ExecutionPolicy', 'quser', 'qwinsta', 'logoff', 'rwinsta', 'hostname')
    $present = [ordered]@{}
    foreach ($n in $names) { $present[$n] = [bool](Get-Command -Name $n -ErrorAction SilentlyContinue) }
    $present
}
Read-Fact 'enums' {
    # The enum values scripts compare against: service status, network category, firewall rule fields.
    $svc = Get-Service -Name TermService -ErrorAction Stop
    $profile = @(Get-NetConnectionProfile -ErrorAction Stop) | Select-Object -First 1
    $rule = @(Get-NetFirewallRule -Name 'RemoteDesktop-UserMode-In-TCP' -ErrorAction Stop) | Select-Object -First 1
    [ordered]@{
        serviceStatus    = Get-EnumFact $svc.Status
        serviceStartType = Get-EnumFact $svc.StartType
        networkCategory  = Get-EnumFact $profile.NetworkCategory
        ruleEnabled      = Get-EnumFact $rule.Enabled
        ruleDirection    = Get-EnumFact $rule.Direction
        ruleAction       = Get-EnumFact $rule.Action
        ruleProfile      = Get-EnumFact $rule.Profile
    }
}
Read-Fact 'jsonShapes' {
    # Windows PowerShell 5.1 writes an array wrapped in a PSObject as {"value":[...],"Count":n}; pwsh 7 does not.
    [ordered]@{
        wrappedArray = (ConvertTo-Json -InputObject ([psobject]@(1, 2)) -Compress)
        oneItemList  = (ConvertTo-Json -InputObject @(@(1) | ForEach-Object { $_ }) -Compress)
    }
}
Read-Fact 'accounts' {
    # Well-known accounts by SID, with the name this host gives them (localized with the display language).
    $wanted = @('S-1-5-18', 'S-1-5-19', 'S-1-5-20', 'S-1-5-32-544', 'S-1-5-32-545', 'S-1-5-32-555')
    $names = [ordered]@{}
    foreach ($sid in $wanted) { $names[$sid] = $null }
    foreach ($a in @(Get-CimInstance -ClassName Win32_SystemAccount -ErrorAction Stop) + @(Get-CimInstance -ClassName Win32_Group -Filter 'LocalAccount = TRUE' -ErrorAction Stop)) {
        $sid = [string]$a.SID
        if ($names.Contains($sid)) { $names[$sid] = [string]$a.Name }
    }
    $names
}
Read-Fact 'keyAcls' {
    # %ProgramData%, or what Windows derives it from (ProfileList's ProgramData), as the playbooks' prelude does.
    $programData = [string]$env:ProgramData
    if (-not $programData) { $programData = [string](Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList' -Name ProgramData -ErrorAction Stop).ProgramData }
    $dir = $programData + '\Microsoft\Crypto\RSA\MachineKeys'
    $guid = [string](Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Cryptography' -Name MachineGuid -ErrorAction Stop).MachineGuid
    $file = $dir + '\f686aace6942fb7f7ceb231212eef4a4_' + $guid
    $keySddl = $null
    if (Test-Path -LiteralPath $file -PathType Leaf) {
        try { $keySddl = (Get-Acl -LiteralPath $file -ErrorAction Stop).Sddl } catch { $keySddl = 'unreadable: ' + $_.Exception.GetType().Name }
    }
    [ordered]@{ machineKeysSddl = (Get-Acl -LiteralPath $dir -ErrorAction Stop).Sddl; rdpKeySddl = $keySddl }
}
Read-Fact 'firewallRules' {
    # The built-in Remote Desktop rules: their fixed names and group resource strings (display texts are localized).
    , @(Get-NetFirewallRule -Name 'RemoteDesktop-*' -ErrorAction Stop | Sort-Object -Property Name | ForEach-Object {
            [ordered]@{ name = [string]$_.Name; group = [string]$_.Group; displayGroup = [string]$_.DisplayGroup }
        })
}
Read-Fact 'eventProviders' {
    # The providers (and event IDs) whose events name a cause.
    $wanted = [ordered]@{
        'Schannel'                                                    = @(36870)
        'Microsoft-Windows-TerminalServices-RemoteConnectionManager' = @(1057, 1058)
        'Service Control Manager'                                     = @(7022)
        'Microsoft-Windows-User Profiles Service'                     = @(1511, 1515)
    }
    $out = [ordered]@{}
    foreach ($p in $wanted.Keys) {
        $meta = @(Get-WinEvent -ListProvider $p -ErrorAction SilentlyContinue) | Select-Object -First 1
        $ids = @()
        if ($null -ne $meta) { $declared = @($meta.Events | ForEach-Object { [int]$_.Id }); $ids = @($wanted[$p] | Where-Object { $declared -contains $_ }) }
        $out[$p] = [ordered]@{ present = ($null -ne $meta); ids = $ids }
    }
    $out
}
Read-Fact 'sessions' {
    # rdpfix's WTS session reader (the prelude's Get-RdpfixSessions: its C#, struct layouts and marshalling) as this
    # host answers it: session 0 and the listener as WTS names them, and whether it agrees with qwinsta on which
    # session IDs exist (a wrong struct layout would read garbage IDs). qwinsta's text is only searched for the IDs.
    # Where TermService does not run Windows cannot list sessions: that is the host's state, not a kind - no fact.
    $all = $null
    try { $all = Get-RdpfixSessions } catch { return $null }
    $ErrorActionPreference = 'Continue'
    $lines = @(qwinsta 2>&1 | ForEach-Object { "$_" } | Select-Object -Skip 1 | Where-Object { $_.Trim() -ne '' })
    $ErrorActionPreference = 'Stop'
    $agree = ($lines.Count -eq $all.Count)
    foreach ($x in $all) { if (-not ($lines | Where-Object { $_ -match ('(^|\s)' + $x.id + '(\s|$)') })) { $agree = $false } }
    $zero = @($all | Where-Object { $_.id -eq 0 }) | Select-Object -First 1
    $listen = @($all | Where-Object { $_.state -eq 6 }) | Select-Object -First 1
    $kind = { param($x) if ($null -eq $x) { return $null }; [ordered]@{ state = [int]$x.state; winStation = [string]$x.winStation; hasUser = ($x.user -ne '') } }
    [ordered]@{ session0 = (& $kind $zero); listener = (& $kind $listen); agreesWithQwinsta = $agree }
}
Read-Fact 'toolText' {
    # The header line of qwinsta (localized with the display language; scripts must not parse it).
    $ErrorActionPreference = 'Continue'
    $lines = @(qwinsta 2>&1 | ForEach-Object { "$_" })
    [ordered]@{ qwinstaHeader = [string]($lines | Select-Object -First 1) }
}

ConvertTo-Json -InputObject $result -Depth 6 -Compress
