# The checkpoint: the category of every connected interface, keyed by InterfaceIndex and InterfaceAlias.
# Also what rollback compares against the state the step left (drift).
param([Parameter(Mandatory)][string]$InputJson)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$in = ConvertFrom-Json -InputObject $InputJson

function ConvertTo-CategoryName($Value) {
    $t = [string]$Value
    if ($t -eq '0') { return 'Public' }
    if ($t -eq '1') { return 'Private' }
    if ($t -eq '2') { return 'DomainAuthenticated' }
    return $t
}

$interfaces = @(Get-NetConnectionProfile -ErrorAction Stop | Sort-Object -Property InterfaceIndex | ForEach-Object {
    [ordered]@{ interfaceIndex = [int]$_.InterfaceIndex; interfaceAlias = [string]$_.InterfaceAlias; category = (ConvertTo-CategoryName $_.NetworkCategory) }
})
ConvertTo-Json -InputObject ([ordered]@{ state = [ordered]@{ interfaces = $interfaces }; warnings = @() }) -Depth 10 -Compress
