# Runs one broker request on one of the broker's runspaces (see RdpfixBroker.psm1), where this text is the
# body of the function Invoke-RdpfixRequest. The step script is parsed from its own text (once per runspace:
# compiled script blocks are kept by the script's hash) and receives the request's arguments as arguments:
# Invoke-Command semantics on every transport, and the same script runs on a lab host and on a real one.
param($Request)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'Continue'      # progress is captured from the stream, never printed
$target = $Request.target
# No commands before Enter-LabHost: the lab shadows some (Test-Path is one), and they need a host entered.
$compiled = $ExecutionContext.SessionState.PSVariable.GetValue('global:RdpfixCompiledSteps')
if ($null -eq $compiled) { $compiled = @{}; $global:RdpfixCompiledSteps = $compiled }
$stepHash = [string]$Request.scriptHash
if ($stepHash -and $compiled.ContainsKey($stepHash)) { $step = $compiled[$stepHash] }
else {
    $step = [scriptblock]::Create([string]$Request.script)
    if ($stepHash) { $compiled[$stepHash] = $step }
}
$argList = @()
if ($null -ne $Request.args) { $argList = @($Request.args) }

function Get-RdpfixRemoteSession {
    # One session per host, reused across the steps of that host and closed by a 'close' request.
    $key = [string]$target.sessionKey
    if ($RdpfixSessions.ContainsKey($key)) {
        $cached = $RdpfixSessions[$key]
        if ($cached.State -eq 'Opened') { return $cached }
        $RdpfixSessions.Remove($key)
        Remove-PSSession -Session $cached -ErrorAction SilentlyContinue
    }
    $params = @{ ErrorAction = 'Stop' }
    if ($target.kind -eq 'ssh') {
        $params.HostName = [string]$target.host
        if ($target.user) { $params.UserName = [string]$target.user }
        if ($target.keyFile) { $params.KeyFilePath = [string]$target.keyFile }
        if ($target.port) { $params.Port = [int]$target.port }
        if ($target.connectTimeoutMs) { $params.ConnectingTimeout = [int]$target.connectTimeoutMs }
        if ($target.PSObject.Properties['sshOptions'] -and $null -ne $target.sshOptions) {
            # ssh -o Name=value options (New-PSSession -Options, PowerShell 7.3+): known_hosts file, host key policy...
            $sshOptions = @{}
            foreach ($p in $target.sshOptions.PSObject.Properties) { $sshOptions[[string]$p.Name] = [string]$p.Value }
            if ($sshOptions.Count -gt 0) { $params.Options = $sshOptions }
        }
    } else {
        $params.ComputerName = [string]$target.host
        if ($target.port) { $params.Port = [int]$target.port }
        if ($target.useSsl) { $params.UseSSL = $true }
        if ($target.authentication) { $params.Authentication = [string]$target.authentication }
        if ($target.credential) {
            # The password only ever lives in this process's memory (never in a journal, log or reply).
            $secure = ConvertTo-SecureString -String ([string]$target.credential.password) -AsPlainText -Force
            $params.Credential = New-Object System.Management.Automation.PSCredential([string]$target.credential.user, $secure)
        }
        $options = @{}
        if ($target.skipCACheck) { $options.SkipCACheck = $true }
        if ($target.skipCNCheck) { $options.SkipCNCheck = $true }
        if ($target.skipRevocationCheck) { $options.SkipRevocationCheck = $true }
        if ($target.PSObject.Properties['includePortInSPN'] -and $target.includePortInSPN) { $options.IncludePortInSPN = $true }
        if ($target.connectTimeoutMs) { $options.OpenTimeout = [int]$target.connectTimeoutMs }
        if ($options.Count -gt 0) { $params.SessionOption = New-PSSessionOption @options }
    }
    if ($target.kind -eq 'ssh') { Test-RdpfixSshPort }
    $session = New-PSSession @params
    $RdpfixSessions[$key] = $session
    return $session
}

$remoteWrapper = {
    param([string]$RdpfixStepText, [object[]]$RdpfixStepArgs)
    $ErrorActionPreference = 'Stop'
    try {
        if ($null -eq $RdpfixStepArgs) { $RdpfixStepArgs = @() }
        # Warning and verbose records are merged into the output here, on the remote side, and marked:
        # a host-less caller would otherwise lose them.
        & ([scriptblock]::Create($RdpfixStepText)) @RdpfixStepArgs 3>&1 4>&1 | ForEach-Object {
            if ($_ -is [System.Management.Automation.WarningRecord]) { [pscustomobject]@{ RdpfixStream = 'warning'; Message = $_.Message } }
            elseif ($_ -is [System.Management.Automation.VerboseRecord]) { [pscustomobject]@{ RdpfixStream = 'verbose'; Message = $_.Message } }
            else { $_ }
        }
    } catch {
        [pscustomobject]@{
            RdpfixRemoteFailure = $true
            Message = $_.ToString()
            Fqid = $_.FullyQualifiedErrorId
            Category = $_.CategoryInfo.Category.ToString()
            Target = [string]$_.TargetObject
        }
    }
}

