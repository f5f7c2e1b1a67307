# Remote Desktop sessions: quser / query user, qwinsta / query session, logoff, rwinsta / reset session over
# state.sessions. Native tools: stdout lines are the output, stderr lines are NativeCommandError records,
# $LASTEXITCODE is set. Column layout derived from real samples (docs/windows-facts/network-firewall-sessions-tasks.md).

# The caller's session: $null = a non-interactive (WinRM) caller, which runs in session 0 ('services').
$script:LabCallerSessionId = $null

# logoff.exe returns before the session is gone: the session stays listed while it logs off (WTSLogoffSession with
# bWait FALSE returns at once; docs/windows-facts/network-firewall-sessions-tasks.md section 3). The lab keeps a
# logged-off session this many seconds of host time, unless the session says otherwise (logoffLingerSeconds).
$script:LabLogoffLingerSeconds = 3

function Complete-LabLogoffs {
    <# Removes the sessions whose logoff has finished by the host clock (logoffDueAt reached). #>
    $state = Get-LabState
    $now = Get-LabUtcNow
    $done = @($state.sessions | Where-Object {
            $_.PSObject.Properties['logoffDueAt'] -and $null -ne $_.logoffDueAt -and
            [DateTime]::Parse([string]$_.logoffDueAt, [Globalization.CultureInfo]::InvariantCulture, 'RoundtripKind').ToUniversalTime() -le $now
        })
    if ($done.Count -gt 0) { Remove-LabSessions $done }
}

function Set-LabCallerSession {
    <# Lab control: pretend the caller sits in session <Id> (an interactive quser run shows '>' on it). #>
    param([Nullable[int]]$Id)
    $script:LabCallerSessionId = $Id
}

function Write-LabNfsStderr {
    <# Native stderr as Windows PowerShell 5.1 surfaces it: an ErrorRecord per line (RemoteException,
       FQID NativeCommandError, NotSpecified) that obeys the CALLER's $ErrorActionPreference (Stop throws). #>
    param([string[]]$Lines)
    $eap = Get-LabNfsCallerEap
    foreach ($l in $Lines) {
        $rec = New-Object System.Management.Automation.ErrorRecord((New-Object System.Management.Automation.RemoteException($l)), 'NativeCommandError', [System.Management.Automation.ErrorCategory]::NotSpecified, $l)
        if ($eap -eq 'Stop') { throw $rec }
        if ($eap -eq 'SilentlyContinue' -or $eap -eq 'Ignore') { continue }
        # Write-Error from an anonymous script block keeps the FQID exactly 'NativeCommandError' (a function
        # would append ',<name>').
        # (-ErrorAction Continue: the module's own scope chain may hold a global 'Stop' the caller overrode.)
        & { param($r) Write-Error -ErrorRecord $r -ErrorAction Continue } $rec
    }
}

function Get-LabSessLocale {
    <# The host language's quser/qwinsta words (src/lab/locales.json; sources in docs/windows-facts/locales.md). #>
    $d = (Get-LabLocale).sessions
    $states = @{}
    foreach ($p in $d.states.PSObject.Properties) { $states[$p.Name] = [string]$p.Value }
    return @{ QuserHeader = [string]$d.quserHeader; QwinstaHeader = [string]$d.qwinstaHeader; States = $states; None = [string]$d.none; DateFormat = [string]$d.dateFormat }
}

function Format-LabSessIdle {
    <# '.' under a minute, 'm', 'h:mm', 'd+hh:mm'; $null = no idle time recorded. #>
    param($Minutes)
    if ($null -eq $Minutes) { return $null }
    $m = [int][Math]::Floor([double]$Minutes)
    if ($m -lt 1) { return '.' }
    if ($m -lt 60) { return [string]$m }
    $d = [int][Math]::Floor($m / 1440); $h = [int][Math]::Floor(($m % 1440) / 60); $mm = $m % 60
    if ($d -eq 0) { return ('{0}:{1:00}' -f $h, $mm) }
    return ('{0}+{1:00}:{2:00}' -f $d, $h, $mm)
}

