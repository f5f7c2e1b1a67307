# session-limits: RDP-Tcp MaxInstanceCount and fSingleSessionPerUser, unless group policy decides them (shared
# reference C.2). One script for every phase and step (the engine passes $in.phase and $in.step); the shared prelude
# (playbooks/_shared/prelude.ps1) is inserted after the param block when the step is sent.
param([Parameter(Mandatory)][string]$InputJson)
$in = Read-RdpfixInput -Json $InputJson -Steps 'max-instance-count', 'single-session-per-user' -Parameters 'maxInstanceCount', 'singleSessionPerUser'

# ---- Shared by every phase ----
if ($in.step -eq 'max-instance-count') { $Key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'; $Name = 'MaxInstanceCount' }
else { $Key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server'; $Name = 'fSingleSessionPerUser' }

function Get-Target {
    # The value the step sets, as an unsigned number; $null where the step leaves the value as it is.
    if ($in.step -eq 'max-instance-count') { return [uint32]$in.parameters.maxInstanceCount }
    if ($in.parameters.singleSessionPerUser -eq 'on') { return [uint32]1 }
    if ($in.parameters.singleSessionPerUser -eq 'off') { return [uint32]0 }
    return $null
}

function Get-Values {
    # REG_DWORD reads as Int32 (4294967295 comes back as -1): compared as unsigned.
    $v = Get-RdpfixEffectiveDword -Key $Key -Name $Name
    return [ordered]@{ local = (ConvertTo-RdpfixUInt32 $v.local); policy = (ConvertTo-RdpfixUInt32 $v.policy); effective = (ConvertTo-RdpfixUInt32 $v.effective) }
}
# ---- end of the shared part ----

# Read-only: the local value, its policy twin (which wins), and the target.
if ($in.phase -eq 'check') { . {
$target = Get-Target
$v = Get-Values
$blocked = $null
$compliant = ($null -eq $target) -or ($v.effective -eq $target)
if (-not $compliant -and $null -ne $v.policy) {
    $blocked = "blocked by policy: group policy sets $Name=$($v.policy) (HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services); a local change would be reverted at the next policy refresh. Change the GPO."
}
$after = $target
if ($null -eq $target) { $after = $v.local }
Write-RdpfixResult ([ordered]@{
    compliant = $compliant
    blocked   = $blocked
    before    = [ordered]@{ name = $Name; local = $v.local; policy = $v.policy }
    after     = [ordered]@{ name = $Name; local = $after; policy = $v.policy }
    warnings  = @()
})
} }

# The prior state of the local value: whether it existed, its kind and data (undo deletes it if it was absent).
elseif ($in.phase -eq 'capture') { . {
Write-RdpfixResult ([ordered]@{ state = (Get-RdpfixValueState -Key $Key -Name $Name); warnings = @() })
} }

elseif ($in.phase -eq 'apply') { . {
# 'keep' never gets here (check finds it compliant); the manifest's enum leaves on / off.
$target = Get-Target
if ($null -eq $target) { $target = [uint32]0 }
# A DWORD is written as Int32: 4294967295 goes in as -1, with the kind explicit (reference C.1).
$signed = [BitConverter]::ToInt32([BitConverter]::GetBytes($target), 0)
New-ItemProperty -Path $Key -Name $Name -PropertyType DWord -Value $signed -Force | Out-Null
Write-RdpfixResult ([ordered]@{ changed = $true; rebootRequired = $false; warnings = @() })
} }

elseif ($in.phase -eq 'verify') { . {
$target = Get-Target
if ($null -eq $target) { $target = [uint32]0 }
$effective = (Get-Values).effective
Write-RdpfixResult ([ordered]@{ ok = ($effective -eq $target); reason = "effective $Name is $effective, expected $target"; warnings = @() })
} }

# Restores the checkpoint: the value's data and kind, or its absence. Checks first, so it is safe on an unapplied step.
elseif ($in.phase -eq 'undo') { . {
Write-RdpfixResult ([ordered]@{ changed = (Restore-RdpfixValueState -Key $Key -Name $Name -Checkpoint $in.checkpoint); warnings = @() })
} }
else { throw "session-limits has no phase '$($in.phase)'." }
