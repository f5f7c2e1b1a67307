# RdpfixBroker: the PowerShell side of rdpfix's broker (src/broker/worker.ts is the other side).
#
# One of these runs per PowerShell process. The controller talks to it with one line per exchange:
#     RdpfixBroker\Invoke-RdpfixPump -Submit '<base64 UTF-8 JSON>' -WaitMs <n> -LingerMs <n>
# Submit carries new requests; each request runs asynchronously on a runspace of its own kind (lab or
# plain, opened in the background and reused), so one process serves many hosts at once. The pump returns (one base64 UTF-8 JSON line on stdout) as soon as at least
# one request has finished (and, while calls wait for a runspace, up to LingerMs more), or after WaitMs with none. Data never becomes script text: requests arrive base64
# encoded, and a step script receives its inputs as arguments.
#
# Windows PowerShell 5.1-compatible, because a Windows controller may run the broker in powershell.exe.

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$script:Runspaces = @{}          # 'lab' | 'plain' -> list of runspace slots (see New-RdpfixRunspace)
$script:SessionStates = @{}      # 'lab' | 'plain' -> the InitialSessionState its runspaces open with
$script:Sessions = [hashtable]::Synchronized(@{})   # remote session cache, shared by all runspaces
$script:Scripts = @{}            # script hash -> step script text: each script crosses the pipe once per process
$script:InFlight = [System.Collections.Generic.List[object]]::new()
$script:Waiting = [System.Collections.Generic.List[object]]::new()   # accepted, not started: no open runspace free yet
$script:Stopping = [System.Collections.Generic.List[object]]::new()
$script:OpenFailures = @{}       # kind -> why its last runspace failed to open
$script:Driver = $null
$script:MaxRunspaces = 32
# Lab runspaces load the lab module (~0.3-0.7 s each) and lab calls are CPU-bound: fewer of them.
$script:MaxLabRunspaces = 8
$script:OpenTimeoutMs = 180000
$script:NextSweep = [DateTime]::MinValue
$script:SweepMs = 100           # how often the waiting calls' deadlines are looked at while nothing else happens
$script:HasDateKind = (Get-Command ConvertFrom-Json).Parameters.ContainsKey('DateKind')
$script:Utf8 = New-Object System.Text.UTF8Encoding($false)

function ConvertFrom-RdpfixBase64Json {
    param([Parameter(Mandatory)][string]$Base64)
    $json = $script:Utf8.GetString([Convert]::FromBase64String($Base64))
    # PowerShell 7 would turn ISO date strings into DateTime; data must arrive exactly as sent.
    if ($script:HasDateKind) { return (ConvertFrom-Json -InputObject $json -DateKind String) } # ps51-ok: version-checked, 7.5+ only
    return (ConvertFrom-Json -InputObject $json)
}

function Write-RdpfixReply {
    param([Parameter(Mandatory)]$Reply)
    # Base64 keeps the reply ASCII: Windows PowerShell writes stdout in the OEM code page.
    $json = ConvertTo-Json -InputObject $Reply -Depth 12 -Compress
    $global:RdpfixOut.WriteLine([Convert]::ToBase64String($script:Utf8.GetBytes($json)))
    $global:RdpfixOut.Flush()
}

function Read-RdpfixConsoleNoise {
    # What anything else wrote to the console since the last pump (e.g. ssh relaying its stderr).
    $sb = $script:Noise.GetStringBuilder()
    $text = $sb.ToString()
    [void]$sb.Clear()
    if ($text.Length -gt 4000) { $text = $text.Substring($text.Length - 4000) }
    return $text
}