function Format-LabSessLogon {
    <# Host-local short date/time; the host clock is the ISO string's own offset (lab hosts keep UTC). #>
    param($Iso, [string]$Format)
    if ($null -eq $Iso -or [string]$Iso -eq '') { return '' }
    $dto = [DateTimeOffset]::Parse([string]$Iso, [Globalization.CultureInfo]::InvariantCulture)
    return $dto.DateTime.ToString($Format, [Globalization.CultureInfo]::InvariantCulture)
}

function Get-LabSessState {
    param($Session, $Locale)
    $s = [string]$Session.State
    if ($Locale.States.ContainsKey($s)) { return $Locale.States[$s] }
    return $s
}

function Limit-LabSessText {
    param([string]$Text, [int]$Max)
    if ($Text.Length -le $Max) { return $Text }
    return $Text.Substring(0, $Max - 3) + '...'
}

function Format-LabQuserLine {
    <# Layout (0-based columns): marker 0, USERNAME 1-22, SESSIONNAME 23-40, ID right-aligned to 43, STATE 46;
       then IDLE right-aligned to 62 and LOGON TIME at 65 - or, with no idle time, the 'none' word at 58
       followed by three spaces (all four localized samples agree). #>
    param($Session, $Locale, [string]$Marker)
    $user = [string]$Session.UserName
    if ($user.Contains('\')) { $user = $user.Substring($user.LastIndexOf('\') + 1) }
    $sname = [string]$Session.SessionName
    if ([string]$Session.State -eq 'Disc') { $sname = '' }
    $state = Get-LabSessState $Session $Locale
    $idle = Format-LabSessIdle $Session.IdleMinutes
    $logon = Format-LabSessLogon $Session.LogonTime $Locale.DateFormat
    $line = $Marker + (Limit-LabSessText $user 20).PadRight(22) + (Limit-LabSessText $sname 17).PadRight(18) + ([string]$Session.Id).PadLeft(3) + '  '
    if ($null -eq $idle) { $line += $state.PadRight(12) + $Locale.None + '   ' + $logon }
    else { $line += $state.PadRight(8) + $idle.PadLeft(9) + '  ' + $logon }
    return $line
}

function Format-LabQwinstaLine {
    <# Layout: marker 0, SESSIONNAME 1-18 (longer names cut to 13 chars + '...'), USERNAME 19-40, ID right-aligned
       to 45, STATE 48-55, TYPE 56-67, DEVICE 68; trailing blanks trimmed. #>
    param($Session, $Locale, [string]$Marker)
    $line = $Marker + (Limit-LabSessText ([string]$Session.SessionName) 16).PadRight(18) + ([string]$Session.UserName).PadRight(22) +
        ([string]$Session.Id).PadLeft(5) + '  ' + (Get-LabSessState $Session $Locale).PadRight(8) + ([string]$Session.Type).PadRight(12) + [string]$Session.Device
    return $line.TrimEnd()
}

function Get-LabSessArgs {
    <# Splits native-style arguments into the selector and switches (/server:, /v, /mode ...). #>
    param([object[]]$ArgList)
    $sel = $null; $verbose = $false; $server = $false
    foreach ($a in @($ArgList)) {
        $t = [string]$a
        if ($t -match '^[/-]') { if ($t -match '^[/-]v$') { $verbose = $true }; if ($t -match '^[/-]server:') { $server = $true }; continue }
        if ($null -eq $sel) { $sel = $t }
    }
    return @{ Selector = $sel; Verbose = $verbose; Server = $server }
}

function Select-LabSessions {
    param([object[]]$Sessions, [string]$Selector)
    if ($null -eq $Selector -or $Selector -eq '' -or $Selector -eq '*') { return , @($Sessions) }
    $n = 0
    if ([int]::TryParse($Selector, [ref]$n)) { return , @($Sessions | Where-Object { [int]$_.Id -eq $n }) }
    return , @($Sessions | Where-Object { $_.UserName -ieq $Selector -or $_.SessionName -ieq $Selector })
}

function quser {
    Invoke-LabFaultPoint 'quser'
    Complete-LabLogoffs
    $p = Get-LabSessArgs $args
    $loc = Get-LabSessLocale
    $users = @((Get-LabState).sessions | Where-Object { [string]$_.UserName -ne '' -and [string]$_.State -ne 'Listen' } | Sort-Object { [int]$_.Id })
    $rows = Select-LabSessions $users $p.Selector
    if ($rows.Count -eq 0) {
        $what = '*'; if ($p.Selector) { $what = $p.Selector }
        $global:LASTEXITCODE = 1
        Write-LabNfsStderr @("No User exists for $what")
        return
    }
    $global:LASTEXITCODE = 0
    $loc.QuserHeader
    foreach ($s in $rows) {
        # A WinRM caller runs in session 0, which quser does not list: no line gets '>'.
        $mark = ' '; if (-not $p.Server -and $null -ne $script:LabCallerSessionId -and [int]$s.Id -eq $script:LabCallerSessionId) { $mark = '>' }
        Format-LabQuserLine $s $loc $mark
    }
}

function qwinsta {
    Invoke-LabFaultPoint 'qwinsta'
    Complete-LabLogoffs
    $p = Get-LabSessArgs $args
    $loc = Get-LabSessLocale
    $all = @((Get-LabState).sessions | Sort-Object { [int]$_.Id })
    $rows = Select-LabSessions $all $p.Selector
    if ($rows.Count -eq 0) {
        $global:LASTEXITCODE = 1
        Write-LabNfsStderr @("No session exists for $($p.Selector)")   # [UNSOURCED] text
        return
    }
    $global:LASTEXITCODE = 0
    $me = 0; if ($null -ne $script:LabCallerSessionId) { $me = [int]$script:LabCallerSessionId }
    $loc.QwinstaHeader
    foreach ($s in $rows) {
        # /server: queries another machine's sessions, so none is the caller's (German remote sample: no '>').
        $mark = ' '; if (-not $p.Server -and [int]$s.Id -eq $me) { $mark = '>' }
        Format-LabQwinstaLine $s $loc $mark
    }
}

function query {
    $sub = ''; if ($args.Count -gt 0) { $sub = ([string]$args[0]).ToLowerInvariant() }
    $rest = @($args | Select-Object -Skip 1)
    switch ($sub) {
        'user' { quser @rest; return }
        'session' { qwinsta @rest; return }
        default {
            Invoke-LabFaultPoint 'query'
            $global:LASTEXITCODE = 1
            Write-LabNfsStderr @('Invalid parameter(s)')   # [UNSOURCED] only 'user'/'session' are modelled
        }
    }
}

function Find-LabSessionTarget {
    <# Resolves a logoff/reset target; returns @{ Session; Error } with Windows' error lines when refused. #>
    param([string]$Selector, [string]$Verb)
    $state = Get-LabState
    $n = 0
    $s = $null
    if ([int]::TryParse($Selector, [ref]$n)) { $s = @($state.sessions | Where-Object { [int]$_.Id -eq $n }) | Select-Object -First 1 }
    else { $s = @($state.sessions | Where-Object { $_.SessionName -ieq $Selector -and $_.SessionName -ne '' }) | Select-Object -First 1 }
    if ($null -eq $s) {
        return @{ Error = @("Could not $Verb session ID $Selector, Error code 7022", 'Error [7022]: The specified session cannot be found.') }   # [UNSOURCED]
    }
    return @{ Session = $s }
}

function Remove-LabSessions {
    param([object[]]$Gone)
    $state = Get-LabState
    $ids = @($Gone | ForEach-Object { [int]$_.Id })
    $state.sessions = @($state.sessions | Where-Object { $ids -notcontains [int]$_.Id })
    Save-LabState
}

function logoff {
    Invoke-LabFaultPoint 'logoff'
    Complete-LabLogoffs
    $p = Get-LabSessArgs $args
    if ($null -eq $p.Selector) {
        # No ID: Windows logs off the CALLER's session - under WinRM that is the remoting session itself, which
        # the lab cannot end; it changes nothing but records the call so tests can catch the dropped-ID bug.
        Write-LabAudit -Command 'logoff' -Detail ([ordered]@{ session = 'current'; effect = 'caller session logged off (no ID given)' })
        $global:LASTEXITCODE = 0
        return
    }
    $t = Find-LabSessionTarget $p.Selector 'logoff'
    if ($t.ContainsKey('Error')) { $global:LASTEXITCODE = 1; Write-LabNfsStderr $t.Error; return }
    $s = $t.Session
    # Session 0, the console and listeners cannot be logged off. Text: SA "Log off all Remote Desktop Session
    # Users" ("Could not logoff session ID 0 from session Console, Error code 5 / Error [5]: Access is denied.").
    if ([int]$s.Id -eq 0 -or [string]$s.SessionName -ieq 'console' -or [string]$s.State -eq 'Listen') {
        $global:LASTEXITCODE = 1
        Write-LabNfsStderr @("Could not logoff session ID $($s.Id) from session $($s.SessionName), Error code 5", 'Error [5]: Access is denied.')
        return
    }
    if ($p.Verbose) { "Logging off session ID $($s.Id)" }   # [UNSOURCED] /v text
    $global:LASTEXITCODE = 0
    if ($s.PSObject.Properties['hung'] -and $s.hung) {
        # A stuck session: logoff returns but the session stays (only rwinsta/reset session removes it).
        Write-LabAudit -Command 'logoff' -Detail ([ordered]@{ session = [int]$s.Id; user = [string]$s.UserName; effect = 'hung: session stays' })
        return
    }
    if ($s.PSObject.Properties['logoffDueAt'] -and $null -ne $s.logoffDueAt) { return }   # already logging off
    $linger = $script:LabLogoffLingerSeconds
    if ($s.PSObject.Properties['logoffLingerSeconds'] -and $null -ne $s.logoffLingerSeconds) { $linger = [double]$s.logoffLingerSeconds }
    if ($linger -le 0) {
        Remove-LabSessions @($s)
        Write-LabAudit -Command 'logoff' -Detail ([ordered]@{ session = [int]$s.Id; user = [string]$s.UserName; effect = 'logged off' })
        return
    }
    # Logging off: still listed (as it was) until the host clock reaches logoffDueAt.
    $s | Add-Member -NotePropertyName logoffDueAt -NotePropertyValue ((Get-LabUtcNow).AddSeconds($linger).ToString('o')) -Force
    Save-LabState
    Write-LabAudit -Command 'logoff' -Detail ([ordered]@{ session = [int]$s.Id; user = [string]$s.UserName; effect = 'logging off'; lingerSeconds = $linger })
}

function rwinsta {
    Invoke-LabFaultPoint 'rwinsta'
    Complete-LabLogoffs
    $p = Get-LabSessArgs $args
    if ($null -eq $p.Selector) {
        $global:LASTEXITCODE = 1
        Write-LabNfsStderr @('Invalid parameter(s)')   # reset session needs a name or ID
        return
    }
    $t = Find-LabSessionTarget $p.Selector 'reset'
    if ($t.ContainsKey('Error')) { $global:LASTEXITCODE = 1; Write-LabNfsStderr $t.Error; return }
    $s = $t.Session
    if ([int]$s.Id -eq 0) {
        $global:LASTEXITCODE = 1
        Write-LabNfsStderr @("Could not reset session ID 0, Error code 5", 'Error [5]: Access is denied.')   # [UNSOURCED]
        return
    }
    $gone = @($s)
    if ([string]$s.State -eq 'Listen') {
        # Resetting a listener resets every session connected through it; the listener itself comes back.
        $prefix = [string]$s.SessionName + '#'
        $gone = @((Get-LabState).sessions | Where-Object { ([string]$_.SessionName).StartsWith($prefix, [System.StringComparison]::OrdinalIgnoreCase) })
    }
    if ($gone.Count -gt 0) { Remove-LabSessions $gone }
    Write-LabAudit -Command 'rwinsta' -Detail ([ordered]@{ session = [int]$s.Id; reset = @($gone | ForEach-Object { [int]$_.Id }) })
    $global:LASTEXITCODE = 0
}

function reset {
    $sub = ''; if ($args.Count -gt 0) { $sub = ([string]$args[0]).ToLowerInvariant() }
    $rest = @($args | Select-Object -Skip 1)
    if ($sub -eq 'session') { rwinsta @rest; return }
    Invoke-LabFaultPoint 'reset'
    $global:LASTEXITCODE = 1
    Write-LabNfsStderr @('Invalid parameter(s)')
}

# ---- The WTS API's view (wtsapi32-model.cs reads it) -------------------------------------------------------------

# WTS_CONNECTSTATE_CLASS numbers (wtsapi32.h) for the lab's qwinsta-style state names.
$script:LabWtsStates = @{ Active = 0; Conn = 1; Shadow = 3; Disc = 4; Idle = 5; Listen = 6; Down = 8 }

function ConvertTo-LabWtsStation {
    <# The WinStation name as WTSEnumerateSessions returns it: RDP-Tcp#0, Console, Services, RDP-Tcp - the case qwinsta
       lowercases. A disconnected session has none. #>
    param([string]$Name)
    if ($Name -match '^rdp-tcp(#\d+)?$') { return 'RDP-Tcp' + $Matches[1] }
    if ($Name -ieq 'console') { return 'Console' }
    if ($Name -ieq 'services') { return 'Services' }
    return $Name
}

function Get-LabWtsTable {
    <# One row per session as WTSEnumerateSessions and WTSQuerySessionInformation(WTSSessionInfo) see it. Times are
       FILETIMEs (UTC) on the host clock, 0 = none. The harsher reading where Windows' documentation is silent
       (docs/windows-facts/sessions-wts.md): a disconnected session's LastInputTime is 0, so idle time has to come
       from DisconnectTime, as quser computes it; a local account's domain is the computer name. #>
    Invoke-LabFaultPoint 'wtsapi32'
    # The session manager is TermService: where it does not run, the lab takes the harsher reading and fails the
    # call with RPC_S_SERVER_UNAVAILABLE (1722) rather than answer with an empty list (docs/windows-facts/sessions-wts.md).
    $ts = Get-LabServiceRecord 'TermService'
    if ($null -eq $ts -or [string]$ts.Status -ne 'Running') { return [pscustomobject]@{ Win32Error = 1722 } }
    Complete-LabLogoffs
    $now = Get-LabUtcNow
    $computer = [string](Get-LabState).computerName
    foreach ($s in @((Get-LabState).sessions | Sort-Object { [int]$_.Id })) {
        $user = [string]$s.UserName; $domain = ''
        if ($user.Contains('\')) { $domain = $user.Substring(0, $user.IndexOf('\')); $user = $user.Substring($user.IndexOf('\') + 1) }
        elseif ($user -ne '') { $domain = $computer.ToUpperInvariant() }
        $state = $script:LabWtsStates[[string]$s.State]
        if ($null -eq $state) { throw "lab: session $($s.Id) has a state the WTS model does not know: '$($s.State)'" }
        $logon = 0L
        if ($null -ne $s.LogonTime -and [string]$s.LogonTime -ne '') { $logon = [DateTimeOffset]::Parse([string]$s.LogonTime, [Globalization.CultureInfo]::InvariantCulture).UtcDateTime.ToFileTimeUtc() }
        $idleAt = 0L
        if ($null -ne $s.IdleMinutes) { $idleAt = $now.AddMinutes(-[double]$s.IdleMinutes).ToFileTimeUtc() }
        $lastInput = 0L; $disconnect = 0L
        if ([string]$s.State -eq 'Disc') { $disconnect = $idleAt } else { $lastInput = $idleAt }
        $station = ''
        if ([string]$s.State -ne 'Disc' -or [int]$s.Id -eq 0) { $station = ConvertTo-LabWtsStation ([string]$s.SessionName) }
        [pscustomobject]@{
            Id = [int]$s.Id; State = [int]$state; WinStation = $station; User = $user; Domain = $domain
            ConnectTime = $logon; DisconnectTime = $disconnect; LastInputTime = $lastInput; LogonTime = $logon; CurrentTime = $now.ToFileTimeUtc()
        }
    }
}
