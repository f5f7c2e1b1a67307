# rdpfix step prelude: inserted into every step script right after its param() block when the step is sent
# (src/playbooks/prelude.ts), so that the script that runs on the host - through remoting or from the revert task -
# is one standalone text, and the run's playbook digest covers this prelude too. Windows PowerShell 5.1 syntax.
# Defines functions only (no output); names carry 'Rdpfix' so that they never clash with a playbook's own.
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

# ---- Input and result -------------------------------------------------------------------------------------------

# The keys of the one JSON document the controller passes (src/engine/runner.ts stepInput).
$RdpfixInputKeys = @('runId', 'host', 'playbook', 'step', 'phase', 'parameters', 'checkpoint')
$RdpfixPhases = @('check', 'capture', 'apply', 'verify', 'undo')

function Read-RdpfixInput {
    # Parses the step input and refuses what this script does not know: a key the controller does not send, a phase,
    # a step or a parameter the script does not name. A mismatch means controller and script disagree; guessing would
    # run the wrong code on a host. Parameters may be left out (an undo run from its checkpoint alone needs none).
    param([Parameter(Mandatory)][AllowEmptyString()][string]$Json, [string[]]$Steps, [string[]]$Parameters)
    $where = 'rdpfix step input'
    try { $in = ConvertFrom-Json -InputObject $Json } catch { throw "${where}: not JSON ($($_.Exception.Message)). The controller passes one JSON object as the only argument." }
    if ($null -eq $in -or $in -isnot [System.Management.Automation.PSCustomObject]) { throw "${where}: not a JSON object. The controller passes one JSON object as the only argument." }
    foreach ($p in $in.PSObject.Properties) {
        if ($RdpfixInputKeys -cnotcontains $p.Name) { throw "${where}: unknown key '$($p.Name)' (known: $($RdpfixInputKeys -join ', ')). Use a controller of the same rdpfix version as this playbook." }
    }
    foreach ($k in @('step', 'phase')) {
        if ($null -eq $in.PSObject.Properties[$k] -or $in.$k -isnot [string]) { throw "${where}: '$k' is missing or not a string." }
    }
    if ($RdpfixPhases -cnotcontains $in.phase) { throw "${where}: unknown phase '$($in.phase)' (known: $($RdpfixPhases -join ', '))." }
    if ($PSBoundParameters.ContainsKey('Steps') -and $Steps -cnotcontains $in.step) { throw "${where}: this script has no step '$($in.step)' (its steps: $($Steps -join ', ')). Check the playbook's playbook.yaml." }
    if ($null -eq $in.PSObject.Properties['parameters'] -or $null -eq $in.parameters) {
        $in | Add-Member -NotePropertyName parameters -NotePropertyValue ([pscustomobject]@{}) -Force
    } elseif ($in.parameters -isnot [System.Management.Automation.PSCustomObject]) {
        throw "${where}: 'parameters' is not a JSON object."
    }
    if ($PSBoundParameters.ContainsKey('Parameters')) {
        foreach ($p in $in.parameters.PSObject.Properties) {
            if ($Parameters -cnotcontains $p.Name) {
                $known = 'none'
                if (@($Parameters).Count -gt 0) { $known = $Parameters -join ', ' }
                throw "${where}: unknown parameter '$($p.Name)' (this script takes: $known). Check the playbook's playbook.yaml."
            }
        }
    }
    if ($null -eq $in.PSObject.Properties['checkpoint']) { $in | Add-Member -NotePropertyName checkpoint -NotePropertyValue $null }
    return $in
}

function Write-RdpfixResult {
    # The step's one JSON object on the output (docs/playbooks.md, "Script contract").
    param([Parameter(Mandatory)]$Result, [int]$Depth = 10)
    ConvertTo-Json -InputObject $Result -Depth $Depth -Compress
}

# ---- Registry values: read, capture, restore --------------------------------------------------------------------

# Group policy's copy of the Remote Desktop settings: where a value is set, it wins over the local one (reference C.2).
$RdpfixPolicyKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'

