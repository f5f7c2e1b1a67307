# RdpfixLab: a simulated Windows host for rdpfix's lab transport.
#
# A lab host is one JSON state document (src/lab/state.ts describes it). This module exports functions
# named like the Windows cmdlets and native tools the playbooks use (Get-Service, Get-ItemProperty, quser,
# Get-NetFirewallRule, ...). Imported into a runspace, they shadow the real commands (functions win over
# cmdlets and executables in PowerShell's command lookup), so a step script runs unchanged in the lab and
# on a real host. Each shadow answers with Windows' own shapes, texts and errors (docs/lab.md,
# docs/windows-facts.md). Mutations are written through to the state file at once, atomically, so a call
# that dies half-way leaves a half-applied host, as real Windows would.
#
# Windows PowerShell 5.1-compatible on purpose: a Windows controller may drive the lab with powershell.exe.

Set-StrictMode -Version 2.0

$script:Lab = $null          # the current host: @{ Name; Path; State; Lock; RuntimePath; AuditPath }
$script:HasDateKind = (Get-Command ConvertFrom-Json).Parameters.ContainsKey('DateKind')

function ConvertFrom-LabJson {
    param([Parameter(Mandatory)][string]$Json)
    # PowerShell 7 turns ISO date strings into DateTime unless told not to; the lab keeps them as text.
    if ($script:HasDateKind) { return ($Json | ConvertFrom-Json -DateKind String) } # ps51-ok: version-checked, 7.5+ only
    return ($Json | ConvertFrom-Json)
}

$script:HasAsHashtable = (Get-Command ConvertFrom-Json).Parameters.ContainsKey('AsHashtable')

function ConvertFrom-LabStateJson {
    <# A host state document, as the lab's commands read it: objects, except state.registry and state.files, which
       are LabMaps (LabTypes.cs says why: a note property per host's own key paths would cost PowerShell a member
       binder each, kept for the life of the process). #>
    param([Parameter(Mandatory)][string]$Json)
    if ($script:HasAsHashtable) {
        if ($script:HasDateKind) { $parsed = Microsoft.PowerShell.Utility\ConvertFrom-Json -InputObject $Json -AsHashtable -DateKind String } # ps51-ok: version-checked, 7.5+ only
        else { $parsed = Microsoft.PowerShell.Utility\ConvertFrom-Json -InputObject $Json -AsHashtable } # ps51-ok: version-checked, 6.0+ only
    } else {
        $parsed = ConvertFrom-LabJson $Json
    }
    return [RdpfixLab.LabStateShape]::FromParsed($parsed)
}

# File.Move(src, dst, overwrite) exists from .NET Core 3.0 (PowerShell 7); Windows PowerShell 5.1 runs on
# .NET Framework, where File.Replace gives the same atomic swap.
$script:HasMoveOverwrite = [bool]([System.IO.File].GetMethods() | Where-Object { $_.Name -eq 'Move' -and $_.GetParameters().Count -eq 3 })

function Write-LabFileAtomic {
    param([Parameter(Mandatory)][string]$Path, [Parameter(Mandatory)][string]$Text)
    # Write a sibling temp file, flush it to disk, then rename over the target: a kill -9 at any point
    # leaves either the old document or the new one, never a torn one.
    $tmp = $Path + '.' + [guid]::NewGuid().ToString('N') + '.tmp'
    $bytes = (New-Object System.Text.UTF8Encoding($false)).GetBytes($Text)
    $fs = [System.IO.File]::Open($tmp, [System.IO.FileMode]::CreateNew, [System.IO.FileAccess]::Write, [System.IO.FileShare]::None)
    try {
        $fs.Write($bytes, 0, $bytes.Length)
        $fs.Flush($true)
    } finally { $fs.Dispose() }
    if ($script:HasMoveOverwrite) { [System.IO.File]::Move($tmp, $Path, $true) }
    elseif ([System.IO.File]::Exists($Path)) { [void][System.IO.File]::Replace($tmp, $Path, $null) }
    else { [System.IO.File]::Move($tmp, $Path) }
}

