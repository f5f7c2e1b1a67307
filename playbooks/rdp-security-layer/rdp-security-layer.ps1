# rdp-security-layer: RDP-Tcp SecurityLayer and MinEncryptionLevel, unless group policy decides them (shared
# reference C.2, 7.1). Steps: min-encryption-level (only raises), raise-security-layer (hardening), lower-security-layer
# (weakening, always reverted after the TTL); at most one of the two SecurityLayer steps has work to do. SecurityLayer
# orders 0 RDP Security Layer < 1 Negotiate (TLS when the client can, else RDP) < 2 SSL/TLS.
# One script for every phase and step (the engine passes $in.phase and $in.step); the shared prelude
# (playbooks/_shared/prelude.ps1) is inserted after the param block when the step is sent.
param([Parameter(Mandatory)][string]$InputJson)
$in = Read-RdpfixInput -Json $InputJson -Steps 'min-encryption-level', 'raise-security-layer', 'lower-security-layer' -Parameters 'securityLayer', 'minEncryptionLevel', 'ttlMinutes'

# ---- Shared by every phase ----
$Key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'
# The value this step sets (and its checkpoint names).
$Name = 'SecurityLayer'
if ($in.step -eq 'min-encryption-level') { $Name = 'MinEncryptionLevel' }
$layerTarget = $null
if ($null -ne $in.parameters.PSObject.Properties['securityLayer']) { $layerTarget = @{ rdp = 0; negotiate = 1; tls = 2 }[[string]$in.parameters.securityLayer] }
# ---- end of the shared part ----

# Read-only: the local value, its policy copy (which wins), and the target.
if ($in.phase -eq 'check') { . {
$layerNames = @{ 0 = 'RDP Security Layer'; 1 = 'Negotiate'; 2 = 'SSL/TLS' }
$ttl = [int]$in.parameters.ttlMinutes
$mel = Get-RdpfixEffectiveDword -Key $Key -Name 'MinEncryptionLevel'
# The floor for MinEncryptionLevel: explicit, or (auto) Client Compatible only where TLS needs more than Low.
$melFloor = $null
switch ([string]$in.parameters.minEncryptionLevel) {
    'auto' { if ($layerTarget -eq 2 -and $mel.effective -eq 1) { $melFloor = 2 } }
    'client-compatible' { $melFloor = 2 }
    'high' { $melFloor = 3 }
    'fips' { $melFloor = 4 }
}
$blocked = $null
$warnings = @()
if ($in.step -eq 'min-encryption-level') {
    $compliant = ($null -eq $melFloor) -or ($null -ne $mel.effective -and $mel.effective -ge $melFloor)
    if (-not $compliant -and $null -ne $mel.policy) {
        $blocked = "blocked by policy: group policy sets MinEncryptionLevel=$($mel.policy) (HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services, 'Set client connection encryption level'); a local change has no effect. Change the GPO."
    }
    if (-not $compliant -and $null -eq $blocked -and [string]$in.parameters.minEncryptionLevel -eq 'auto') {
        $warnings += 'SSL/TLS is not valid with MinEncryptionLevel 1 (Low): it is raised to 2 (Client Compatible) first.'
    }
    $before = [ordered]@{ MinEncryptionLevel = $mel.local; policy = $mel.policy }
    $after = [ordered]@{ MinEncryptionLevel = $mel.local; policy = $mel.policy }
    if (-not $compliant) { $after.MinEncryptionLevel = $melFloor }
} else {
    $sl = Get-RdpfixEffectiveDword -Key $Key -Name 'SecurityLayer'
    $nla = Get-RdpfixEffectiveDword -Key $Key -Name 'UserAuthentication'
    # An absent SecurityLayer means Negotiate (1), the documented default (unattend SecurityLayer reference).
    $current = $sl.effective
    if ($null -eq $current) { $current = 1 }
    $lower = ($in.step -eq 'lower-security-layer')
    if ($lower) { $compliant = -not ($layerTarget -lt $current) } else { $compliant = -not ($layerTarget -gt $current) }
    # The MinEncryptionLevel this step meets: what the step before it sets, unless policy holds it.
    $melThen = $mel.effective
    if ($null -ne $melFloor -and $null -eq $mel.policy -and -not ($null -ne $mel.effective -and $mel.effective -ge $melFloor)) { $melThen = $melFloor }
    if (-not $compliant) {
        if ($null -ne $sl.policy) {
            $blocked = "blocked by policy: group policy sets SecurityLayer=$($sl.policy) (HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services, 'Require use of specific security layer for remote (RDP) connections'); a local change has no effect. Change the GPO."
        } elseif ($layerTarget -eq 0 -and $nla.effective -ne 0) {
            # Absent counts as required: NLA is enforced by default since Windows Server 2012 / Windows 8 (reference 7.1).
            $uaText = 'absent: on by default'
            if ($null -ne $nla.effective) { $uaText = [string]$nla.effective }
            $blocked = "refused: NLA is required (UserAuthentication=$uaText) and NLA needs TLS (CredSSP); on the RDP Security Layer every NLA client would be refused. Turn NLA off first with nla-temporary-disable (in the same run it goes first)."
        } elseif ($layerTarget -eq 2 -and $melThen -eq 1) {
            $blocked = 'refused: SecurityLayer 2 (SSL/TLS) is not valid while MinEncryptionLevel is 1 (Low). Pass minEncryptionLevel=auto or client-compatible.'
        }
    }
    if ($lower -and -not $compliant -and $null -eq $blocked) {
        if ($layerTarget -eq 0) {
            $warnings += 'The RDP Security Layer weakens security: no TLS, so clients cannot authenticate the server, and only native RDP encryption protects the session.'
        } else {
            $warnings += 'Negotiate weakens security against SSL/TLS: a client without TLS falls back to the RDP Security Layer (no server authentication).'
        }
        $warnings += "The change reverts by itself after $ttl minutes (ttlMinutes): a SYSTEM scheduled task on the host restores SecurityLayer then, even if the controller is gone."
    }
    $before = [ordered]@{ SecurityLayer = $sl.local; name = $layerNames[$current]; policy = $sl.policy }
    $after = [ordered]@{ SecurityLayer = $sl.local; name = $layerNames[$current]; policy = $sl.policy }
    if (-not $compliant) {
        $after.SecurityLayer = $layerTarget
        $after.name = $layerNames[$layerTarget]
        if ($lower) { $after.revertsAfterMinutes = $ttl }
    }
}
Write-RdpfixResult ([ordered]@{
    compliant = $compliant
    blocked   = $blocked
    before    = $before
    after     = $after
    warnings  = $warnings
})
} }

