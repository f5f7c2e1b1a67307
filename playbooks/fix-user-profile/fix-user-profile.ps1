# fix-user-profile: every phase of every step in one script. The engine passes $in.phase and $in.step; the helpers
# below exist once, and each phase runs in this script's scope (dot-sourced). The shared prelude
# (playbooks/_shared/prelude.ps1: input, result, rdpfix's protected folder) is inserted after the param block when the
# step is sent.
param([Parameter(Mandatory)][string]$InputJson)
$in = Read-RdpfixInput -Json $InputJson -Steps 'export-profile-keys', 'restore-profile-key' -Parameters 'user', 'users'

# ---- Shared by every phase. Facts: docs/windows-facts/profiles.md,
# ---- shared reference section 6 (ProfileList, KB947215).
$ProfileList = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'

function Test-UserForm([string]$User) {
    # 'S-1-5-21-<a>-<b>-<c>-<rid>', 'name' or 'DOMAIN\name': SAM-Account-Name rules (at most 20 characters, none of
    # " / \ [ ] : ; | = , + * ? < >, no control characters, no trailing period), NetBIOS domain 1-15 characters.
    # The same pattern as the manifest's, checked again here because a script must not trust its input.
    if ($User -cmatch '^S-1-5-21(-\d{1,10}){4}$') { return 'sid' }
    if ($User -cmatch '^(?:[^"/\\\[\]:|<>+=;,?*\s\x00-\x1f]{1,15}\\)?(?![Ss]-1-)(?! )[^"/\\\[\]:;|=,+*?<>@\x00-\x1f]{1,20}(?<![ .])$') { return 'name' }
    return $null
}

function Get-Leaf([string]$Path) { return ($Path -split '\\')[-1] }

function Test-TempPath([string]$Path) {
    # A temporary profile lives in <ProfilesDirectory>\TEMP or TEMP.<DOMAIN>.nnn (reference 6.1).
    return [bool]($Path -and ((Get-Leaf $Path) -match '^TEMP(\..+)?$'))
}

function Get-ProfileKeyInfo([string]$Leaf) {
    # One ProfileList subkey: ProfileImagePath as stored and expanded, State and RefCount (unsigned); $null if absent.
    $path = "$ProfileList\$Leaf"
    if (-not (Test-Path -LiteralPath $path)) { return $null }
    $key = Get-Item -LiteralPath $path
    $info = [ordered]@{ key = $Leaf; profileImagePath = $null; expandedPath = $null; state = $null; refCount = $null }
    $raw = $key.GetValue('ProfileImagePath', $null, 'DoNotExpandEnvironmentNames')
    if ($null -ne $raw) { $info.profileImagePath = [string]$raw; $info.expandedPath = [string]$key.GetValue('ProfileImagePath') }
    foreach ($n in 'State', 'RefCount') {
        $v = $key.GetValue($n)
        if ($null -ne $v) { $info[$n.Substring(0, 1).ToLowerInvariant() + $n.Substring(1)] = [BitConverter]::ToUInt32([BitConverter]::GetBytes([int]$v), 0) }
    }
    return [pscustomobject]$info
}

function Get-AccountName([string]$Sid) {
    # SID -> 'DOMAIN\name' through the account authority; $null when it cannot be translated (orphaned SID, no
    # domain controller, or no Windows security API at all).
    try { return (New-Object System.Security.Principal.SecurityIdentifier($Sid)).Translate([System.Security.Principal.NTAccount]).Value } catch { return $null }
}

