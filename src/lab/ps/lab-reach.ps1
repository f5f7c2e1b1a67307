# Controller-side: what a TCP connect from the controller would see on lab hosts (src/lab/network.ts).
# Runs through the broker as a *local* call, not as a call to the lab host: a lab call goes through the
# simulated WinRM transport (unreachable host, latency, dropped and hung calls counted against the host's
# faults), and a TCP probe of a port is not a remote command. The lab module is imported into this script's
# scope only (-Scope Local), so its shadows never leak into the runspace that later serves local calls.
# A host whose lock another call holds (a probe running on it) is skipped and tried again after the others,
# until lockWaitMs has passed: one busy host does not hold up the batch.
# Input (one JSON argument): { labModule, lockWaitMs, hosts: [{ statePath, address, ports: [int], timeoutMs,
# negotiate?: { port, offers: [int] } }] }.
# Output: one JSON array, one item per host, in input order: { statePath, ports: [{ port, open, latencyMs, error }],
# negotiation?: [attempt] } (attempts as Get-LabRdpNegotiation, src/lab/ps/commands/96-rdp-negotiation.ps1, answers
# them: what the controller's RDP probe would see) or { statePath, error } when the host's state could not be read.
param([string]$InputJson = '{}')
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$in = ConvertFrom-Json -InputObject $InputJson
$loaded = Get-Module -Name RdpfixLab | Where-Object { $_.Path -eq [string]$in.labModule } | Select-Object -First 1
if ($null -ne $loaded) { Import-Module -ModuleInfo $loaded -Scope Local }
else { Import-Module -Name ([string]$in.labModule) -Scope Local -ErrorAction Stop }

$hosts = @($in.hosts)
$results = New-Object 'object[]' $hosts.Count
$deadline = [DateTime]::UtcNow.AddMilliseconds([int]$in.lockWaitMs)
$pending = @()
if ($hosts.Count -gt 0) { $pending = @(0..($hosts.Count - 1)) }
while ($pending.Count -gt 0) {
    $busy = @()
    foreach ($i in $pending) {
        $h = $hosts[$i]
        $item = [ordered]@{ statePath = [string]$h.statePath }
        try {
            Enter-LabHost -StatePath ([string]$h.statePath) -LockTimeoutMs 0 -ControllerSide
        } catch {
            if ($_.ToString() -like '*is locked by another process*' -and [DateTime]::UtcNow -lt $deadline) { $busy += $i; continue }
            $item.error = $_.ToString()
            $results[$i] = $item
            continue
        }
        try {
            $ports = @($h.ports | ForEach-Object { [int]$_ })
            $item.ports = @(Get-LabReach -Port $ports -Address ([string]$h.address) -TimeoutMs ([int]$h.timeoutMs))
            if ($h.PSObject.Properties['negotiate'] -and $null -ne $h.negotiate) {
                $offers = @($h.negotiate.offers | ForEach-Object { [int]$_ })
                $item.negotiation = @(Get-LabRdpNegotiation -Port ([int]$h.negotiate.port) -Offer $offers -Address ([string]$h.address) -TimeoutMs ([int]$h.timeoutMs))
            }
        } catch {
            $item.error = $_.ToString()
        } finally { Exit-LabHost }
        $results[$i] = $item
    }
    $pending = $busy
    if ($pending.Count -gt 0) { Start-Sleep -Milliseconds 20 }
}
ConvertTo-Json -InputObject @($results) -Depth 10 -Compress