function Get-RdpfixDword {
    # A REG_DWORD as [int] (4294967295 reads as -1), or $null when the value is absent.
    param([Parameter(Mandatory)][string]$Key, [Parameter(Mandatory)][string]$Name)
    $item = Get-ItemProperty -Path $Key -Name $Name -ErrorAction SilentlyContinue
    if ($null -eq $item) { return $null }
    return [int]$item.$Name
}

function ConvertTo-RdpfixUInt32 {
    # REG_DWORD data read as Int32, as the unsigned number it is.
    param($Value)
    if ($null -eq $Value) { return $null }
    return [BitConverter]::ToUInt32([BitConverter]::GetBytes([int]$Value), 0)
}

function Get-RdpfixEffectiveDword {
    # The local value, its group-policy copy, and the effective one (policy wins).
    param([Parameter(Mandatory)][string]$Key, [Parameter(Mandatory)][string]$Name)
    $l = Get-RdpfixDword -Key $Key -Name $Name
    $p = Get-RdpfixDword -Key $RdpfixPolicyKey -Name $Name
    $e = $l
    if ($null -ne $p) { $e = $p }
    return [ordered]@{ local = $l; policy = $p; effective = $e }
}

function Get-RdpfixValueState {
    # The checkpoint of one registry value: whether it exists, its kind and data. It names its key and value, so an
    # undo needs nothing else (it may run unattended on the host, from the revert task).
    param([Parameter(Mandatory)][string]$Key, [Parameter(Mandatory)][string]$Name)
    $state = [ordered]@{ key = $Key; name = $Name; exists = $false; kind = $null; data = $null }
    $item = Get-ItemProperty -Path $Key -Name $Name -ErrorAction SilentlyContinue
    if ($null -ne $item) {
        $state.exists = $true
        $state.kind = (Get-Item -Path $Key).GetValueKind($Name).ToString()
        $state.data = $item.$Name
    }
    return $state
}

function Restore-RdpfixValueState {
    # Puts a value back as Get-RdpfixValueState recorded it: its data and kind, or its absence. Checks first, so it is
    # safe on an unapplied step, and a second run changes nothing. Returns whether it changed anything.
    param([Parameter(Mandatory)][string]$Key, [Parameter(Mandatory)][string]$Name, [Parameter(Mandatory)][AllowNull()]$Checkpoint)
    $cp = $Checkpoint
    if ($null -eq $cp -or $null -eq $cp.PSObject.Properties['exists']) { throw "undo needs the step's checkpoint of $Name (exists, kind, data)." }
    if ($null -ne $cp.PSObject.Properties['name'] -and [string]$cp.name -ne $Name) { throw "undo: the checkpoint is for '$($cp.name)', not $Name." }
    if ($null -ne $cp.PSObject.Properties['key'] -and [string]$cp.key -ne $Key) { throw "undo: the checkpoint is for key '$($cp.key)', not $Key." }
    $current = Get-ItemProperty -Path $Key -Name $Name -ErrorAction SilentlyContinue
    if (-not $cp.exists) {
        if ($null -eq $current) { return $false }
        Remove-ItemProperty -Path $Key -Name $Name
        return $true
    }
    if ($null -ne $current) {
        $sameData = (ConvertTo-Json -InputObject @($current.$Name) -Depth 5 -Compress) -eq (ConvertTo-Json -InputObject @($cp.data) -Depth 5 -Compress)
        if ($sameData -and (Get-Item -Path $Key).GetValueKind($Name).ToString() -eq [string]$cp.kind) { return $false }
    }
    $data = $cp.data
    if ($cp.kind -eq 'Binary') { $data = [byte[]]@($cp.data) }
    if ($cp.kind -eq 'MultiString') { $data = [string[]]@($cp.data) }
    if (-not (Test-Path -Path $Key)) { New-Item -Path $Key -Force | Out-Null }
    New-ItemProperty -Path $Key -Name $Name -PropertyType ([string]$cp.kind) -Value $data -Force | Out-Null
    return $true
}

# ---- The RDP listener, judged without display text --------------------------------------------------------------