function Resolve-ProfileUser([string]$User) {
    # The user's SID and the names a session may show for it. Order: a SID as given; the account authority
    # (NTAccount.Translate, local or domain account); else the ProfileList itself: the profile folder is named
    # after the user, suffixed '.<DOMAIN or COMPUTER>' and/or '.nnn' when the name was taken (KB228445).
    $form = Test-UserForm $User
    if ($null -eq $form) { throw "fix-user-profile: user '$User' is neither a user name ('carol', 'DOMAIN\carol') nor a SID (S-1-5-21-...)." }
    $sid = $null
    $names = @()
    if ($form -eq 'sid') {
        $sid = $User
    } else {
        $short = Get-Leaf $User
        $names += $short
        try { $sid = (New-Object System.Security.Principal.NTAccount($User)).Translate([System.Security.Principal.SecurityIdentifier]).Value } catch { $sid = $null }
        if ($null -ne $sid -and $sid -notmatch '^S-1-5-21-') { throw "fix-user-profile: '$User' is the account $sid, not a user with a local profile this playbook repairs." }
        if ($null -eq $sid) {
            $suffix = [regex]::Escape((hostname))
            if ($User -match '\\') { $suffix = [regex]::Escape(($User -split '\\')[0]) }
            $pattern = '^' + [regex]::Escape($short) + '(\.' + $suffix + ')?(\.\d{3})?$'
            $hits = @()
            foreach ($k in @(Get-ChildItem -LiteralPath $ProfileList)) {
                if ($k.PSChildName -notmatch '^(?<sid>S-1-5-21(-\d+){4})(\.bak)?$') { continue }
                $s = $Matches['sid']
                $p = $k.GetValue('ProfileImagePath')
                if ($null -ne $p -and -not (Test-TempPath ([string]$p)) -and (Get-Leaf ([string]$p)) -match $pattern -and $hits -notcontains $s) { $hits += $s }
            }
            if ($hits.Count -gt 1) { throw "fix-user-profile: '$User' matches the profiles of several SIDs ($($hits -join ', ')); pass the SID as the user parameter." }
            if ($hits.Count -eq 1) { $sid = $hits[0] }
        }
        if ($null -eq $sid) { throw "fix-user-profile: no account and no profile named '$User' on this host (looked up the account, then the ProfileList folders); check the name or pass the SID." }
    }
    $account = Get-AccountName $sid
    if ($null -ne $account -and $names -notcontains (Get-Leaf $account)) { $names += (Get-Leaf $account) }
    $main = Get-ProfileKeyInfo $sid
    $bak = Get-ProfileKeyInfo "$sid.bak"
    if ($null -eq $main -and $null -eq $bak -and $null -eq $account) {
        throw "fix-user-profile: '$User' ($sid) is no account the host knows and has no profile on it: neither ProfileList\$sid nor ProfileList\$sid.bak exists."
    }
    if ($names.Count -eq 0) {
        # A SID nobody can translate: the profile folder's name is the user name a session shows.
        foreach ($info in @($bak, $main)) {
            if ($null -ne $info -and $info.expandedPath -and -not (Test-TempPath $info.expandedPath)) { $names += ((Get-Leaf $info.expandedPath) -replace '\.\d{3}$', ''); break }
        }
    }
    return [pscustomobject]@{ user = $User; sid = $sid; names = $names; main = $main; bak = $bak }
}

function Resolve-ProfileTargets {
    # Every user to repair: the user parameter and the users list (a diagnosis names every affected SID), each
    # resolved once; two names for the same SID are one target.
    $given = @()
    foreach ($n in 'user', 'users') {
        if ($in.parameters.PSObject.Properties[$n]) { $given += @($in.parameters.$n | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_ }) }
    }
    $given = @($given | Where-Object { $_ -ne '' })
    if ($given.Count -eq 0) { throw "fix-user-profile needs the user parameter (or users): whose profile to repair." }
    $targets = New-Object System.Collections.ArrayList
    $seen = @{}
    foreach ($u in $given) {
        $t = Resolve-ProfileUser $u
        if ($seen.ContainsKey($t.sid)) { continue }
        $seen[$t.sid] = $true
        [void]$targets.Add($t)
    }
    return , $targets.ToArray()
}

function Join-PerTarget($Items) {
    # One user: its result as it is; several: { profiles: [...] } in the order given.
    $list = @($Items)
    if ($list.Count -eq 1) { return $list[0] }
    return [ordered]@{ profiles = $list }
}

function Get-CheckpointItems($Cp) {
    # The restore step's checkpoint: one user's keys, or { profiles: [...] } for several.
    if ($null -ne $Cp -and $Cp.PSObject.Properties['profiles']) { return , @($Cp.profiles) }
    return , @($Cp)
}

