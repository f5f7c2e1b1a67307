# What a TCP connect from the controller would see: the lab's simulated network (read-only, for rdpfix's
# controller-side reach probe, src/lab/network.ts). Not a Windows command: nothing on a real host calls it.
# Facts and sources: docs/windows-facts/diagnosis.md ("What a TCP connect sees").
#
# A port answers when the host is reachable at the dialled address, something listens on the port, and the
# firewall admits the port on a connected network's profile:
#   RDP    TermService Running, the rdp-tcp listener present (qwinsta: state Listen), port = RDP-Tcp PortNumber;
#          firewall: Test-LabRdpFirewallOpen (svchost.exe / TermService rules; -Listener winrm: program System).
#   5985   the WinRM service Running (the HTTP listener winrm quickconfig creates; the state has no listener list);
#          firewall: rules for program System (http.sys) or any program.
#   5986   only with an HTTPS listener. The state document models none (a WinRM certificate in LocalMachine\My
#          is not a listener), so 5986 never answers in the lab.
# A closed port answers nothing while the firewall is on (Windows Firewall stealth mode drops the TCP reset for
# ports nobody listens on, KB2586744; a blocked port is dropped): the connect times out. With the firewall off
# for the profile, a port nobody listens on is refused (TCP reset). Latency is the host's faults.latencyMs.
# Transport faults of remote calls (drop, hang, command faults) do not apply: this is not a remote call.

function Get-LabReachRdpPort {
    $v = Get-LabRegistryValue $script:LabRdpTcpKey 'PortNumber'
    if ($null -eq $v) { return 3389 }
    return [int]$v.data
}

function Test-LabReachAddress {
    <# Whether a connect to $Address reaches this host: its address, or a name DNS resolves to it. Returns
       'host', 'elsewhere' (nobody answers there) or 'no-name' (the name does not resolve). #>
    param([string]$Address)
    $net = (Get-LabState).network
    if ([string]::IsNullOrEmpty($Address) -or $Address -eq [string]$net.address) { return 'host' }
    $ip = $null
    if ([System.Net.IPAddress]::TryParse($Address, [ref]$ip)) { return 'elsewhere' }
    $names = @([string]$net.fqdn, [string](Get-LabState).name, [string](Get-LabState).computerName)
    if (@($names | Where-Object { $_ -ieq $Address }).Count -eq 0) { return 'no-name' }
    if ($null -eq $net.dnsAddress) { return 'no-name' }
    if ([string]$net.dnsAddress -eq [string]$net.address) { return 'host' }
    return 'elsewhere'
}

function Test-LabReachListening {
    param([int]$Port)
    $state = Get-LabState
    if ($Port -eq (Get-LabReachRdpPort)) {
        $ts = @($state.services | Where-Object { $_.Name -eq 'TermService' }) | Select-Object -First 1
        $listen = @($state.sessions | Where-Object { [string]$_.SessionName -ieq 'rdp-tcp' -and [string]$_.State -eq 'Listen' })
        if ($null -ne $ts -and [string]$ts.Status -eq 'Running' -and $listen.Count -gt 0) { return 'rdp' }
    }
    if ($Port -eq 5985) {
        $winrm = @($state.services | Where-Object { $_.Name -eq 'WinRM' }) | Select-Object -First 1
        if ($null -ne $winrm -and [string]$winrm.Status -eq 'Running') { return 'winrm' }
    }
    return $null
}

function Test-LabReachFirewallOff {
    <# $true when the firewall is off for a connected network's profile (then a closed port sends a reset). #>
    $state = Get-LabState
    foreach ($np in @($state.netConnectionProfiles)) {
        $cat = [string]$np.NetworkCategory
        if ($cat -eq 'DomainAuthenticated') { $cat = 'Domain' }
        $fp = @($state.firewall.profiles | Where-Object { $_.Name -eq $cat }) | Select-Object -First 1
        if ($null -ne $fp -and -not $fp.Enabled) { return $true }
    }
    return $false
}

function Get-LabReach {
    <# One result per port: @{ port; open; latencyMs; error } as a TCP connect from the controller to
       $Address would see it within $TimeoutMs ('ETIMEDOUT': no answer; 'ECONNREFUSED': reset; 'ENOTFOUND':
       the name does not resolve). Reads the current lab host (Enter-LabHost); changes nothing. #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][int[]]$Port, [string]$Address, [int]$TimeoutMs = 5000)
    $state = Get-LabState
    $where = Test-LabReachAddress $Address
    $latency = 0
    if ($state.faults.PSObject.Properties['latencyMs'] -and $null -ne $state.faults.latencyMs) { $latency = [int]$state.faults.latencyMs }
    foreach ($p in $Port) {
        $r = [ordered]@{ port = $p; open = $false; latencyMs = $null; error = $null }
        if ($where -eq 'no-name') { $r.error = 'ENOTFOUND' }
        elseif ($where -eq 'elsewhere' -or -not [bool]$state.network.reachable -or $latency -ge $TimeoutMs) { $r.error = 'ETIMEDOUT' }
        else {
            $listener = Test-LabReachListening $p
            $admitted = $false
            if ($listener -eq 'rdp') { $admitted = Test-LabRdpFirewallOpen -Port $p }
            elseif ($listener -eq 'winrm') { $admitted = Test-LabRdpFirewallOpen -Port $p -Listener winrm }
            if ($null -ne $listener -and $admitted) { $r.open = $true; $r.latencyMs = $latency }
            elseif ($null -eq $listener -and (Test-LabReachFirewallOff)) { $r.error = 'ECONNREFUSED' }
            else { $r.error = 'ETIMEDOUT' }
        }
        $r
    }
}