function Get-RdpfixRdpListener {
    # Whether Remote Desktop listens: a TCP socket in state Listen on RDP-Tcp's PortNumber owned by TermService's
    # process (reference 1.5). qwinsta's STATE word is localized (Listen, Abhoer., Ecouter, ...: docs/windows-facts/
    # locales.md), so it is never read. port, termServicePid, owners (the PIDs listening there), listening.
    $port = Get-RdpfixDword 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp' 'PortNumber'
    if ($null -eq $port) { $port = 3389 }
    $tsPid = 0
    $cim = @(Get-CimInstance -ClassName Win32_Service -Filter "Name='TermService'" -ErrorAction Stop)
    if ($cim.Count -gt 0 -and $null -ne $cim[0].ProcessId) { $tsPid = [int]$cim[0].ProcessId }
    # Not found is an error record, not an exception: nobody listens (CDXML honours -ErrorAction per call).
    $sockets = @(Get-NetTCPConnection -State Listen -LocalPort ([int]$port) -ErrorAction SilentlyContinue)
    $owners = @($sockets | ForEach-Object { [int]$_.OwningProcess } | Sort-Object -Unique)
    return [ordered]@{ port = [int]$port; termServicePid = $tsPid; owners = $owners; listening = ($tsPid -gt 0 -and $owners -contains $tsPid) }
}

# ---- Normalisers: enum values and security descriptors, never display text ---------------------------------------

function ConvertTo-RdpfixCategoryName {
    # A network category (NetConnectionProfile.NetworkCategory): the CDXML enum, or its number (Public 0, Private 1,
    # DomainAuthenticated 2) as a remote or deserialized object carries it.
    param($Value)
    $t = [string]$Value
    if ($t -eq '0') { return 'Public' }
    if ($t -eq '1') { return 'Private' }
    if ($t -eq '2') { return 'DomainAuthenticated' }
    return $t
}

function Get-RdpfixStartType {
    # A service's start type as Set-Service -StartupType names it. ServiceController.StartType exists in 5.1 on
    # .NET 4.6.1+; otherwise Win32_Service.StartMode (reference 1.2).
    param($Service)
    $p = $Service.PSObject.Properties['StartType']
    if ($null -ne $p -and $null -ne $p.Value) { return [string]$p.Value }
    $cim = @(Get-CimInstance -ClassName Win32_Service -Filter ("Name='" + [string]$Service.Name + "'"))
    $map = @{ Auto = 'Automatic'; Manual = 'Manual'; Disabled = 'Disabled'; Boot = 'Boot'; System = 'System' }
    if ($cim.Count -eq 0) { return $null }
    return $map[[string]$cim[0].StartMode]
}

# SDDL SID aliases and access-right codes (learn.microsoft.com/windows/win32/secauthz/sid-strings, ace-strings);
# [long]: GR is bit 31.
$RdpfixSidAlias = @{ SY = 'S-1-5-18'; LS = 'S-1-5-19'; NS = 'S-1-5-20'; BA = 'S-1-5-32-544'; BU = 'S-1-5-32-545'; WD = 'S-1-1-0'
    AU = 'S-1-5-11'; CO = 'S-1-3-0'; CG = 'S-1-3-1'; PS = 'S-1-5-10'; SU = 'S-1-5-6'; NU = 'S-1-5-2'; IU = 'S-1-5-4' }
$RdpfixRightCode = @{ FA = [long]0x1F01FF; FR = [long]0x120089; FW = [long]0x120116; FX = [long]0x1200A0
    GA = [long]0x10000000; GX = [long]0x20000000; GW = [long]0x40000000; GR = [long]2147483648
    RC = [long]0x20000; SD = [long]0x10000; WD = [long]0x40000; WO = [long]0x80000
    CC = [long]1; DC = [long]2; LC = [long]4; SW = [long]8; RP = [long]0x10; WP = [long]0x20; DT = [long]0x40; LO = [long]0x80; CR = [long]0x100 }

function ConvertTo-RdpfixSid {
    # An SDDL SID alias (SY, BA, ...) as its SID; a SID stays as it is.
    param([string]$Text)
    if ($RdpfixSidAlias.ContainsKey($Text)) { return $RdpfixSidAlias[$Text] }
    return $Text
}

