# reset-stuck-sessions: check, apply and verify in one script (the engine passes $in.phase), so that the session
# reading below exists once. Each phase runs in this script's scope (dot-sourced). The shared prelude
# (playbooks/_shared/prelude.ps1) is inserted after the param block when the step is sent.
param([Parameter(Mandatory)][string]$InputJson)
$in = Read-RdpfixInput -Json $InputJson -Steps 'log-off-disconnected' -Parameters 'users', 'idleMinutes', 'logoffWaitSeconds'

# ---- Shared by every phase ----
function Get-StuckSessions {
    # Disconnected user sessions idle for at least idleMinutes, read through the WTS API (prelude): state by
    # WTS_CONNECTSTATE_CLASS number, never quser's localized words and columns (docs/windows-facts/sessions-wts.md).
    # Session 0 is listed as disconnected too, with no user: never a candidate.
    param($Parameters)
    $want = @($Parameters.users | Where-Object { $_ } | ForEach-Object { [string]$_ })
    $found = @()
    foreach ($s in (Get-RdpfixSessions)) {
        if ($s.state -ne 4 -or $s.user -eq '' -or $s.id -eq 0 -or $s.id -ge 65536) { continue }
        $idle = 0; if ($null -ne $s.idleMinutes) { $idle = [int]$s.idleMinutes }
        if ($idle -lt [int]$Parameters.idleMinutes) { continue }
        # 'bob' or 'CONTOSO\bob' (user names compare without case, as Windows does).
        if ($want.Count -gt 0 -and -not ($want -contains $s.user -or $want -contains ('{0}\{1}' -f $s.domain, $s.user))) { continue }
        $found += , ([ordered]@{ user = $s.user; domain = $s.domain; id = $s.id; idle = (Format-RdpfixIdle $s.idleMinutes); logon = $s.logonTime })
    }
    return , $found
}
# ---- end of the shared part ----

if ($in.phase -eq 'check') { . {
$stuck = Get-StuckSessions $in.parameters
Write-RdpfixResult ([ordered]@{
    compliant = ($stuck.Count -eq 0)
    before    = [ordered]@{ sessions = $stuck }
    after     = [ordered]@{ sessions = @(); loggedOff = @($stuck | ForEach-Object { '{0} (session {1}, idle {2})' -f $_.user, $_.id, $_.idle }) }
    warnings  = @()
})
} }

elseif ($in.phase -eq 'apply') { . {
# logoff <id> for each session first; a session that is still there once logoffWaitSeconds have passed on the host
# clock (a hung one) is reset (reference 2.1, 2.4). logoff returns before the session is gone (it does not wait for
# the logoff to finish: docs/windows-facts/network-firewall-sessions-tasks.md section 3), so the script polls before
# it resets anything. logoff and rwinsta always get an explicit ID: without one, logoff logs off the caller's own session.
$done = New-Object System.Collections.ArrayList
$warnings = New-Object System.Collections.ArrayList
$said = @{}
foreach ($s in (Get-StuckSessions $in.parameters)) {
    $ErrorActionPreference = 'Continue'
    $said[[string]$s.id] = (@(logoff ([string]$s.id) 2>&1 | ForEach-Object { "$_" }) -join ' ')
    [void]$done.Add([ordered]@{ user = $s.user; id = $s.id })
}
# One bound for all of them, on the host's clock: the wait never exceeds logoffWaitSeconds however many there are.
$deadline = (Get-Date).AddSeconds([int]$in.parameters.logoffWaitSeconds)
$left = @()
while ($true) {
    $listed = @{}
    # Still listed in any state: one that is logging off may show as Down before it goes.
    foreach ($r in (Get-RdpfixSessions)) { $listed[[string]$r.id] = $true }
    $left = @($done | Where-Object { $listed.ContainsKey([string]$_.id) })
    if ($left.Count -eq 0 -or (Get-Date) -ge $deadline) { break }
    Start-Sleep -Milliseconds 250
}
foreach ($s in $left) {
    [void]$warnings.Add("session $($s.id) ($($s.user)) was still there $([int]$in.parameters.logoffWaitSeconds) s after logoff ($($said[[string]$s.id])); reset with rwinsta")
    $ErrorActionPreference = 'Continue'
    $null = @(rwinsta ([string]$s.id) 2>&1 | ForEach-Object { "$_" })
}
Write-RdpfixResult ([ordered]@{ changed = ($done.Count -gt 0); loggedOff = @($done); warnings = @($warnings) })
} }

elseif ($in.phase -eq 'verify') { . {
$left = Get-StuckSessions $in.parameters
$names = @($left | ForEach-Object { '{0} (session {1})' -f $_.user, $_.id }) -join ', '
Write-RdpfixResult ([ordered]@{ ok = ($left.Count -eq 0); reason = "still there: $names"; warnings = @() })
} }
else { throw "reset-stuck-sessions has no phase '$($in.phase)'." }