function Initialize-RdpfixBroker {
    <# Reads its settings from the environment the controller started this process with. Stdout is the
       protocol channel: the real console writer is kept for replies (and the controller's delimiters,
       see src/broker/worker.ts), and everything else that writes to the console (PowerShell relays ssh's
       stderr there) goes to a buffer instead of corrupting the channel. #>
    if (-not (Test-Path variable:global:RdpfixOut)) {
        $global:RdpfixOut = [Console]::Out
        $script:Noise = New-Object System.IO.StringWriter
        [Console]::SetOut([System.IO.TextWriter]::Synchronized($script:Noise))
    }
    $script:Driver = [System.IO.File]::ReadAllText($env:RDPFIX_BROKER_DRIVER)
    if ($env:RDPFIX_BROKER_RUNSPACES) { $script:MaxRunspaces = [int]$env:RDPFIX_BROKER_RUNSPACES }
    if ($env:RDPFIX_BROKER_LAB_RUNSPACES) { $script:MaxLabRunspaces = [int]$env:RDPFIX_BROKER_LAB_RUNSPACES }
    Write-RdpfixReply ([ordered]@{
            pid        = $PID
            psVersion  = $PSVersionTable.PSVersion.ToString()
            psEdition  = $PSVersionTable.PSEdition
            runspaces  = $script:MaxRunspaces
        })
}

function Get-RdpfixSessionState {
    <# The initial state of every runspace of a kind, built once per process. The request driver
       (invoke-request.ps1) becomes a function of each runspace, so it is parsed once per runspace rather
       than once per call. #>
    param([Parameter(Mandatory)][string]$Kind)
    # CreateDefault2 loads only the core commands (the rest autoload on first use): a new runspace costs
    # a fraction of CreateDefault's, which matters when a burst of calls opens dozens of them.
    $iss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault2()
    $iss.Variables.Add((New-Object System.Management.Automation.Runspaces.SessionStateVariableEntry('RdpfixSessions', $script:Sessions, 'Remote session cache')))
    $iss.Commands.Add((New-Object System.Management.Automation.Runspaces.SessionStateFunctionEntry('Invoke-RdpfixRequest', $script:Driver)))
    return $iss
}

function New-RdpfixRunspace {
    <# Opens one more runspace of a kind, in the background: a pump never blocks on it (a lab runspace
       imports the lab module, seconds on a loaded machine), and no call's deadline pays for it. #>
    param([Parameter(Mandatory)][string]$Kind)
    if (-not $script:Runspaces.ContainsKey($Kind)) {
        $script:Runspaces[$Kind] = [System.Collections.Generic.List[object]]::new()
        $script:SessionStates[$Kind] = Get-RdpfixSessionState $Kind
    }
    # No host: what a step writes to its streams is captured per call, never printed on this console.
    $rs = [runspacefactory]::CreateRunspace($script:SessionStates[$Kind])
    # A runspace's default starts a new thread for every call; one thread per runspace, as a RunspacePool has,
    # saved about 1 s of 26 s of PowerShell CPU on a 200-host lab apply.
    $rs.ThreadOptions = [System.Management.Automation.Runspaces.PSThreadOptions]::ReuseThread
    $rs.OpenAsync()
    $slot = [pscustomobject]@{ Kind = $Kind; Runspace = $rs; Busy = $false; LastKey = $null; Ready = $false; Init = $null; InitHandle = $null }
    $script:Runspaces[$Kind].Add($slot)
}

function Step-RdpfixRunspaceOpen {
    <# Moves a runspace on towards ready; returns why it failed, or $null. A lab runspace imports the lab
       module (its functions shadow the Windows commands step scripts call) as its first pipeline, and is
       ready when that pipeline has finished. The module is not imported through the InitialSessionState:
       such a runspace reports Opened, and even Available for a moment, before its import has finished
       (seen on pwsh 7.6.9), so a call could start on it without the lab's commands. #>
    param([Parameter(Mandatory)]$Slot)
    $rs = $Slot.Runspace
    $state = $rs.RunspaceStateInfo.State
    if ($state -eq 'Broken' -or $state -eq 'Closed') {
        if ($null -ne $rs.RunspaceStateInfo.Reason) { return $rs.RunspaceStateInfo.Reason.Message }
        return "runspace state $state"
    }
    if ($state -ne 'Opened') { return $null }
    if ($Slot.Kind -ne 'lab') {
        $Slot.Ready = $rs.RunspaceAvailability -eq 'Available'
        return $null
    }
    if ($null -eq $Slot.Init) {
        if ($rs.RunspaceAvailability -ne 'Available') { return $null }
        $init = [powershell]::Create()
        $init.Runspace = $rs
        [void]$init.AddCommand('Import-Module').AddParameter('Name', [string]$env:RDPFIX_LAB_MODULE).AddParameter('ErrorAction', 'Stop')
        try { $Slot.InitHandle = $init.BeginInvoke() }
        catch { $init.Dispose(); return $null }   # still busy opening: try again on the next round
        $Slot.Init = $init
        return $null
    }
    if (-not $Slot.InitHandle.IsCompleted) { return $null }
    $why = $null
    try {
        [void]$Slot.Init.EndInvoke($Slot.InitHandle)
        if ($Slot.Init.HadErrors) { $why = 'importing the lab module failed: ' + (@($Slot.Init.Streams.Error | ForEach-Object { $_.ToString() }) -join '; ') }
    } catch {
        $inner = $_.Exception
        while ($null -ne $inner.InnerException) { $inner = $inner.InnerException }
        $why = 'importing the lab module failed: ' + $inner.Message
    }
    $Slot.Init.Dispose()
    $Slot.Init = $null
    if ($null -eq $why) { $Slot.Ready = $true }
    return $why
}

