# The baseline `rdpfix diagnose` is measured against (scripts/bench-vs-powershell.mjs --mode diagnose): a
# RunspacePool fan-out that runs rdpfix's read-only probe script (src/probe/ps/probe-host.ps1) on every lab host and
# keeps its JSON, and nothing else: no controller-side reach or RDP negotiation, no findings. Each runspace imports
# the lab module, as rdpfix's do.
#
#   pwsh -File scripts/fanout-probe.ps1 -RequestPath REQUEST.json
#
# REQUEST.json: { labModule, throttle, probe (script text), hosts: [{ name, statePath }] }.
# Prints one JSON line: { hosts, failed, errors }.
param([Parameter(Mandatory)][string]$RequestPath)
$ErrorActionPreference = 'Stop'
$request = [System.IO.File]::ReadAllText($RequestPath) | ConvertFrom-Json

$perHost = {
    param($HostEntry, [string]$Probe)
    $ErrorActionPreference = 'Stop'
    Enter-LabHost -StatePath ([string]$HostEntry.statePath)
    try {
        $out = @(& ([scriptblock]::Create($Probe)) '{}')
        $text = @($out | Where-Object { $_ -is [string] -and $_.TrimStart().StartsWith('{') })
        if ($text.Count -ne 1) { throw "the probe output $($out.Count) item(s), not one JSON result" }
        $doc = $text[0] | ConvertFrom-Json
        return [pscustomobject]@{ host = $HostEntry.name; ok = ($null -ne $doc.sections); error = $null }
    } catch {
        return [pscustomobject]@{ host = $HostEntry.name; ok = $false; error = $_.ToString() }
    } finally {
        Exit-LabHost
    }
}

$iss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault()
$iss.ImportPSModule([string[]]@([string]$request.labModule))
$pool = [runspacefactory]::CreateRunspacePool(1, [int]$request.throttle, $iss, $Host)
$pool.Open()
$jobs = foreach ($h in @($request.hosts)) {
    $ps = [powershell]::Create()
    $ps.RunspacePool = $pool
    [void]$ps.AddScript($perHost).AddArgument($h).AddArgument([string]$request.probe)
    [pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke() }
}
$results = @(foreach ($j in @($jobs)) {
        try { $j.PowerShell.EndInvoke($j.Handle) } finally { $j.PowerShell.Dispose() }
    })
$pool.Close()
$failed = @($results | Where-Object { -not $_.ok })
[ordered]@{
    hosts  = $results.Count
    failed = $failed.Count
    errors = @($failed | Select-Object -First 5 | ForEach-Object { "$($_.host): $($_.error)" })
} | ConvertTo-Json -Compress