function Enter-LabHost {
    <# Makes the host at StatePath the current lab host for the commands of this runspace. Takes the
       host's lock file so that two processes never interleave changes to one host. #>
    param([Parameter(Mandatory)][string]$StatePath, [int]$LockTimeoutMs = 30000, [switch]$ControllerSide)
    if ($null -ne $script:Lab) { Exit-LabHost }
    # Scripts on a lab host meet Windows PowerShell 5.1's array shapes (commands/00-powershell51.ps1); the
    # controller's own reads of a host (-ControllerSide: the reach probe) run in its runspaces and keep pwsh 7's.
    if (-not $ControllerSide) { Enable-LabPowerShell51Arrays }
    # Checked before the lock: a missing file (or folder) must not leave a stray .lock, nor pass for a busy host.
    if (-not [System.IO.File]::Exists($StatePath)) { throw "Lab host state '$StatePath' does not exist." }
    $lockPath = $StatePath + '.lock'
    $deadline = [DateTime]::UtcNow.AddMilliseconds($LockTimeoutMs)
    $lock = $null
    while ($null -eq $lock) {
        try {
            $lock = [System.IO.File]::Open($lockPath, [System.IO.FileMode]::OpenOrCreate, [System.IO.FileAccess]::ReadWrite, [System.IO.FileShare]::None)
        } catch [System.IO.DirectoryNotFoundException], [System.IO.FileNotFoundException] {
            throw "Lab host state '$StatePath' does not exist."
        } catch [System.IO.IOException] {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Lab host state '$StatePath' is locked by another process." }
            Start-Sleep -Milliseconds 5
        }
    }
    try {
        $text = [System.IO.File]::ReadAllText($StatePath)
        $state = ConvertFrom-LabStateJson $text
    } catch {
        $lock.Dispose()
        throw
    }
    $base = $StatePath -replace '\.json$', ''
    $clock = Read-LabClock -ClockPath ($base + '.clock.json') -State $state
    $script:Lab = @{
        Name        = $state.name
        Path        = $StatePath
        State       = $state
        Lock        = $lock
        RuntimePath = $base + '.runtime.json'
        AuditPath   = $base + '.audit.jsonl'
        ClockPath   = $base + '.clock.json'
        ClockBase   = $clock.Base
        ClockWatch  = [System.Diagnostics.Stopwatch]::StartNew()
        BootTime    = $clock.BootTime
    }
}

function Exit-LabHost {
    if ($null -eq $script:Lab) { return }
    try { $script:Lab.Lock.Dispose() } finally { $script:Lab = $null }
}

function Get-LabState {
    if ($null -eq $script:Lab) { throw 'No lab host entered (Enter-LabHost).' }
    return $script:Lab.State
}

function Get-LabHostName { (Get-LabState).computerName }

# ---------------------------------------------------------------------------------------------------
# The host's clock (src/lab/state.ts, LabClockSidecar): the host's own, not the controller's. It reads the last
# reading kept in <host>.clock.json (else the time the host was seeded at, state.clock.now) plus the time this call
# has been running; every mutation keeps the reading, and `rdpfix lab advance` moves it on (Move-LabClock). A host
# seeded at a fixed time so keeps that meaning on any date. Everything the host judges by time reads it: Get-Date
# (shadowed below), certificate validity, event and file times, task triggers. Lab hosts keep UTC.

function Read-LabClock {
    <# At Enter-LabHost: where this call's clock starts. Returns @{ Base = [DateTime] UTC or $null; BootTime }. #>
    param([string]$ClockPath, $State)
    $clock = @{ Base = $null; BootTime = $null }
    if ($State.PSObject.Properties['clock'] -and $null -ne $State.clock -and $State.clock.PSObject.Properties['now']) {
        $clock.Base = [DateTime]::Parse([string]$State.clock.now, [Globalization.CultureInfo]::InvariantCulture, 'RoundtripKind').ToUniversalTime()
    }
    if ([System.IO.File]::Exists($ClockPath)) {
        try {
            $side = ConvertFrom-LabJson ([System.IO.File]::ReadAllText($ClockPath))
            $clock.Base = [DateTime]::Parse([string]$side.now, [Globalization.CultureInfo]::InvariantCulture, 'RoundtripKind').ToUniversalTime()
            if ($side.PSObject.Properties['bootTime'] -and $side.bootTime) { $clock.BootTime = [string]$side.bootTime }
        } catch {
            # A torn sidecar (a killed writer): the seeded time.
        }
    }
    return $clock
}

