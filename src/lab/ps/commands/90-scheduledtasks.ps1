# ScheduledTasks CDXML module (Root/Microsoft/Windows/TaskScheduler: MSFT_ScheduledTask, PS_ScheduledTask) over
# state.scheduledTasks. Start-ScheduledTask and the lab's clock (Invoke-LabDueTasks, at the end, driven by
# `rdpfix lab advance`) really run a task's powershell.exe actions (-File or -EncodedCommand).
# Uses the CDXML helpers of 60-netprofile.ps1. Facts: docs/windows-facts/network-firewall-sessions-tasks.md.

# Enums of MSFT_ScheduledTask_v1.0.cdxml (EnumName="ScheduledTask.StateEnum" ...).
# The enum types are defined in ../LabTypes.cs, compiled when the module loads.

$script:LabTaskNs = 'Microsoft.PowerShell.Cmdletization.GeneratedTypes.ScheduledTask'
# SCHED_S_TASK_HAS_NOT_RUN (0x41303) and the 11/30/1999 placeholder Get-ScheduledTaskInfo shows for a task never run.
$script:LabTaskNotRun = 267011
$script:LabTaskNeverRunTime = New-Object DateTime(1999, 11, 30, 0, 0, 0)

function Add-LabTaskTypeName {
    param($Object, [string]$Class, [string]$Base)
    if ($Base) { $Object.PSObject.TypeNames.Insert(0, "Microsoft.Management.Infrastructure.CimInstance#$Base") }
    $Object.PSObject.TypeNames.Insert(0, "Microsoft.Management.Infrastructure.CimInstance#$Class")
    $Object.PSObject.TypeNames.Insert(0, "Microsoft.Management.Infrastructure.CimInstance#Root/Microsoft/Windows/TaskScheduler/$Class")
    return $Object
}

function ConvertTo-LabTaskEnum {
    param([string]$Enum, $Value)
    return ([string]$Value -as [type]"$script:LabTaskNs.$Enum")
}