function Get-RdpfixMaxRunspaces {
    param([Parameter(Mandatory)][string]$Kind)
    if ($Kind -eq 'lab') { return $script:MaxLabRunspaces }
    return $script:MaxRunspaces
}

function Get-RdpfixFreeRunspaces {
    <# The idle runspaces that are open and ready (a lab one has its module imported: Step-RdpfixRunspaceOpen), by kind. #>
    $free = @{}
    foreach ($kind in @($script:Runspaces.Keys)) {
        $list = [System.Collections.Generic.List[object]]::new()
        foreach ($slot in $script:Runspaces[$kind]) {
            # A plain test, not a function call: this runs for every runspace whenever a call ends.
            if (-not $slot.Busy -and $slot.Ready -and $slot.Runspace.RunspaceStateInfo.State -eq 'Opened') { $list.Add($slot) }
        }
        $free[$kind] = $list
    }
    return $free
}

function Select-RdpfixRunspace {
    <# Takes a free runspace for an entry from $Free: preferably the one that served this host last. #>
    param([Parameter(Mandatory)]$Entry, [Parameter(Mandatory)][hashtable]$Free)
    $list = $Free[$Entry.Kind]
    if ($null -eq $list -or $list.Count -eq 0) { return $null }
    $pick = $list[0]
    foreach ($slot in $list) { if ($slot.LastKey -eq $Entry.Key) { $pick = $slot; break } }
    [void]$list.Remove($pick)
    return $pick
}

function Update-RdpfixRunspaces {
    <# Drops runspaces that failed to open (remembering why) and opens as many new ones as there are
       waiting calls without one, up to the kind's limit. Returns whether some runspace is still opening. #>
    $waitingByKind = @{}
    foreach ($entry in $script:Waiting) { $waitingByKind[$entry.Kind] = 1 + [int]$waitingByKind[$entry.Kind] }
    foreach ($kind in @($script:Runspaces.Keys)) {
        foreach ($slot in $script:Runspaces[$kind].ToArray()) {
            if ($slot.Busy) { continue }
            $why = $null
            if (-not $slot.Ready) { $why = Step-RdpfixRunspaceOpen $slot }
            elseif ($slot.Runspace.RunspaceStateInfo.State -ne 'Opened') { $why = 'runspace state ' + $slot.Runspace.RunspaceStateInfo.State }
            if ($null -ne $why) {
                [void]$script:Runspaces[$kind].Remove($slot)
                $script:OpenFailures[$kind] = $why
                $slot.Runspace.Dispose()
            }
        }
    }
    foreach ($kind in @($waitingByKind.Keys)) {
        $opening = 0
        $total = 0
        if ($script:Runspaces.ContainsKey($kind)) {
            $total = $script:Runspaces[$kind].Count
            foreach ($slot in $script:Runspaces[$kind]) {
                # Still opening, or idle now (a waiting call gets it this round).
                if (-not $slot.Busy) { $opening++ }
            }
        }
        # After a failed open, the waiting calls of that kind are answered with why before another is tried.
        if ($script:OpenFailures.ContainsKey($kind)) { continue }
        $wanted = $waitingByKind[$kind] - $opening
        $max = Get-RdpfixMaxRunspaces $kind
        while ($wanted -gt 0 -and $total -lt $max) {
            New-RdpfixRunspace $kind
            $wanted--
            $total++
        }
    }
    # Whether a runspace is still opening: nothing signals when it is ready, so the pump polls while one is.
    foreach ($kind in @($script:Runspaces.Keys)) {
        foreach ($slot in $script:Runspaces[$kind]) { if (-not $slot.Ready) { return $true } }
    }
    return $false
}