function Get-LabUtcNow {
    <# What the current host's clock reads, as a UTC DateTime. #>
    if ($null -eq $script:Lab.ClockBase) { return [DateTime]::UtcNow }
    return $script:Lab.ClockBase.Add($script:Lab.ClockWatch.Elapsed)
}

function Get-LabBootTime { $script:Lab.BootTime }

function Save-LabClock {
    <# Keeps the clock's reading, so that the next call on this host starts from it: time never runs backwards on
       a host that changed. Not flushed to disk: a reading lost to a crash costs the seconds of one call. #>
    $doc = [ordered]@{ now = (Get-LabUtcNow).ToString('o'); bootTime = $script:Lab.BootTime } | ConvertTo-Json -Compress
    $tmp = $script:Lab.ClockPath + '.' + [guid]::NewGuid().ToString('N') + '.tmp'
    [System.IO.File]::WriteAllText($tmp, $doc)
    if ($script:HasMoveOverwrite) { [System.IO.File]::Move($tmp, $script:Lab.ClockPath, $true) }
    elseif ([System.IO.File]::Exists($script:Lab.ClockPath)) { [void][System.IO.File]::Replace($tmp, $script:Lab.ClockPath, $null) }
    else { [System.IO.File]::Move($tmp, $script:Lab.ClockPath) }
}

function Move-LabClock {
    <# Lets time pass on the current host (the lab's clock, not a Windows command): its clock moves on by
       -Milliseconds; -Reboot also restarts it at the new time (its boot time becomes now). #>
    param([Parameter(Mandatory)][double]$Milliseconds, [switch]$Reboot)
    if ($Milliseconds -lt 0) { throw 'Time on a lab host only moves forward.' }
    $script:Lab.ClockBase = (Get-LabUtcNow).AddMilliseconds($Milliseconds)
    $script:Lab.ClockWatch = [System.Diagnostics.Stopwatch]::StartNew()
    if ($Reboot) { $script:Lab.BootTime = $script:Lab.ClockBase.ToString('o') }
    Save-LabClock
}

