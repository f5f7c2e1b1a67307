# nla-temporary-disable: UserAuthentication = 0 on RDP-Tcp for ttlMinutes, unless group policy decides it (shared
# reference C.2, 7.1). One script for every phase (the engine passes $in.phase); the shared prelude
# (playbooks/_shared/prelude.ps1) is inserted after the param block when the step is sent.
param([Parameter(Mandatory)][string]$InputJson)
$in = Read-RdpfixInput -Json $InputJson -Steps 'disable-nla' -Parameters 'ttlMinutes'

# ---- Shared by every phase ----
$Key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'
$Name = 'UserAuthentication'
# ---- end of the shared part ----

# Read-only: is NLA required, and who decides? The policy copy wins over the local value.
if ($in.phase -eq 'check') { . {
$ttl = [int]$in.parameters.ttlMinutes
$v = Get-RdpfixEffectiveDword -Key $Key -Name $Name
# An absent value is not "NLA off": Windows Server 2012 / Windows 8 and later enforce NLA by default (reference 7.1).
$compliant = ($v.effective -eq 0)
$blocked = $null
$warnings = @()
if (-not $compliant -and $null -ne $v.policy) {
    $blocked = "blocked by policy: group policy sets UserAuthentication=$($v.policy) (HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services, 'Require user authentication for remote connections by using Network Level Authentication'); a local change has no effect. Change the GPO."
}
if (-not $compliant -and $null -eq $blocked) {
    $warnings += "Turning NLA off weakens security: users are authenticated only after a session has been created on the host, and clients that cannot do NLA may connect."
    $warnings += "The change reverts by itself after $ttl minutes (ttlMinutes): a SYSTEM scheduled task on the host restores UserAuthentication then, even if the controller is gone."
}
Write-RdpfixResult ([ordered]@{
    compliant = $compliant
    blocked   = $blocked
    before    = [ordered]@{ UserAuthentication = $v.local; policy = $v.policy }
    after     = [ordered]@{ UserAuthentication = 0; policy = $v.policy; revertsAfterMinutes = $ttl }
    warnings  = $warnings
})
} }

# The prior state of the local value: whether it existed, its kind and data; it names its key and value.
elseif ($in.phase -eq 'capture') { . {
Write-RdpfixResult ([ordered]@{ state = (Get-RdpfixValueState -Key $Key -Name $Name); warnings = @() })
} }

elseif ($in.phase -eq 'apply') { . {
$ttl = [int]$in.parameters.ttlMinutes
# The registry value Windows Admin Center's Set-RemoteDesktop writes too; the kind is explicit (reference C.1, 8.1).
New-ItemProperty -Path $Key -Name $Name -PropertyType DWord -Value 0 -Force | Out-Null
Write-RdpfixResult ([ordered]@{ changed = $true; rebootRequired = $false; warnings = @("NLA is off on this host until the revert task restores it after $ttl minutes.") })
} }

elseif ($in.phase -eq 'verify') { . {
$v = Get-RdpfixEffectiveDword -Key $Key -Name $Name
Write-RdpfixResult ([ordered]@{ ok = ($v.effective -eq 0); reason = "effective UserAuthentication is $($v.effective), expected 0"; warnings = @() })
} }

# Restores the checkpoint: the value's data and kind, or its absence. Self-contained: it reads only the checkpoint
# (the revert task runs it unattended on the host after the TTL), checks first, and a second run changes nothing.
elseif ($in.phase -eq 'undo') { . {
Write-RdpfixResult ([ordered]@{ changed = (Restore-RdpfixValueState -Key $Key -Name $Name -Checkpoint $in.checkpoint); warnings = @() })
} }
else { throw "nla-temporary-disable has no phase '$($in.phase)'." }
