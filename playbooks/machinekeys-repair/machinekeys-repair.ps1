# machinekeys-repair: every phase of every step in one script. The engine passes $in.phase and $in.step; the helpers
# below exist once, and each phase runs in this script's scope (dot-sourced). The shared prelude
# (playbooks/_shared/prelude.ps1: input, result, SDDL reading) is inserted after the param block when the step is sent.
param([Parameter(Mandatory)][string]$InputJson)
$in = Read-RdpfixInput -Json $InputJson -Steps 'folder-acl', 'rdp-key-acl', 'rdp-key-reset', 'folder-reset' -Parameters 'strategy'

# ---- Shared by every phase ----
# Facts: shared reference section 5 and docs/windows-facts/machinekeys-certificates.md.
# %ProgramData%, never C:\ProgramData: Windows may live on another drive. CAPI machine keys are in Crypto\RSA\MachineKeys,
# CNG (key storage provider) machine keys in Crypto\Keys (learn.microsoft.com seccng "Key Storage and Retrieval").
$RsaDir = (Get-RdpfixProgramData) + '\Microsoft\Crypto\RSA'
$MachineKeys = $RsaDir + '\MachineKeys'
$CngKeys = (Get-RdpfixProgramData) + '\Microsoft\Crypto\Keys'
# Default MachineKeys folder ACL (Azure vmassist.ps1 $machineKeysDefaultSddl; SA internal-error doc): owner SYSTEM,
# protected, Everyone "Read, Write" (0x12019f), BUILTIN\Administrators Full control.
$FolderSddl = 'O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)'
# RDP key (SA internal-error doc): NETWORK SERVICE Read, SYSTEM Full control, not inherited; owner Administrators.
$KeySddl = 'O:BAG:SYD:P(A;;FR;;;NS)(A;;FA;;;SY)'
$RdpKeyPrefix = 'f686aace6942fb7f7ceb231212eef4a4'
$WinStations = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations'
$RdpTcp = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'
# Services Remote Desktop Services needs to issue its certificate (reference 5.3).
$CertServices = @('CertPropSvc', 'KeyIso', 'CryptSvc', 'SessionEnv')

# HRESULTs of the CryptographicException X509Certificate2.get_PrivateKey() throws (winerror.h): NTE_BAD_KEYSET 0x80090016
# 'Keyset does not exist' (the key is missing, or this token may not open it), NTE_BAD_PROV_TYPE 0x80090014 (a CNG key,
# which .NET Framework's getter cannot open). Judged by value, never by the localized message.
$NteBadKeyset = [int]-2146893802
$NteBadProvType = [int]-2146893804
# The groups of this session's token (an administrator, reference 5.1): Administrators, Everyone, Authenticated Users, Users.
$AdminSids = @('S-1-5-32-544', 'S-1-1-0', 'S-1-5-11', 'S-1-5-32-545')

$SidName = @{ 'S-1-5-18' = 'NT AUTHORITY\SYSTEM'; 'S-1-5-19' = 'NT AUTHORITY\LOCAL SERVICE'; 'S-1-5-20' = 'NT AUTHORITY\NETWORK SERVICE'
    'S-1-5-32-544' = 'BUILTIN\Administrators'; 'S-1-5-32-545' = 'BUILTIN\Users'; 'S-1-1-0' = 'Everyone'; 'S-1-5-11' = 'NT AUTHORITY\Authenticated Users'
    'S-1-3-0' = 'CREATOR OWNER'; 'S-1-3-1' = 'CREATOR GROUP'; 'S-1-5-6' = 'NT AUTHORITY\SERVICE'; 'S-1-5-2' = 'NT AUTHORITY\NETWORK'; 'S-1-5-4' = 'NT AUTHORITY\INTERACTIVE' }

function Get-AccountName([string]$Sid) {
    if ($SidName.ContainsKey($Sid)) { return $SidName[$Sid] }
    try { return (New-Object System.Security.Principal.SecurityIdentifier($Sid)).Translate([System.Security.Principal.NTAccount]).Value } catch { return $Sid }
}

function Get-AceKey($Ace) { return ('{0};{1};{2};{3}' -f $Ace.Type, $Ace.Flags, $Ace.Mask, $Ace.Sid) }

function Get-SdKey($Sd) {
    # What a descriptor means, independent of spelling (FA vs 0x1f01ff, aliases vs SIDs, the AI flag, ACE order).
    return ('{0}|{1}|{2}|{3}' -f $Sd.Owner, $Sd.Group, $Sd.Protected, ((@($Sd.Aces | ForEach-Object { Get-AceKey $_ }) | Sort-Object) -join ','))
}

function Get-AceText($Ace) {
    $what = '0x{0:x}' -f $Ace.Mask
    switch ([long]$Ace.Mask) {
        0x1F01FF { $what = 'Full control' }
        0x1301BF { $what = 'Modify' }
        0x1200A9 { $what = 'Read & execute' }
        0x120089 { $what = 'Read' }
        0x120116 { $what = 'Write' }
        0x12019F { $what = 'Read, Write' }
        0x10000000 { $what = 'Full control (generic)' }
    }
    $kind = 'Allow'
    if ($Ace.Type -eq 'D') { $kind = 'Deny' }
    $t = '{0} {1} {2}' -f $kind, (Get-AccountName $Ace.Sid), $what
    if ($Ace.Flags) { $t += ' [' + $Ace.Flags + ']' }
    return $t
}

function Get-SdView([string]$Path, [string]$Sddl) {
    $sd = ConvertFrom-RdpfixSddl $Sddl
    return [ordered]@{ path = $Path; owner = (Get-AccountName $sd.Owner); protected = $sd.Protected; access = @($sd.Aces | ForEach-Object { Get-AceText $_ }); sddl = $Sddl }
}

function Get-SdChange([string]$From, [string]$To) {
    # Which ACEs a change removes and adds, and the owner change: the plan's before -> after.
    $a = ConvertFrom-RdpfixSddl $From
    $b = ConvertFrom-RdpfixSddl $To
    $ak = @($a.Aces | ForEach-Object { Get-AceKey $_ })
    $bk = @($b.Aces | ForEach-Object { Get-AceKey $_ })
    $c = [ordered]@{
        owner   = $null
        removed = @($a.Aces | Where-Object { $bk -notcontains (Get-AceKey $_) } | ForEach-Object { Get-AceText $_ })
        added   = @($b.Aces | Where-Object { $ak -notcontains (Get-AceKey $_) } | ForEach-Object { Get-AceText $_ })
    }
    if ($a.Owner -ne $b.Owner) { $c.owner = (Get-AccountName $a.Owner) + ' -> ' + (Get-AccountName $b.Owner) }
    if ($a.Protected -ne $b.Protected) { $c.protected = ([string]$a.Protected) + ' -> ' + ([string]$b.Protected) }
    return $c
}