function Get-UserSessions($Target) {
    # The target's sessions in any state (a disconnected one holds the profile too), through the WTS API (prelude),
    # never quser's localized text. A session's account is matched by SID where the name translates, else by name.
    $found = @()
    foreach ($s in (Get-RdpfixSessions)) {
        if ($s.user -eq '' -or $s.state -eq 6) { continue }
        $sid = $null
        try { $sid = (New-Object System.Security.Principal.NTAccount($s.domain, $s.user)).Translate([System.Security.Principal.SecurityIdentifier]).Value } catch { $sid = $null }
        $mine = $false
        if ($null -ne $sid) { $mine = ($sid -eq $Target.sid) } else { $mine = ($Target.names -contains $s.user) }
        if ($mine) { $found += , ([ordered]@{ user = $s.user; id = $s.id; state = $s.stateName }) }
    }
    return , $found
}

function Get-LogonBlock($Target) {
    # KB947215 step 1: the user must be logged off; the profile's hive must not be loaded (HKEY_USERS\<SID>).
    try { $sessions = Get-UserSessions $Target }
    catch { return "cannot tell whether $($Target.user) is logged on ($($_.Exception.Message)); start Remote Desktop Services (restart-termservice), then run fix-user-profile again." }
    if ($sessions.Count -gt 0) {
        $list = @($sessions | ForEach-Object { '{0} (session {1}, {2})' -f $_.user, $_.id, $_.state }) -join ', '
        return "$($Target.user) is logged on: $list. Log the user off first (reset-stuck-sessions), then run fix-user-profile again."
    }
    if (Test-Path -LiteralPath "Registry::HKEY_USERS\$($Target.sid)") {
        return "the registry hive of $($Target.sid) is loaded (HKEY_USERS\$($Target.sid)) although $($Target.user) has no session: a process or service still holds the profile. Stop it or restart the host, then run fix-user-profile again."
    }
    return $null
}

function Get-ProfileCase($Target) {
    # 'both': <SID> (the temporary/new profile) and <SID>.bak (the real one); 'bak-only'; 'healthy'; 'temp-no-backup';
    # 'no-profile': a known account that never had a profile here (nothing to repair).
    if ($null -eq $Target.bak -and $null -eq $Target.main) { return 'no-profile' }
    if ($null -ne $Target.bak -and $null -ne $Target.main) { return 'both' }
    if ($null -ne $Target.bak) { return 'bak-only' }
    if (Test-TempPath $Target.main.expandedPath) { return 'temp-no-backup' }
    return 'healthy'
}

function Get-RepairBlock($Target, [string]$Case) {
    # Why KB947215's repair cannot run here, or $null.
    if ($Case -eq 'temp-no-backup') {
        return "ProfileList\$($Target.sid) points at $($Target.main.expandedPath) and there is no $($Target.sid).bak to restore: the real profile path is unknown. Set ProfileImagePath by hand (or remove the entry so Windows creates a new profile)."
    }
    $folder = $Target.bak.expandedPath
    if (-not $folder -or (Test-TempPath $folder)) { return "ProfileList\$($Target.sid).bak points at '$folder', not at a real profile folder; restoring it would not help." }
    if (-not (Test-Path -LiteralPath $folder)) { return "the backed-up profile's folder $folder does not exist (deleted?): restoring ProfileList\$($Target.sid).bak would give $($Target.user) another temporary profile." }
    if (-not (Test-Path -LiteralPath "$folder\NTUSER.DAT")) { return "the backed-up profile's folder $folder has no NTUSER.DAT: restoring ProfileList\$($Target.sid).bak would give $($Target.user) another temporary profile." }
    return $null
}

function Get-BackupPlace([string]$RunId) {
    # %ProgramData%\rdpfix\backup\<runId>, a folder only SYSTEM and Administrators may use (the prelude's
    # Initialize-RdpfixFolder creates it): the exports hold the user's profile keys.
    if ($RunId -notmatch '^[A-Za-z0-9-]{1,64}$') { throw "fix-user-profile: unexpected run id '$RunId'." }
    $root = (Get-RdpfixProgramData) + '\rdpfix'
    return [pscustomobject]@{ levels = @($root, "$root\backup", "$root\backup\$RunId"); folder = "$root\backup\$RunId"; relative = "backup\$RunId" }
}

