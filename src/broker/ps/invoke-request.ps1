# Runs one broker request inside a RunspacePool runspace (see RdpfixBroker.psm1). The step script is
# parsed from its own text and receives the request's arguments as arguments: Invoke-Command semantics
# on every transport, and the same script runs on a lab host and on a real one.
param($Request)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'Continue'      # progress is captured from the stream, never printed
$target = $Request.target
$step = [scriptblock]::Create([string]$Request.script)
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
        if ($target.connectTimeoutMs) { $options.OpenTimeout = [int]$target.connectTimeoutMs }
        if ($options.Count -gt 0) { $params.SessionOption = New-PSSessionOption @options }
    }
    $session = New-PSSession @params
    $RdpfixSessions[$key] = $session
    return $session
}

switch ([string]$target.kind) {
    'local' {
        & $step @argList
    }
    'lab' {
        Enter-LabHost -StatePath ([string]$target.statePath)
        try {
            $afterRun = Invoke-LabRemoteCallFaults
            & $step @argList
            if ($afterRun -eq 'drop-after') { throw (New-LabDropError) }
        } finally {
            Exit-LabHost
        }
    }
    { $_ -eq 'winrm' -or $_ -eq 'ssh' } {
        try { $session = Get-RdpfixRemoteSession }
        catch {
            # Whatever New-PSSession threw, failing to open the session is a transport failure.
            if ($_.Exception -is [System.Management.Automation.Remoting.PSRemotingTransportException]) { throw }
            $ex = New-Object System.Management.Automation.Remoting.PSRemotingTransportException($_.ToString(), $_.Exception)
            throw (New-Object System.Management.Automation.ErrorRecord($ex, $_.FullyQualifiedErrorId, $_.CategoryInfo.Category, $_.TargetObject))
        }
        Invoke-Command -Session $session -ScriptBlock $step -ArgumentList $argList -ErrorAction Stop
    }
    default {
        throw "Unknown transport kind '$($target.kind)'."
    }
}
