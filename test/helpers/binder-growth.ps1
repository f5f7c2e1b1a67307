# Test harness (lab-state-maps.test.ts): enters every lab host in a folder, one after another in one process, as a
# broker runspace does over a run, reads and rewrites each, and prints how many member binders PowerShell made on
# the way (JSON). PowerShell keeps a binder for every distinct note-property name any object ever had, for the life
# of the process; the count is read by reflection from its binder cache (PowerShell 7's internals: a missing field
# is an error here, never a zero).
param([Parameter(Mandatory)][string]$LabModule, [Parameter(Mandatory)][string]$HostsDir, [int]$WarmUp = 5)
$ErrorActionPreference = 'Stop'
Import-Module $LabModule -DisableNameChecking
$field = [psobject].Assembly.GetType('System.Management.Automation.Language.PSGetMemberBinder').GetField('s_binderCache', [System.Reflection.BindingFlags]'NonPublic,Static')
if ($null -eq $field) { throw 'PowerShell has no PSGetMemberBinder.s_binderCache: this harness needs updating for this PowerShell.' }
$paths = @([System.IO.Directory]::GetFiles($HostsDir, '*.json') | Where-Object { $_ -match '[\\/]lab-\d+\.json$' } | Sort-Object)
$before = 0
$n = 0
foreach ($p in $paths) {
    Enter-LabHost -StatePath $p
    try {
        $null = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList\*' -ErrorAction SilentlyContinue
        $null = Get-ChildItem -LiteralPath 'C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys' -ErrorAction SilentlyContinue
        $null = Get-CimInstance -ClassName Win32_UserProfile -ErrorAction SilentlyContinue
        Save-LabState
    } finally { Exit-LabHost }
    $n++
    if ($n -eq $WarmUp) { $before = $field.GetValue($null).Count }
}
$after = $field.GetValue($null).Count
[Console]::Out.Write((@{ hosts = $n; measured = $n - $WarmUp; binders = $after - $before } | ConvertTo-Json -Compress))