function Get-KeyTree([string]$Path) {
    # A key exactly: every value (name, kind, data) and every subkey, sorted by name; $null when the key is absent.
    if (-not (Test-Path -LiteralPath $Path)) { return $null }
    $key = Get-Item -LiteralPath $Path
    $values = @()
    foreach ($n in @($key.GetValueNames() | Sort-Object)) {
        # Data as stored: REG_EXPAND_SZ unexpanded, DWORD/QWORD unsigned (QWORD as a decimal string: JSON numbers
        # lose precision above 2^53), BINARY as numbers. Arrays are built by casts, never returned from a function:
        # a pipeline-wrapped array serializes as {"value":[...],"Count":n} in 5.1 (reference 12.2).
        $kind = $key.GetValueKind($n).ToString()
        $raw = $key.GetValue($n, $null, 'DoNotExpandEnvironmentNames')
        switch ($kind) {
            'DWord' { $data = [BitConverter]::ToUInt32([BitConverter]::GetBytes([int]$raw), 0) }
            'QWord' { $data = ([BitConverter]::ToUInt64([BitConverter]::GetBytes([long]$raw), 0)).ToString() }
            'Binary' { $data = [int[]]@(); if ($null -ne $raw) { $data = [int[]]$raw } }
            'MultiString' { $data = [string[]]@(); if ($null -ne $raw) { $data = [string[]]$raw } }
            'String' { $data = [string]$raw }
            'ExpandString' { $data = [string]$raw }
            default { throw "fix-user-profile: $Path value '$n' is of kind $kind, which this playbook cannot restore exactly; nothing was changed." }
        }
        $values += , ([pscustomobject][ordered]@{ name = $n; kind = $kind; data = $data })
    }
    $subkeys = @()
    foreach ($s in @($key.GetSubKeyNames() | Sort-Object)) {
        $t = Get-KeyTree "$Path\$s"
        $subkeys += , ([pscustomobject][ordered]@{ name = $s; values = $t.values; subkeys = $t.subkeys })
    }
    return [pscustomobject][ordered]@{ values = $values; subkeys = $subkeys }
}
# ---- end of the shared part

