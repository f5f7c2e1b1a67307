# Services: Get-Service, Start-/Stop-/Restart-Service, Set-Service, Stop-Process for service hosts.
# Behaviour follows PowerShell's Service.cs / ServiceResources.resx (PS-SRC) and the shared reference section 1.
# Windows facts and [UNSOURCED] choices: docs/windows-facts/registry-services-cim.md.
#
# Test hooks (never set by step scripts): $global:RdpfixLabServiceWaitMs (default 2000) is the interval of
# the "Waiting for service ..." warnings; $global:RdpfixLabServiceWaitLimit (default 0 = wait forever, as
# Windows does) makes a wait give up after that many warnings with the terminating error 'LabServiceWaitLimit'.

function Initialize-LabServiceExceptionType {
    # Microsoft.PowerShell.Commands.ServiceCommandException is Windows-only; the stand-in comes from
    # ../LabTypes.cs, which RdpfixLab.psm1 loads with the module. Nothing is left to do here.
    if ('Microsoft.PowerShell.Commands.ServiceCommandException' -as [type]) { return }
    throw 'LabTypes.cs was not loaded.'
}

function Get-LabServiceRecord {
    param([Parameter(Mandatory)][string]$Name)
    foreach ($s in @((Get-LabState).services)) { if ($s.Name -ieq $Name) { return $s } }
    return $null
}

function Get-LabServiceHang {
    param($Svc)
    if ($null -eq $Svc.PSObject.Properties['hang']) { return $null }
    return $Svc.hang
}

function New-LabServiceStub {
    <# A dependency the lab does not model (RPCSS, HTTP, BFE...): a running service that only has a name. #>
    param([string]$Name)
    $o = [pscustomobject]@{ Name = $Name; ServiceName = $Name; DisplayName = $Name; Status = [System.ServiceProcess.ServiceControllerStatus]::Running; MachineName = '.' }
    $o.PSObject.TypeNames.Insert(0, 'System.ServiceProcess.ServiceController')
    return $o
}

function New-LabServiceObject {
    <# A System.ServiceProcess.ServiceController look-alike (5.1 property set). Dependency lists are computed on
       read so that the objects nest without copying the whole graph. Like the real object, the status is a
       snapshot taken when the object was made; Refresh() reads it again. The methods Start(), Stop() and
       Refresh() behave as .NET's (Start and Stop return without waiting); an error surfaces as PowerShell
       shows a .NET method's exception: 'Exception calling "Start" with "0" argument(s): "..."'. #>
    param([Parameter(Mandatory)]$Svc)
    $o = [pscustomobject]@{
        Name                = [string]$Svc.Name
        CanPauseAndContinue = $false
        CanShutdown         = $false
        CanStop             = $false
        DisplayName         = [string]$Svc.DisplayName
        MachineName         = '.'
        ServiceName         = [string]$Svc.Name
        ServiceHandle       = $null
        Status              = [System.ServiceProcess.ServiceControllerStatus]::Stopped
        ServiceType         = [System.ServiceProcess.ServiceType]([string]$Svc.ServiceType)
        StartType           = [System.ServiceProcess.ServiceStartMode]::Manual
        Site                = $null
        Container           = $null
    }
    Update-LabServiceObject -Object $o -Svc $Svc
    $o | Add-Member -MemberType ScriptProperty -Name DependentServices -Value { @(Get-LabServiceLinks -Name $this.Name -Kind DependentServices) }
    $o | Add-Member -MemberType ScriptProperty -Name ServicesDependedOn -Value { @(Get-LabServiceLinks -Name $this.Name -Kind ServicesDependedOn) }
    $o | Add-Member -MemberType AliasProperty -Name RequiredServices -Value ServicesDependedOn
    $o | Add-Member -MemberType ScriptMethod -Name ToString -Value { $this.Name } -Force
    $o | Add-Member -MemberType ScriptMethod -Name Refresh -Value { Update-LabServiceObject -Object $this -Svc (Get-LabServiceRecord $this.Name) }
    $o | Add-Member -MemberType ScriptMethod -Name Start -Value { Invoke-LabServiceControllerMethod -Object $this -Method Start }
    $o | Add-Member -MemberType ScriptMethod -Name Stop -Value { Invoke-LabServiceControllerMethod -Object $this -Method Stop }
    $o | Add-Member -MemberType ScriptMethod -Name WaitForStatus -Value { throw 'not implemented in the lab: ServiceController.WaitForStatus (poll Get-Service or Refresh() instead)' }
    $o.PSObject.TypeNames.Insert(0, 'System.ServiceProcess.ServiceController')
    return $o
}

