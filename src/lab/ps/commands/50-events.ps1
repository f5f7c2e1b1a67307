# Event log: Get-WinEvent over state.events (newest first, as the real cmdlet reads logs).
# Errors follow PS-SRC GetEventCommand.cs / GetEventResources.resx.

$script:LabEventLevels = @{ 0 = 'Information'; 1 = 'Critical'; 2 = 'Error'; 3 = 'Warning'; 4 = 'Information'; 5 = 'Verbose' }
# Logs every Windows Server has even when the lab holds no event for them.
$script:LabEventLogs = @(
    'Application', 'System', 'Security', 'Setup',
    'Microsoft-Windows-TerminalServices-LocalSessionManager/Operational',
    'Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational',
    'Microsoft-Windows-TerminalServices-RemoteConnectionManager/Admin',
    'Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational',
    'Microsoft-Windows-User Profile Service/Operational'
)
# Providers (with the event IDs their manifests declare) that diagnosis queries; -ListProvider answers from this.
# The lab's belief about real hosts: `rdpfix conform` checks it there.
$script:LabEventProviders = [ordered]@{
    'Schannel'                                                    = @(36870, 36871, 36874, 36887, 36888)
    'Microsoft-Windows-TerminalServices-RemoteConnectionManager' = @(1057, 1058, 1149, 20499)
    'Service Control Manager'                                     = @(7000, 7001, 7009, 7011, 7022, 7023, 7024, 7031, 7034, 7036)
    'Microsoft-Windows-User Profiles Service'                     = @(1500, 1511, 1515, 1530)
    'Microsoft-Windows-GroupPolicy'                               = @(1058, 1129, 1500, 1502)
}

function New-LabEventRecord {
    <# An EventLogRecord look-alike (System.Diagnostics.Eventing.Reader.EventLogRecord) with the Message note
       property Get-WinEvent adds. #>
    param([Parameter(Mandatory)]$Event)
    $level = [int]$Event.Level
    $time = [datetime]::Parse([string]$Event.TimeCreated, [cultureinfo]::InvariantCulture, [System.Globalization.DateTimeStyles]::RoundtripKind).ToLocalTime()
    $o = [pscustomobject]@{
        Message = [string]$Event.Message; Id = [int]$Event.Id; Version = [byte]0; Qualifiers = $null; Level = [byte]$level
        Task = 0; Opcode = [int16]0; Keywords = [long]0; RecordId = [long]$Event.RecordId; ProviderName = [string]$Event.ProviderName
        ProviderId = $null; LogName = [string]$Event.LogName; ProcessId = 0; ThreadId = 0; MachineName = (Get-LabHostName)
        UserId = $null; TimeCreated = $time; ActivityId = $null; RelatedActivityId = $null; ContainerLog = [string]$Event.LogName
        MatchedQueryIds = @(); Bookmark = $null; LevelDisplayName = $script:LabEventLevels[$level]; OpcodeDisplayName = 'Info'
        TaskDisplayName = $null; KeywordsDisplayNames = @('Classic'); Properties = @()
    }
    $o.PSObject.TypeNames.Insert(0, 'System.Diagnostics.Eventing.Reader.EventLogRecord')
    return $o
}

function Get-LabEventValues {
    <# A filter-hashtable entry as a list (a single value or an array). #>
    param([System.Collections.IDictionary]$Filter, [string]$Key)
    $k = @($Filter.Keys | Where-Object { $_ -ieq $Key })
    if ($k.Count -eq 0) { return $null }
    return , @($Filter[$k[0]])
}

function Test-LabEventMatch {
    param($Event, [System.Collections.IDictionary]$Filter)
    $logs = Get-LabEventValues $Filter 'LogName'
    if ($null -ne $logs -and -not ($logs | Where-Object { [string]$Event.LogName -like [string]$_ })) { return $false }
    $providers = Get-LabEventValues $Filter 'ProviderName'
    if ($null -ne $providers -and -not ($providers | Where-Object { [string]$Event.ProviderName -like [string]$_ })) { return $false }
    $ids = Get-LabEventValues $Filter 'Id'
    if ($null -ne $ids -and -not ($ids | Where-Object { [int]$_ -eq [int]$Event.Id })) { return $false }
    $levels = Get-LabEventValues $Filter 'Level'
    if ($null -ne $levels -and -not ($levels | Where-Object { [int]$_ -eq [int]$Event.Level })) { return $false }
    $time = [datetime]::Parse([string]$Event.TimeCreated, [cultureinfo]::InvariantCulture, [System.Globalization.DateTimeStyles]::RoundtripKind).ToUniversalTime()
    $start = Get-LabEventValues $Filter 'StartTime'
    if ($null -ne $start -and $time -lt ([datetime]$start[0]).ToUniversalTime()) { return $false }
    $end = Get-LabEventValues $Filter 'EndTime'
    if ($null -ne $end -and $time -gt ([datetime]$end[0]).ToUniversalTime()) { return $false }
    return $true
}