function Add-RdpfixRequest {
    <# Accepts a request: it starts as soon as an open runspace of its kind is free. #>
    param([Parameter(Mandatory)]$Request)
    $kind = 'plain'
    if ($Request.target.kind -eq 'lab') { $kind = 'lab' }
    $timeoutMs = 60000
    if ($Request.PSObject.Properties['timeoutMs'] -and $Request.timeoutMs) { $timeoutMs = [int]$Request.timeoutMs }
    # Scripts are ours and fixed per run: the controller sends a script's text once per process, then
    # only its hash.
    $hash = [string]$Request.scriptHash
    if ($null -ne $Request.script) { $script:Scripts[$hash] = [string]$Request.script }
    elseif ($script:Scripts.ContainsKey($hash)) { $Request.script = $script:Scripts[$hash] }
    else { throw "The broker does not know the script with hash $hash (the controller sent only its hash)." }
    $script:Waiting.Add([pscustomobject]@{
            Id        = [string]$Request.id
            Request   = $Request
            Kind      = $kind
            Key       = [string]$Request.target.sessionKey
            Slot      = $null
            PS        = $null
            Output    = $null
            Handle    = $null
            Started   = [DateTime]::UtcNow
            # Until it starts, a request waits at most this long (for a runspace to open or free up); its
            # own timeout counts from its start, on an open runspace, so waiting never eats into a step's time.
            Deadline  = [DateTime]::UtcNow.AddMilliseconds($script:OpenTimeoutMs)
            TimeoutMs = $timeoutMs
        })
}

function Start-RdpfixRequest {
    param([Parameter(Mandatory)]$Entry, [Parameter(Mandatory)]$Slot)
    $ps = [powershell]::Create()
    $ps.Runspace = $Slot.Runspace
    [void]$ps.AddCommand('Invoke-RdpfixRequest').AddArgument($Entry.Request)
    $noInput = [System.Management.Automation.PSDataCollection[psobject]]::new()
    $noInput.Complete()
    $Slot.Busy = $true
    $Slot.LastKey = $Entry.Key
    $Entry.Slot = $Slot
    $Entry.PS = $ps
    $Entry.Started = [DateTime]::UtcNow
    $Entry.Deadline = $Entry.Started.AddMilliseconds($Entry.TimeoutMs)
    $Entry.Output = [System.Management.Automation.PSDataCollection[psobject]]::new()
    $Entry.Handle = $ps.BeginInvoke($noInput, $Entry.Output)
    $script:InFlight.Add($Entry)
}

function ConvertTo-RdpfixValue {
    <# Output items travel as JSON values: primitives as they are, anything else as its properties. #>
    param($Item)
    if ($null -eq $Item) { return $null }
    $base = $Item
    if ($Item -is [psobject]) { $base = $Item.PSObject.BaseObject }
    if ($base -is [string] -or $base -is [bool] -or $base -is [int] -or $base -is [long] -or $base -is [double] -or $base -is [decimal]) { return $base }
    if ($base -is [datetime]) { return $base.ToString('o') }
    if ($base -is [enum]) { return $base.ToString() }
    return $Item
}