function Update-LabServiceObject {
    <# The snapshot properties of a ServiceController look-alike. CanStop follows the controls the service
       accepts: none while it is start- or stop-pending (StartService sets "controls accepted" to zero until
       the service reports itself running), none when stopped. #>
    param($Object, $Svc)
    if ($null -eq $Svc) { return }
    $status = [System.ServiceProcess.ServiceControllerStatus]([string]$Svc.Status)
    $Object.Status = $status
    $Object.CanStop = ([bool]$Svc.CanStop -and $status -eq 'Running')
    $Object.CanShutdown = ($status -eq 'Running')
    $Object.StartType = [System.ServiceProcess.ServiceStartMode]([string]$Svc.StartType)
    $Object.DisplayName = [string]$Svc.DisplayName
}

function Invoke-LabServiceControllerMethod {
    <# ServiceController.Start() / .Stop(): the control is sent and the call returns; nothing waits for the
       service to reach the new state (except that Stop() first stops the running dependents, waiting up to
       30 s for each). A refused control throws InvalidOperationException("Cannot start service X on computer
       '.'." / "Cannot stop X service on computer '.'.") around the Win32 error. #>
    param($Object, [ValidateSet('Start', 'Stop')][string]$Method)
    $svc = Get-LabServiceRecord ([string]$Object.Name)
    if ($null -eq $svc) {
        throw (New-Object System.InvalidOperationException("Service $($Object.Name) was not found on computer '.'."))
    }
    if ($Method -eq 'Start') {
        $failure = Get-LabServiceStartFailure $svc
        if ($null -eq $failure) { $failure = Invoke-LabServiceStartControl -Svc $svc -Verb 'ServiceController.Start' }
        if ($null -ne $failure) { throw (New-Object System.InvalidOperationException("Cannot start service $($svc.Name) on computer '.'.", $failure)) }
    } else {
        $failure = Invoke-LabServiceStopControl -Svc $svc -Verb 'ServiceController.Stop'
        if ($null -ne $failure) { throw $failure }
    }
}

function Get-LabServiceLinks {
    param([string]$Name, [string]$Kind)
    $svc = Get-LabServiceRecord $Name
    if ($null -eq $svc) { return }
    foreach ($n in @($svc.$Kind)) {
        $other = Get-LabServiceRecord ([string]$n)
        if ($null -ne $other) { New-LabServiceObject $other } else { New-LabServiceStub ([string]$n) }
    }
}

function Get-LabServiceDisplay { param($Svc) return ('{0} ({1})' -f $Svc.DisplayName, $Svc.Name) }

function Write-LabServiceError {
    <# ServiceCommandException errors as ServiceBaseCommand.WriteNonTerminatingError builds them. #>
    param($Cmdlet, [string]$Verb, [string]$Id, [string]$Message, [System.Management.Automation.ErrorCategory]$Category, $Target, [string]$ServiceName, [Exception]$Inner)
    Initialize-LabServiceExceptionType
    $ex = New-Object Microsoft.PowerShell.Commands.ServiceCommandException($Message, $Inner)
    $ex.ServiceName = $ServiceName
    $er = New-LabErrorRecord -Exception $ex -ErrorId ($Id + ',' + (Get-LabCmdletFqidSuffix $Verb)) -Category $Category -Target $Target
    if ($null -ne $Target -and $Target -isnot [string]) {
        # Windows shows the ServiceController target as (System.ServiceProcess.ServiceController:ServiceController).
        $er.CategoryInfo.TargetName = 'System.ServiceProcess.ServiceController'
        $er.CategoryInfo.TargetType = 'ServiceController'
    }
    $Cmdlet.WriteError($er)
}

function Select-LabServices {
    <# MatchingServices (PS-SRC Service.cs): by name (wildcards; exact misses -> NoServiceFoundForGivenName, wildcard
       misses silent), by display name, or by input object; -Include/-Exclude; sorted by service name. #>
    param($Cmdlet, [string]$Verb, [string[]]$Name, [string[]]$DisplayName, [object[]]$InputObject, [string[]]$Include, [string[]]$Exclude, [switch]$ByDisplayName)
    $all = @((Get-LabState).services)
    $picked = New-Object System.Collections.Generic.List[object]
    $add = {
        param($s, [string]$key)
        foreach ($i in @($Include)) { if ($i -and $key -notlike $i) { return } }
        foreach ($e in @($Exclude)) { if ($e -and $key -like $e) { return } }
        if (-not ($picked | Where-Object { $_.Name -eq $s.Name })) { $picked.Add($s) }
    }
    if ($null -ne $InputObject) {
        foreach ($io in $InputObject) { $s = Get-LabServiceRecord ([string]$io.Name); if ($null -ne $s) { & $add $s $s.Name } }
    } elseif ($ByDisplayName) {
        foreach ($d in $DisplayName) {
            $found = $false
            foreach ($s in $all) { if ($s.DisplayName -like $d) { $found = $true; & $add $s $s.DisplayName } }
            if (-not $found -and -not [System.Management.Automation.WildcardPattern]::ContainsWildcardCharacters($d)) {
                Write-LabServiceError -Cmdlet $Cmdlet -Verb $Verb -Id 'NoServiceFoundForGivenDisplayName' -Message "Cannot find any service with display name '$d'." -Category ObjectNotFound -Target $d -ServiceName ''
            }
        }
    } elseif ($null -eq $Name) {
        foreach ($s in $all) { & $add $s $s.Name }
    } else {
        foreach ($n in $Name) {
            $found = $false
            foreach ($s in $all) { if ($s.Name -like $n) { $found = $true; & $add $s $s.Name } }
            if (-not $found -and -not [System.Management.Automation.WildcardPattern]::ContainsWildcardCharacters($n)) {
                Write-LabServiceError -Cmdlet $Cmdlet -Verb $Verb -Id 'NoServiceFoundForGivenName' -Message "Cannot find any service with service name '$n'." -Category ObjectNotFound -Target $n -ServiceName $n
            }
        }
    }
    return @($picked | Sort-Object -Property Name)
}