function ConvertTo-LabTaskPath {
    <# Task paths start and end with '\' ('\' is the root folder). #>
    param([string]$Path)
    if ([string]::IsNullOrEmpty($Path)) { return '\' }
    if (-not $Path.StartsWith('\')) { $Path = '\' + $Path }
    if (-not $Path.EndsWith('\')) { $Path = $Path + '\' }
    return $Path
}

function ConvertTo-LabTaskDuration {
    <# TimeSpan -> the XML duration Task Scheduler stores ('PT10M', 'PT72H', 'P3D'). #>
    param($Span)
    if ($null -eq $Span) { return $null }
    $t = [TimeSpan]$Span
    if ($t -eq [TimeSpan]::Zero) { return 'PT0S' }
    return [System.Xml.XmlConvert]::ToString($t)
}

function ConvertFrom-LabTaskTime {
    param($Iso)
    if ($null -eq $Iso -or [string]$Iso -eq '') { return $null }
    return [DateTimeOffset]::Parse([string]$Iso, [Globalization.CultureInfo]::InvariantCulture).DateTime
}

# ---------------------------------------------------------------------------------------------------
# Building blocks (New-ScheduledTask*)

function New-ScheduledTaskAction {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true, Position = 0)][string]$Execute, [Parameter(Position = 1)][string]$Argument, [Parameter(Position = 2)][string]$WorkingDirectory, [string]$Id, $CimSession)
    Invoke-LabFaultPoint 'New-ScheduledTaskAction'
    $o = [pscustomobject][ordered]@{ Id = $null; Arguments = $null; Execute = $Execute; WorkingDirectory = $null }
    if ($PSBoundParameters.ContainsKey('Id')) { $o.Id = $Id }
    if ($PSBoundParameters.ContainsKey('Argument')) { $o.Arguments = $Argument }
    if ($PSBoundParameters.ContainsKey('WorkingDirectory')) { $o.WorkingDirectory = $WorkingDirectory }
    Add-LabTaskTypeName $o 'MSFT_TaskExecAction' 'MSFT_TaskAction'
}

function New-ScheduledTaskTrigger {
    [CmdletBinding(DefaultParameterSetName = 'Once')]
    param(
        [Parameter(ParameterSetName = 'Once', Mandatory = $true)][switch]$Once,
        [Parameter(ParameterSetName = 'Daily', Mandatory = $true)][switch]$Daily,
        [Parameter(ParameterSetName = 'AtStartup', Mandatory = $true)][switch]$AtStartup,
        [Parameter(ParameterSetName = 'AtLogOn', Mandatory = $true)][switch]$AtLogOn,
        [Parameter(ParameterSetName = 'Once', Mandatory = $true)][Parameter(ParameterSetName = 'Daily', Mandatory = $true)][datetime]$At,
        [Parameter(ParameterSetName = 'Daily')][int]$DaysInterval = 1,
        [Parameter(ParameterSetName = 'AtLogOn')][string]$User,
        [Parameter(ParameterSetName = 'Once')][timespan]$RepetitionInterval,
        [Parameter(ParameterSetName = 'Once')][timespan]$RepetitionDuration,
        [timespan]$RandomDelay, $CimSession
    )
    Invoke-LabFaultPoint 'New-ScheduledTaskTrigger'
    $classes = @{ Once = 'MSFT_TaskTimeTrigger'; Daily = 'MSFT_TaskDailyTrigger'; AtStartup = 'MSFT_TaskBootTrigger'; AtLogOn = 'MSFT_TaskLogonTrigger' }
    $start = $null
    if ($PSBoundParameters.ContainsKey('At')) { $start = ([DateTimeOffset]$At).ToString('yyyy-MM-ddTHH:mm:sszzz', [Globalization.CultureInfo]::InvariantCulture) }
    $o = [pscustomobject][ordered]@{
        Enabled = $true; EndBoundary = $null; ExecutionTimeLimit = $null; Id = $null; Repetition = $null
        StartBoundary = $start; RandomDelay = (ConvertTo-LabTaskDuration $(if ($PSBoundParameters.ContainsKey('RandomDelay')) { $RandomDelay } else { $null }))
    }
    Add-LabTaskTypeName $o $classes[$PSCmdlet.ParameterSetName] 'MSFT_TaskTrigger'
}

function New-ScheduledTaskPrincipal {
    [CmdletBinding(DefaultParameterSetName = 'User')]
    param(
        [Parameter(ParameterSetName = 'User', Mandatory = $true, Position = 0)][string]$UserId,
        [Parameter(ParameterSetName = 'Group', Mandatory = $true)][string]$GroupId,
        [Parameter(ParameterSetName = 'User')][Microsoft.PowerShell.Cmdletization.GeneratedTypes.ScheduledTask.LogonTypeEnum]$LogonType = 'None',
        [Microsoft.PowerShell.Cmdletization.GeneratedTypes.ScheduledTask.RunLevelEnum]$RunLevel = 'Limited',
        [string]$Id = 'Author', $ProcessTokenSidType, $RequiredPrivilege, $CimSession
    )
    Invoke-LabFaultPoint 'New-ScheduledTaskPrincipal'
    $o = [pscustomobject][ordered]@{
        DisplayName = $null; GroupId = $null; Id = $Id; LogonType = $LogonType; RunLevel = $RunLevel; UserId = $null
        ProcessTokenSidType = (ConvertTo-LabTaskEnum 'ProcessTokenSidTypeEnum' 'Default'); RequiredPrivilege = $null
    }
    if ($PSCmdlet.ParameterSetName -eq 'Group') { $o.GroupId = $GroupId; $o.LogonType = ConvertTo-LabTaskEnum 'LogonTypeEnum' 'Group' } else { $o.UserId = $UserId }
    Add-LabTaskTypeName $o 'MSFT_TaskPrincipal2' 'MSFT_TaskPrincipal'
}

function New-ScheduledTaskSettingsSet {
    [CmdletBinding()]
    param(
        [switch]$AllowStartIfOnBatteries, [switch]$DontStopIfGoingOnBatteries, [switch]$StartWhenAvailable,
        [switch]$Disable, [switch]$Hidden, [switch]$RunOnlyIfIdle, [switch]$RunOnlyIfNetworkAvailable, [switch]$WakeToRun,
        [switch]$DisallowDemandStart, [switch]$DisallowHardTerminate, [switch]$DontStopOnIdleEnd, [switch]$RestartOnIdle,
        [switch]$DisallowStartOnRemoteAppSession, [switch]$MaintenanceExclusive,
        [timespan]$ExecutionTimeLimit, [timespan]$DeleteExpiredTaskAfter, [timespan]$RestartInterval, [int]$RestartCount = 0,
        [int]$Priority = 7,
        [Microsoft.PowerShell.Cmdletization.GeneratedTypes.ScheduledTask.MultipleInstancesEnum]$MultipleInstances = 'IgnoreNew',
        [Microsoft.PowerShell.Cmdletization.GeneratedTypes.ScheduledTask.CompatibilityEnum]$Compatibility = 'Win8',
        $IdleDuration, $IdleWaitTimeout, $NetworkId, $NetworkName, $MaintenancePeriod, $MaintenanceDeadline, $CimSession
    )
    Invoke-LabFaultPoint 'New-ScheduledTaskSettingsSet'
    $etl = 'PT72H'
    if ($PSBoundParameters.ContainsKey('ExecutionTimeLimit')) { $etl = ConvertTo-LabTaskDuration $ExecutionTimeLimit }
    $o = [pscustomobject][ordered]@{
        AllowDemandStart           = (-not $DisallowDemandStart)
        AllowHardTerminate         = (-not $DisallowHardTerminate)
        Compatibility              = $Compatibility
        DeleteExpiredTaskAfter     = $(if ($PSBoundParameters.ContainsKey('DeleteExpiredTaskAfter')) { ConvertTo-LabTaskDuration $DeleteExpiredTaskAfter } else { $null })
        DisallowStartIfOnBatteries = (-not $AllowStartIfOnBatteries)
        Enabled                    = (-not $Disable)
        ExecutionTimeLimit         = $etl
        Hidden                     = [bool]$Hidden
        MultipleInstances          = $MultipleInstances
        Priority                   = $Priority
        RestartCount               = $RestartCount
        RestartInterval            = $(if ($PSBoundParameters.ContainsKey('RestartInterval')) { ConvertTo-LabTaskDuration $RestartInterval } else { $null })
        RunOnlyIfIdle              = [bool]$RunOnlyIfIdle
        RunOnlyIfNetworkAvailable  = [bool]$RunOnlyIfNetworkAvailable
        StartWhenAvailable         = [bool]$StartWhenAvailable
        StopIfGoingOnBatteries     = (-not $DontStopIfGoingOnBatteries)
        WakeToRun                  = [bool]$WakeToRun
    }
    Add-LabTaskTypeName $o 'MSFT_TaskSettings3' 'MSFT_TaskSettings'
}

# ---------------------------------------------------------------------------------------------------
# State <-> objects

function Get-LabTaskTriggerType {
    param($Trigger)
    foreach ($tn in $Trigger.PSObject.TypeNames) {
        if ($tn -match 'MSFT_TaskTimeTrigger$') { return 'Once' }
        if ($tn -match 'MSFT_TaskBootTrigger$') { return 'AtStartup' }
        if ($tn -match 'MSFT_TaskDailyTrigger$') { return 'Daily' }
        if ($tn -match 'MSFT_TaskLogonTrigger$') { return 'AtLogOn' }
    }
    if ($Trigger.PSObject.Properties['Type']) { return [string]$Trigger.Type }
    return 'Once'
}

function Get-LabTaskNextRun {
    <# The earliest future start of an enabled time-based trigger; boot/logon triggers have no next run time. #>
    param($Task)
    if ([string]$Task.State -eq 'Disabled') { return $null }
    $now = ([DateTimeOffset](Get-LabUtcNow))
    $next = $null
    foreach ($t in @($Task.Triggers)) {
        if (-not $t.Enabled -or $null -eq $t.StartBoundary -or @('Once', 'Daily') -notcontains [string]$t.Type) { continue }
        $start = [DateTimeOffset]::Parse([string]$t.StartBoundary, [Globalization.CultureInfo]::InvariantCulture)
        if ([string]$t.Type -eq 'Daily') { while ($start -lt $now) { $start = $start.AddDays(1) } }
        if ($start -lt $now) { continue }
        if ($null -eq $next -or $start -lt $next) { $next = $start }
    }
    if ($null -eq $next) { return $null }
    return $next.ToString('o')
}

function ConvertTo-LabTaskObject {
    param($Task)
    $actions = foreach ($a in @($Task.Actions)) {
        $ao = [pscustomobject][ordered]@{ Id = $null; Arguments = $a.Arguments; Execute = $a.Execute; WorkingDirectory = $a.WorkingDirectory }
        Add-LabTaskTypeName $ao 'MSFT_TaskExecAction' 'MSFT_TaskAction'
    }
    $classes = @{ Once = 'MSFT_TaskTimeTrigger'; Daily = 'MSFT_TaskDailyTrigger'; AtStartup = 'MSFT_TaskBootTrigger'; AtLogOn = 'MSFT_TaskLogonTrigger' }
    $triggers = foreach ($t in @($Task.Triggers)) {
        $to = [pscustomobject][ordered]@{ Enabled = [bool]$t.Enabled; EndBoundary = $null; ExecutionTimeLimit = $null; Id = $null; Repetition = $null; StartBoundary = $t.StartBoundary }
        Add-LabTaskTypeName $to $classes[[string]$t.Type] 'MSFT_TaskTrigger'
    }
    $po = [pscustomobject][ordered]@{
        DisplayName = $null; GroupId = $null; Id = 'Author'
        LogonType = ConvertTo-LabTaskEnum 'LogonTypeEnum' $Task.Principal.LogonType
        RunLevel = ConvertTo-LabTaskEnum 'RunLevelEnum' $Task.Principal.RunLevel
        UserId = [string]$Task.Principal.UserId
    }
    [void](Add-LabTaskTypeName $po 'MSFT_TaskPrincipal2' 'MSFT_TaskPrincipal')
    $so = New-Object PSObject
    foreach ($p in @($Task.Settings.PSObject.Properties)) { $so | Add-Member -NotePropertyName $p.Name -NotePropertyValue $p.Value }
    [void](Add-LabTaskTypeName $so 'MSFT_TaskSettings3' 'MSFT_TaskSettings')
    # Default table view of MSFT_ScheduledTask.format.ps1xml: TaskPath, TaskName, State.
    $o = [pscustomobject][ordered]@{
        Actions = @($actions); Author = $Task.Author; Date = $null; Description = $Task.Description; Documentation = $null
        Principal = $po; SecurityDescriptor = $null; Settings = $so; Source = $null
        State = ConvertTo-LabTaskEnum 'StateEnum' $Task.State
        TaskName = [string]$Task.TaskName; TaskPath = [string]$Task.TaskPath; Triggers = @($triggers); URI = ([string]$Task.TaskPath + [string]$Task.TaskName); Version = $null
    }
    Add-LabTaskTypeName $o 'MSFT_ScheduledTask' $null
}

function ConvertTo-LabTaskRecord {
    <# Register-ScheduledTask arguments -> the state.scheduledTasks entry (schema in state.ts). #>
    param([string]$TaskName, [string]$TaskPath, $Action, $Trigger, $Principal, $Settings, [string]$Description, [string]$Author)
    $acts = @(foreach ($a in @($Action)) { [pscustomobject][ordered]@{ Execute = [string]$a.Execute; Arguments = $a.Arguments; WorkingDirectory = $a.WorkingDirectory } })
    $trigs = @(foreach ($t in @($Trigger)) { if ($null -ne $t) { [pscustomobject][ordered]@{ Type = (Get-LabTaskTriggerType $t); StartBoundary = $t.StartBoundary; Enabled = [bool]$t.Enabled } } })
    $prin = [pscustomobject][ordered]@{ UserId = $Author; LogonType = 'Interactive'; RunLevel = 'Limited' }
    if ($null -ne $Principal) {
        $uid = [string]$Principal.UserId; if ($uid -eq '' -and $Principal.PSObject.Properties['GroupId']) { $uid = [string]$Principal.GroupId }
        $prin = [pscustomobject][ordered]@{ UserId = $uid; LogonType = [string]$Principal.LogonType; RunLevel = [string]$Principal.RunLevel }
    }
    $set = [ordered]@{}
    if ($null -ne $Settings) { foreach ($p in @($Settings.PSObject.Properties)) { $v = $p.Value; if ($v -is [enum]) { $v = $v.ToString() }; $set[$p.Name] = $v } }
    else { $set = [ordered]@{ Enabled = $true; ExecutionTimeLimit = 'PT72H'; StartWhenAvailable = $false; DisallowStartIfOnBatteries = $true; StopIfGoingOnBatteries = $true } }
    $stateName = 'Ready'; if ($set.Contains('Enabled') -and -not $set['Enabled']) { $stateName = 'Disabled' }
    $rec = [pscustomobject][ordered]@{
        TaskPath = $TaskPath; TaskName = $TaskName; State = $stateName; Description = $Description; Author = $Author
        Actions = $acts; Triggers = $trigs; Principal = $prin; Settings = [pscustomobject]$set
        LastRunTime = $null; LastTaskResult = $script:LabTaskNotRun; NextRunTime = $null
    }
    $rec.NextRunTime = Get-LabTaskNextRun $rec
    return $rec
}

# ---------------------------------------------------------------------------------------------------
# Queries and errors

function Find-LabTasks {
    <# The MSFT_ScheduledTask query of Get-/Unregister-ScheduledTask (TaskName, TaskPath: wildcards). #>
    param($Cmdlet, [string[]]$TaskName, [string[]]$TaskPath)
    $items = @((Get-LabState).scheduledTasks)
    $filters = @()
    if ($TaskName) { $filters += , @('TaskName', $TaskName, $true) }
    if ($TaskPath) { $filters += , @('TaskPath', $TaskPath, $true) }
    $result = $items; $misses = @()
    foreach ($f in $filters) {
        $r = Select-LabNfsByFilter -Items $result -Property $f[0] -Values $f[1] -Glob
        $result = @($r.Items)
        foreach ($x in $r.Misses) { $misses += , @($f[0], $x) }
    }
    if ($filters.Count -eq 1) {
        foreach ($x in $misses) { $Cmdlet.WriteError((New-LabNfsNotFoundError 'MSFT_ScheduledTask' $x[0] $x[1])) }
    } elseif ($filters.Count -gt 1 -and $result.Count -eq 0 -and $misses.Count -gt 0) {
        # Verbatim shape: "... found by CIM query for instances of the Root/Microsoft/Windows/TaskScheduler/MSFT_ScheduledTask
        # class on the  CIM server: SELECT * FROM MSFT_ScheduledTask  WHERE ((TaskName LIKE 'x')) AND ((TaskPath LIKE '\\'))."
        $Cmdlet.WriteError((New-LabNfsComplexNotFoundError 'MSFT_ScheduledTask' 'Root/Microsoft/Windows/TaskScheduler' (Format-LabNfsWql $filters)))
    }
    return , $result
}

function Find-LabTaskByName {
    <# PS_ScheduledTask methods (Start/Disable/Get-ScheduledTaskInfo) look a task up by path+name and fail with
       "The system cannot find the file specified." (HRESULT 0x80070002) when it is missing. #>
    param($Cmdlet, [string]$TaskName, [string]$TaskPath, $InputObject)
    if ($null -ne $InputObject) { $TaskName = [string]$InputObject.TaskName; $TaskPath = [string]$InputObject.TaskPath }
    $candidates = @((Get-LabState).scheduledTasks | Where-Object { $_.TaskName -ieq $TaskName })
    if ($TaskPath) { $p = ConvertTo-LabTaskPath $TaskPath; $candidates = @($candidates | Where-Object { $_.TaskPath -ieq $p }) }
    else { $candidates = @($candidates | Where-Object { $_.TaskPath -eq '\' }) }
    if ($candidates.Count -eq 0) {
        $Cmdlet.WriteError((New-LabNfsCimError -Message 'The system cannot find the file specified.' -MessageId 'HRESULT 0x80070002' -Category ObjectNotFound -Target 'PS_ScheduledTask'))
        return $null
    }
    return $candidates[0]
}

# ---------------------------------------------------------------------------------------------------
# Cmdlets

function Register-ScheduledTask {
    [CmdletBinding(DefaultParameterSetName = 'User')]
    param(
        [Parameter(Mandatory = $true, Position = 0)][string]$TaskName,
        [Parameter(Position = 1)][string]$TaskPath,
        [Parameter(ParameterSetName = 'User', Position = 2)][Parameter(ParameterSetName = 'Principal', Mandatory = $true, Position = 2)]$Action,
        [Parameter(ParameterSetName = 'User')][Parameter(ParameterSetName = 'Principal')]$Trigger,
        [Parameter(ParameterSetName = 'User')][Parameter(ParameterSetName = 'Principal')]$Settings,
        [Parameter(ParameterSetName = 'Principal')]$Principal,
        [Parameter(ParameterSetName = 'User')][string]$User, [Parameter(ParameterSetName = 'User')][string]$Password,
        [Parameter(ParameterSetName = 'User')][Microsoft.PowerShell.Cmdletization.GeneratedTypes.ScheduledTask.RunLevelEnum]$RunLevel = 'Limited',
        [Parameter(ParameterSetName = 'Object', Mandatory = $true, ValueFromPipeline = $true)]$InputObject,
        [string]$Description, [switch]$Force, $CimSession
    )
    process {
        Invoke-LabFaultPoint 'Register-ScheduledTask'
        $path = ConvertTo-LabTaskPath $TaskPath
        $state = Get-LabState
        $existing = @($state.scheduledTasks | Where-Object { $_.TaskName -ieq $TaskName -and $_.TaskPath -ieq $path })
        if ($existing.Count -gt 0 -and -not $Force) {
            # Reference section 7.5: FQID 'HRESULT 0x800700b7,Register-ScheduledTask', category ResourceExists.
            $PSCmdlet.WriteError((New-LabNfsCimError -Message 'Cannot create a file when that file already exists.' -MessageId 'HRESULT 0x800700b7' -Category ResourceExists -Target 'PS_ScheduledTask'))
            return
        }
        $author = 'Administrator'   # the remoting user [INFERENCE]
        if ($PSCmdlet.ParameterSetName -eq 'Object') {
            $Action = $InputObject.Actions; $Trigger = $InputObject.Triggers; $Settings = $InputObject.Settings; $Principal = $InputObject.Principal
            if (-not $Description) { $Description = [string]$InputObject.Description }
        }
        $prin = $Principal
        if ($null -eq $prin -and $User) { $prin = [pscustomobject]@{ UserId = $User; LogonType = $(if ($Password) { 'Password' } else { 'Interactive' }); RunLevel = $RunLevel.ToString() } }
        $asGiven = $null
        if ($null -ne $prin) { $asGiven = [string]$prin.UserId }
        if ($null -ne $prin -and [string]$prin.UserId) {
            # Task Scheduler looks the account up (LookupAccountName in the host's language / a SID string as is) and
            # shows it by name: a task registered as S-1-5-18 reads back as SYSTEM; 'SYSTEM' on a fr-FR host is no
            # account (docs/windows-facts/locales.md). Message, FQID and category from real captures.
            $sid = ConvertTo-LabSid ([string]$prin.UserId)
            if ($null -eq $sid) {
                $msg = [string](Get-LabLocale).noMappingMessage + [Environment]::NewLine + '(14,8):UserId:'
                $PSCmdlet.WriteError((New-LabNfsCimError -Message $msg -MessageId 'HRESULT 0x80070534' -Category NotSpecified -Target 'PS_ScheduledTask'))
                return
            }
            $uid = [string]$prin.UserId
            if ($uid -match '^\*?S-1-') { $name = Get-LabSidName $sid; if ($name) { $uid = $name.Split('\')[-1] } }
            $prin = [pscustomobject]@{ UserId = $uid; LogonType = [string]$prin.LogonType; RunLevel = [string]$prin.RunLevel }
        }
        $rec = ConvertTo-LabTaskRecord -TaskName $TaskName -TaskPath $path -Action $Action -Trigger $Trigger -Principal $prin -Settings $Settings -Description $Description -Author $author
        $state.scheduledTasks = @($state.scheduledTasks | Where-Object { $existing -notcontains $_ }) + $rec
        Save-LabState
        Write-LabAudit -Command 'Register-ScheduledTask' -Detail ([ordered]@{ taskPath = $path; taskName = $TaskName; replaced = ($existing.Count -gt 0); principal = $asGiven })
        ConvertTo-LabTaskObject $rec
    }
}

function Get-ScheduledTask {
    [CmdletBinding(DefaultParameterSetName = 'ByPath')]
    param(
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = $true)][string[]]$TaskName,
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = $true)][string[]]$TaskPath,
        $CimSession, [int]$ThrottleLimit, [switch]$AsJob
    )
    process {
        Invoke-LabFaultPoint 'Get-ScheduledTask'
        foreach ($t in (Find-LabTasks -Cmdlet $PSCmdlet -TaskName $TaskName -TaskPath $TaskPath)) { ConvertTo-LabTaskObject $t }
    }
}

function Get-ScheduledTaskInfo {
    [CmdletBinding(DefaultParameterSetName = 'TaskName')]
    param(
        [Parameter(ParameterSetName = 'TaskName', Mandatory = $true, Position = 0)][string]$TaskName,
        [Parameter(ParameterSetName = 'TaskName', Position = 1)][string]$TaskPath,
        [Parameter(ParameterSetName = 'InputObject', Mandatory = $true, ValueFromPipeline = $true)]$InputObject,
        $CimSession
    )
    process {
        Invoke-LabFaultPoint 'Get-ScheduledTaskInfo'
        $t = Find-LabTaskByName $PSCmdlet $TaskName $TaskPath $InputObject
        if ($null -eq $t) { return }
        $last = ConvertFrom-LabTaskTime $t.LastRunTime
        if ($null -eq $last) { $last = $script:LabTaskNeverRunTime }
        $o = [pscustomobject][ordered]@{
            LastRunTime = $last; LastTaskResult = [uint32]$t.LastTaskResult; NextRunTime = (ConvertFrom-LabTaskTime $t.NextRunTime)
            NumberOfMissedRuns = [uint32]0; TaskName = [string]$t.TaskName; TaskPath = [string]$t.TaskPath
        }
        Add-LabTaskTypeName $o 'MSFT_TaskDynamicInfo' $null
    }
}

function Unregister-ScheduledTask {
    [CmdletBinding(DefaultParameterSetName = 'ByPath', SupportsShouldProcess = $true, ConfirmImpact = 'High')]
    param(
        [Parameter(ParameterSetName = 'ByPath', Position = 0, ValueFromPipelineByPropertyName = $true)][string[]]$TaskName,
        [Parameter(ParameterSetName = 'ByPath', Position = 1, ValueFromPipelineByPropertyName = $true)][string[]]$TaskPath,
        [Parameter(ParameterSetName = 'InputObject', Mandatory = $true, ValueFromPipeline = $true)]$InputObject,
        [switch]$PassThru, $CimSession, [int]$ThrottleLimit, [switch]$AsJob
    )
    process {
        Invoke-LabFaultPoint 'Unregister-ScheduledTask'
        if ($PSCmdlet.ParameterSetName -eq 'InputObject') {
            $targets = @((Get-LabState).scheduledTasks | Where-Object { $_.TaskName -ieq [string]$InputObject.TaskName -and $_.TaskPath -ieq [string]$InputObject.TaskPath })
        } else { $targets = Find-LabTasks -Cmdlet $PSCmdlet -TaskName $TaskName -TaskPath $TaskPath }
        $gone = @()
        foreach ($t in $targets) {
            if (-not $PSCmdlet.ShouldProcess("$($t.TaskPath)$($t.TaskName)", 'Delete')) { continue }
            $gone += $t
            if ($PassThru) { ConvertTo-LabTaskObject $t }
        }
        if ($gone.Count -gt 0) {
            $state = Get-LabState
            $state.scheduledTasks = @($state.scheduledTasks | Where-Object { $gone -notcontains $_ })
            Save-LabState
            Write-LabAudit -Command 'Unregister-ScheduledTask' -Detail ([ordered]@{ tasks = @($gone | ForEach-Object { "$($_.TaskPath)$($_.TaskName)" }) })
        }
    }
}

function Start-ScheduledTask {
    [CmdletBinding(DefaultParameterSetName = 'TaskName')]
    param(
        [Parameter(ParameterSetName = 'TaskName', Mandatory = $true, Position = 0)][string]$TaskName,
        [Parameter(ParameterSetName = 'TaskName', Position = 1)][string]$TaskPath,
        [Parameter(ParameterSetName = 'InputObject', Mandatory = $true, ValueFromPipeline = $true)]$InputObject,
        $CimSession
    )
    process {
        Invoke-LabFaultPoint 'Start-ScheduledTask'
        $t = Find-LabTaskByName $PSCmdlet $TaskName $TaskPath $InputObject
        if ($null -eq $t) { return }
        # Task Scheduler starts the actions and returns at once; the lab runs them to the end before it returns (a run
        # the caller polls for has then finished). The action may unregister its own task.
        $runAt = ([DateTimeOffset](Get-LabUtcNow)).ToString('o')
        $code = 0
        foreach ($a in @($t.Actions)) { $code = Invoke-LabTaskAction $a }
        foreach ($s in @((Get-LabState).scheduledTasks | Where-Object { $_.TaskName -ieq $t.TaskName -and $_.TaskPath -ieq $t.TaskPath })) {
            $s.LastRunTime = $runAt; $s.LastTaskResult = $code
        }
        Save-LabState
        Write-LabAudit -Command 'Start-ScheduledTask' -Detail ([ordered]@{ task = "$($t.TaskPath)$($t.TaskName)"; actions = @($t.Actions); result = $code })
    }
}

function Disable-ScheduledTask {
    [CmdletBinding(DefaultParameterSetName = 'TaskName')]
    param(
        [Parameter(ParameterSetName = 'TaskName', Mandatory = $true, Position = 0)][string]$TaskName,
        [Parameter(ParameterSetName = 'TaskName', Position = 1)][string]$TaskPath,
        [Parameter(ParameterSetName = 'InputObject', Mandatory = $true, ValueFromPipeline = $true)]$InputObject,
        $CimSession
    )
    process {
        Invoke-LabFaultPoint 'Disable-ScheduledTask'
        $t = Find-LabTaskByName $PSCmdlet $TaskName $TaskPath $InputObject
        if ($null -eq $t) { return }
        $t.State = 'Disabled'
        if ($t.Settings.PSObject.Properties['Enabled']) { $t.Settings.Enabled = $false }
        $t.NextRunTime = $null
        Save-LabState
        Write-LabAudit -Command 'Disable-ScheduledTask' -Detail ([ordered]@{ task = "$($t.TaskPath)$($t.TaskName)" })
        ConvertTo-LabTaskObject $t
    }
}

# ---------------------------------------------------------------------------------------------------
# The lab's clock (not a Windows command): what Task Scheduler does when time passes. The controller calls it
# (`rdpfix lab advance`) to let a host's scheduled tasks fire while nobody is connected, e.g. a revert task.

function ConvertFrom-LabCommandLine {
    <# A Windows command line -> its arguments, as CommandLineToArgvW splits them (blanks outside double quotes). #>
    param([string]$Text)
    $list = New-Object System.Collections.Generic.List[string]
    if ([string]::IsNullOrEmpty($Text)) { return , $list.ToArray() }
    $cur = New-Object System.Text.StringBuilder
    $quoted = $false; $has = $false
    foreach ($ch in $Text.ToCharArray()) {
        # Compared as code points: PowerShell converts ' ' to [char] unreliably.
        $code = [int]$ch
        if ($code -eq 34) { $quoted = -not $quoted; $has = $true; continue }
        if (-not $quoted -and ($code -eq 32 -or $code -eq 9)) {
            if ($has) { $list.Add($cur.ToString()); [void]$cur.Clear(); $has = $false }
            continue
        }
        [void]$cur.Append($ch); $has = $true
    }
    if ($has) { $list.Add($cur.ToString()) }
    return , $list.ToArray()
}

# What Task Scheduler's launch of powershell.exe meets on the host (docs/windows-facts/network-firewall-sessions-tasks.md,
# "How the revert task is launched"):
# - the execution policy a group policy sets ("Turn on Script Execution": HKLM\SOFTWARE\Policies\Microsoft\Windows\
#   PowerShell, EnableScripts / ExecutionPolicy) outranks -ExecutionPolicy on the command line; it governs script
#   files (-File), not the text of -Command / -EncodedCommand;
# - an executable a WDAC/AppLocker/SRP rule blocks (state.blockedExecutables, a lab host option) never starts: the task
#   records ERROR_ACCESS_DISABLED_BY_POLICY (0x800704EC).
$script:LabTaskBlockedByPolicy = [uint32]2147943660
# powershell.exe -File <missing script>: "The argument '...' to the -File parameter does not exist.", exit code 0xFFFD0000.
$script:LabTaskFileMissing = [uint32]4294770688
# The working directory of the action being run (Get-Location below answers it while a task action runs).
$script:LabTaskWorkingDirectory = $null

function Get-LabGroupPolicyExecutionPolicy {
    <# The MachinePolicy execution policy of Windows PowerShell, or $null when no group policy sets one. #>
    $values = (Get-LabState).registry.Find('HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Windows\PowerShell')
    if ($null -eq $values) { return $null }
    $enable = $values.Value.PSObject.Properties['EnableScripts']
    if ($null -eq $enable) { return $null }
    # "Turn on Script Execution" Disabled writes EnableScripts 0: no scripts at all (Restricted).
    if ([int]$enable.Value.data -eq 0) { return 'Restricted' }
    $policy = $values.Value.PSObject.Properties['ExecutionPolicy']
    if ($null -eq $policy) { return $null }
    return [string]$policy.Value.data
}

function Test-LabScriptFileAllowed {
    <# Whether the effective policy lets powershell.exe run an unsigned script file written on the host itself (no
       Zone.Identifier): AllSigned and Restricted refuse it, RemoteSigned and Unrestricted allow it. The lab signs
       nothing, so every lab script is unsigned. #>
    $policy = Get-LabGroupPolicyExecutionPolicy
    return @('AllSigned', 'Restricted') -notcontains $policy
}

function Get-Location {
    <# While a lab task action runs: its working directory (the action's WorkingDirectory, as Task Scheduler starts the
       process in it). Otherwise the real Get-Location. #>
    [CmdletBinding()]
    param([switch]$PSProvider, [string[]]$PSDrive, [switch]$Stack, [string[]]$StackName)
    if ($null -eq $script:LabTaskWorkingDirectory) { return (Microsoft.PowerShell.Management\Get-Location @PSBoundParameters) }
    $dir = [string]$script:LabTaskWorkingDirectory
    return [pscustomobject]@{ Path = $dir; ProviderPath = $dir; Drive = $dir.Substring(0, 1); Provider = 'Microsoft.PowerShell.Core\FileSystem' }
}

function Invoke-LabTaskAction {
    <# Runs one exec action the way powershell.exe would: -EncodedCommand (base64 of UTF-16LE text) as a command in the
       action's working directory, or -File <script> bound to the arguments after it, from the lab file system. Returns
       the result Task Scheduler records: powershell.exe's exit code (0, or 1 after a throw), or why it did not run. #>
    param($Action)
    $exe = [string]$Action.Execute
    $blocked = @()
    $s = Get-LabState
    if ($s.PSObject.Properties['blockedExecutables']) { $blocked = @($s.blockedExecutables) }
    $leaf = $exe.Split('\')[-1]
    if (-not $leaf.EndsWith('.exe', [StringComparison]::OrdinalIgnoreCase)) { $leaf = "$leaf.exe" }
    if ($blocked | Where-Object { [string]$_ -ieq $leaf }) { return $script:LabTaskBlockedByPolicy }
    if ($exe -notmatch '(^|\\)powershell(\.exe)?$') { throw "The lab runs only powershell.exe actions; '$exe' is not simulated." }
    $argv = ConvertFrom-LabCommandLine ([string]$Action.Arguments)
    $lower = @($argv | ForEach-Object { $_.ToLowerInvariant() })
    $e = [array]::IndexOf([string[]]$lower, '-encodedcommand')
    if ($e -ge 0 -and $e + 1 -lt $argv.Count) {
        $text = [Text.Encoding]::Unicode.GetString([Convert]::FromBase64String($argv[$e + 1]))
        $where = [string]$Action.WorkingDirectory
        if ([string]::IsNullOrEmpty($where)) { $where = (Get-LabEnvironment).SystemRoot + '\System32' }
        $script:LabTaskWorkingDirectory = $where
        try { [void](& ([scriptblock]::Create($text))); return 0 }
        catch { Write-Warning "Task action (encoded command) failed: $_"; return 1 }
        finally { $script:LabTaskWorkingDirectory = $null }
    }
    $i = [array]::IndexOf([string[]]$lower, '-file')
    if ($i -lt 0 -or $i + 1 -ge $argv.Count) { throw "The lab runs only 'powershell.exe ... -File <script>' or '-EncodedCommand <base64>' actions: '$($Action.Arguments)'." }
    $path = $argv[$i + 1]
    $named = @{}
    for ($k = $i + 2; $k -lt $argv.Count; $k++) {
        if ($argv[$k].StartsWith('-') -and $k + 1 -lt $argv.Count) { $named[$argv[$k].Substring(1)] = $argv[$k + 1]; $k++ }
    }
    if (-not (Test-Path -LiteralPath $path)) { return $script:LabTaskFileMissing }
    # -ExecutionPolicy Bypass on the command line is the Process scope: a group policy outranks it.
    if (-not (Test-LabScriptFileAllowed)) {
        Write-Warning "Task action ${path}: File $path cannot be loaded. The execution policy set by group policy ($(Get-LabGroupPolicyExecutionPolicy)) does not let this unsigned script run."
        return 1
    }
    $text = Get-Content -LiteralPath $path -Raw -ErrorAction Stop
    try { [void](& ([scriptblock]::Create($text)) @named); return 0 }
    catch { Write-Warning "Task action $path failed: $_"; return 1 }
}

function Invoke-LabDueTasks {
    <# Every ready task whose one-time trigger is due at -At and has not fired since runs its actions now;
       -Startup also fires the at-startup triggers (a reboot). LastRunTime records the simulated time. #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][DateTimeOffset]$At, [switch]$Startup)
    $fired = @()
    foreach ($t in @((Get-LabState).scheduledTasks)) {
        if ($null -eq $t -or [string]$t.State -eq 'Disabled') { continue }
        $last = $null
        if ($null -ne $t.LastRunTime -and [string]$t.LastRunTime -ne '') { $last = [DateTimeOffset]::Parse([string]$t.LastRunTime, [Globalization.CultureInfo]::InvariantCulture) }
        $due = $false
        foreach ($tr in @($t.Triggers)) {
            if ($null -eq $tr -or -not $tr.Enabled) { continue }
            if ([string]$tr.Type -eq 'AtStartup' -and $Startup) { $due = $true }
            if ([string]$tr.Type -ne 'Once' -or $null -eq $tr.StartBoundary) { continue }
            $start = [DateTimeOffset]::Parse([string]$tr.StartBoundary, [Globalization.CultureInfo]::InvariantCulture)
            if ($start -le $At -and ($null -eq $last -or $last -lt $start)) { $due = $true }
        }
        if (-not $due) { continue }
        $code = 0
        foreach ($a in @($t.Actions)) { $code = Invoke-LabTaskAction $a }
        # The action may have unregistered its own task; a task still there records the run.
        $still = @((Get-LabState).scheduledTasks | Where-Object { $_.TaskName -ieq $t.TaskName -and $_.TaskPath -ieq $t.TaskPath })
        foreach ($s in $still) { $s.LastRunTime = $At.ToString('o'); $s.LastTaskResult = $code }
        Save-LabState
        Write-LabAudit -Command 'TaskScheduler' -Detail ([ordered]@{ task = "$($t.TaskPath)$($t.TaskName)"; at = $At.ToString('o'); result = $code })
        $fired += [pscustomobject][ordered]@{ task = "$($t.TaskPath)$($t.TaskName)"; result = $code; unregistered = ($still.Count -eq 0) }
    }
    return , $fired
}