function Get-Access($Sd, [string[]]$Sids) {
    # Rights a token with these SIDs gets from the DACL (deny before allow, inherit-only ACEs skipped, generic rights mapped).
    [long]$granted = 0
    [long]$denied = 0
    foreach ($a in $Sd.Aces) {
        if ($a.Flags -match 'IO' -or $a.Mask -lt 0 -or $Sids -notcontains $a.Sid) { continue }
        [long]$m = $a.Mask -band [long]0x0FFFFFFF
        if ($a.Mask -band [long]0x10000000) { $m = $m -bor [long]0x1F01FF }
        if ($a.Mask -band [long]0x20000000) { $m = $m -bor [long]0x1200A0 }
        if ($a.Mask -band [long]0x40000000) { $m = $m -bor [long]0x120116 }
        if ($a.Mask -band [long]2147483648) { $m = $m -bor [long]0x120089 }
        if ($a.Type -eq 'D') { $denied = $denied -bor ($m -band (-bnot $granted)) }
        else { $granted = $granted -bor ($m -band (-bnot $denied)) }
    }
    return $granted
}

function Test-KeyAcl($Sd) {
    # Usable by Remote Desktop Services: NETWORK SERVICE (TermService's account) can read, SYSTEM has full control.
    $ns = Get-Access $Sd @('S-1-5-20', 'S-1-1-0', 'S-1-5-11', 'S-1-5-6', 'S-1-5-32-545')
    $sy = Get-Access $Sd @('S-1-5-18', 'S-1-5-32-544', 'S-1-1-0', 'S-1-5-11')
    return ((($ns -band [long]0x120089) -eq [long]0x120089) -and (($sy -band [long]0x1F01FF) -eq [long]0x1F01FF))
}

function Read-Sd([string]$Path) {
    # The full SDDL (owner, group, DACL with its flags), or $null when it cannot be read.
    try { return [string](Get-Acl -LiteralPath $Path -ErrorAction Stop).Sddl } catch { return $null }
}