# fix-user-profile: check (read-only) for both steps.
if ($in.phase -eq 'check') { . {
# Read-only. Which KB947215 case the user's ProfileList entries are in, whether the repair can run (the user logged
# off, the backed-up folder present), and what each step would change.
$describe = {
    param($info)
    if ($null -eq $info) { return $null }
    return [ordered]@{ key = $info.key; profileImagePath = $info.profileImagePath; state = $info.state; refCount = $info.refCount }
}
$place = Get-BackupPlace ([string]$in.runId)
$results = @()
foreach ($target in (Resolve-ProfileTargets)) {
$case = Get-ProfileCase $target
$repair = @('both', 'bak-only') -contains $case
$blocked = $null
$warnings = @()
if ($case -eq 'no-profile') { $warnings += "$($target.user) ($($target.sid)) has no profile on this host: nothing to repair." }
if ($repair -or $case -eq 'temp-no-backup') {
    $blocked = Get-LogonBlock $target
    if ($null -eq $blocked) { $blocked = Get-RepairBlock $target $case }
    if ($null -ne $blocked) { $blocked = "blocked: $blocked" }
}
if ($in.step -eq 'export-profile-keys') {
    # A backup folder someone else made (ordinary users may create folders under ProgramData) is refused.
    if ($repair -and $null -eq $blocked) { $blocked = Get-RdpfixFolderRefusal -Relative $place.relative }
    $want = @(@($target.main, $target.bak) | Where-Object { $null -ne $_ } | ForEach-Object { "$($place.folder)\$($_.key).reg" })
    $have = @($want | Where-Object { Test-Path -LiteralPath $_ })
    $result = [ordered]@{
        compliant = (-not $repair) -or ($have.Count -eq $want.Count)
        blocked   = $blocked
        before    = [ordered]@{ sid = $target.sid; folder = $place.folder; files = $have }
        after     = [ordered]@{ sid = $target.sid; folder = $place.folder; files = $want }
        warnings  = $warnings
    }
} else {
    if ($case -eq 'both' -and -not (Test-TempPath $target.main.expandedPath)) {
        $warnings += "ProfileList\$($target.sid) points at $($target.main.expandedPath), not at a TEMP folder: KB947215 replaces it with the backed-up entry all the same; that folder stays on disk untouched."
    }
    $after = & $describe $target.main
    $afterBak = & $describe $target.bak
    $afterCase = $case
    if ($repair) {
        $after = [ordered]@{ key = $target.sid; profileImagePath = $target.bak.profileImagePath; state = 0; refCount = 0 }
        $afterBak = $null
        $afterCase = 'healthy'
    }
    $result = [ordered]@{
        compliant = -not $repair
        blocked   = $blocked
        before    = [ordered]@{ sid = $target.sid; case = $case; profileKey = (& $describe $target.main); backupKey = (& $describe $target.bak) }
        after     = [ordered]@{ sid = $target.sid; case = $afterCase; profileKey = $after; backupKey = $afterBak }
        warnings  = $warnings
    }
}
if ($case -eq 'temp-no-backup') { $result.compliant = $false }
$results += , $result
}
# Every affected user, not only the first: compliant when all are; blocked when any is (the reasons joined).
$reasons = @($results | Where-Object { $null -ne $_.blocked } | ForEach-Object { [string]$_.blocked })
$blockedAll = $null
if ($reasons.Count -gt 0) { $blockedAll = ($reasons -join ' ') }
$result = [ordered]@{
    compliant = (@($results | Where-Object { -not $_.compliant }).Count -eq 0)
    blocked   = $blockedAll
    before    = (Join-PerTarget @($results | ForEach-Object { $_.before }))
    after     = (Join-PerTarget @($results | ForEach-Object { $_.after }))
    warnings  = @($results | ForEach-Object { $_.warnings } | Where-Object { $_ })
}
Write-RdpfixResult $result
} }

# fix-user-profile: capture for both steps.
elseif ($in.phase -eq 'capture') { . {
# The prior state the undo restores. Runs before apply (the checkpoint), after verify and before an undo (drift):
# it only reads.
if ($in.step -eq 'export-profile-keys') {
    # Where the export goes and which of its folders exist already: undo removes only what the apply created.
    $place = Get-BackupPlace ([string]$in.runId)
    $levels = @($place.levels | ForEach-Object { [ordered]@{ path = $_; exists = [bool](Test-Path -LiteralPath $_) } })
    $files = @()
    if (Test-Path -LiteralPath $place.folder) { $files = @(Get-ChildItem -LiteralPath $place.folder -Force | ForEach-Object { $_.Name } | Sort-Object) }
    $state = [ordered]@{ folder = $place.folder; levels = $levels; files = $files }
} else {
    # Both keys exactly (every value's name, kind and data, and any subkeys), so undo restores them without the
    # .reg files; the SID and names so undo needs nothing else.
    $targets = Resolve-ProfileTargets
    $state = Join-PerTarget @($targets | ForEach-Object {
            [ordered]@{
                sid        = $_.sid
                user       = $_.user
                names      = @($_.names)
                profileKey = (Get-KeyTree "$ProfileList\$($_.sid)")
                backupKey  = (Get-KeyTree "$ProfileList\$($_.sid).bak")
            }
        })
}
Write-RdpfixResult ([ordered]@{ state = $state; warnings = @() }) -Depth 20
} }