# ---------------------------------------------------------------------------------------------------
# State changes and their side effects

function Set-LabServiceStatus {
    <# A status change and its side effects. A 'hang' fault stays until the service's process is killed
       (Stop-Process clears it): a service that hangs on start keeps hanging on every start. #>
    param($Svc, [string]$Status, [string]$Verb)
    $old = [string]$Svc.Status
    $Svc.Status = $Status
    if ($Svc.Name -ieq 'TermService' -and $Status -eq 'Stopped' -and $old -ne 'Stopped') { Invoke-LabTermServiceStopped }
    if ($Svc.Name -ieq 'TermService' -and $Status -eq 'Running' -and $old -ne 'Running') { Invoke-LabTermServiceStarted }
    Save-LabState
    Write-LabAudit -Command $Verb -Detail ([ordered]@{ service = [string]$Svc.Name; from = $old; to = $Status })
    if ($Status -eq 'Running' -and ($Svc.Name -ieq 'TermService' -or $Svc.Name -ieq 'SessionEnv') -and
        $null -ne $ExecutionContext.InvokeCommand.GetCommand('Update-LabRdpCertificateOnServiceStart', 'Function')) {
        Update-LabRdpCertificateOnServiceStart -ServiceName ([string]$Svc.Name)
    }
}

function Invoke-LabTermServiceStopped {
    <# All RDP connections drop (ref section 1.7): active rdp-tcp#n sessions become disconnected (empty SESSIONNAME, as
       quser shows Disc sessions) and the rdp-tcp listener goes away. Session fate is [UNSOURCED] (ref section 14). #>
    $state = Get-LabState
    $kept = New-Object System.Collections.Generic.List[object]
    foreach ($s in @($state.sessions)) {
        if ($s.State -eq 'Listen' -and $s.SessionName -ieq 'rdp-tcp') { continue }
        if ($s.State -eq 'Active' -and $s.SessionName -like 'rdp-tcp#*') { $s.State = 'Disc'; $s.SessionName = ''; $s.Type = ''; $s.Device = '' }
        $kept.Add($s)
    }
    $state.sessions = $kept.ToArray()
}

function Invoke-LabTermServiceStarted {
    <# The rdp-tcp listener returns, with the first free id from 65536 (ref section 2.3: listener ids are >= 65536). #>
    $state = Get-LabState
    $sessions = @($state.sessions)
    if ($sessions | Where-Object { $_.State -eq 'Listen' -and $_.SessionName -ieq 'rdp-tcp' }) { return }
    $id = 65536
    while ($sessions | Where-Object { [int]$_.Id -eq $id }) { $id++ }
    $listener = [pscustomobject]@{ Id = $id; SessionName = 'rdp-tcp'; UserName = ''; State = 'Listen'; Type = ''; Device = ''; IdleMinutes = $null; LogonTime = $null }
    $state.sessions = @($sessions + $listener)
}

function New-LabServiceWin32Error {
    <# The Win32 errors the SCM answers service controls with (winerror.h texts). #>
    param([int]$Code)
    $text = @{
        1052 = 'The requested control is not valid for this service'
        1056 = 'An instance of the service is already running'
        1058 = 'The service cannot be started, either because it is disabled or because it has no enabled devices associated with it'
        1061 = 'The service cannot accept control messages at this time'
        1062 = 'The service has not been started'
        1068 = 'The dependency service or group failed to start'
    }[$Code]
    return (New-Object System.ComponentModel.Win32Exception($Code, $text))
}

function New-LabServiceTimeoutException {
    <# System.ServiceProcess.TimeoutException, which ServiceController.WaitForStatus throws. Its constructor refuses
       to run off Windows, so the object is made uninitialized and given .NET's message. #>
    $ex = [System.Runtime.CompilerServices.RuntimeHelpers]::GetUninitializedObject([System.ServiceProcess.TimeoutException])
    [System.Exception].GetField('_message', [System.Reflection.BindingFlags]'NonPublic,Instance').SetValue($ex, 'Time out has expired and the operation has not been completed.')
    return $ex
}