# Get-Date reads the host's clock. The shadow is built from the real cmdlet's own parameter metadata (5.1 and 7
# differ: -AsUTC, -UnixTimeSeconds) and supplies -Date when the caller gave no date; outside a lab host it is the
# real Get-Date.
$getDateMeta = New-Object System.Management.Automation.CommandMetadata (Get-Command -Name 'Microsoft.PowerShell.Utility\Get-Date' -CommandType Cmdlet)
. ([scriptblock]::Create(
    "function Get-Date {`n" + [System.Management.Automation.ProxyCommand]::GetCmdletBindingAttribute($getDateMeta) +
    "`nparam(" + [System.Management.Automation.ProxyCommand]::GetParamBlock($getDateMeta) + ")`n" + @'
process {
    if ($null -ne $script:Lab -and -not $PSBoundParameters.ContainsKey('Date') -and -not $PSBoundParameters.ContainsKey('UnixTimeSeconds')) {
        $PSBoundParameters['Date'] = (Get-LabUtcNow).ToLocalTime()
    }
    Microsoft.PowerShell.Utility\Get-Date @PSBoundParameters
}
}
'@))
Remove-Variable getDateMeta

function Save-LabState {
    <# Persists the current host state at once. Every mutating lab command calls it before returning. #>
    $state = Get-LabState
    # The clock first: the state never holds a time the host's clock has not reached.
    if ($null -ne $script:Lab.ClockBase) { Save-LabClock }
    Write-LabFileAtomic -Path $script:Lab.Path -Text ($state | ConvertTo-Json -Depth 30)
}

function Write-LabAudit {
    <# Appends one line per mutating command to <host>.audit.jsonl: what changed the host, in order.
       Tests use it to prove that a dry run issued no write. #>
    param([Parameter(Mandatory)][string]$Command, [object]$Detail)
    $line = [ordered]@{ time = [DateTime]::UtcNow.ToString('o'); command = $Command; detail = $Detail } | ConvertTo-Json -Depth 10 -Compress
    [System.IO.File]::AppendAllText($script:Lab.AuditPath, $line + "`n")
}

function Get-LabRuntime {
    if (Test-Path -LiteralPath $script:Lab.RuntimePath) {
        $r = ConvertFrom-LabJson ([System.IO.File]::ReadAllText($script:Lab.RuntimePath))
        if ($null -ne $r) { return $r }
    }
    return [pscustomobject]@{ calls = 0; commands = [pscustomobject]@{} }
}

function Save-LabRuntime { param($Runtime) Write-LabFileAtomic -Path $script:Lab.RuntimePath -Text ($Runtime | ConvertTo-Json -Depth 5) }

function Invoke-LabFaultPoint {
    <# Called at the top of every lab command. Counts calls of that command on this host (only when
       faults are configured, so plain runs write nothing) and fails or hangs the configured Nth call. #>
    param([Parameter(Mandatory)][string]$Command)
    # Every lab command passes here: no pipeline when the host has no command faults (nearly always).
    $configured = (Get-LabState).faults.commands
    if ($null -eq $configured) { return }
    $faults = @(foreach ($f in @($configured)) { if ($f.command -eq $Command) { $f } })
    if ($faults.Count -eq 0) { return }
    $rt = Get-LabRuntime
    $prop = $rt.commands.PSObject.Properties[$Command]
    $n = 1
    if ($null -ne $prop) { $n = [int]$prop.Value + 1; $prop.Value = $n }
    else { $rt.commands | Add-Member -NotePropertyName $Command -NotePropertyValue 1 }
    Save-LabRuntime $rt
    foreach ($f in $faults) {
        if ([int]$f.nth -ne $n) { continue }
        if ($f.mode -eq 'hang') { while ($true) { Start-Sleep -Milliseconds 200 } }
        $msg = "Injected lab fault: call $n of $Command failed."
        if ($f.PSObject.Properties['message'] -and $f.message) { $msg = [string]$f.message }
        $ex = New-Object System.InvalidOperationException($msg)
        throw (New-Object System.Management.Automation.ErrorRecord($ex, 'LabInjectedFault', [System.Management.Automation.ErrorCategory]::OperationStopped, $Command))
    }
}

function New-LabTransportError {
    <# An error shaped as PowerShell remoting reports a broken connection: PSRemotingTransportException,
       CategoryInfo OpenError, FQID '<name>,PSSessionStateBroken' (shared reference section 11.1). #>
    param([Parameter(Mandatory)][string]$Name, [Parameter(Mandatory)][int]$ErrorCode, [Parameter(Mandatory)][string]$Message, [string]$Verb = 'Connecting to')
    $target = Get-LabHostName
    $text = "$Verb remote server $target failed with the following error message : $Message For more information, see the about_Remote_Troubleshooting Help topic."
    $ex = New-Object System.Management.Automation.Remoting.PSRemotingTransportException($text)
    $ex.ErrorCode = $ErrorCode
    New-Object System.Management.Automation.ErrorRecord($ex, "$Name,PSSessionStateBroken", [System.Management.Automation.ErrorCategory]::OpenError, $target)
}