# fix-user-profile: apply for both steps.
elseif ($in.phase -eq 'apply') { . {
function Invoke-RegExport([string]$Key, [string]$File) {
    # reg export <key> <file>.reg /y: exit 0 on success, 1 on failure with the reason on stderr (reference C.1).
    $ErrorActionPreference = 'Continue'
    $out = @(reg export $Key $File /y 2>&1 | ForEach-Object { "$_" })
    if ($LASTEXITCODE -ne 0) { throw "fix-user-profile: reg export of $Key to $File failed (exit $LASTEXITCODE): $($out -join ' ')" }
}

if ($in.step -eq 'export-profile-keys') {
    $targets = Resolve-ProfileTargets
    $place = Get-BackupPlace ([string]$in.runId)
    [void](Initialize-RdpfixFolder -Relative $place.relative)
    $files = @()
    foreach ($info in @($targets | ForEach-Object { $_.main; $_.bak })) {
        if ($null -eq $info) { continue }
        $file = "$($place.folder)\$($info.key).reg"
        Invoke-RegExport "HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList\$($info.key)" $file
        $files += $file
    }
    Write-RdpfixResult ([ordered]@{ changed = $true; files = $files; rebootRequired = $false; warnings = @() })
    return
}

# KB947215: with <SID> and <SID>.bak, the <SID> key (the temporary profile) goes and <SID>.bak becomes <SID>; with
# only <SID>.bak it is renamed. Then State = 0 and RefCount = 0 (DWORD) on the restored key. The checkpoint holds
# both keys exactly, and the previous step exported them to .reg files.
$items = Get-CheckpointItems $in.checkpoint
# Every user is checked before the first change: all of them are repaired, or none.
foreach ($cp in $items) {
    if ([string]$cp.sid -notmatch '^S-1-5-21(-\d{1,10}){4}$') { throw "fix-user-profile: the checkpoint holds no SID; nothing was changed." }
    $block = Get-LogonBlock ([pscustomobject]@{ user = [string]$cp.user; sid = [string]$cp.sid; names = @($cp.names) })
    if ($null -ne $block) { throw "fix-user-profile: $block Nothing was changed." }
}
$changed = $false
foreach ($cp in $items) {
$sid = [string]$cp.sid
$main = "$ProfileList\$sid"
$bak = "$ProfileList\$sid.bak"
if (Test-Path -LiteralPath $bak) {
    if (Test-Path -LiteralPath $main) { Remove-Item -LiteralPath $main -Recurse -Force; $changed = $true }
    Rename-Item -LiteralPath $bak -NewName $sid
    $changed = $true
}
foreach ($name in 'State', 'RefCount') {
    $v = (Get-Item -LiteralPath $main).GetValue($name)
    if ($null -eq $v -or [int]$v -ne 0 -or (Get-Item -LiteralPath $main).GetValueKind($name).ToString() -ne 'DWord') {
        New-ItemProperty -LiteralPath $main -Name $name -PropertyType DWord -Value 0 -Force | Out-Null
        $changed = $true
    }
}
}
Write-RdpfixResult ([ordered]@{ changed = $changed; rebootRequired = $false; warnings = @('the user gets the restored profile at the next logon (KB947215 recommends a restart)') })
} }

