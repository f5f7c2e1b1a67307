# Get-NetTCPConnection (NetTCPIP module, 2012+) over the lab's listeners: the locale-independent way to ask whether
# Remote Desktop listens (reference 1.5: Get-NetTCPConnection -LocalPort $port -State Listen). Listening sockets:
#   RDP-Tcp PortNumber  while TermService runs and the rdp-tcp listener exists (Test-LabReachListening), owned by
#                       TermService's process (svchost), on 0.0.0.0 and :: (the listener binds every address).
#   5985                while WinRM runs: http.sys, owned by the System process (PID 4).
# Established connections are not modelled [LAB]. State is the enum's name as a string [LAB: real objects carry the
# CDXML enum type; scripts here filter with -State, never compare display text]. Facts: docs/windows-facts/locales.md.

function Get-LabTcpListeners {
    $state = Get-LabState
    $out = New-Object System.Collections.ArrayList
    $port = Get-LabReachRdpPort
    if ((Test-LabReachListening $port) -eq 'rdp') {
        $ts = @($state.services | Where-Object { $_.Name -eq 'TermService' })[0]
        foreach ($addr in @('::', '0.0.0.0')) { [void]$out.Add(@{ LocalAddress = $addr; LocalPort = $port; OwningProcess = [uint32]$ts.ProcessId }) }
    }
    if ((Test-LabReachListening 5985) -eq 'winrm') {
        foreach ($addr in @('::', '0.0.0.0')) { [void]$out.Add(@{ LocalAddress = $addr; LocalPort = 5985; OwningProcess = [uint32]4 }) }
    }
    return $out.ToArray()   # enumerated: callers pipe it
}

function Get-NetTCPConnection {
    [CmdletBinding()]
    param(
        [Parameter(Position = 0)][string[]]$LocalAddress,
        [Parameter(Position = 1)][uint16[]]$LocalPort,
        [string[]]$RemoteAddress, [uint16[]]$RemotePort,
        [ValidateSet('Closed', 'Listen', 'SynSent', 'SynReceived', 'Established', 'FinWait1', 'FinWait2', 'CloseWait', 'Closing', 'LastAck', 'TimeWait', 'DeleteTCB', 'Bound')][string[]]$State,
        [uint32[]]$OwningProcess,
        $CimSession, [int]$ThrottleLimit, [switch]$AsJob
    )
    Invoke-LabFaultPoint 'Get-NetTCPConnection'
    $found = @(Get-LabTcpListeners | Where-Object {
            (-not $LocalAddress -or $LocalAddress -contains $_.LocalAddress) -and
            (-not $LocalPort -or $LocalPort -contains $_.LocalPort) -and
            (-not $RemoteAddress -or $RemoteAddress -contains '0.0.0.0' -or $RemoteAddress -contains '::') -and
            (-not $RemotePort -or $RemotePort -contains 0) -and
            (-not $State -or $State -contains 'Listen') -and
            (-not $OwningProcess -or $OwningProcess -contains $_.OwningProcess)
        })
    if ($found.Count -eq 0) {
        # CDXML: one filter -> the granular not-found error, several -> the query form (reference section 3.3 shapes).
        $given = @('LocalAddress', 'LocalPort', 'RemoteAddress', 'RemotePort', 'State', 'OwningProcess') | Where-Object { $PSBoundParameters.ContainsKey($_) }
        if (@($given).Count -eq 1) {
            $prop = @($given)[0]
            $PSCmdlet.WriteError((New-LabNfsNotFoundError -ClassName 'MSFT_NetTCPConnection' -Property $prop -Value (@($PSBoundParameters[$prop])[0]) -Cmdlet 'Get-NetTCPConnection'))
        } elseif (@($given).Count -gt 1) {
            $where = (@($given) | ForEach-Object { '(({0} = {1}))' -f $_, (@($PSBoundParameters[$_])[0]) }) -join ' AND '
            $PSCmdlet.WriteError((New-LabNfsComplexNotFoundError -ClassName 'MSFT_NetTCPConnection' -Namespace 'ROOT/StandardCimv2' -Where $where -Cmdlet 'Get-NetTCPConnection'))
        }
        return
    }
    foreach ($c in $found) {
        $o = [pscustomobject][ordered]@{
            LocalAddress = $c.LocalAddress; LocalPort = [uint16]$c.LocalPort; RemoteAddress = $(if ($c.LocalAddress -eq '::') { '::' } else { '0.0.0.0' }); RemotePort = [uint16]0
            State = 'Listen'; AppliedSetting = $null; OwningProcess = [uint32]$c.OwningProcess; CreationTime = $null; OffloadState = 'InHost'
        }
        $o.PSObject.TypeNames.Insert(0, 'Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetTCPConnection')
        $o
    }
}