function Invoke-LabRemoteCallFaults {
    <# Transport-level faults of one remote call: unreachable host, latency, dropped connection, hang.
       Returns 'drop-after' when the reply must be lost after the script ran. #>
    $state = Get-LabState
    if (-not $state.network.reachable) {
        throw (New-LabTransportError -Name 'WinRMOperationTimeout' -ErrorCode -2144108250 -Message 'WinRM cannot complete the operation. Verify that the specified computer name is valid, that the computer is accessible over the network, and that a firewall exception for the WinRM service is enabled and allows access from this computer. By default, the WinRM firewall exception for public profiles limits access to remote computers within the same local subnet.')
    }
    $f = $state.faults
    if ([int]$f.latencyMs -gt 0) { Start-Sleep -Milliseconds ([int]$f.latencyMs) }
    if ($null -eq $f.drop -and $null -eq $f.hang) { return $null }
    $rt = Get-LabRuntime
    $rt.calls = [int]$rt.calls + 1
    Save-LabRuntime $rt
    if ($null -ne $f.hang -and [int]$f.hang.nth -eq $rt.calls) { while ($true) { Start-Sleep -Milliseconds 200 } }
    if ($null -ne $f.drop -and [int]$f.drop.nth -eq $rt.calls) {
        if ($f.drop.when -eq 'after') { return 'drop-after' }
        throw (New-LabDropError)
    }
    return $null
}

function New-LabDropError {
    New-LabTransportError -Name 'WinRMOperationAborted' -ErrorCode 995 -Verb 'Processing data from' -Message 'The I/O operation has been aborted because of either a thread exit or an application request.'
}

# ---------------------------------------------------------------------------------------------------
# Path dispatch: Get-Item, Get-ChildItem, Test-Path and friends serve three lab providers (registry,
# certificate store, file system) and fall through to the real cmdlet for anything else.

function Get-LabPathKind {
    param([string]$Path)
    if ([string]::IsNullOrEmpty($Path)) { return 'other' }
    if ($Path -match '^(Microsoft\.PowerShell\.Core\\)?Registry::' -or $Path -match '^(HKLM|HKCU|HKU|HKCR|HKCC):') { return 'registry' }
    if ($Path -match '^(Microsoft\.PowerShell\.Security\\)?Certificate::' -or $Path -match '^Cert:') { return 'cert' }
    if ($Path -match '^[A-Za-z]:\\' -or $Path -match '^[A-Za-z]:$' -or $Path -match '^(Microsoft\.PowerShell\.Core\\)?FileSystem::[A-Za-z]:') { return 'fs' }
    return 'other'
}

function hostname {
    <# hostname.exe prints the computer name. (Scripts use it rather than $env:COMPUTERNAME: environment
       variables are per process, and one lab process serves many hosts.) #>
    Invoke-LabFaultPoint 'hostname'
    $global:LASTEXITCODE = 0
    (Get-LabState).computerName
}

function Get-LabSha256Hex {
    param([Parameter(Mandatory)][byte[]]$Bytes)
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try { return -join ($sha.ComputeHash($Bytes) | ForEach-Object { $_.ToString('x2') }) } finally { $sha.Dispose() }
}