function Get-RdpfixStreams {
    param([Parameter(Mandatory)]$PS)
    # Loops, not pipelines: this runs for every call, and most of its streams are empty.
    $s = $PS.Streams
    $progress = [System.Collections.Generic.List[object]]::new()
    foreach ($p in $s.Progress) {
        if ($p.RecordType -ne 'Completed') { $progress.Add([ordered]@{ activity = $p.Activity; status = $p.StatusDescription; percent = $p.PercentComplete }) }
    }
    $warning = [System.Collections.Generic.List[object]]::new()
    foreach ($r in $s.Warning) { $warning.Add($r.Message) }
    $verbose = [System.Collections.Generic.List[object]]::new()
    foreach ($r in $s.Verbose) { $verbose.Add($r.Message) }
    $information = [System.Collections.Generic.List[object]]::new()
    foreach ($r in $s.Information) { $information.Add([string]$r.MessageData) }
    $errors = [System.Collections.Generic.List[object]]::new()
    foreach ($r in $s.Error) { $errors.Add((ConvertTo-RdpfixError $r)) }
    return [ordered]@{
        warning     = $warning.ToArray()
        verbose     = $verbose.ToArray()
        information = $information.ToArray()
        progress    = $progress.ToArray()
        error       = $errors.ToArray()
    }
}

function ConvertTo-RdpfixOutput {
    param([Parameter(Mandatory)][AllowEmptyCollection()]$Output)
    $items = [System.Collections.Generic.List[object]]::new()
    # @(): what a pipeline of the items would give (a returned collection unrolled, a returned null kept).
    foreach ($item in $Output) { $items.AddRange([object[]]@(ConvertTo-RdpfixValue $item)) }
    return ,$items.ToArray()
}

function ConvertTo-RdpfixError {
    <# The facts the controller classifies an error by (src/broker/classify.ts). #>
    param([Parameter(Mandatory)]$Record, [string]$Origin)
    $ex = $Record.Exception
    $code = $null
    if ($ex -is [System.Management.Automation.Remoting.PSRemotingTransportException]) {
        $code = $ex.ErrorCode
        if (-not $Origin) { $Origin = 'transport' }
    }
    if (-not $Origin) { $Origin = 'script' }
    $target = $null
    if ($null -ne $Record.TargetObject) { $target = [string]$Record.TargetObject }
    return [ordered]@{
        origin        = $Origin
        message       = [string]$Record.ToString()
        fqid          = [string]$Record.FullyQualifiedErrorId
        category      = $Record.CategoryInfo.Category.ToString()
        target        = $target
        exceptionType = $ex.GetType().FullName
        errorCode     = $code
    }
}

function Complete-RdpfixRequest {
    param([Parameter(Mandatory)]$Entry)
    $ps = $Entry.PS
    $reply = [ordered]@{ id = $Entry.Id; ok = $true; durationMs = [int]([DateTime]::UtcNow - $Entry.Started).TotalMilliseconds }
    $failure = $null
    try { [void]$ps.EndInvoke($Entry.Handle) }
    catch {
        $inner = $_.Exception
        while ($inner -is [System.Management.Automation.MethodInvocationException] -and $null -ne $inner.InnerException) { $inner = $inner.InnerException }
        if ($inner -is [System.Management.Automation.IContainsErrorRecord]) { $failure = ConvertTo-RdpfixError $inner.ErrorRecord }
        else { $failure = [ordered]@{ origin = 'script'; message = $inner.Message; fqid = $null; category = $null; target = $null; exceptionType = $inner.GetType().FullName; errorCode = $null } }
    }
    $reply.data = [ordered]@{
        output  = ConvertTo-RdpfixOutput $Entry.Output
        streams = Get-RdpfixStreams $ps
    }
    if ($null -ne $failure) { $reply.ok = $false; $reply.error = $failure }
    $ps.Dispose()
    $Entry.Slot.Busy = $false
    return $reply
}

function Stop-RdpfixRequest {
    <# The call ran past its deadline: stop it (a stopped pipeline still runs its finally blocks, so a
       lab host's lock is released) and reply now; the stopped instance is disposed once it has ended. #>
    param([Parameter(Mandatory)]$Entry)
    [void]$Entry.PS.BeginStop($null, $null)
    $script:Stopping.Add($Entry)
    return [ordered]@{
        id = $Entry.Id; ok = $false; durationMs = [int]([DateTime]::UtcNow - $Entry.Started).TotalMilliseconds
        error = [ordered]@{ origin = 'timeout'; message = "The call did not finish within $($Entry.TimeoutMs) ms and was stopped."; fqid = $null; category = 'OperationTimeout'; target = $null; exceptionType = $null; errorCode = $null }
        data  = [ordered]@{ output = (ConvertTo-RdpfixOutput $Entry.Output); streams = Get-RdpfixStreams $Entry.PS }
    }
}

