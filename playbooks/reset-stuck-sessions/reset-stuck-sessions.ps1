# reset-stuck-sessions: check, apply and verify in one script (the engine passes $in.phase), so that the quser
# reading below exists once. Each phase runs in this script's scope (dot-sourced). The shared prelude
# (playbooks/_shared/prelude.ps1) is inserted after the param block when the step is sent.
param([Parameter(Mandatory)][string]$InputJson)
$in = Read-RdpfixInput -Json $InputJson -Steps 'log-off-disconnected' -Parameters 'users', 'idleMinutes', 'logoffWaitSeconds'

# ---- Shared by every phase ----
function Get-StuckSessions {
    # quser prints nothing useful but 'No User exists for *' on stderr (exit 1) when nobody is logged on
    # (reference 2.2). In 5.1 native stderr becomes error records: read it with Continue and 2>&1.
    param($Parameters)
    $ErrorActionPreference = 'Continue'
    $lines = @(quser 2>&1 | ForEach-Object { "$_" })
    $found = @()
    foreach ($line in ($lines | Select-Object -Skip 1)) {
        # A disconnected session has an empty SESSIONNAME (reference 2.2): the ID follows the user name directly.
        # Keyed on that and on the numeric ID, not on localized words.
        if ($line -notmatch '^.(?<user>\S+)\s+(?:(?<session>\S+)\s+)?(?<id>\d+)\s+(?<state>\S+)\s+(?<idle>\S+)\s+(?<logon>.*)$') { continue }
        $m = $Matches
        if ($m['session']) { continue }
        $id = [int]$m['id']
        if ($id -eq 0 -or $id -ge 65536) { continue }
        $idle = 0
        $raw = $m['idle']
        if ($raw -match '^(\d+)\+(\d+):(\d+)$') { $idle = [int]$Matches[1] * 1440 + [int]$Matches[2] * 60 + [int]$Matches[3] }
        elseif ($raw -match '^(\d+):(\d+)$') { $idle = [int]$Matches[1] * 60 + [int]$Matches[2] }
        elseif ($raw -match '^\d+$') { $idle = [int]$raw }
        if ($idle -lt [int]$Parameters.idleMinutes) { continue }
        $users = @($Parameters.users | Where-Object { $_ })
        if ($users.Count -gt 0 -and -not ($users -contains $m['user'])) { continue }
        $found += , ([ordered]@{ user = $m['user']; id = $id; idle = $raw; logon = $m['logon'].Trim() })
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
    foreach ($r in (Get-StuckSessions ([pscustomobject]@{ idleMinutes = 0; users = @() }))) { $listed[[string]$r.id] = $true }
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
