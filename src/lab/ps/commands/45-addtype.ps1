# Add-Type as a host runs it: Windows PowerShell 5.1 compiles with the .NET Framework's csc, which takes C# 5 and no
# later. A source whose P/Invoke surface the lab models (wtsapi32, between the <wtsapi32> markers) is compiled with
# that class replaced by the lab's model (../wtsapi32-model.cs); anything else that calls into a Windows DLL is
# refused, since the lab cannot answer for it. docs/lab.md, docs/windows-facts/sessions-wts.md.

$script:LabWtsModel = [System.IO.File]::ReadAllText((Join-Path (Split-Path $PSScriptRoot -Parent) 'wtsapi32-model.cs'))

function Get-LabTypeCache {
    # Types live once per process (one AppDomain, every lab runspace): a source compiled before is not compiled again.
    $cache = [AppDomain]::CurrentDomain.GetData('RdpfixLab.AddTypeCache')
    if ($null -eq $cache) {
        $cache = [hashtable]::Synchronized(@{})
        [AppDomain]::CurrentDomain.SetData('RdpfixLab.AddTypeCache', $cache)
    }
    return $cache
}

function Add-Type {
    [CmdletBinding(DefaultParameterSetName = 'FromSource')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'FromSource')][string]$TypeDefinition,
        [ValidateSet('CSharp')][string]$Language = 'CSharp',
        [switch]$PassThru,
        [switch]$IgnoreWarnings
    )
    Invoke-LabFaultPoint 'Add-Type'
    $cache = Get-LabTypeCache
    $key = Get-LabSha256Hex ([System.Text.Encoding]::UTF8.GetBytes($TypeDefinition))
    # One compile per source per process, even when several lab hosts ask at once.
    [System.Threading.Monitor]::Enter($cache.SyncRoot)
    try { $types = Add-LabTypeOnce $cache $key $TypeDefinition } finally { [System.Threading.Monitor]::Exit($cache.SyncRoot) }
    if ($PassThru) { return $types }
}

function Add-LabTypeOnce {
    param($Cache, [string]$Key, [string]$TypeDefinition)
    if ($Cache.ContainsKey($Key)) { return $Cache[$Key] }

    # The Windows DLLs it calls: the modelled class is swapped for the lab's; any other DllImport is refused.
    $open = '// <wtsapi32>'; $close = '// </wtsapi32>'
    $source = $TypeDefinition
    $a = $source.IndexOf($open); $b = $source.IndexOf($close)
    if ($a -ge 0 -and $b -gt $a -and $source.IndexOf($open, $a + 1) -lt 0) {
        $source = $source.Substring(0, $a) + $script:LabWtsModel + $source.Substring($b + $close.Length)
    }
    if ($source -match 'DllImport') {
        throw "lab: Add-Type of a source that calls a Windows DLL the lab has no model of (only the wtsapi32 class between '$open' and '$close' is modelled)."
    }
    # What csc on the host would say first: C# 5, the host's own source, compiled to a throwaway file, nothing loaded.
    $check = {
        # Into rdpfix's private folder where there is one: the shared temp folder is anyone's.
        $where = $env:RDPFIX_LAB_TYPES_DIR
        if ([string]::IsNullOrEmpty($where) -or -not [System.IO.Directory]::Exists($where)) { $where = [System.IO.Path]::GetTempPath() }
        $tmp = Join-Path $where ('addtype-check-' + [guid]::NewGuid().ToString('N') + '.dll')
        try {
            Microsoft.PowerShell.Utility\Add-Type -TypeDefinition $TypeDefinition -CompilerOptions '-langversion:5' -OutputAssembly $tmp -OutputType Library -IgnoreWarnings -ErrorAction Stop
        } catch {
            throw (New-Object System.Management.Automation.ErrorRecord((New-Object System.InvalidOperationException("Cannot add type. Compilation errors occurred. $($_.Exception.Message)")), 'COMPILER_ERRORS,Microsoft.PowerShell.Commands.AddTypeCommand', 'InvalidData', $null))
        } finally {
            if ([System.IO.File]::Exists($tmp)) { Remove-Item -LiteralPath $tmp -ErrorAction SilentlyContinue }
        }
    }.GetNewClosure()
    $types = (Import-LabAssembly -Source $source -Prefix 'addtype' -Check $check).GetExportedTypes()
    $Cache[$Key] = $types
    return $types
}