# fix-user-profile: verify for both steps.
elseif ($in.phase -eq 'verify') { . {
if ($in.step -eq 'export-profile-keys') {
    # A .reg file (regedit 5 format) for each of the user's ProfileList keys.
    $targets = Resolve-ProfileTargets
    $place = Get-BackupPlace ([string]$in.runId)
    $problems = @()
    foreach ($info in @($targets | ForEach-Object { $_.main; $_.bak })) {
        if ($null -eq $info) { continue }
        $file = "$($place.folder)\$($info.key).reg"
        if (-not (Test-Path -LiteralPath $file)) { $problems += "$file is missing"; continue }
        $lines = @(Get-Content -LiteralPath $file)
        if ($lines.Count -lt 3 -or $lines[0] -ne 'Windows Registry Editor Version 5.00' -or ($lines -notcontains "[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList\$($info.key)]")) { $problems += "$file is not an export of ProfileList\$($info.key)" }
    }
    Write-RdpfixResult ([ordered]@{ ok = ($problems.Count -eq 0); reason = ($problems -join '; '); warnings = @() })
    return
}

# ProfileList\<SID> exists, no <SID>.bak, ProfileImagePath the backed-up (real) folder - on disk, not TEMP -, State 0, RefCount 0.
$cp = $in.checkpoint
if ($null -eq $cp) {
    Write-RdpfixResult ([ordered]@{ ok = $false; reason = 'no checkpoint to verify against'; warnings = @() })
    return
}
$problems = @()
foreach ($cp in (Get-CheckpointItems $cp)) {
$sid = [string]$cp.sid
$main = Get-ProfileKeyInfo $sid
if ($null -ne (Get-ProfileKeyInfo "$sid.bak")) { $problems += "ProfileList\$sid.bak still exists" }
if ($null -eq $main) {
    $problems += "ProfileList\$sid does not exist"
} else {
    $expected = $null
    if ($null -ne $cp.backupKey) { $expected = @($cp.backupKey.values | Where-Object { $_.name -eq 'ProfileImagePath' } | ForEach-Object { [string]$_.data }) | Select-Object -First 1 }
    if ($null -ne $expected -and $main.profileImagePath -ne $expected) { $problems += "ProfileImagePath is $($main.profileImagePath), expected $expected" }
    if (-not $main.expandedPath -or (Test-TempPath $main.expandedPath)) { $problems += "ProfileImagePath points at '$($main.expandedPath)'" }
    elseif (-not (Test-Path -LiteralPath $main.expandedPath)) { $problems += "the profile folder $($main.expandedPath) does not exist" }
    if ($main.state -ne 0) { $problems += "State is $($main.state), expected 0" }
    if ($main.refCount -ne 0) { $problems += "RefCount is $($main.refCount), expected 0" }
}
}
Write-RdpfixResult ([ordered]@{ ok = ($problems.Count -eq 0); reason = ($problems -join '; '); warnings = @() })
} }