# The prior state of the step's local value: whether it existed, its kind and data; it names its value.
elseif ($in.phase -eq 'capture') { . {
Write-RdpfixResult ([ordered]@{ state = (Get-RdpfixValueState -Key $Key -Name $Name); warnings = @() })
} }

# Writes the step's target (check said it is needed and not blocked). The kind is explicit: New-ItemProperty
# -PropertyType DWord also where the value was missing (reference C.1).
elseif ($in.phase -eq 'apply') { . {
$warnings = @()
if ($in.step -eq 'min-encryption-level') {
    $name = 'MinEncryptionLevel'
    $target = @{ 'client-compatible' = 2; high = 3; fips = 4 }[[string]$in.parameters.minEncryptionLevel]
    if ([string]$in.parameters.minEncryptionLevel -eq 'auto') { $target = 2 }
} else {
    $name = 'SecurityLayer'
    $target = $layerTarget
    if ($in.step -eq 'lower-security-layer') { $warnings += "SecurityLayer is $target until the revert task restores it after $([int]$in.parameters.ttlMinutes) minutes." }
}
$changed = $false
if ($null -ne $target) {
    New-ItemProperty -Path $Key -Name $name -PropertyType DWord -Value ([int]$target) -Force | Out-Null
    $changed = $true
}
Write-RdpfixResult ([ordered]@{ changed = $changed; rebootRequired = $false; warnings = $warnings })
} }

elseif ($in.phase -eq 'verify') { . {
if ($in.step -eq 'min-encryption-level') {
    $effective = (Get-RdpfixEffectiveDword -Key $Key -Name 'MinEncryptionLevel').effective
    $floor = @{ auto = 2; 'client-compatible' = 2; high = 3; fips = 4 }[[string]$in.parameters.minEncryptionLevel]
    $ok = ($null -ne $floor -and $null -ne $effective -and $effective -ge $floor)
    $reason = "effective MinEncryptionLevel is $effective, expected at least $floor"
} else {
    $effective = (Get-RdpfixEffectiveDword -Key $Key -Name 'SecurityLayer').effective
    $ok = ($effective -eq $layerTarget)
    $reason = "effective SecurityLayer is $effective, expected $layerTarget"
}
Write-RdpfixResult ([ordered]@{ ok = $ok; reason = $reason; warnings = @() })
} }

# Restores the checkpoint: the value's data and kind, or its absence. Self-contained: it reads only the checkpoint
# (the revert task runs it unattended on the host after the TTL), checks first, and a second run changes nothing.
elseif ($in.phase -eq 'undo') { . {
Write-RdpfixResult ([ordered]@{ changed = (Restore-RdpfixValueState -Key $Key -Name $Name -Checkpoint $in.checkpoint); warnings = @() })
} }
else { throw "rdp-security-layer has no phase '$($in.phase)'." }
