# Windows PowerShell 5.1's own quirks, kept on wherever a script runs on a lab host (the broker's lab pool, the
# test harness, the lab clock's task runs). Host-side scripts run on 5.1 on real hosts but on pwsh 7 in the lab;
# where 5.1 answers differently, the lab answers as 5.1 so that a script relying on 7's behaviour fails here
# first. Facts and sources: docs/windows-facts/powershell51-json.md.

# 5.1's types.ps1xml gives System.Array an ETS alias Count -> Length (PowerShell 6 removed it: PowerShell issue
# #3222). With it, ConvertTo-Json writes an array that reaches it as one object (a [psobject]-wrapped array, an
# array nested in a piped array, `,$a | ConvertTo-Json`) as {"value":[...],"Count":n} (issues #3153, #5579).
# Type data belongs to the runspace, and the runspaces of a pool share one type table, so it is added when a lab
# host is entered (Enter-LabHost), not at import: the controller-side reach probe imports this module into a
# runspace of the pool that serves local calls, and must not change how they serialize.
# Nothing removes it again, so each runspace's module looks it up once: Get-TypeData costs a millisecond or more,
# about a quarter of entering a host.
$script:Ps51ArraysOn = $false
function Enable-LabPowerShell51Arrays {
    if ($script:Ps51ArraysOn) { return }
    if ($null -eq (Get-TypeData -TypeName System.Array)) {
        # -Force: two runspaces of one pool may race to add it.
        Update-TypeData -TypeName System.Array -MemberType AliasProperty -MemberName Count -Value Length -Force -ErrorAction Stop
    }
    $script:Ps51ArraysOn = $true
}

# 5.1's ConvertFrom-Json sends a top-level JSON array down the pipeline as one object, not element by element
# (issue #3153, #3424; PowerShell 7 enumerates unless -NoEnumerate), and leaves ISO 8601 date strings as strings
# (its JavaScriptSerializer turns only "\/Date(ms)\/" into DateTime; PowerShell 7 turns ISO strings into DateTime
# unless -DateKind String). The shadow calls the real cmdlet with both, unless the caller chose otherwise
# (only the lab's own code can: 5.1 has neither parameter, scripts/check-ps51.ps1 refuses them in scripts).
$convertFromJsonMeta = New-Object System.Management.Automation.CommandMetadata (Get-Command -Name 'Microsoft.PowerShell.Utility\ConvertFrom-Json' -CommandType Cmdlet)
if ($convertFromJsonMeta.Parameters.ContainsKey('NoEnumerate')) {
    . ([scriptblock]::Create(
        "function ConvertFrom-Json {`n" + [System.Management.Automation.ProxyCommand]::GetCmdletBindingAttribute($convertFromJsonMeta) +
        "`nparam(" + [System.Management.Automation.ProxyCommand]::GetParamBlock($convertFromJsonMeta) + ")`n" + @'
begin {
    if (-not $PSBoundParameters.ContainsKey('NoEnumerate')) { $PSBoundParameters['NoEnumerate'] = $true }
    if ($script:HasDateKind -and -not $PSBoundParameters.ContainsKey('DateKind')) { $PSBoundParameters['DateKind'] = 'String' }
    $pipeline = { Microsoft.PowerShell.Utility\ConvertFrom-Json @PSBoundParameters }.GetSteppablePipeline($MyInvocation.CommandOrigin)
    $pipeline.Begin($PSCmdlet)
}
process { $pipeline.Process($_) }
end { $pipeline.End() }
}
'@))
}
Remove-Variable convertFromJsonMeta