# fix-user-profile: undo for both steps.
elseif ($in.phase -eq 'undo') { . {
# Restores the checkpoint exactly. Self-contained: it needs only the checkpoint (no .reg file, no name lookup), checks
# before it changes anything, and a second run changes nothing.
$cp = $in.checkpoint
$changed = $false
$warnings = @()
if ($null -eq $cp) {
    Write-RdpfixResult ([ordered]@{ changed = $false; warnings = @('no checkpoint: nothing to restore') })
    return
}

if ($in.step -eq 'export-profile-keys') {
    # Removes the backup folders the apply created (the checkpoint says which existed before), so the host is as it was.
    $levels = @($cp.levels)
    foreach ($l in $levels) {
        if ([string]$l.path -notmatch '\\rdpfix(\\backup(\\[A-Za-z0-9-]{1,64})?)?$') { throw "fix-user-profile: unexpected backup path '$($l.path)' in the checkpoint; nothing was removed." }
    }
    for ($i = $levels.Count - 1; $i -ge 0; $i--) {
        $l = $levels[$i]
        if ($l.exists -or -not (Test-Path -LiteralPath ([string]$l.path))) { continue }
        $inside = @(Get-ChildItem -LiteralPath ([string]$l.path) -Force)
        if ($i -lt $levels.Count - 1 -and $inside.Count -gt 0) {
            $warnings += "$($l.path) is not empty (something else uses it): left in place"
            continue
        }
        Remove-Item -LiteralPath ([string]$l.path) -Recurse -Force
        $changed = $true
    }
    Write-RdpfixResult ([ordered]@{ changed = $changed; warnings = $warnings })
    return
}

function Get-PsValueName([string]$Name) {
    # The default value is '' to .NET and '(default)' to the registry provider's cmdlets.
    if ($Name -eq '') { return '(default)' }
    return $Name
}

function Get-ValueText($Value) {
    # Kind, element count and data as one comparable string.
    $items = @($Value.data)
    return ([string]$Value.kind) + ':' + $items.Count + ':' + ((@($items | ForEach-Object { [string]$_ })) -join [string][char]0)
}

function Set-KeyTree([string]$Path, $Tree) {
    # Makes the key hold exactly the tree's values and subkeys; returns whether it changed anything.
    $did = $false
    if (-not (Test-Path -LiteralPath $Path)) { New-Item -Path $Path | Out-Null; $did = $true }
    $current = Get-KeyTree $Path
    $want = @{}
    foreach ($v in @($Tree.values)) { $want[[string]$v.name] = $v }
    $have = @{}
    foreach ($v in @($current.values)) {
        $have[[string]$v.name] = $v
        if (-not $want.ContainsKey([string]$v.name)) { Remove-ItemProperty -LiteralPath $Path -Name (Get-PsValueName $v.name); $did = $true }
    }
    foreach ($v in @($Tree.values)) {
        $now = $null
        if ($have.ContainsKey([string]$v.name)) { $now = $have[[string]$v.name] }
        if ($null -eq $now -or (Get-ValueText $now) -cne (Get-ValueText $v)) {
            # Checkpoint data -> what New-ItemProperty writes for the kind (DWORD/QWORD signed, as the .NET API takes them).
            switch ([string]$v.kind) {
                'DWord' { $write = [BitConverter]::ToInt32([BitConverter]::GetBytes([uint32]$v.data), 0) }
                'QWord' { $write = [BitConverter]::ToInt64([BitConverter]::GetBytes([uint64][string]$v.data), 0) }
                'Binary' { $write = [byte[]]@($v.data) }
                'MultiString' { $write = [string[]]@($v.data) }
                'String' { $write = [string]$v.data }
                'ExpandString' { $write = [string]$v.data }
                default { throw "fix-user-profile: the checkpoint has a value of kind '$($v.kind)' for $Path; nothing more was changed." }
            }
            New-ItemProperty -LiteralPath $Path -Name (Get-PsValueName $v.name) -PropertyType ([string]$v.kind) -Value $write -Force | Out-Null
            $did = $true
        }
    }
    $wantSubs = @(@($Tree.subkeys) | ForEach-Object { [string]$_.name })
    foreach ($s in @($current.subkeys)) {
        if ($wantSubs -notcontains [string]$s.name) { Remove-Item -LiteralPath "$Path\$($s.name)" -Recurse -Force; $did = $true }
    }
    foreach ($s in @($Tree.subkeys)) { if (Set-KeyTree "$Path\$($s.name)" $s) { $did = $true } }
    return $did
}

function Test-KeyTree([string]$Path, $Tree) {
    # Whether the key is already exactly as the tree says (or absent when the tree is $null).
    $now = Get-KeyTree $Path
    if ($null -eq $Tree -or $null -eq $now) { return ($null -eq $Tree) -and ($null -eq $now) }
    return (ConvertTo-Json -InputObject $now -Depth 20 -Compress) -ceq (ConvertTo-Json -InputObject $Tree -Depth 20 -Compress)
}

# Newest first is not needed here: each user's keys are independent. Every block is checked before any write.
$work = @()
foreach ($item in (Get-CheckpointItems $cp)) {
    $sid = [string]$item.sid
    if ($sid -notmatch '^S-1-5-21(-\d{1,10}){4}$') { throw "fix-user-profile: the checkpoint holds no SID; nothing was changed." }
    $main = "$ProfileList\$sid"
    $bak = "$ProfileList\$sid.bak"
    $pending = @(@(@($bak, $item.backupKey), @($main, $item.profileKey)) | Where-Object { -not (Test-KeyTree $_[0] $_[1]) })
    if ($pending.Count -eq 0) { continue }
    # Never rewrite the ProfileList entry of a loaded profile (reference 6.5: only while the user is logged off).
    $block = Get-LogonBlock ([pscustomobject]@{ user = [string]$item.user; sid = $sid; names = @($item.names) })
    if ($null -ne $block) { throw "fix-user-profile: cannot restore ProfileList\$sid now: $block" }
    $work += , @($bak, $item.backupKey, $main, $item.profileKey)
}
foreach ($w in $work) {
    # The backup first: the real profile's entry is never missing from both keys at once.
    foreach ($pair in @(@($w[0], $w[1]), @($w[2], $w[3]))) {
        $path = $pair[0]; $tree = $pair[1]
        if ($null -eq $tree) {
            if (Test-Path -LiteralPath $path) { Remove-Item -LiteralPath $path -Recurse -Force; $changed = $true }
        } elseif (Set-KeyTree $path $tree) {
            $changed = $true
        }
    }
}
Write-RdpfixResult ([ordered]@{ changed = $changed; warnings = $warnings })
} }
else { throw "fix-user-profile has no phase '$($in.phase)'." }