function ConvertFrom-RdpfixRights {
    # SDDL rights ('FA', 'FRFW', '0x1200a9') as a mask; -1 for a code this table does not know.
    param([string]$Text)
    if ($Text -match '^0[xX]([0-9a-fA-F]+)$') { return [Convert]::ToInt64($Matches[1], 16) }
    [long]$m = 0
    for ($i = 0; $i -lt $Text.Length; $i += 2) {
        $c = $Text.Substring($i, [Math]::Min(2, $Text.Length - $i)).ToUpperInvariant()
        if (-not $RdpfixRightCode.ContainsKey($c)) { return [long]-1 }
        $m = $m -bor $RdpfixRightCode[$c]
    }
    return $m
}

function ConvertFrom-RdpfixSddl {
    # Owner, group, DACL protection and ACEs of an SDDL string, SIDs as SIDs (the SACL is not read: Get-Acl leaves
    # it out). Judged from SIDs and masks, never from account names, which Windows localizes.
    param([string]$Sddl)
    $sd = @{ Owner = $null; Group = $null; Protected = $false; Aces = @() }
    if ($Sddl -match 'O:(S-1-[0-9-]+|[A-Z]{2})') { $sd.Owner = ConvertTo-RdpfixSid $Matches[1] }
    if ($Sddl -match 'G:(S-1-[0-9-]+|[A-Z]{2})') { $sd.Group = ConvertTo-RdpfixSid $Matches[1] }
    if ($Sddl -match 'D:([A-Z]*)((\([^)]*\))*)') {
        $sd.Protected = $Matches[1].Contains('P')
        foreach ($m in [regex]::Matches($Matches[2], '\(([^)]*)\)')) {
            $p = $m.Groups[1].Value.Split(';')
            if ($p.Count -lt 6) { continue }
            $sd.Aces += , @{ Type = $p[0].ToUpperInvariant(); Flags = $p[1].ToUpperInvariant(); Mask = (ConvertFrom-RdpfixRights $p[2]); Sid = (ConvertTo-RdpfixSid $p[5]) }
        }
    }
    return $sd
}

# ---- Sessions, through the WTS API ------------------------------------------------------------------------------