function Close-RdpfixSession {
    param([Parameter(Mandatory)]$Request)
    $key = [string]$Request.target.sessionKey
    $reply = [ordered]@{ id = [string]$Request.id; ok = $true; data = [ordered]@{ closed = $false } }
    if ($key -and $script:Sessions.ContainsKey($key)) {
        $session = $script:Sessions[$key]
        $script:Sessions.Remove($key)
        try { Remove-PSSession -Session $session -ErrorAction Stop } catch { }
        $reply.data.closed = $true
    }
    return $reply
}

function Wait-RdpfixCallEnd {
    <# Sleeps until a running or stopping call ends, or TimeoutMs. #>
    param([int]$TimeoutMs)
    if ($TimeoutMs -le 0) { return }
    $handles = [System.Collections.Generic.List[System.Threading.WaitHandle]]::new()
    foreach ($entry in $script:InFlight) { $handles.Add($entry.Handle.AsyncWaitHandle) }
    foreach ($entry in $script:Stopping) { $handles.Add($entry.Handle.AsyncWaitHandle) }
    # WaitAny takes at most 64 handles; beyond that, a short sleep and another look.
    if ($handles.Count -eq 0 -or $handles.Count -gt 64) { [System.Threading.Thread]::Sleep([Math]::Min($TimeoutMs, 1)); return }
    [void][System.Threading.WaitHandle]::WaitAny($handles.ToArray(), $TimeoutMs)
}

