# enable-remote-desktop: fDenyTSConnections = 0, unless group policy decides it (shared reference C.2, 8.1).
# One script for every phase (the engine passes $in.phase); the shared prelude (playbooks/_shared/prelude.ps1) is
# inserted after the param block when the step is sent.
param([Parameter(Mandatory)][string]$InputJson)
$in = Read-RdpfixInput -Json $InputJson -Steps 'allow-connections' -Parameters @()

# ---- Shared by every phase ----
$Key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server'
$Name = 'fDenyTSConnections'
# ---- end of the shared part ----

# Read-only: is RDP denied, and who decides? The policy value wins over the local one.
if ($in.phase -eq 'check') { . {
$v = Get-RdpfixEffectiveDword -Key $Key -Name $Name
$blocked = $null
if ($null -ne $v.policy -and $v.policy -ne 0) {
    $blocked = 'blocked by policy: group policy sets fDenyTSConnections=1 (HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services); a local change would be reverted at the next policy refresh. Change the GPO.'
}
Write-RdpfixResult ([ordered]@{
    compliant = ($v.effective -eq 0)
    blocked   = $blocked
    before    = [ordered]@{ fDenyTSConnections = $v.local; policy = $v.policy }
    after     = [ordered]@{ fDenyTSConnections = 0; policy = $v.policy }
    warnings  = @()
})
} }

# The prior state of the local value: whether it existed, its kind and data (undo deletes it if it was absent).
elseif ($in.phase -eq 'capture') { . {
Write-RdpfixResult ([ordered]@{ state = (Get-RdpfixValueState -Key $Key -Name $Name); warnings = @() })
} }

elseif ($in.phase -eq 'apply') { . {
# New-ItemProperty -PropertyType DWord: the kind is explicit even where the value was missing (reference C.1).
New-ItemProperty -Path $Key -Name $Name -PropertyType DWord -Value 0 -Force | Out-Null
Write-RdpfixResult ([ordered]@{ changed = $true; rebootRequired = $false; warnings = @() })
} }

elseif ($in.phase -eq 'verify') { . {
$v = Get-RdpfixEffectiveDword -Key $Key -Name $Name
Write-RdpfixResult ([ordered]@{ ok = ($v.effective -eq 0); reason = "effective fDenyTSConnections is $($v.effective)"; warnings = @() })
} }

# Restores the checkpoint: the value's data and kind, or its absence. Checks first, so it is safe on an unapplied step.
elseif ($in.phase -eq 'undo') { . {
Write-RdpfixResult ([ordered]@{ changed = (Restore-RdpfixValueState -Key $Key -Name $Name -Checkpoint $in.checkpoint); warnings = @() })
} }
else { throw "enable-remote-desktop has no phase '$($in.phase)'." }