function Test-RdpfixSshPort {
    # A closed or filtered port is found with a plain TCP connect before ssh starts: when ssh fails at once,
    # PowerShell's ssh transport can take the whole broker process down with it (seen on pwsh 7.6.9).
    $port = 22
    if ($target.port) { $port = [int]$target.port }
    $timeoutMs = 10000
    if ($target.connectTimeoutMs) { $timeoutMs = [int]$target.connectTimeoutMs }
    $client = New-Object System.Net.Sockets.TcpClient
    try {
        $connect = $client.ConnectAsync([string]$target.host, $port)
        $done = $false
        try { $done = $connect.Wait($timeoutMs) } catch { $done = $true }
        $reason = $null
        if (-not $done) { $reason = 'Connection timed out' }
        elseif ($connect.IsFaulted) {
            $socketError = $connect.Exception.GetBaseException()
            # A name that does not resolve is left to ssh, whose own words the classifier knows.
            if ($socketError -is [System.Net.Sockets.SocketException] -and $socketError.SocketErrorCode -in 'HostNotFound', 'NoData', 'TryAgain') { return }
            $reason = $socketError.Message
        }
        if ($null -ne $reason) {
            $ex = New-Object System.Management.Automation.Remoting.PSRemotingTransportException("[$($target.host)] Cannot reach port ${port}: $reason.")
            throw (New-Object System.Management.Automation.ErrorRecord($ex, 'PSSessionOpenFailed', 'OpenError', [string]$target.host))
        }
    } finally { $client.Dispose() }
}

function Get-RdpfixSshDiagnosis {
    # One quick non-interactive ssh attempt with the same settings, to learn why the session failed.
    # Arguments go to ssh as an array (no shell); the host name was validated not to start with '-'.
    # -n: ssh must not touch our stdin (the controller's command pipe): it would set it non-blocking, and
    # PowerShell would then read end-of-input and exit.
    $sshArgs = @('-n', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10')
    if ($target.port) { $sshArgs += @('-p', [string][int]$target.port) }
    if ($target.keyFile) { $sshArgs += @('-i', [string]$target.keyFile) }
    if ($target.user) { $sshArgs += @('-l', [string]$target.user) }
    if ($target.PSObject.Properties['sshOptions'] -and $null -ne $target.sshOptions) {
        foreach ($p in $target.sshOptions.PSObject.Properties) { $sshArgs += @('-o', ([string]$p.Name + '=' + [string]$p.Value)) }
    }
    $hostName = [string]$target.host
    if ($hostName.StartsWith('-')) { return '' }
    $sshArgs += @($hostName, 'exit')
    $ErrorActionPreference = 'Continue'
    try { $lines = @(& ssh @sshArgs 2>&1 | ForEach-Object { "$_" } | Where-Object { $_ -and $_ -notmatch '^Warning: Permanently added' }) }
    catch { return '' }
    if ($lines.Count -eq 0) { return '' }
    return 'ssh: ' + ($lines -join ' | ') + ' -- '
}

switch ([string]$target.kind) {
    'local' {
        & $step @argList
    }
    'lab' {
        Enter-LabHost -StatePath ([string]$target.statePath)
        try {
            # A call that is the lab's own world (its clock, its network) is no remote call: no transport faults.
            $afterRun = $null
            if (-not ($target.PSObject.Properties['world'] -and $target.world)) { $afterRun = Invoke-LabRemoteCallFaults }
            & $step @argList
            if ($afterRun -eq 'drop-after') { throw (New-LabDropError) }
        } finally {
            Exit-LabHost
        }
    }
    { $_ -eq 'winrm' -or $_ -eq 'ssh' } {
        try { $session = Get-RdpfixRemoteSession }
        catch {
            # Whatever New-PSSession threw, failing to open the session is a transport failure. PowerShell
            # reports every ssh failure as one generic message; ssh's own words say why (auth, host key, refused).
            $message = $_.ToString()
            if ($target.kind -eq 'ssh') { $message = (Get-RdpfixSshDiagnosis) + $message }
            $ex = New-Object System.Management.Automation.Remoting.PSRemotingTransportException($message, $_.Exception)
            if ($_.Exception -is [System.Management.Automation.Remoting.PSRemotingTransportException]) { $ex.ErrorCode = $_.Exception.ErrorCode }
            throw (New-Object System.Management.Automation.ErrorRecord($ex, $_.FullyQualifiedErrorId, $_.CategoryInfo.Category, $_.TargetObject))
        }
        # The step runs inside a fixed wrapper that receives the step's text and arguments as arguments (never
        # as script text) and turns a terminating error into a marker object, so that a remote throw is told
        # apart from errors the step only wrote. Warnings and verbose records come back through the output (the
        # runspace has no host to print them) and are written to their own streams again. A broken connection
        # still fails the call.
        $remoteErrors = $null
        $failure = $null
        Invoke-Command -Session $session -ScriptBlock $remoteWrapper -ArgumentList ([string]$Request.script), $argList -ErrorAction Continue -ErrorVariable remoteErrors | ForEach-Object {
            if ($null -ne $_ -and $_.PSObject.Properties['RdpfixStream']) {
                if ($_.RdpfixStream -eq 'warning') { Write-Warning ([string]$_.Message) } else { Write-Verbose ([string]$_.Message) -Verbose }
            }
            elseif ($null -ne $_ -and $_.PSObject.Properties['RdpfixRemoteFailure']) { $failure = $_ }
            else { $_ }
        }
        foreach ($e in @($remoteErrors)) {
            if ($e.Exception -is [System.Management.Automation.Remoting.PSRemotingTransportException]) { throw $e }
        }
        if ($null -ne $failure) {
            $ex = New-Object System.Management.Automation.RuntimeException([string]$failure.Message)
            $category = [System.Management.Automation.ErrorCategory]::NotSpecified
            [void][Enum]::TryParse([string]$failure.Category, [ref]$category)
            throw (New-Object System.Management.Automation.ErrorRecord($ex, [string]$failure.Fqid, $category, [string]$failure.Target))
        }
    }
    default {
        throw "Unknown transport kind '$($target.kind)'."
    }
}