function Get-WinEvent {
    [CmdletBinding(DefaultParameterSetName = 'GetLogSet')]
    param(
        [Parameter(ParameterSetName = 'GetLogSet', Position = 0)][string[]]$LogName,
        [Parameter(ParameterSetName = 'ListLogSet', Mandatory, Position = 0)][string[]]$ListLog,
        [Parameter(ParameterSetName = 'ListProviderSet', Mandatory, Position = 0)][string[]]$ListProvider,
        [Parameter(ParameterSetName = 'GetProviderSet', Mandatory, Position = 0)][string[]]$ProviderName,
        [Parameter(ParameterSetName = 'HashQuerySet', Mandatory, Position = 0)][hashtable[]]$FilterHashtable,
        [Parameter(ParameterSetName = 'XmlQuerySet', Mandatory, Position = 0)][xml]$FilterXml,
        [string]$FilterXPath, [long]$MaxEvents = -1, [Alias('Cn')][string]$ComputerName, [pscredential]$Credential,
        [switch]$Force, [switch]$Oldest
    )
    Invoke-LabFaultPoint 'Get-WinEvent'
    Use-LabCallerPreference $PSCmdlet
    $suffix = Get-LabCmdletFqidSuffix 'Get-WinEvent'
    if ($PSCmdlet.ParameterSetName -eq 'ListProviderSet') {
        foreach ($p in $ListProvider) {
            $names = @($script:LabEventProviders.Keys | Where-Object { $_ -like $p })
            if ($names.Count -eq 0) {
                $ex = New-Object System.Exception("There is not an event provider on the localhost computer that matches `"$p`".")
                $PSCmdlet.WriteError((New-LabErrorRecord -Exception $ex -ErrorId "NoMatchingProvidersFound,$suffix" -Category ObjectNotFound -Target $p))
            }
            foreach ($n in $names) {
                [pscustomobject]@{ Name = $n; Events = @($script:LabEventProviders[$n] | ForEach-Object { [pscustomobject]@{ Id = [long]$_ } }) }
            }
        }
        return
    }
    if ($PSCmdlet.ParameterSetName -in 'ListLogSet', 'XmlQuerySet' -or $FilterXPath) { throw "not implemented in the lab: Get-WinEvent -$($PSCmdlet.ParameterSetName)" }
    $filters = @()
    switch ($PSCmdlet.ParameterSetName) {
        'HashQuerySet' { $filters = @($FilterHashtable) }
        'GetProviderSet' { $filters = @(@{ ProviderName = $ProviderName }) }
        default {
            if (-not $LogName) { $LogName = @('*') }
            $known = @($script:LabEventLogs + @((Get-LabState).events | ForEach-Object { [string]$_.LogName }))
            $valid = @($LogName | Where-Object { $l = $_; $known | Where-Object { $_ -like $l } })
            foreach ($l in $LogName) {
                if (-not ($known | Where-Object { $_ -like $l })) {
                    $ex = New-Object System.Exception("There is not an event log on the localhost computer that matches `"$l`".")
                    $PSCmdlet.WriteError((New-LabErrorRecord -Exception $ex -ErrorId "NoMatchingLogsFound,$suffix" -Category ObjectNotFound -Target $l))
                }
            }
            if ($valid.Count -eq 0) { return }
            $filters = @(@{ LogName = $valid })
        }
    }
    $matched = @((Get-LabState).events | Where-Object { $e = $_; @($filters | Where-Object { Test-LabEventMatch -Event $e -Filter $_ }).Count -gt 0 })
    $sorted = @($matched | Sort-Object -Property @{ Expression = { [datetime]::Parse([string]$_.TimeCreated, [cultureinfo]::InvariantCulture, [System.Globalization.DateTimeStyles]::RoundtripKind).ToUniversalTime() }; Descending = (-not $Oldest) }, @{ Expression = { [long]$_.RecordId }; Descending = (-not $Oldest) })
    if ($MaxEvents -ge 0 -and $sorted.Count -gt $MaxEvents) { $sorted = @($sorted | Select-Object -First $MaxEvents) }
    if ($sorted.Count -eq 0) {
        $ex = New-Object System.Exception('No events were found that match the specified selection criteria.')
        $PSCmdlet.WriteError((New-LabErrorRecord -Exception $ex -ErrorId "NoMatchingEventsFound,$suffix" -Category ObjectNotFound -Target $null))
        return
    }
    foreach ($e in $sorted) { New-LabEventRecord $e }
}