function Get-LabServiceStartFailure {
    <# What StartService refuses a start with before anything starts, or $null: 1056 when the service is not
       stopped (a start-pending one included), 1058 when it is disabled, 1068 when a dependency cannot be started
       (disabled, or itself pending). #>
    param($Svc)
    if ([string]$Svc.Status -ne 'Stopped') { return (New-LabServiceWin32Error 1056) }
    if ([string]$Svc.StartType -eq 'Disabled') { return (New-LabServiceWin32Error 1058) }
    foreach ($depName in @($Svc.ServicesDependedOn)) {
        $dep = Get-LabServiceRecord ([string]$depName)
        if ($null -eq $dep -or [string]$dep.Status -eq 'Running') { continue }
        if ([string]$dep.Status -ne 'Stopped' -or $null -ne (Get-LabServiceStartFailure $dep)) { return (New-LabServiceWin32Error 1068) }
    }
    return $null
}

function Invoke-LabServiceStartControl {
    <# StartService, once accepted: stopped dependencies start first (as the SCM does), then the service goes
       Running - or StartPending for good when it hangs on start. A dependency that hangs is left StartPending
       and the service fails with 1068 [INFERENCE: the SCM's code for a dependency that never reports running].
       Nothing waits here. Returns the failure, or $null. #>
    param($Svc, [string]$Verb)
    foreach ($depName in @($Svc.ServicesDependedOn)) {
        $dep = Get-LabServiceRecord ([string]$depName)
        if ($null -eq $dep -or [string]$dep.Status -ne 'Stopped') { continue }
        $f = Invoke-LabServiceStartControl -Svc $dep -Verb $Verb
        if ($null -ne $f -or [string]$dep.Status -ne 'Running') { return (New-LabServiceWin32Error 1068) }
    }
    if ((Get-LabServiceHang $Svc) -eq 'start') { Set-LabServiceStatus -Svc $Svc -Status 'StartPending' -Verb $Verb }
    else { Set-LabServiceStatus -Svc $Svc -Status 'Running' -Verb $Verb }
    return $null
}

function Invoke-LabServiceStopControl {
    <# ServiceController.Stop(): first every dependent that is not stopped (its own Stop(), then up to 30 s for it
       to stop - System.ServiceProcess.TimeoutException otherwise), then ControlService(STOP): 1062 when the service
       is stopped, 1061 while it is start- or stop-pending (ControlService doc), 1052 when it does not accept STOP.
       Returns the exception Stop() would throw, or $null. #>
    param($Svc, [string]$Verb)
    foreach ($d in @(@($Svc.DependentServices) | ForEach-Object { Get-LabServiceRecord ([string]$_) } | Where-Object { $null -ne $_ })) {
        if ([string]$d.Status -eq 'Stopped') { continue }
        $f = Invoke-LabServiceStopControl -Svc $d -Verb $Verb
        if ($null -ne $f) { return $f }
        if ([string]$d.Status -ne 'Stopped') {
            Start-Sleep -Seconds 30
            if ([string]$d.Status -ne 'Stopped') { return (New-LabServiceTimeoutException) }
        }
    }
    $status = [string]$Svc.Status
    $code = 0
    if ($status -eq 'Stopped') { $code = 1062 }
    elseif ($status -ne 'Running') { $code = 1061 }
    elseif (-not [bool]$Svc.CanStop) { $code = 1052 }
    if ($code -ne 0) { return (New-Object System.InvalidOperationException("Cannot stop $($Svc.Name) service on computer '.'.", (New-LabServiceWin32Error $code))) }
    if ((Get-LabServiceHang $Svc) -eq 'stop') { Set-LabServiceStatus -Svc $Svc -Status 'StopPending' -Verb $Verb }
    else { Set-LabServiceStatus -Svc $Svc -Status 'Stopped' -Verb $Verb }
    return $null
}