function Get-KeyName {
    $g = (Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Cryptography' -Name MachineGuid -ErrorAction Stop).MachineGuid
    return ($RdpKeyPrefix + '_' + [string]$g)
}

function Get-RunTag($RunId) {
    # Backup names carry the run id (letters, digits, hyphens only), so a later rollback finds them.
    $t = ([string]$RunId) -replace '[^A-Za-z0-9-]', ''
    if (-not $t) { throw 'The step input has no usable runId.' }
    return $t
}

function Get-RdStoreName {
    $v = Get-ItemProperty -Path $WinStations -Name SelfSignedCertStore -ErrorAction SilentlyContinue
    if ($null -ne $v -and $v.SelfSignedCertStore) { return [string]$v.SelfSignedCertStore }
    return 'Remote Desktop'
}

function Find-RdpKeyFile([bool]$CngFirst) {
    # The RDP key's file, by its name (reference 5.1): CAPI in MachineKeys or CNG in Crypto\Keys; $null when in neither.
    $name = Get-KeyName
    $dirs = @($MachineKeys, $CngKeys)
    if ($CngFirst) { $dirs = @($CngKeys, $MachineKeys) }
    foreach ($d in $dirs) { if (Test-Path -LiteralPath ($d + '\' + $name) -PathType Leaf) { return ($d + '\' + $name) } }
    return $null
}

function Get-RdpKeyPath {
    # Where the RDP key is, or where Remote Desktop Services creates it (a CAPI key in MachineKeys).
    $p = Find-RdpKeyFile $false
    if ($null -eq $p) { $p = $MachineKeys + '\' + (Get-KeyName) }
    return $p
}

function Get-CryptoHResult($ErrorRecord) {
    $x = $ErrorRecord.Exception
    while ($null -ne $x) {
        if ($x -is [System.Security.Cryptography.CryptographicException]) { return [int]$x.HResult }
        $x = $x.InnerException
    }
    return $null
}

function Test-KeyReadable($Cert, [string]$Store) {
    # Whether Remote Desktop Services (TermService runs as NETWORK SERVICE; SYSTEM) can use the certificate's key -
    # not whether this session can. The session is an administrator, whom the documented RDP key ACL grants nothing
    # (so a healthy CAPI key gives NTE_BAD_KEYSET here), and .NET Framework cannot open CNG keys (NTE_BAD_PROV_TYPE).
    # get_PrivateKey(), not .PrivateKey: PowerShell turns the property's exception into $null and loses its HRESULT.
    # Either way the service's view is the key file: there, not empty, NETWORK SERVICE read and SYSTEM full control.
    if (-not [bool]$Cert.HasPrivateKey) { return $false }
    $hr = $null
    $path = $null
    try {
        $k = $Cert.get_PrivateKey()
        if ($null -eq $k) { return $false }
        # Opened, so intact; whether the service may read it is the file's ACL.
        $path = $MachineKeys + '\' + [string]$k.CspKeyContainerInfo.UniqueKeyContainerName
    } catch { $hr = Get-CryptoHResult $_ }
    if ($null -eq $path) {
        if ($hr -ne $NteBadKeyset -and $hr -ne $NteBadProvType) { return $false }
        # Only the RDP self-signed certificate's key has a known name [harsher side: any other certificate whose key
        # this session cannot open counts as unusable].
        if ($Store -ne (Get-RdStoreName)) { return $false }
        $path = Find-RdpKeyFile ($hr -eq $NteBadProvType)
        if ($null -eq $path) { return $false }
    }
    $item = Get-Item -LiteralPath $path -Force -ErrorAction SilentlyContinue
    if ($null -eq $item -or [long]$item.Length -eq 0) { return $false }
    $sddl = Read-Sd $path
    if ($null -eq $sddl) { return $false }
    $sd = ConvertFrom-RdpfixSddl $sddl
    if (-not (Test-KeyAcl $sd)) { return $false }
    # A CAPI key whose ACL lets the administrators read it, yet will not open, is damaged, not hidden.
    if ($hr -eq $NteBadKeyset -and ((Get-Access $sd $AdminSids) -band [long]1) -eq [long]1) { return $false }
    return $true
}

function Get-RdpTls {
    # Whether the RDP listener can do TLS: the bound certificate (SSLCertificateSHA1Hash, reference 5.1) exists,
    # is in date and its private key can be read. Without a binding, the self-signed certificate of the store is used.
    $store = Get-RdStoreName
    $hash = ''
    $hashType = $null
    try {
        $ts = Get-CimInstance -Namespace 'root\cimv2\TerminalServices' -ClassName Win32_TSGeneralSetting -Filter "TerminalName='RDP-Tcp'" -ErrorAction Stop
        $hash = [string]$ts.SSLCertificateSHA1Hash
        $hashType = $ts.SSLCertificateSHA1HashType
    } catch {
        $hash = ''
    }
    $now = Get-Date
    $certs = @(Get-ChildItem -Path "Cert:\LocalMachine\$store" -ErrorAction SilentlyContinue | Sort-Object Thumbprint)
    $list = @($certs | ForEach-Object {
            [ordered]@{ thumbprint = $_.Thumbprint; subject = $_.Subject; notAfter = $_.NotAfter.ToUniversalTime().ToString('o')
                hasPrivateKey = [bool]$_.HasPrivateKey; privateKeyReadable = (Test-KeyReadable $_ $store) }
        })
    $bound = $null
    $boundStore = $null
    if ($hash) {
        foreach ($s in @($store, 'My')) {
            foreach ($c in @(Get-ChildItem -Path "Cert:\LocalMachine\$s" -ErrorAction SilentlyContinue)) {
                if ($null -eq $bound -and $c.Thumbprint -ieq $hash) { $bound = $c; $boundStore = $s }
            }
        }
    } elseif ($certs.Count -gt 0) { $bound = $certs[0]; $boundStore = $store }
    $r = [ordered]@{ store = $store; binding = $hash; bindingType = $hashType; certificates = $list; bound = $null; boundStore = $boundStore
        inDate = $false; readable = $false; ready = $false; reason = $null; notBefore = $null }
    if ($null -eq $bound) {
        if ($hash) { $r.reason = "SSLCertificateSHA1Hash points at $hash, which is in no certificate store" }
        else { $r.reason = "no certificate in Cert:\LocalMachine\$store" }
        return $r
    }
    $r.bound = $bound.Thumbprint
    $r.notBefore = $bound.NotBefore.ToUniversalTime().ToString('o')
    $r.inDate = ($bound.NotBefore -le $now -and $bound.NotAfter -ge $now)
    $r.readable = Test-KeyReadable $bound $boundStore
    $r.ready = $r.inDate -and $r.readable
    if (-not $r.inDate) { $r.reason = "certificate $($bound.Thumbprint) is not in date (valid $($bound.NotBefore.ToUniversalTime().ToString('o')) to $($bound.NotAfter.ToUniversalTime().ToString('o')))" }
    elseif (-not $r.readable) { $r.reason = "the private key of certificate $($bound.Thumbprint) cannot be read" }
    return $r
}

function Invoke-Tool([string]$Exe, [string[]]$Arguments) {
    # Native tools are judged by their exit code; their stderr must not stop the script (reference C.1).
    $ErrorActionPreference = 'Continue'
    $out = @(& $Exe @Arguments 2>&1 | ForEach-Object { "$_" })
    return @{ Code = $LASTEXITCODE; Text = (($out | Where-Object { $_ -ne '' }) -join ' ') }
}

function Set-ExactSecurity([string]$Path, [string]$Sddl) {
    # Writes owner, group and DACL exactly. Windows PowerShell 5.1's Set-Acl writes the owner too and refuses any
    # owner but the caller or Administrators ("The security identifier is not allowed to be the owner of this
    # object.", reference 5.7): Set-Acl goes with owner Administrators, then icacls /setowner sets the real owner.
    # When even that is denied (no WRITE_DAC), takeown /a first makes Administrators the owner.
    $owner = (ConvertFrom-RdpfixSddl $Sddl).Owner
    # Any SDDL alias (DA, EA, ...) as a SID for icacls; the .NET type exists on Windows only.
    try { $owner = (New-Object System.Security.AccessControl.RawSecurityDescriptor($Sddl)).Owner.Value } catch { $owner = (ConvertFrom-RdpfixSddl $Sddl).Owner }
    $write = $Sddl
    if ($owner -ne 'S-1-5-32-544') { $write = 'O:BA' + ($Sddl -replace '^O:(S-1-[0-9-]+|[A-Z]{2})', '') }
    $done = $false
    try {
        $acl = Get-Acl -LiteralPath $Path -ErrorAction Stop
        $acl.SetSecurityDescriptorSddlForm($write)
        Set-Acl -LiteralPath $Path -AclObject $acl -ErrorAction Stop
        $done = $true
    } catch {
        $done = $false
    }
    if (-not $done) {
        $t = Invoke-Tool 'takeown' @('/f', $Path, '/a')
        if ($t.Code -ne 0) { throw "takeown /f $Path /a failed (exit $($t.Code)): $($t.Text)" }
        $acl = Get-Acl -LiteralPath $Path -ErrorAction Stop
        $acl.SetSecurityDescriptorSddlForm($write)
        Set-Acl -LiteralPath $Path -AclObject $acl -ErrorAction Stop
    }
    if ($owner -ne 'S-1-5-32-544') {
        $r = Invoke-Tool 'icacls' @($Path, '/setowner', ('*' + $owner), '/q')
        if ($r.Code -ne 0) { throw "icacls $Path /setowner *$owner failed (exit $($r.Code)): $($r.Text)" }
    }
}

function Read-Binding {
    # SSLCertificateSHA1Hash exactly as stored (reference 5.4: REG_BINARY bytes, or absent).
    $b = [ordered]@{ exists = $false; kind = $null; data = $null }
    $item = Get-ItemProperty -Path $RdpTcp -Name SSLCertificateSHA1Hash -ErrorAction SilentlyContinue
    if ($null -ne $item) {
        $b.exists = $true
        $b.kind = (Get-Item -Path $RdpTcp).GetValueKind('SSLCertificateSHA1Hash').ToString()
        $v = $item.SSLCertificateSHA1Hash
        if ($b.kind -eq 'Binary') { $b.data = (@($v | ForEach-Object { ([int]$_).ToString('X2') }) -join '') } else { $b.data = [string]$v }
    }
    return $b
}

function Restore-Binding($Saved) {
    $cur = Read-Binding
    if ($cur.exists -eq [bool]$Saved.exists -and $cur.kind -eq $Saved.kind -and $cur.data -eq $Saved.data) { return $false }
    if (-not $Saved.exists) {
        Remove-ItemProperty -Path $RdpTcp -Name SSLCertificateSHA1Hash -ErrorAction Stop
        return $true
    }
    if ($Saved.kind -eq 'Binary') {
        $hex = [string]$Saved.data
        $bytes = [byte[]]@(for ($i = 0; $i -lt $hex.Length; $i += 2) { [Convert]::ToByte($hex.Substring($i, 2), 16) })
        New-ItemProperty -Path $RdpTcp -Name SSLCertificateSHA1Hash -PropertyType Binary -Value $bytes -Force | Out-Null
    } else {
        New-ItemProperty -Path $RdpTcp -Name SSLCertificateSHA1Hash -PropertyType ([string]$Saved.kind) -Value ([string]$Saved.data) -Force | Out-Null
    }
    return $true
}

function Read-StoreCerts([string]$Store) {
    return @(Get-ChildItem -Path "Cert:\LocalMachine\$Store" -ErrorAction SilentlyContinue | Sort-Object Thumbprint | ForEach-Object {
            [ordered]@{ thumbprint = $_.Thumbprint; subject = $_.Subject; notAfter = $_.NotAfter.ToUniversalTime().ToString('o'); hasPrivateKey = [bool]$_.HasPrivateKey }
        })
}

function Read-FileState([string]$Path) {
    $i = Get-Item -LiteralPath $Path -Force -ErrorAction SilentlyContinue
    if ($null -eq $i) { return [ordered]@{ exists = $false; length = $null; lastWriteTimeUtc = $null } }
    return [ordered]@{ exists = $true; length = [long]$i.Length; lastWriteTimeUtc = $i.LastWriteTimeUtc.ToString('o') }
}

function Read-Services {
    $s = [ordered]@{}
    foreach ($n in @('TermService') + $CertServices) {
        $svc = Get-Service -Name $n -ErrorAction SilentlyContinue
        if ($null -eq $svc) { $s[$n] = $null } else { $s[$n] = $svc.Status.ToString() }
    }
    return $s
}

function Get-LiveRdpConnections {
    # Restarting TermService tears down every live RDP connection (reference 1.7): name them in the plan.
    # Through the WTS API (prelude), not qwinsta's localized text; with TermService down none is live.
    $live = Get-RdpfixLiveRdpSessions
    return @($live | ForEach-Object { $u = $_.user; if ($u -eq '') { $u = '(logging on)' }; '{0} (session {1}, {2}, {3})' -f $u, $_.id, $_.winStation, $_.stateName })
}

function Get-ResetBlocker($Tls) {
    # Why a certificate reset must not run here, or $null.
    if ($Tls.boundStore -eq 'My' -or $Tls.bindingType -eq 2 -or $Tls.bindingType -eq 3) {
        return "blocked: the RDP listener is bound to a custom or group-policy certificate ($($Tls.binding), SSLCertificateSHA1HashType $($Tls.bindingType)); this playbook repairs the self-signed certificate only. Fix that certificate's key or its binding instead."
    }
    # SA event-id doc: do not delete SSLCertificateSHA1Hash on a server with the RD Connection Broker role (service Tssdis).
    if ($null -ne (Get-Service -Name 'Tssdis' -ErrorAction SilentlyContinue)) {
        return 'blocked: the RD Connection Broker role is installed (service Tssdis); Microsoft advises against removing the listener certificate binding there. Repair the certificate through the deployment instead.'
    }
    $ts = Get-Service -Name TermService -ErrorAction Stop
    if ($ts.StartType.ToString() -eq 'Disabled') { return 'blocked: TermService is disabled; it would not start again to issue the certificate. Enable it first.' }
    if (@('Running', 'Stopped') -notcontains $ts.Status.ToString()) { return "blocked: TermService is $($ts.Status) (hung?); run the restart-termservice playbook first." }
    foreach ($n in $CertServices) {
        $svc = Get-Service -Name $n -ErrorAction SilentlyContinue
        if ($null -eq $svc) { return "blocked: service $n, which Remote Desktop Services needs to issue its certificate, does not exist." }
        if ($svc.StartType.ToString() -eq 'Disabled' -and $svc.Status.ToString() -ne 'Running') { return "blocked: service $n is disabled; Remote Desktop Services needs it to issue its certificate (reference 5.3)." }
    }
    return $null
}
# ---- end of the shared part ----

# Read-only: what each step would change (before -> after: ACEs, owner, files, certificates), or why it must not run.
# One script for the four steps (folder-acl, rdp-key-acl, rdp-key-reset, folder-reset); it branches on $in.step.
if ($in.phase -eq 'check') { . {
$strategy = [string]$in.parameters.strategy
$hint = '--param machinekeys-repair.strategy=rdp-key'
$result = [ordered]@{ compliant = $false; blocked = $null; before = $null; after = $null; warnings = @() }

function Get-NotSelected([string]$Step, [string]$Needs) {
    return [ordered]@{ selected = $false; strategy = $strategy; note = "$Step runs only with --param machinekeys-repair.strategy=$Needs" }
}

if ($in.step -eq 'folder-acl') {
    if (-not (Test-Path -LiteralPath $MachineKeys -PathType Container)) {
        $result.before = [ordered]@{ path = $MachineKeys; exists = $false }
        $result.after = $result.before
        if ($strategy -eq 'folder') { $result.compliant = $true }
        else { $result.blocked = "blocked: $MachineKeys does not exist, so there is no ACL to repair. Re-run with --param machinekeys-repair.strategy=folder to create a fresh folder." }
    } else {
        $sddl = Read-Sd $MachineKeys
        if ($null -eq $sddl) {
            $result.blocked = "blocked: the security descriptor of $MachineKeys cannot be read (access denied), so its owner and ACL cannot be saved for undo. Take ownership (takeown /f $MachineKeys /a) and run again."
        } else {
            $result.compliant = (Get-SdKey (ConvertFrom-RdpfixSddl $sddl)) -eq (Get-SdKey (ConvertFrom-RdpfixSddl $FolderSddl))
            $result.before = Get-SdView $MachineKeys $sddl
            if ($result.compliant) { $result.after = $result.before }
            else {
                $result.after = Get-SdView $MachineKeys $FolderSddl
                $result.after.changes = Get-SdChange $sddl $FolderSddl
            }
        }
    }
} elseif ($in.step -eq 'rdp-key-acl') {
    $keyPath = Get-RdpKeyPath
    $tls = Get-RdpTls
    if (-not (Test-Path -LiteralPath $keyPath -PathType Leaf)) {
        $result.before = [ordered]@{ path = $keyPath; exists = $false; certificate = $tls }
        $result.after = $result.before
        if ($tls.ready -or $strategy -ne 'acl') { $result.compliant = $true }
        else { $result.blocked = "blocked: the RDP key $keyPath does not exist, so there is no ACL to repair, and the RDP certificate is not usable ($($tls.reason)). Re-run with $hint to let Remote Desktop Services issue a new self-signed certificate and key." }
    } else {
        $sddl = Read-Sd $keyPath
        if ($null -eq $sddl) {
            $result.blocked = "blocked: the security descriptor of $keyPath cannot be read (access denied), so its owner and ACL cannot be saved for undo. Take ownership (takeown /f $keyPath /a) and run again."
        } else {
            $usable = Test-KeyAcl (ConvertFrom-RdpfixSddl $sddl)
            $result.before = Get-SdView $keyPath $sddl
            $result.before.usableByRemoteDesktopServices = $usable
            $result.before.certificate = $tls
            if ($usable) {
                $result.after = $result.before
                if ($tls.ready -or $strategy -ne 'acl') { $result.compliant = $true }
                else { $result.blocked = "blocked: the RDP key's ACL already gives NETWORK SERVICE read and SYSTEM full control, yet the RDP certificate is not usable ($($tls.reason)). An ACL repair cannot fix that (the key is corrupt, or the certificate expired or lost its key): re-run with $hint to move the key aside and let Remote Desktop Services issue a new self-signed certificate." }
            } else {
                $result.after = Get-SdView $keyPath $KeySddl
                $result.after.changes = Get-SdChange $sddl $KeySddl
                # Whether the key becomes readable shows only after the change (its content may be damaged too).
                if ($strategy -eq 'acl' -and -not $tls.ready) { $result.predictable = $false }
            }
        }
    }
} elseif ($in.step -eq 'rdp-key-reset' -or $in.step -eq 'folder-reset') {
    $needs = 'rdp-key'
    if ($in.step -eq 'folder-reset') { $needs = 'folder' }
    if ($strategy -ne $needs) {
        $result.compliant = $true
        $result.before = Get-NotSelected $in.step $needs
        $result.after = $result.before
    } else {
        $tls = Get-RdpTls
        $tag = Get-RunTag $in.runId
        $keyName = Get-KeyName
        $keyPath = Get-RdpKeyPath
        $live = @(Get-LiveRdpConnections)
        if ($tls.ready) {
            $result.compliant = $true
            $result.before = [ordered]@{ certificate = $tls; note = 'the RDP certificate is usable: nothing to reset' }
            $result.after = $result.before
        } else {
            $result.blocked = Get-ResetBlocker $tls
            $result.predictable = $false
            $services = Read-Services
            $start = @($CertServices | Where-Object { $services[$_] -ne 'Running' })
            $store = Get-RdStoreName
            $restart = 'restarted (stopped and started, each within 60 s): Remote Desktop Services issues a new self-signed certificate CN=' + [string](hostname) + ' (about 6 months) on a new key, and binds it'
            if ($in.step -eq 'rdp-key-reset') {
                $backupDir = "$RsaDir\rdpfix-rdpkey-$tag"
                $key = Read-FileState $keyPath
                $result.before = [ordered]@{ key = [ordered]@{ path = $keyPath; exists = $key.exists; length = $key.length }; certificate = $tls
                    binding = Read-Binding; services = $services; liveRdpConnections = $live }
                $movedKey = 'none (a new key is created)'
                if ($key.exists) { $movedKey = "moved to $backupDir\$keyName (kept for undo); a new key is created in its place" }
                $result.after = [ordered]@{ key = $movedKey
                    certificates = "$(@($tls.certificates).Count) certificate(s) moved from Cert:\LocalMachine\$store to Cert:\LocalMachine\rdpfix-rdpkey-$tag (kept for undo)"
                    binding = 'SSLCertificateSHA1Hash removed, then written by Remote Desktop Services for the new certificate'
                    startServices = $start; termService = $restart; droppedRdpConnections = $live
                    note = 'runs only if the ACL steps before it did not already make the certificate usable' }
            } else {
                $aside = "$RsaDir\MachineKeys-rdpfix-$tag"
                $names = @()
                $listed = $true
                if (Test-Path -LiteralPath $MachineKeys -PathType Container) {
                    try { $names = @(Get-ChildItem -LiteralPath $MachineKeys -Force -ErrorAction Stop | ForEach-Object { $_.Name } | Sort-Object) } catch { $listed = $false }
                }
                $carried = @($names | Where-Object { $_ -ine $keyName })
                $rdpHere = @($names | Where-Object { $_ -ieq $keyName })
                $result.before = [ordered]@{ folder = [ordered]@{ path = $MachineKeys; exists = (Test-Path -LiteralPath $MachineKeys -PathType Container); sddl = (Read-Sd $MachineKeys); files = $names }
                    certificate = $tls; binding = Read-Binding; services = $services; liveRdpConnections = $live }
                $result.after = [ordered]@{
                    folder = [ordered]@{ path = $MachineKeys; sddl = $FolderSddl; files = @($carried + "$keyName (new)") }
                    aside = [ordered]@{ path = $aside; files = $rdpHere; note = 'the old folder, renamed; undo renames it back' }
                    carriedOver = $carried
                    certificates = "$(@($tls.certificates).Count) certificate(s) moved from Cert:\LocalMachine\$store to Cert:\LocalMachine\rdpfix-folder-$tag (kept for undo)"
                    binding = 'SSLCertificateSHA1Hash removed, then written by Remote Desktop Services for the new certificate'
                    startServices = $start; termService = $restart; droppedRdpConnections = $live
                    note = 'runs only if the ACL steps before it did not already make the certificate usable' }
                if (-not $listed) { $result.warnings += "The content of $MachineKeys cannot be listed yet; the ACL step before this one restores the folder's default ACL." }
                if (Test-Path -LiteralPath $aside) { $result.blocked = "blocked: $aside already exists." }
                $result.warnings += 'Every key file except the RDP key is carried over into the fresh folder (the WinRM HTTPS listener certificate key among them): the window in which they are away is the few moves after the rename.'
            }
            if ($live.Count -gt 0) { $result.warnings += ('Restarting TermService drops these RDP connections (reference 1.7); a rollback restores the key, certificate and binding but not those connections: ' + ($live -join '; ')) }
        }
    }
} else {
    throw "machinekeys-repair has no step '$($in.step)'."
}
Write-RdpfixResult $result
} }

# The prior state (checkpoint) of each step.
# One script for the four steps (folder-acl, rdp-key-acl, rdp-key-reset, folder-reset); it branches on $in.step.
elseif ($in.phase -eq 'capture') { . {
# The prior state each step's undo restores. Read-only, and deterministic for a given host state (a rollback
# compares it with the state the step left, to detect drift).
if ($in.step -eq 'folder-acl' -or $in.step -eq 'rdp-key-acl') {
    $path = $MachineKeys
    if ($in.step -eq 'rdp-key-acl') { $path = Get-RdpKeyPath }
    $state = [ordered]@{ path = $path; exists = (Test-Path -LiteralPath $path); sddl = $null }
    if ($state.exists) {
        $state.sddl = Read-Sd $path
        if ($null -eq $state.sddl) { throw "The security descriptor of $path cannot be read (access denied): nothing was changed." }
    }
} elseif ($in.step -eq 'rdp-key-reset' -or $in.step -eq 'folder-reset') {
    $tag = Get-RunTag $in.runId
    $keyName = Get-KeyName
    $store = Get-RdStoreName
    # keyPath: the key as it is (CAPI or CNG); newKeyPath: where Remote Desktop Services creates the new one.
    $state = [ordered]@{ keyName = $keyName; keyPath = (Get-RdpKeyPath); newKeyPath = ($MachineKeys + '\' + $keyName); store = $store
        storeExists = (Test-Path -LiteralPath "Cert:\LocalMachine\$store"); certificates = @(Read-StoreCerts $store)
        binding = Read-Binding; services = Read-Services }
    if ($in.step -eq 'rdp-key-reset') {
        $state.key = Read-FileState $state.keyPath
        $state.backupDir = "$RsaDir\rdpfix-rdpkey-$tag"
        $state.backupStore = "rdpfix-rdpkey-$tag"
    } else {
        $state.folder = [ordered]@{ path = $MachineKeys; exists = (Test-Path -LiteralPath $MachineKeys -PathType Container); sddl = $null; files = @() }
        if ($state.folder.exists) {
            $state.folder.sddl = Read-Sd $MachineKeys
            $state.folder.files = @(Get-ChildItem -LiteralPath $MachineKeys -Force -ErrorAction Stop | ForEach-Object { $_.Name } | Sort-Object)
        }
        $state.aside = "$RsaDir\MachineKeys-rdpfix-$tag"
        $state.backupStore = "rdpfix-folder-$tag"
    }
} else {
    throw "machinekeys-repair has no step '$($in.step)'."
}
Write-RdpfixResult ([ordered]@{ state = $state; warnings = @() })
} }

# Makes the change of one step. Runs only after check found it needed and capture saved the prior state.
# One script for the four steps (folder-acl, rdp-key-acl, rdp-key-reset, folder-reset); it branches on $in.step.
elseif ($in.phase -eq 'apply') { . {
$cp = $in.checkpoint
$warnings = @()

function Start-CertServices {
    foreach ($n in $CertServices) {
        $svc = Get-Service -Name $n -ErrorAction Stop
        if ($svc.Status.ToString() -ne 'Running') { Start-Service -Name $n -ErrorAction Stop }
    }
}

function Move-CertsAside([string]$Store, [string]$Backup, $Saved) {
    # Move-Item keeps the certificate with its properties (the key link); the key file itself is handled apart.
    $thumbs = @($Saved | ForEach-Object { [string]$_.thumbprint })
    if ($thumbs.Count -eq 0) { return }
    if (-not (Test-Path -LiteralPath "Cert:\LocalMachine\$Backup")) { New-Item -Path "Cert:\LocalMachine\$Backup" -ErrorAction Stop | Out-Null }
    foreach ($t in $thumbs) {
        if (Test-Path -LiteralPath "Cert:\LocalMachine\$Store\$t") { Move-Item -LiteralPath "Cert:\LocalMachine\$Store\$t" -Destination "Cert:\LocalMachine\$Backup" -ErrorAction Stop }
    }
}

function Remove-BindingValue {
    if ((Read-Binding).exists) { Remove-ItemProperty -Path $RdpTcp -Name SSLCertificateSHA1Hash -ErrorAction Stop }
}

function Wait-ServiceStatus([string]$Name, [string]$Want, [datetime]$Deadline) {
    while ($true) {
        $st = (Get-Service -Name $Name -ErrorAction Stop).Status.ToString()
        if ($st -eq $Want -or (Get-Date) -ge $Deadline) { return $st }
        Start-Sleep -Milliseconds 500
    }
}

function Start-ServiceBounded([string]$Name, [int]$Seconds) {
    # ServiceController.Start() returns once the SCM accepted the start; poll until Running or the deadline.
    $svc = Get-Service -Name $Name -ErrorAction Stop
    if ($svc.Status.ToString() -eq 'Stopped') { $svc.Start() }
    $st = Wait-ServiceStatus $Name 'Running' ((Get-Date).AddSeconds($Seconds))
    if ($st -ne 'Running') { throw "$Name is $st $Seconds s after the start request (a hang on starting is logged as System event 7022)." }
}

function Restart-TermServiceBounded([int]$Seconds) {
    # Windows PowerShell 5.1's Restart-Service waits without a timeout, and a hung TermService would hang it and the
    # remote call (reference 1.4; as restart-termservice does): stop -NoWait and start, each polled to a deadline.
    # A TermService that does not stop or start in time fails the step, which rolls back; the restart-termservice
    # playbook is the one that ends a hung service host. Dependents that ran (UmRdpService) are started again, as
    # Restart-Service -Force does.
    $ts = Get-Service -Name TermService -ErrorAction Stop
    $deps = @($ts.DependentServices | Where-Object { $_.Status.ToString() -eq 'Running' } | ForEach-Object { [string]$_.Name })
    if ($ts.Status.ToString() -ne 'Stopped') {
        Stop-Service -Name TermService -Force -NoWait -ErrorAction Stop
        $st = Wait-ServiceStatus 'TermService' 'Stopped' ((Get-Date).AddSeconds($Seconds))
        if ($st -ne 'Stopped') { throw "TermService is still $st $Seconds s after the stop request; run the restart-termservice playbook, then this one again." }
    }
    Start-ServiceBounded 'TermService' $Seconds
    foreach ($d in $deps) { Start-ServiceBounded $d $Seconds }
}

function Wait-NewCertificate($Old, [int]$Seconds) {
    # Remote Desktop Services issues the certificate while it starts; verify must judge the new one, so wait for a
    # usable certificate that is not one of the old ones. Returns a warning, or $null.
    $thumbs = @($Old | ForEach-Object { [string]$_.thumbprint })
    $deadline = (Get-Date).AddSeconds($Seconds)
    while ($true) {
        $tls = Get-RdpTls
        if ($tls.ready -and $thumbs -notcontains $tls.bound) { return $null }
        if ((Get-Date) -ge $deadline) { return "no new usable RDP certificate $Seconds s after TermService started: $($tls.reason)" }
        Start-Sleep -Seconds 1
    }
}

if ($in.step -eq 'folder-acl') {
    Set-ExactSecurity $MachineKeys $FolderSddl
} elseif ($in.step -eq 'rdp-key-acl') {
    Set-ExactSecurity (Get-RdpKeyPath) $KeySddl
} elseif ($in.step -eq 'rdp-key-reset') {
    Start-CertServices
    if ($cp.key.exists -and (Test-Path -LiteralPath $cp.keyPath -PathType Leaf)) {
        if (-not (Test-Path -LiteralPath $cp.backupDir)) { New-Item -ItemType Directory -Path $cp.backupDir -ErrorAction Stop | Out-Null }
        Move-Item -LiteralPath $cp.keyPath -Destination ($cp.backupDir + '\' + $cp.keyName) -ErrorAction Stop
    }
    Move-CertsAside $cp.store $cp.backupStore $cp.certificates
    Remove-BindingValue
    Restart-TermServiceBounded 60
    $w = Wait-NewCertificate $cp.certificates 60
    if ($null -ne $w) { $warnings += $w }
} elseif ($in.step -eq 'folder-reset') {
    Start-CertServices
    Move-CertsAside $cp.store $cp.backupStore $cp.certificates
    Remove-BindingValue
    $asideName = $cp.aside.Substring($cp.aside.LastIndexOf('\') + 1)
    if ($cp.folder.exists) { Rename-Item -LiteralPath $MachineKeys -NewName $asideName -ErrorAction Stop }
    New-Item -ItemType Directory -Path $MachineKeys -ErrorAction Stop | Out-Null
    Set-ExactSecurity $MachineKeys $FolderSddl
    # Carry over every other machine key (WinRM HTTPS, IIS, cluster, ...): same files, same ACLs, same names.
    foreach ($name in @($cp.folder.files)) {
        if ($name -ieq $cp.keyName) { continue }
        Move-Item -LiteralPath ($cp.aside + '\' + $name) -Destination ($MachineKeys + '\' + $name) -ErrorAction Stop
    }
    Restart-TermServiceBounded 60
    $w = Wait-NewCertificate $cp.certificates 60
    if ($null -ne $w) { $warnings += $w }
} else {
    throw "machinekeys-repair has no step '$($in.step)'."
}
Write-RdpfixResult ([ordered]@{ changed = $true; rebootRequired = $false; warnings = $warnings })
} }

# The post-condition of one step; the reason says what is wrong and what to do next.
# One script for the four steps (folder-acl, rdp-key-acl, rdp-key-reset, folder-reset); it branches on $in.step.
elseif ($in.phase -eq 'verify') { . {
$strategy = [string]$in.parameters.strategy
$hint = '--param machinekeys-repair.strategy=rdp-key'
$cp = $in.checkpoint
$ok = $true
$reasons = @()
$warnings = @()

function Test-Listener {
    # TermService listens on the RDP port (prelude: a socket, not qwinsta's localized STATE word).
    return [bool](Get-RdpfixRdpListener).listening
}

function Test-Reset($Tls) {
    # The new certificate: in the RDP store, bound, in date, key readable; its key file usable by the service;
    # TermService running with a listener (reference 5.6).
    $r = @()
    if ((Get-Service -Name TermService).Status.ToString() -ne 'Running') { $r += 'TermService is not running' }
    if (-not $Tls.ready) { $r += "no usable RDP certificate after the restart: $($Tls.reason)" }
    if ($Tls.boundStore -ne $Tls.store) { $r += "the listener is not bound to a certificate of Cert:\LocalMachine\$($Tls.store)" }
    if ($null -ne $Tls.bindingType -and $Tls.binding -and $Tls.bindingType -ne 1) { $r += "SSLCertificateSHA1HashType is $($Tls.bindingType), not 1 (self-signed)" }
    $old = @($cp.certificates | ForEach-Object { [string]$_.thumbprint })
    if ($Tls.bound -and $old -contains $Tls.bound) { $r += "the bound certificate $($Tls.bound) is the old one" }
    $newKey = Find-RdpKeyFile $false
    if ($null -eq $newKey) { $r += "no RDP key file $($cp.keyName) in $MachineKeys or $CngKeys" }
    else {
        $sddl = Read-Sd $newKey
        if ($null -ne $sddl -and -not (Test-KeyAcl (ConvertFrom-RdpfixSddl $sddl))) { $r += "the new key file's ACL does not give NETWORK SERVICE read and SYSTEM full control ($sddl)" }
    }
    if (-not (Test-Listener)) { $r += 'TermService does not listen on the RDP port' }
    return $r
}

if ($in.step -eq 'folder-acl') {
    $sddl = Read-Sd $MachineKeys
    if ($null -eq $sddl -or (Get-SdKey (ConvertFrom-RdpfixSddl $sddl)) -ne (Get-SdKey (ConvertFrom-RdpfixSddl $FolderSddl))) { $ok = $false; $reasons += "$MachineKeys has $sddl, expected $FolderSddl" }
} elseif ($in.step -eq 'rdp-key-acl') {
    $keyPath = Get-RdpKeyPath
    if (Test-Path -LiteralPath $keyPath -PathType Leaf) {
        $sddl = Read-Sd $keyPath
        if ($null -eq $sddl -or -not (Test-KeyAcl (ConvertFrom-RdpfixSddl $sddl))) { $ok = $false; $reasons += "$keyPath has $sddl, which does not give NETWORK SERVICE read and SYSTEM full control" }
    }
    if ($strategy -eq 'acl') {
        # The least invasive repair must leave a usable certificate; otherwise the run rolls back and says what next.
        $tls = Get-RdpTls
        if (-not $tls.ready) {
            $ok = $false
            $reasons += "the ACLs are repaired, but $($tls.reason): the key itself is unusable (corrupt, or not the certificate's key). Re-run with $hint to move it aside and let Remote Desktop Services issue a new self-signed certificate."
        }
    }
} elseif ($in.step -eq 'rdp-key-reset') {
    $reasons = @(Test-Reset (Get-RdpTls))
    if ($reasons.Count -gt 0) { $ok = $false; $reasons += 'Consider --param machinekeys-repair.strategy=folder as a last resort.' }
} elseif ($in.step -eq 'folder-reset') {
    $reasons = @(Test-Reset (Get-RdpTls))
    $sddl = Read-Sd $MachineKeys
    if ($null -eq $sddl -or (Get-SdKey (ConvertFrom-RdpfixSddl $sddl)) -ne (Get-SdKey (ConvertFrom-RdpfixSddl $FolderSddl))) { $reasons += "the fresh $MachineKeys has $sddl, expected $FolderSddl" }
    foreach ($name in @($cp.folder.files)) {
        if ($name -ieq $cp.keyName) { continue }
        if (-not (Test-Path -LiteralPath ($MachineKeys + '\' + $name))) { $reasons += "the key file $name was not carried over" }
    }
    if ($cp.folder.exists -and -not (Test-Path -LiteralPath $cp.aside -PathType Container)) { $reasons += "the old folder $($cp.aside) is missing" }
    if ($reasons.Count -gt 0) { $ok = $false }
} else {
    throw "machinekeys-repair has no step '$($in.step)'."
}
if ($ok -and ($in.step -eq 'rdp-key-reset' -or $in.step -eq 'folder-reset')) {
    # No new 36870 / 1057 / 1058 since the new certificate was issued (reference 5.6): a warning, since its
    # NotBefore is the only clock this script has.
    $tls = Get-RdpTls
    $since = [datetime]::Parse($tls.notBefore, [cultureinfo]::InvariantCulture, [System.Globalization.DateTimeStyles]::RoundtripKind)
    $recent = @(Get-WinEvent -FilterHashtable @{ LogName = 'System'; Id = 36870, 1057, 1058; StartTime = $since } -ErrorAction SilentlyContinue)
    if ($recent.Count -gt 0) { $warnings += "$($recent.Count) Schannel 36870 / TermService 1057-1058 event(s) since the new certificate was issued." }
}
$result = [ordered]@{ ok = $ok; warnings = @($warnings) }
if (-not $ok) { $result.reason = ($reasons -join '; ') }
Write-RdpfixResult $result
} }

# Restores one step's checkpoint exactly.
# One script for the four steps (folder-acl, rdp-key-acl, rdp-key-reset, folder-reset); it branches on $in.step.
elseif ($in.phase -eq 'undo') { . {
# Restores the checkpoint. Checks first, so it is safe on a step that never ran or ran half-way, and a second
# run changes nothing. Self-contained: it may run unattended on the host with only the checkpoint.
$cp = $in.checkpoint
$changed = $false
$warnings = @()

function Restore-Certs($Cp) {
    # The certificates of the RDP store go back exactly: new ones out, the saved ones back from the backup store.
    $did = $false
    $rd = "Cert:\LocalMachine\$($Cp.store)"
    $bk = "Cert:\LocalMachine\$($Cp.backupStore)"
    $want = @($Cp.certificates | ForEach-Object { [string]$_.thumbprint })
    if (Test-Path -LiteralPath $rd) {
        foreach ($c in @(Get-ChildItem -LiteralPath $rd)) {
            if ($want -notcontains $c.Thumbprint) { Remove-Item -LiteralPath "$rd\$($c.Thumbprint)" -ErrorAction Stop; $did = $true }
        }
    } elseif ($want.Count -gt 0 -or $Cp.storeExists) { New-Item -Path $rd -ErrorAction Stop | Out-Null; $did = $true }
    foreach ($t in $want) {
        if (Test-Path -LiteralPath "$rd\$t") { continue }
        if (-not (Test-Path -LiteralPath "$bk\$t")) { throw "Certificate $t is neither in $rd nor in ${bk}: it cannot be restored." }
        Move-Item -LiteralPath "$bk\$t" -Destination $rd -ErrorAction Stop
        $did = $true
    }
    if (Test-Path -LiteralPath $bk) {
        if (@(Get-ChildItem -LiteralPath $bk).Count -eq 0) { Remove-Item -LiteralPath $bk -ErrorAction Stop; $did = $true }
        else { $script:warnings += "$bk still holds certificates this run did not put there; it was left in place." }
    }
    if (-not $Cp.storeExists -and (Test-Path -LiteralPath $rd) -and @(Get-ChildItem -LiteralPath $rd).Count -eq 0) { Remove-Item -LiteralPath $rd -ErrorAction Stop; $did = $true }
    return $did
}

function Restore-Services($Cp) {
    # Services go back to the states they had: the ones the apply started are stopped again, and a TermService
    # that was stopped is stopped again. A running TermService is NOT restarted: on start Remote Desktop Services
    # re-issues an unusable certificate (reference 5.5: "the certificate reappears"), which would undo this very
    # restoration, and a restart drops live RDP connections (reference 1.7). The restored certificate takes
    # effect at the service's next start, as it would have before the run.
    $did = $false
    foreach ($n in $CertServices) {
        $svc = Get-Service -Name $n -ErrorAction SilentlyContinue
        if ($null -ne $svc -and $Cp.services.$n -eq 'Stopped' -and $svc.Status.ToString() -ne 'Stopped') { Stop-Service -Name $n -Force -ErrorAction Stop; $did = $true }
    }
    $ts = Get-Service -Name TermService -ErrorAction Stop
    if ($Cp.services.TermService -eq 'Stopped' -and $ts.Status.ToString() -ne 'Stopped') { Stop-Service -Name TermService -Force -ErrorAction Stop; $did = $true }
    return $did
}

if ($in.step -eq 'folder-acl' -or $in.step -eq 'rdp-key-acl') {
    if ($cp.exists) {
        if (-not (Test-Path -LiteralPath $cp.path)) { throw "$($cp.path) no longer exists: its ACL cannot be restored." }
        $now = Read-Sd $cp.path
        if ($now -ne $cp.sddl -and ($null -eq $now -or (Get-SdKey (ConvertFrom-RdpfixSddl $now)) -ne (Get-SdKey (ConvertFrom-RdpfixSddl $cp.sddl)))) {
            Set-ExactSecurity $cp.path $cp.sddl
            $changed = $true
        }
    }
} elseif ($in.step -eq 'rdp-key-reset') {
    $backupKey = $cp.backupDir + '\' + $cp.keyName
    if ($cp.key.exists) {
        if (Test-Path -LiteralPath $backupKey -PathType Leaf) {
            # The key in place is the one Remote Desktop Services created after the move: it goes, the old one returns.
            if (Test-Path -LiteralPath $cp.keyPath) { Remove-Item -LiteralPath $cp.keyPath -Force -ErrorAction Stop }
            Move-Item -LiteralPath $backupKey -Destination $cp.keyPath -ErrorAction Stop
            $changed = $true
        } elseif (-not (Test-Path -LiteralPath $cp.keyPath -PathType Leaf)) {
            throw "The RDP key is neither at $($cp.keyPath) nor at ${backupKey}: it cannot be restored."
        }
    } elseif (Test-Path -LiteralPath $cp.keyPath) {
        Remove-Item -LiteralPath $cp.keyPath -Force -ErrorAction Stop
        $changed = $true
    }
    # A CNG key was moved aside: the CAPI key Remote Desktop Services created in MachineKeys goes too (none was there).
    if ($cp.PSObject.Properties['newKeyPath'] -and $cp.newKeyPath -and $cp.newKeyPath -ne $cp.keyPath -and (Test-Path -LiteralPath $cp.newKeyPath)) {
        Remove-Item -LiteralPath $cp.newKeyPath -Force -ErrorAction Stop
        $changed = $true
    }
    if (Test-Path -LiteralPath $cp.backupDir) {
        if (@(Get-ChildItem -LiteralPath $cp.backupDir -Force).Count -eq 0) { Remove-Item -LiteralPath $cp.backupDir -Force -ErrorAction Stop; $changed = $true }
        else { $warnings += "$($cp.backupDir) is not empty; it was left in place." }
    }
    if (Restore-Certs $cp) { $changed = $true }
    if (Restore-Binding $cp.binding) { $changed = $true }
    if (Restore-Services $cp) { $changed = $true }
    if ($changed -and $cp.services.TermService -ne 'Stopped') { $warnings += 'TermService was not restarted: it keeps the certificate it loaded until its next start, when it loads the restored one (Restart-Service TermService -Force does that now, and drops live RDP connections).' }
} elseif ($in.step -eq 'folder-reset') {
    if ($cp.folder.exists -and (Test-Path -LiteralPath $cp.aside -PathType Container)) {
        $carried = @($cp.folder.files | Where-Object { $_ -ine $cp.keyName })
        if (Test-Path -LiteralPath $MachineKeys -PathType Container) {
            foreach ($item in @(Get-ChildItem -LiteralPath $MachineKeys -Force)) {
                $name = $item.Name
                if ($name -ieq $cp.keyName) {
                    # The key Remote Desktop Services created in the fresh folder; the old one is in the old folder.
                    Remove-Item -LiteralPath ($MachineKeys + '\' + $name) -Force -ErrorAction Stop
                    continue
                }
                if (Test-Path -LiteralPath ($cp.aside + '\' + $name)) { throw "$name is both in $MachineKeys and in $($cp.aside): resolve by hand." }
                Move-Item -LiteralPath ($MachineKeys + '\' + $name) -Destination ($cp.aside + '\' + $name) -ErrorAction Stop
                if ($carried -notcontains $name) { $warnings += "$name appeared in $MachineKeys after the reset; it was kept (moved into the restored folder)." }
            }
            Remove-Item -LiteralPath $MachineKeys -Force -ErrorAction Stop
        }
        Rename-Item -LiteralPath $cp.aside -NewName 'MachineKeys' -ErrorAction Stop
        $changed = $true
    } elseif (-not $cp.folder.exists -and (Test-Path -LiteralPath $MachineKeys -PathType Container)) {
        # There was no folder before: the one the reset created goes, with the key created in it.
        foreach ($item in @(Get-ChildItem -LiteralPath $MachineKeys -Force)) {
            if ($item.Name -ieq $cp.keyName) { Remove-Item -LiteralPath ($MachineKeys + '\' + $item.Name) -Force -ErrorAction Stop }
            else { throw "$($item.Name) appeared in $MachineKeys after the reset: resolve by hand." }
        }
        Remove-Item -LiteralPath $MachineKeys -Force -ErrorAction Stop
        $changed = $true
    }
    if (Restore-Certs $cp) { $changed = $true }
    if (Restore-Binding $cp.binding) { $changed = $true }
    if (Restore-Services $cp) { $changed = $true }
    if ($changed -and $cp.services.TermService -ne 'Stopped') { $warnings += 'TermService was not restarted: it keeps the certificate it loaded until its next start, when it loads the restored one (Restart-Service TermService -Force does that now, and drops live RDP connections).' }
} else {
    throw "machinekeys-repair has no step '$($in.step)'."
}
Write-RdpfixResult ([ordered]@{ changed = $changed; warnings = @($warnings) })
} }
else { throw "machinekeys-repair has no phase '$($in.phase)'." }