# quser/qwinsta print localized headers and state words (Getr., ...) in columns that shift with them: rdpfix
# reads sessions from wtsapi32 instead (docs/windows-facts/sessions-wts.md). C# 5 (Windows PowerShell 5.1 compiles
# with the .NET Framework's csc). The lab replaces exactly the class between the <wtsapi32> markers with its model of
# the DLL, so everything else here - layouts, marshalling, idle time - runs in tests as it does on Windows.
$RdpfixWtsSource = @'
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace RdpfixWts
{
    public sealed class Session
    {
        public int Id;
        public int State;              // WTS_CONNECTSTATE_CLASS
        public string WinStation;      // RDP-Tcp#0, Console, Services, RDP-Tcp (a listener); '' when disconnected
        public string User;            // '' for session 0, listeners, a console nobody is logged on to
        public string Domain;
        public DateTime? LogonTimeUtc;
        public double? IdleMinutes;    // since the last input; for a disconnected session, since it was disconnected
    }

    // <wtsapi32>
    internal static class NativeMethods
    {
        [DllImport("wtsapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        internal static extern bool WTSEnumerateSessionsW(IntPtr server, int reserved, int version, out IntPtr sessions, out int count);

        [DllImport("wtsapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        internal static extern bool WTSQuerySessionInformationW(IntPtr server, int sessionId, int infoClass, out IntPtr buffer, out int bytes);

        [DllImport("wtsapi32.dll")]
        internal static extern void WTSFreeMemory(IntPtr memory);
    }
    // </wtsapi32>

    public static class Api
    {
        const int WTSSessionInfo = 24;        // WTS_INFO_CLASS
        const int WTSDisconnected = 4;        // WTS_CONNECTSTATE_CLASS

        [StructLayout(LayoutKind.Sequential)]
        struct WTS_SESSION_INFO
        {
            public int SessionId;
            public IntPtr WinStationName;
            public int State;
        }

        // WINSTATIONNAME_LENGTH 32, DOMAIN_LENGTH 17, USERNAME_LENGTH + 1 = 21 (wtsapi32.h).
        [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
        struct WTSINFO
        {
            public int State;
            public int SessionId;
            public int IncomingBytes, OutgoingBytes, IncomingFrames, OutgoingFrames, IncomingCompressedBytes, OutgoingCompressedBytes;
            [MarshalAs(UnmanagedType.ByValTStr, SizeConst = 32)] public string WinStationName;
            [MarshalAs(UnmanagedType.ByValTStr, SizeConst = 17)] public string Domain;
            [MarshalAs(UnmanagedType.ByValTStr, SizeConst = 21)] public string UserName;
            public long ConnectTime, DisconnectTime, LastInputTime, LogonTime, CurrentTime;
        }

        static List<Session> Enumerate()
        {
            IntPtr buffer;
            int count;
            if (!NativeMethods.WTSEnumerateSessionsW(IntPtr.Zero, 0, 1, out buffer, out count))
                throw new System.ComponentModel.Win32Exception(Marshal.GetLastWin32Error(), "WTSEnumerateSessions failed");
            var list = new List<Session>();
            try
            {
                int size = Marshal.SizeOf(typeof(WTS_SESSION_INFO));
                for (int i = 0; i < count; i++)
                {
                    var row = (WTS_SESSION_INFO)Marshal.PtrToStructure(new IntPtr(buffer.ToInt64() + (long)i * size), typeof(WTS_SESSION_INFO));
                    list.Add(new Session { Id = row.SessionId, State = row.State, WinStation = Marshal.PtrToStringUni(row.WinStationName) ?? "", User = "", Domain = "" });
                }
            }
            finally { NativeMethods.WTSFreeMemory(buffer); }
            return list;
        }

        static bool ReadInfo(Session s)
        {
            IntPtr p;
            int bytes;
            if (!NativeMethods.WTSQuerySessionInformationW(IntPtr.Zero, s.Id, WTSSessionInfo, out p, out bytes)) return false;
            try
            {
                var info = (WTSINFO)Marshal.PtrToStructure(p, typeof(WTSINFO));
                s.User = info.UserName ?? "";
                s.Domain = info.Domain ?? "";
                if (info.LogonTime > 0) s.LogonTimeUtc = DateTime.FromFileTimeUtc(info.LogonTime);
                // quser's IDLE TIME: since the disconnect for a disconnected session, else since the last input.
                long since = s.State == WTSDisconnected ? info.DisconnectTime : info.LastInputTime;
                if (since > 0 && info.CurrentTime >= since) s.IdleMinutes = TimeSpan.FromTicks(info.CurrentTime - since).TotalMinutes;
            }
            finally { NativeMethods.WTSFreeMemory(p); }
            return true;
        }

        public static Session[] List()
        {
            var list = Enumerate();
            var failed = new List<KeyValuePair<Session, int>>();
            foreach (var s in list)
                if (!ReadInfo(s)) failed.Add(new KeyValuePair<Session, int>(s, Marshal.GetLastWin32Error()));
            if (failed.Count == 0) return list.ToArray();
            // A session that ended between the enumeration and its query (one being logged off) is gone, not an
            // error; one still listed that cannot be read is.
            var still = new HashSet<int>();
            foreach (var s in Enumerate()) still.Add(s.Id);
            foreach (var f in failed)
            {
                if (still.Contains(f.Key.Id)) throw new System.ComponentModel.Win32Exception(f.Value, "WTSQuerySessionInformation failed for session " + f.Key.Id);
                list.Remove(f.Key);
            }
            return list.ToArray();
        }
    }
}
'@

# WTS_CONNECTSTATE_CLASS by number (wtsapi32.h): the names are the enum's, never a display language's.
$RdpfixWtsStates = @('Active', 'Connected', 'ConnectQuery', 'Shadow', 'Disconnected', 'Idle', 'Listen', 'Reset', 'Down', 'Init')

function Get-RdpfixSessions {
    # Every session Windows lists - session 0, the console, listeners included - as
    # { id, state (the enum's number), stateName, winStation, user, domain, idleMinutes, logonTime (UTC ISO) }.
    # Throws when Windows cannot list them; TermService is the session manager, and where it is not running the call
    # fails (RPC_S_SERVER_UNAVAILABLE, 1722) - callers decide what an unknown session list means for them.
    if (-not ('RdpfixWts.Api' -as [type])) { Add-Type -TypeDefinition $RdpfixWtsSource }
    try { $all = [RdpfixWts.Api]::List() }
    catch {
        $e = $_.Exception
        while ($null -ne $e.InnerException -and $e -isnot [System.ComponentModel.Win32Exception]) { $e = $e.InnerException }
        $code = ''
        if ($e -is [System.ComponentModel.Win32Exception]) { $code = " (Win32 error $($e.NativeErrorCode))" }
        throw "cannot list the sessions through the WTS API: $($e.Message)$code. Remote Desktop Services (TermService) must be running."
    }
    $out = New-Object System.Collections.ArrayList
    foreach ($s in $all) {
        $name = "state$($s.State)"
        if ($s.State -ge 0 -and $s.State -lt $RdpfixWtsStates.Count) { $name = $RdpfixWtsStates[$s.State] }
        $logon = $null
        if ($null -ne $s.LogonTimeUtc) { $logon = $s.LogonTimeUtc.ToString('o', [Globalization.CultureInfo]::InvariantCulture) }
        $idle = $null
        if ($null -ne $s.IdleMinutes) { $idle = [Math]::Floor([double]$s.IdleMinutes) }
        [void]$out.Add([ordered]@{ id = [int]$s.Id; state = [int]$s.State; stateName = $name; winStation = [string]$s.WinStation; user = [string]$s.User; domain = [string]$s.Domain; idleMinutes = $idle; logonTime = $logon })
    }
    return , $out.ToArray()
}

function Get-RdpfixLiveRdpSessions {
    # Sessions on an RDP WinStation (RDP-Tcp#N): live RDP connections, which drop when TermService stops (reference
    # 1.7). Where the list cannot be read TermService is down, and then no RDP connection is live either.
    $all = @()
    try { $all = Get-RdpfixSessions } catch { return , @() }
    return , @($all | Where-Object { $_.winStation -like 'rdp-tcp#*' })
}

function Format-RdpfixIdle {
    # Idle minutes as quser writes them (m, h:mm, d+hh:mm), for messages only.
    param($Minutes)
    if ($null -eq $Minutes) { return 'none' }
    $m = [int]$Minutes
    if ($m -lt 60) { return [string]$m }
    $d = [int][Math]::Floor($m / 1440); $h = [int][Math]::Floor(($m % 1440) / 60); $mm = $m % 60
    if ($d -eq 0) { return ('{0}:{1:00}' -f $h, $mm) }
    return ('{0}+{1:00}:{2:00}' -f $d, $h, $mm)
}

# ---- rdpfix's own folder under %ProgramData% ----------------------------------------------------------------------

# Only SYSTEM and Administrators, not inherited from ProgramData (where ordinary users may create folders):
# rdpfix keeps backups there, and the revert task runs what is there as SYSTEM.
$RdpfixFolderSddl = 'O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)'
$RdpfixTrustedSids = @('S-1-5-18', 'S-1-5-32-544')

function Get-RdpfixProgramData {
    # %ProgramData% (not always C:\ProgramData: Windows may live on another drive, the folder may be moved). A process
    # without the variable gets the value Windows itself derives it from (ProfileList's ProgramData, reference 6.1).
    if ($env:ProgramData) { return [string]$env:ProgramData }
    $pd = (Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList' -Name ProgramData -ErrorAction Stop).ProgramData
    if (-not $pd) { throw 'Cannot find the ProgramData folder: neither %ProgramData% nor ProfileList\ProgramData is set.' }
    return [string]$pd
}

function Get-RdpfixFolderProblem {
    # Why an existing folder is not one rdpfix may trust, or $null: a reparse point (junction, symlink) could lead
    # anywhere; an owner other than SYSTEM or Administrators, an inherited DACL or an ACE for anyone else means
    # someone else may write what rdpfix later reads or runs.
    param([Parameter(Mandatory)][string]$Path)
    try {
        $item = Get-Item -LiteralPath $Path -Force -ErrorAction Stop
        if (-not $item.PSIsContainer) { return 'it is a file, not a folder' }
        if (([int]$item.Attributes -band [int][System.IO.FileAttributes]::ReparsePoint) -ne 0) { return 'it is a reparse point (junction or symbolic link)' }
        $sddl = [string](Get-Acl -LiteralPath $Path -ErrorAction Stop).Sddl
    } catch {
        # A folder whose ACL shuts Administrators out is not ours either.
        if ($_.Exception -is [System.UnauthorizedAccessException] -or [string]$_.CategoryInfo.Category -eq 'PermissionDenied') { return 'Administrators may not read it (access denied)' }
        throw
    }
    $sd = ConvertFrom-RdpfixSddl $sddl
    if ($RdpfixTrustedSids -notcontains $sd.Owner) { return "its owner is $($sd.Owner), not SYSTEM (S-1-5-18) or Administrators (S-1-5-32-544)" }
    if (-not $sd.Protected) { return 'its ACL inherits from its parent' }
    $others = @($sd.Aces | Where-Object { $_.Type -ne 'A' -or $RdpfixTrustedSids -notcontains $_.Sid } | ForEach-Object { "$($_.Type);$($_.Flags);$($_.Sid)" })
    if ($others.Count -gt 0) { return "its ACL admits more than SYSTEM and Administrators: $($others -join ', ')" }
    return $null
}

function Get-RdpfixFolderRefusal {
    # The refusal for a folder rdpfix would use, or $null when every existing level of %ProgramData%\rdpfix\<Relative>
    # is ours. Read-only: a check phase reports it as 'blocked'.
    param([Parameter(Mandatory)][string]$Relative)
    $path = Get-RdpfixProgramData
    foreach ($part in @('rdpfix') + @($Relative.Split('\') | Where-Object { $_ })) {
        $path = "$path\$part"
        if (-not (Test-Path -LiteralPath $path)) { return $null }
        $problem = Get-RdpfixFolderProblem -Path $path
        if ($null -ne $problem) {
            return "refused: $path exists and is not rdpfix's own: $problem. Someone else may have created it (ordinary users can create folders under ProgramData) to read or replace what rdpfix keeps there. Check what it holds, remove it, and run again."
        }
    }
    return $null
}

function Initialize-RdpfixFolder {
    # Creates %ProgramData%\rdpfix\<Relative> level by level with the protected ACL, refusing any existing level that
    # is not ours (Get-RdpfixFolderRefusal), and reads each back. Returns the full path and the levels it created.
    param([Parameter(Mandatory)][string]$Relative)
    $path = Get-RdpfixProgramData
    $created = New-Object System.Collections.ArrayList
    foreach ($part in @('rdpfix') + @($Relative.Split('\') | Where-Object { $_ })) {
        if ($part -notmatch '^[A-Za-z0-9._-]+$' -or $part -match '^\.+$') { throw "rdpfix folder: unexpected name '$part' in '$Relative'." }
        $path = "$path\$part"
        if (Test-Path -LiteralPath $path) {
            $problem = Get-RdpfixFolderProblem -Path $path
            if ($null -ne $problem) { throw (Get-RdpfixFolderRefusal -Relative $Relative) }
            continue
        }
        New-Item -ItemType Directory -Path $path | Out-Null
        [void]$created.Add($path)
        $acl = Get-Acl -LiteralPath $path
        $acl.SetSecurityDescriptorSddlForm($RdpfixFolderSddl)
        Set-Acl -LiteralPath $path -AclObject $acl
        # Read back: between New-Item and Set-Acl the folder had ProgramData's inherited ACL.
        $problem = Get-RdpfixFolderProblem -Path $path
        if ($null -ne $problem) { throw "rdpfix folder: $path did not take the protected ACL ($problem)." }
    }
    return [pscustomobject]@{ path = $path; created = @($created) }
}