function Wait-LabServiceStatus {
    <# DoWaitForStatus: no timeout; a WARNING every ~2 s while the service stays in the pending state; a service in
       any other state fails the wait with a non-terminating error ('Failed to start service ...' / '... stop
       failed.'). Returns $true when the target status was reached. #>
    param($Svc, [string]$Target, [string]$Pending, [string]$Resource, [string]$ErrorId, [string]$ErrorText, $Cmdlet, [string]$Verb)
    # The test hooks are read with a wildcard: a missing exact name would be an error, and errors a shadow
    # swallows still reach the caller's -ErrorVariable.
    $hooks = @{}
    foreach ($hv in @(Get-Variable -Scope Global -Name 'RdpfixLabServiceWait*')) { $hooks[$hv.Name] = $hv.Value }
    $interval = 2000
    if ($null -ne $hooks['RdpfixLabServiceWaitMs']) { $interval = [int]$hooks['RdpfixLabServiceWaitMs'] }
    $limit = 0
    if ($null -ne $hooks['RdpfixLabServiceWaitLimit']) { $limit = [int]$hooks['RdpfixLabServiceWaitLimit'] }
    $n = 0
    while ([string]$Svc.Status -ne $Target) {
        Start-Sleep -Milliseconds $interval
        if ([string]$Svc.Status -eq $Target) { break }
        if ([string]$Svc.Status -ne $Pending) {
            Write-LabServiceError -Cmdlet $Cmdlet -Verb $Verb -Id $ErrorId -Message ($ErrorText -f $Svc.Name, $Svc.DisplayName) -Category OpenError -Target (New-LabServiceObject $Svc) -ServiceName $Svc.Name
            return $false
        }
        $Cmdlet.WriteWarning(($Resource -f $Svc.Name, $Svc.DisplayName))
        $n++
        if ($limit -gt 0 -and $n -ge $limit) {
            $ex = New-Object System.TimeoutException("Lab wait limit reached: service '$($Svc.Name)' is still $($Svc.Status).")
            $Cmdlet.ThrowTerminatingError((New-LabErrorRecord -Exception $ex -ErrorId 'LabServiceWaitLimit' -Category OperationTimeout -Target $Svc.Name))
        }
    }
    return $true
}

function Start-LabService {
    <# DoStartService: Start() - 'already running' (1056) is not an error - then wait for Running. Other refusals
       (1058 disabled, 1068 dependency) -> CouldNotStartService. Returns $true when the service ended Running. #>
    param($Svc, $Cmdlet, [string]$Verb)
    $failure = Get-LabServiceStartFailure $Svc
    if ($null -eq $failure) { $failure = Invoke-LabServiceStartControl -Svc $Svc -Verb $Verb }
    if ($null -ne $failure -and $failure.NativeErrorCode -ne 1056) {
        $inner = New-Object System.InvalidOperationException("Cannot start service $($Svc.Name) on computer '.'.", $failure)
        Write-LabServiceError -Cmdlet $Cmdlet -Verb $Verb -Id 'CouldNotStartService' -Message ("Service '{0}' cannot be started due to the following error: {1}" -f (Get-LabServiceDisplay $Svc), $inner.Message) -Category OpenError -Target (New-LabServiceObject $Svc) -ServiceName $Svc.Name -Inner $inner
        return $false
    }
    return (Wait-LabServiceStatus -Svc $Svc -Target 'Running' -Pending 'StartPending' -Resource "Waiting for service '{1} ({0})' to start..." `
        -ErrorId 'StartServiceFailed' -ErrorText "Failed to start service '{1} ({0})'." -Cmdlet $Cmdlet -Verb $Verb)
}

function Stop-LabService {
    <# DoStopService: without -Force a dependent that is not stopped blocks (ServiceHasDependentServices). The running,
       stoppable dependents are remembered, ServiceController.Stop() stops them and then the service; 'not active'
       (1062) is not an error, other refusals -> CouldNotStopService. Returns the services that were stopped
       (dependents first, then the service), which Restart-Service starts again in that order. #>
    param($Svc, [bool]$Force, [bool]$Wait, $Cmdlet, [string]$Verb)
    $stopped = New-Object System.Collections.Generic.List[object]
    $dependents = @(@($Svc.DependentServices) | ForEach-Object { Get-LabServiceRecord ([string]$_) } | Where-Object { $null -ne $_ })
    if (-not $Force -and ($dependents | Where-Object { [string]$_.Status -ne 'Stopped' })) {
        Write-LabServiceError -Cmdlet $Cmdlet -Verb $Verb -Id 'ServiceHasDependentServices' -Message ("Cannot stop service '{0}' because it has dependent services. It can only be stopped if the Force flag is set." -f (Get-LabServiceDisplay $Svc)) -Category InvalidOperation -Target (New-LabServiceObject $Svc) -ServiceName $Svc.Name
        return , $stopped.ToArray()
    }
    foreach ($d in $dependents) { if ([string]$d.Status -eq 'Running' -and [bool]$d.CanStop) { $stopped.Add($d) } }
    $notStopped = { param($list) foreach ($x in @($list.ToArray())) { if ([string]$x.Status -ne 'Stopped' -and [string]$x.Status -ne 'StopPending') { [void]$list.Remove($x) } } }
    $ex = Invoke-LabServiceStopControl -Svc $Svc -Verb $Verb
    if ($ex -is [System.ServiceProcess.TimeoutException]) {
        # DoStopService catches only Win32Exception and InvalidOperationException: this one ends the cmdlet.
        $Cmdlet.ThrowTerminatingError((New-LabErrorRecord -Exception $ex -ErrorId ('System.ServiceProcess.TimeoutException,' + (Get-LabCmdletFqidSuffix $Verb)) -Category NotSpecified -Target $null))
    }
    if ($null -ne $ex -and $ex.InnerException.NativeErrorCode -ne 1062) {
        Write-LabServiceError -Cmdlet $Cmdlet -Verb $Verb -Id 'CouldNotStopService' -Message ("Service '{0}' cannot be stopped due to the following error: {1}" -f (Get-LabServiceDisplay $Svc), $ex.Message) -Category CloseError -Target (New-LabServiceObject $Svc) -ServiceName $Svc.Name -Inner $ex
        & $notStopped $stopped
        return , $stopped.ToArray()
    }
    if ($Wait) {
        $ok = Wait-LabServiceStatus -Svc $Svc -Target 'Stopped' -Pending 'StopPending' -Resource "Waiting for service '{1} ({0})' to stop..." `
            -ErrorId 'StopServiceFailed' -ErrorText "Service '{1} ({0})' stop failed." -Cmdlet $Cmdlet -Verb $Verb
        if (-not $ok) { & $notStopped $stopped; return , $stopped.ToArray() }
    }
    & $notStopped $stopped
    if ([string]$Svc.Status -eq 'Stopped' -or [string]$Svc.Status -eq 'StopPending') { $stopped.Add($Svc) }
    return , $stopped.ToArray()
}

# ---------------------------------------------------------------------------------------------------
# Cmdlets

function Get-Service {
    [CmdletBinding(DefaultParameterSetName = 'Default')]
    param(
        [Parameter(ParameterSetName = 'Default', Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)][Alias('ServiceName')][string[]]$Name,
        [Parameter(ParameterSetName = 'DisplayName', Mandatory)][string[]]$DisplayName,
        [Parameter(ParameterSetName = 'InputObject', ValueFromPipeline)][PSTypeName('System.ServiceProcess.ServiceController')][object[]]$InputObject,
        [Alias('Cn')][string[]]$ComputerName, [Alias('DS')][switch]$DependentServices, [Alias('SDO', 'ServicesDependedOn')][switch]$RequiredServices,
        [string[]]$Include, [string[]]$Exclude
    )
    process {
        Invoke-LabFaultPoint 'Get-Service'
        Use-LabCallerPreference $PSCmdlet
        $found = Select-LabServices -Cmdlet $PSCmdlet -Verb 'Get-Service' -Name $Name -DisplayName $DisplayName -InputObject $InputObject -Include $Include -Exclude $Exclude -ByDisplayName:($PSCmdlet.ParameterSetName -eq 'DisplayName')
        foreach ($s in $found) {
            if ($DependentServices) { Get-LabServiceLinks -Name $s.Name -Kind DependentServices }
            if ($RequiredServices) { Get-LabServiceLinks -Name $s.Name -Kind ServicesDependedOn }
            if (-not $DependentServices -and -not $RequiredServices) { New-LabServiceObject $s }
        }
    }
}

function Start-Service {
    [CmdletBinding(DefaultParameterSetName = 'InputObject', SupportsShouldProcess = $true)]
    param(
        [Parameter(ParameterSetName = 'Default', Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)][Alias('ServiceName')][string[]]$Name,
        [Parameter(ParameterSetName = 'DisplayName', Mandatory)][string[]]$DisplayName,
        [Parameter(ParameterSetName = 'InputObject', Mandatory, Position = 0, ValueFromPipeline)][PSTypeName('System.ServiceProcess.ServiceController')][object[]]$InputObject,
        [switch]$PassThru, [string[]]$Include, [string[]]$Exclude
    )
    process {
        Invoke-LabFaultPoint 'Start-Service'
        Use-LabCallerPreference $PSCmdlet
        foreach ($s in (Select-LabServices -Cmdlet $PSCmdlet -Verb 'Start-Service' -Name $Name -DisplayName $DisplayName -InputObject $InputObject -Include $Include -Exclude $Exclude -ByDisplayName:($PSCmdlet.ParameterSetName -eq 'DisplayName'))) {
            if (-not $PSCmdlet.ShouldProcess((Get-LabServiceDisplay $s))) { continue }
            if ((Start-LabService -Svc $s -Cmdlet $PSCmdlet -Verb 'Start-Service') -and $PassThru) { New-LabServiceObject $s }
        }
    }
}

function Stop-Service {
    [CmdletBinding(DefaultParameterSetName = 'InputObject', SupportsShouldProcess = $true)]
    param(
        [Parameter(ParameterSetName = 'Default', Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)][Alias('ServiceName')][string[]]$Name,
        [Parameter(ParameterSetName = 'DisplayName', Mandatory)][string[]]$DisplayName,
        [Parameter(ParameterSetName = 'InputObject', Mandatory, Position = 0, ValueFromPipeline)][PSTypeName('System.ServiceProcess.ServiceController')][object[]]$InputObject,
        [switch]$Force, [switch]$NoWait, [switch]$PassThru, [string[]]$Include, [string[]]$Exclude
    )
    process {
        Invoke-LabFaultPoint 'Stop-Service'
        Use-LabCallerPreference $PSCmdlet
        foreach ($s in (Select-LabServices -Cmdlet $PSCmdlet -Verb 'Stop-Service' -Name $Name -DisplayName $DisplayName -InputObject $InputObject -Include $Include -Exclude $Exclude -ByDisplayName:($PSCmdlet.ParameterSetName -eq 'DisplayName'))) {
            if (-not $PSCmdlet.ShouldProcess((Get-LabServiceDisplay $s))) { continue }
            $stopped = Stop-LabService -Svc $s -Force ([bool]$Force) -Wait (-not $NoWait) -Cmdlet $PSCmdlet -Verb 'Stop-Service'
            if ($PassThru) { foreach ($x in $stopped) { New-LabServiceObject $x } }
        }
    }
}

function Restart-Service {
    <# RestartServiceCommand: stop (with -Force also the running dependents), then start everything that was stopped.
       5.1 has no -NoWait here (ref section 1.4). #>
    [CmdletBinding(DefaultParameterSetName = 'InputObject', SupportsShouldProcess = $true)]
    param(
        [Parameter(ParameterSetName = 'Default', Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)][Alias('ServiceName')][string[]]$Name,
        [Parameter(ParameterSetName = 'DisplayName', Mandatory)][string[]]$DisplayName,
        [Parameter(ParameterSetName = 'InputObject', Mandatory, Position = 0, ValueFromPipeline)][PSTypeName('System.ServiceProcess.ServiceController')][object[]]$InputObject,
        [switch]$Force, [switch]$PassThru, [string[]]$Include, [string[]]$Exclude
    )
    process {
        Invoke-LabFaultPoint 'Restart-Service'
        Use-LabCallerPreference $PSCmdlet
        foreach ($s in (Select-LabServices -Cmdlet $PSCmdlet -Verb 'Restart-Service' -Name $Name -DisplayName $DisplayName -InputObject $InputObject -Include $Include -Exclude $Exclude -ByDisplayName:($PSCmdlet.ParameterSetName -eq 'DisplayName'))) {
            if (-not $PSCmdlet.ShouldProcess((Get-LabServiceDisplay $s))) { continue }
            $stopped = Stop-LabService -Svc $s -Force ([bool]$Force) -Wait $true -Cmdlet $PSCmdlet -Verb 'Restart-Service'
            foreach ($x in $stopped) {
                if ((Start-LabService -Svc $x -Cmdlet $PSCmdlet -Verb 'Restart-Service') -and $PassThru) { New-LabServiceObject $x }
            }
        }
    }
}

function Set-Service {
    <# 5.1: -StartupType is a ServiceStartMode (Boot, System, Automatic, Manual, Disabled); AutomaticDelayedStart is
       PowerShell 7 only and fails parameter binding here exactly as on 5.1 (ref section 1.6). #>
    [CmdletBinding(DefaultParameterSetName = 'Name', SupportsShouldProcess = $true)]
    param(
        [Parameter(ParameterSetName = 'Name', Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)][Alias('ServiceName', 'SN')][string]$Name,
        [Parameter(ParameterSetName = 'InputObject', Mandatory, Position = 0, ValueFromPipeline)][PSTypeName('System.ServiceProcess.ServiceController')][object]$InputObject,
        [Alias('DN')][string]$DisplayName, [string]$Description,
        [Alias('StartMode', 'SUT', 'Type')][string]$StartupType,
        [ValidateSet('Running', 'Stopped', 'Paused')][string]$Status,
        [Alias('cn')][string[]]$ComputerName, [switch]$PassThru
    )
    process {
        Invoke-LabFaultPoint 'Set-Service'
        Use-LabCallerPreference $PSCmdlet
        $mode = $null
        if ($PSBoundParameters.ContainsKey('StartupType')) { $mode = ConvertTo-LabServiceStartMode -Value $StartupType -Cmdlet $PSCmdlet }
        $key = $Name
        if ($PSCmdlet.ParameterSetName -eq 'InputObject') { $key = [string]$InputObject.Name }
        $s = Get-LabServiceRecord $key
        if ($null -eq $s) {
            # SetServiceCommand writes the ServiceController's own InvalidOperationException (PS-SRC Service.cs).
            $ex = New-Object System.InvalidOperationException("Service $key was not found on computer '.'.")
            $PSCmdlet.WriteError((New-LabErrorRecord -Exception $ex -ErrorId ('InvalidOperationException,' + (Get-LabCmdletFqidSuffix 'Set-Service')) -Category ObjectNotFound -Target $key))
            return
        }
        if (-not $PSCmdlet.ShouldProcess((Get-LabServiceDisplay $s))) { return }
        if ($PSBoundParameters.ContainsKey('DisplayName')) { $s.DisplayName = $DisplayName }
        if ($PSBoundParameters.ContainsKey('StartupType')) {
            $old = [string]$s.StartType
            $s.StartType = $mode.ToString()
            Save-LabState
            Write-LabAudit -Command 'Set-Service' -Detail ([ordered]@{ service = [string]$s.Name; startType = $s.StartType; from = $old })
        } elseif ($PSBoundParameters.ContainsKey('DisplayName')) {
            Save-LabState
            Write-LabAudit -Command 'Set-Service' -Detail ([ordered]@{ service = [string]$s.Name; displayName = $DisplayName })
        }
        if ($Status -eq 'Running') { [void](Start-LabService -Svc $s -Cmdlet $PSCmdlet -Verb 'Set-Service') }
        elseif ($Status -eq 'Stopped') { [void](Stop-LabService -Svc $s -Force $false -Wait $true -Cmdlet $PSCmdlet -Verb 'Set-Service') }
        if ($PassThru) { New-LabServiceObject $s }
    }
}

function ConvertTo-LabServiceStartMode {
    <# The binding of 5.1's [ServiceStartMode] parameter, with the real cmdlet's terminating error when the name is
       not one of Boot, System, Automatic, Manual, Disabled (e.g. AutomaticDelayedStart, PowerShell 7 only). #>
    param([string]$Value, $Cmdlet)
    $mode = ConvertTo-LabTypeOrNull $Value ([System.ServiceProcess.ServiceStartMode])
    if ($null -ne $mode) { return $mode }
    $names = [Enum]::GetNames([System.ServiceProcess.ServiceStartMode]) -join ', '
    $text = "Cannot convert value `"$Value`" to type `"System.ServiceProcess.ServiceStartMode`". Error: `"Unable to match the identifier name $Value to a valid enumerator name. Specify one of the following enumerator names and try again:`r`n$names`""
    $ex = New-Object System.Management.Automation.ParameterBindingException("Cannot bind parameter 'StartupType'. $text")
    $Cmdlet.ThrowTerminatingError((New-LabErrorRecord -Exception $ex -ErrorId ('CannotConvertArgumentNoMessage,' + (Get-LabCmdletFqidSuffix 'Set-Service')) -Category InvalidArgument -Target $Value))
}

function Stop-Process {
    <# Killing a service host (svchost) kills every service in it: each becomes Stopped, a hang is cleared.
       Other processes go to the real cmdlet. #>
    [CmdletBinding(DefaultParameterSetName = 'Id', SupportsShouldProcess = $true)]
    param(
        [Parameter(ParameterSetName = 'Id', Mandatory, Position = 0, ValueFromPipelineByPropertyName)][int[]]$Id,
        [Parameter(ParameterSetName = 'Name', Mandatory, ValueFromPipelineByPropertyName)][Alias('ProcessName')][string[]]$Name,
        [Parameter(ParameterSetName = 'InputObject', Mandatory, Position = 0, ValueFromPipeline)][System.Diagnostics.Process[]]$InputObject,
        [switch]$PassThru, [switch]$Force
    )
    process {
        Invoke-LabFaultPoint 'Stop-Process'
        Use-LabCallerPreference $PSCmdlet
        if ($PSCmdlet.ParameterSetName -ne 'Id') { Microsoft.PowerShell.Management\Stop-Process @PSBoundParameters; return }
        $rest = New-Object System.Collections.Generic.List[int]
        foreach ($procId in $Id) {
            $hosted = @((Get-LabState).services | Where-Object { [int]$_.ProcessId -eq $procId -and [string]$_.Status -ne 'Stopped' })
            if ($hosted.Count -eq 0) { $rest.Add($procId); continue }
            if (-not $Force) {
                # Stop-Process asks before stopping a process the caller does not own (SYSTEM's svchost); no prompt remotely.
                $ex = New-Object System.Management.Automation.PSInvalidOperationException('Windows PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.')
                $PSCmdlet.WriteError((New-LabErrorRecord -Exception $ex -ErrorId ('System.Management.Automation.PSInvalidOperationException,' + (Get-LabCmdletFqidSuffix 'Stop-Process')) -Category InvalidOperation -Target $procId))
                continue
            }
            if (-not $PSCmdlet.ShouldProcess("svchost ($procId)")) { continue }
            foreach ($s in $hosted) {
                # The process is gone: whatever hung in it is gone too, so the next start is a fresh one.
                if ($null -ne $s.PSObject.Properties['hang']) { $s.hang = $null }
                Set-LabServiceStatus -Svc $s -Status 'Stopped' -Verb 'Stop-Process'
            }
        }
        if ($rest.Count -gt 0) {
            $bound = @{}
            foreach ($k in $PSBoundParameters.Keys) { $bound[$k] = $PSBoundParameters[$k] }
            $bound['Id'] = $rest.ToArray()
            Microsoft.PowerShell.Management\Stop-Process @bound
        }
    }
}