function Invoke-RdpfixPump {
    <# -LingerMs: after the first reply, keep collecting for up to this long while calls still wait for a runspace.
       Every runspace is busy then (a waiting call starts the moment one frees up), so lingering costs no throughput,
       only that much latency on the replies already in hand; it saves exchanges, 3-5 ms of CPU each across the
       two processes. Once nothing waits, the pump returns at once, so node can send the next calls. -WaitMs bounds
       only the wait for a first reply (how long new calls from node may wait to be taken); the linger runs from
       that reply, however much of WaitMs is left. #>
    param([string]$Submit = '', [int]$WaitMs = 0, [int]$LingerMs = 0)
    $replies = [System.Collections.Generic.List[object]]::new()
    if ($Submit) {
        $batch = ConvertFrom-RdpfixBase64Json $Submit
        foreach ($request in @($batch.requests)) {
            try {
                if ($request.op -eq 'close') { $replies.Add((Close-RdpfixSession $request)); continue }
                Add-RdpfixRequest $request
            } catch {
                $replies.Add([ordered]@{ id = [string]$request.id; ok = $false; error = (ConvertTo-RdpfixError $_ 'broker') })
            }
        }
    }
    $until = [DateTime]::UtcNow.AddMilliseconds($WaitMs)
    $lingerUntil = $null
    # The waiting calls are looked at when something can have changed for them: on entry (new calls), when a
    # runspace frees up, while one is opening, and every SweepMs (their deadlines). Between those the pump sleeps
    # until a call finishes: a loop that polled every millisecond took a core's worth of the CPU the calls need.
    $sweep = $true
    $sweeps = 0
    $opening = $false
    while ($true) {
        $now = [DateTime]::UtcNow
        # Finished and overdue calls first: each frees a runspace that a waiting call can take in this same round.
        foreach ($entry in $script:InFlight.ToArray()) {
            if ($entry.Handle.IsCompleted) {
                [void]$script:InFlight.Remove($entry)
                $replies.Add((Complete-RdpfixRequest $entry))
                $sweep = $true
            } elseif ($now -gt $entry.Deadline) {
                [void]$script:InFlight.Remove($entry)
                $replies.Add((Stop-RdpfixRequest $entry))
            }
        }
        foreach ($entry in $script:Stopping.ToArray()) {
            if ($entry.Handle.IsCompleted) {
                [void]$script:Stopping.Remove($entry)
                $entry.PS.Dispose()
                $entry.Slot.Busy = $false
                $sweep = $true
            }
        }
        if ($script:Waiting.Count -gt 0 -and ($sweep -or $opening -or $now -ge $script:NextSweep)) {
            $sweeps++
            # A full sweep (every SweepMs, or after a failed open) also answers the calls that can no longer start.
            # Runspaces are opened or dropped on entry (new calls), while one opens, and in a full sweep; a call
            # that ends frees its runspace and needs no new one.
            $full = $now -ge $script:NextSweep -or $script:OpenFailures.Count -gt 0
            if ($full) { $script:NextSweep = $now.AddMilliseconds($script:SweepMs) }
            if ($full -or $opening -or $sweeps -eq 1) { $opening = Update-RdpfixRunspaces }
            $free = Get-RdpfixFreeRunspaces
            $freeLeft = 0
            foreach ($list in $free.Values) { $freeLeft += $list.Count }
            foreach ($entry in $script:Waiting.ToArray()) {
                if ($freeLeft -eq 0 -and -not $full) { break }
                $list = $free[$entry.Kind]
                if ($null -ne $list -and $list.Count -gt 0) {
                    $slot = Select-RdpfixRunspace $entry $free
                    [void]$script:Waiting.Remove($entry)
                    Start-RdpfixRequest $entry $slot
                    $freeLeft--
                    continue
                }
                $failed = $script:OpenFailures[$entry.Kind]
                $none = (-not $script:Runspaces.ContainsKey($entry.Kind)) -or $script:Runspaces[$entry.Kind].Count -eq 0
                if (($failed -and $none) -or $now -gt $entry.Deadline) {
                    [void]$script:Waiting.Remove($entry)
                    $why = "The call could not start within $($script:OpenTimeoutMs) ms (no free open runspace)."
                    if ($failed) { $why = "The PowerShell runspace failed to open: $failed" }
                    $replies.Add([ordered]@{ id = $entry.Id; ok = $false; error = [ordered]@{ origin = 'broker'; message = $why; fqid = $null; category = $null; target = $null; exceptionType = $null; errorCode = $null } })
                }
            }
            # A failed open is answered once (by the waiting calls that had nothing else to run on); a later
            # call tries a new runspace.
            foreach ($kind in @($script:OpenFailures.Keys)) {
                if (-not @($script:Waiting.ToArray() | Where-Object { $_.Kind -eq $kind }).Count) { $script:OpenFailures.Remove($kind) }
            }
        }
        $sweep = $false
        if ($replies.Count -gt 0 -and $null -eq $lingerUntil) { $lingerUntil = [DateTime]::UtcNow.AddMilliseconds($LingerMs) }
        $ready = $replies.Count -gt 0 -and ($script:Waiting.Count -eq 0 -or [DateTime]::UtcNow -ge $lingerUntil)
        # WaitMs bounds the wait for a first reply; once one is in hand, the linger alone says how long to go on.
        if ($ready -or ($script:InFlight.Count -eq 0 -and $script:Waiting.Count -eq 0) -or ($replies.Count -eq 0 -and [DateTime]::UtcNow -ge $until)) { break }
        # A runspace that is opening signals nothing: poll it. Otherwise sleep until a call ends, or the next
        # thing that is due (the pump's end, the linger's end, the next sweep).
        if ($opening -and $script:Waiting.Count -gt 0) { [System.Threading.Thread]::Sleep(1); continue }
        $due = $until
        if ($null -ne $lingerUntil) { $due = $lingerUntil }
        if ($script:Waiting.Count -gt 0 -and $script:NextSweep -lt $due) { $due = $script:NextSweep }
        Wait-RdpfixCallEnd ([int][Math]::Ceiling(($due - [DateTime]::UtcNow).TotalMilliseconds))
    }
    # The ids this process still holds, so that the controller can tell if one was ever lost in transit.
    # Loops, not pipelines: a pipeline per exchange over every call in flight cost about 1 ms.
    $known = [System.Collections.Generic.List[string]]::new()
    foreach ($entry in $script:InFlight) { $known.Add($entry.Id) }
    foreach ($entry in $script:Waiting) { $known.Add($entry.Id) }
    Write-RdpfixReply ([ordered]@{ replies = $replies.ToArray(); inFlight = $known.Count; known = $known.ToArray(); console = (Read-RdpfixConsoleNoise); sweeps = $sweeps })
}

Export-ModuleMember -Function Initialize-RdpfixBroker, Invoke-RdpfixPump
