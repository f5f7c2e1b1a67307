# The baseline rdpfix is measured against (scripts/bench-vs-powershell.mjs): what an administrator who does not use
# rdpfix writes instead — a RunspacePool fan-out that runs a playbook's step scripts on every lab host, in the same
# order and with the same inputs as the engine (check; if not compliant: capture, apply, verify, capture again), and
# nothing else: no journal, no checkpoints kept, no rollback. Each runspace imports the lab module, as rdpfix's do.
#
#   pwsh -File scripts/fanout-apply.ps1 -RequestPath REQUEST.json [-CheckOnly]
#
# REQUEST.json (written by the benchmark): { labModule, throttle, playbook, runId, parameters,
#   steps: [{ id, check, capture, apply, verify }] (script texts), hosts: [{ name, statePath }] }.
# -CheckOnly runs only the check scripts and counts the hosts that are not compliant (the benchmark's referee).
# Prints one JSON line: { hosts, failed, notCompliant, errors }.
param([Parameter(Mandatory)][string]$RequestPath, [switch]$CheckOnly)
$ErrorActionPreference = 'Stop'
$request = [System.IO.File]::ReadAllText($RequestPath) | ConvertFrom-Json

$perHost = {
    param($HostEntry, $Steps, $Playbook, $RunId, $Parameters, [bool]$CheckOnly)
    $ErrorActionPreference = 'Stop'
    function Invoke-Phase($Step, [string]$Phase, $Checkpoint) {
        # The step's input is one JSON argument, exactly as the engine passes it.
        $json = [ordered]@{ runId = $RunId; host = $HostEntry.name; playbook = $Playbook; step = $Step.id; phase = $Phase; parameters = $Parameters; checkpoint = $Checkpoint } | ConvertTo-Json -Depth 20 -Compress
        $out = @(& ([scriptblock]::Create([string]$Step.$Phase)) $json)
        $text = @($out | Where-Object { $_ -is [string] -and $_.TrimStart().StartsWith('{') })
        if ($text.Count -ne 1) { throw "$($Step.id)/$Phase output $($out.Count) item(s), not one JSON result" }
        return ($text[0] | ConvertFrom-Json)
    }
    Enter-LabHost -StatePath ([string]$HostEntry.statePath)
    try {
        $compliant = $true
        foreach ($step in $Steps) {
            $check = Invoke-Phase $step 'check' $null
            if ($check.compliant) { continue }
            $compliant = $false
            if ($CheckOnly) { continue }
            $state = (Invoke-Phase $step 'capture' $null).state
            [void](Invoke-Phase $step 'apply' $state)
            $verify = Invoke-Phase $step 'verify' $state
            if (-not $verify.ok) { throw "$($step.id): verify failed: $($verify.reason)" }
            [void](Invoke-Phase $step 'capture' $null)
        }
        return [pscustomobject]@{ host = $HostEntry.name; ok = $true; compliant = $compliant; error = $null }
    } catch {
        return [pscustomobject]@{ host = $HostEntry.name; ok = $false; compliant = $false; error = $_.ToString() }
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
    [void]$ps.AddScript($perHost).AddArgument($h).AddArgument(@($request.steps)).AddArgument([string]$request.playbook).AddArgument([string]$request.runId).AddArgument($request.parameters).AddArgument([bool]$CheckOnly)
    [pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke() }
}
$results = foreach ($j in @($jobs)) {
    try { $j.PowerShell.EndInvoke($j.Handle) } finally { $j.PowerShell.Dispose() }
}
$pool.Close()
$results = @($results)
$failed = @($results | Where-Object { -not $_.ok })
[ordered]@{
    hosts        = $results.Count
    failed       = $failed.Count
    notCompliant = @($results | Where-Object { -not $_.compliant }).Count
    errors       = @($failed | Select-Object -First 5 | ForEach-Object { "$($_.host): $($_.error)" })
} | ConvertTo-Json -Compress