function Import-LabAssembly {
    <# Compiles C# source once per machine and loads it; returns the loaded assembly. A compile costs seconds, a load
       milliseconds, so the assembly is cached in the folder the controller names in RDPFIX_LAB_TYPES_DIR: a folder
       rdpfix created for its user alone (src/lab/types-cache.ts checks owner and mode), never the shared temp
       folder, where anyone could plant a DLL under a name anyone can compute. Beside each DLL lies the SHA-256 its
       builder recorded; a DLL is loaded only from bytes read once and matching it (no gap between check and load),
       else rebuilt. Without that folder the source is compiled in memory and nothing is written.
       -Check runs first on a cache miss (e.g. the C# 5 compile check of a host script's Add-Type). #>
    param([Parameter(Mandatory)][string]$Source, [Parameter(Mandatory)][string]$Prefix, [scriptblock]$Check)
    $dir = $env:RDPFIX_LAB_TYPES_DIR
    $key = Get-LabSha256Hex ([System.Text.Encoding]::UTF8.GetBytes($Source + $PSVersionTable.PSVersion.ToString()))
    $dll = $null
    if (-not [string]::IsNullOrEmpty($dir) -and [System.IO.Directory]::Exists($dir)) {
        $dll = Join-Path $dir "$Prefix-$key.dll"
        $sum = "$dll.sha256"
        if ([System.IO.File]::Exists($dll) -and [System.IO.File]::Exists($sum)) {
            $bytes = [System.IO.File]::ReadAllBytes($dll)
            if ((Get-LabSha256Hex $bytes) -eq ([System.IO.File]::ReadAllText($sum).Trim())) { return [System.Reflection.Assembly]::Load($bytes) }
        }
    }
    if ($null -ne $Check) { & $Check }
    if ($null -eq $dll) {
        $types = @(Microsoft.PowerShell.Utility\Add-Type -TypeDefinition $Source -IgnoreWarnings -PassThru -ErrorAction Stop)
        return $types[0].Assembly
    }
    $tmp = Join-Path $dir ($Prefix + '-' + $key + '.' + [guid]::NewGuid().ToString('N') + '.tmp')
    try {
        Microsoft.PowerShell.Utility\Add-Type -TypeDefinition $Source -OutputAssembly $tmp -OutputType Library -IgnoreWarnings -ErrorAction Stop
        $bytes = [System.IO.File]::ReadAllBytes($tmp)
        # The digest first, then the DLL: a reader that races a writer sees a mismatch and rebuilds.
        Write-LabFileAtomic -Path $sum -Text (Get-LabSha256Hex $bytes)
        if ($script:HasMoveOverwrite) { [System.IO.File]::Move($tmp, $dll, $true) }
        else { if ([System.IO.File]::Exists($dll)) { [System.IO.File]::Delete($dll) }; [System.IO.File]::Move($tmp, $dll) }
    } finally {
        if ([System.IO.File]::Exists($tmp)) { Remove-Item -LiteralPath $tmp -ErrorAction SilentlyContinue }
    }
    return [System.Reflection.Assembly]::Load($bytes)
}

function Import-LabTypes {
    <# Loads the types of LabTypes.cs (once per process). #>
    # Checked by the file's newest type: a process that loaded an older LabTypes.cs must not skip the new one.
    if ('RdpfixLab.LabStateShape' -as [type]) { return }
    $null = Import-LabAssembly -Source ([System.IO.File]::ReadAllText((Join-Path $PSScriptRoot 'LabTypes.cs'))) -Prefix 'labtypes'
}
Import-LabTypes

# The per-language table (src/lab/locales.json, shared with TypeScript's src/lab/locales.ts): read once per import.
$script:LabLocales = [System.IO.File]::ReadAllText((Join-Path (Split-Path $PSScriptRoot -Parent) 'locales.json'), [System.Text.Encoding]::UTF8) | ConvertFrom-Json

function Get-LabLocale {
    <# The current host's display-language data (accounts, sessions, identifyingMessage), or with -Name its culture
       name (Get-UICulture). The one place a host's locale is looked up: an unknown locale is an error, not English,
       because a host the lab cannot speak for must not pass as an English one. #>
    param([switch]$Name)
    $state = Get-LabState
    $loc = [string]$state.locale
    if ($loc -eq '') { $loc = 'en-US' }
    $data = $script:LabLocales.PSObject.Properties[$loc]
    # -cne: property lookup ignores case, but a culture name in a state file must be exactly one locales.json has.
    if ($null -eq $data -or $data.Name -cne $loc -or $loc.StartsWith('$')) {
        $known = @($script:LabLocales.PSObject.Properties | Where-Object { -not $_.Name.StartsWith('$') } | ForEach-Object { $_.Name })
        $shown = $loc
        if ($shown.Length -gt 40) { $shown = $shown.Substring(0, 40) + '...' }
        throw ("lab: host '{0}' has locale '{1}', which the lab has no model of (src/lab/locales.json knows {2}). Set the host's locale to one of them." -f [string]$state.computerName, $shown, ($known -join ', '))
    }
    if ($Name) { return $loc }
    return $data.Value
}

# Load the command files: each one adds the shadows for one area of Windows.
foreach ($file in Get-ChildItem -LiteralPath (Join-Path $PSScriptRoot 'commands') -Filter '*.ps1' | Sort-Object Name) {
    . $file.FullName
}

Export-ModuleMember -Function * -Alias *
