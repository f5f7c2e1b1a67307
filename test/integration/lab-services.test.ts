import { describe, it, expect } from 'vitest';
import { makeLabHost, runLab } from '../helpers/lab.js';

describe('lab services', () => {
  it('Get-Service shapes, $null name, wildcard miss and not-found errors', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, `
      $ErrorActionPreference = 'Continue'
      $ts = Get-Service -Name TermService
      $miss = Get-Service termserv 2>&1
      $wild = @(Get-Service termsvc* 2>&1)
      $restart = Restart-Service termserv 2>&1
      [ordered]@{
        type = $ts.PSObject.TypeNames[0]; name = $ts.Name; display = $ts.DisplayName; status = $ts.Status.ToString(); statusType = $ts.Status.GetType().FullName
        startType = $ts.StartType.ToString(); canStop = $ts.CanStop; dependents = @($ts.DependentServices.Name); dependedOn = @($ts.ServicesDependedOn.Name)
        all = @(Get-Service -Name $null).Count; sorted = @(Get-Service | ForEach-Object Name)
        wild = $wild.Count; termWild = @(Get-Service termserv*).Name
        miss = @($miss[0].ToString(), $miss[0].FullyQualifiedErrorId, $miss[0].CategoryInfo.Category.ToString(), $miss[0].Exception.GetType().FullName)
        restart = $restart[0].FullyQualifiedErrorId
      }`);
    expect(r.error).toBeNull();
    const o = r.output[0] as Record<string, unknown>;
    expect(o.type).toBe('System.ServiceProcess.ServiceController');
    expect(o).toMatchObject({ name: 'TermService', display: 'Remote Desktop Services', status: 'Running', startType: 'Manual', canStop: true });
    expect(o.statusType).toBe('System.ServiceProcess.ServiceControllerStatus');
    expect(o.dependents).toEqual(['UmRdpService']);
    expect(o.dependedOn).toEqual(['RpcSs']);
    expect(o.all).toBe(host.state.services.length);
    expect(o.sorted).toEqual([...host.state.services.map((s) => s.Name)].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
    expect(o.wild).toBe(0);
    expect(o.termWild).toBe('TermService');
    expect(o.miss).toEqual([
      "Cannot find any service with service name 'termserv'.",
      'NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand',
      'ObjectNotFound',
      'Microsoft.PowerShell.Commands.ServiceCommandException',
    ]);
    expect(o.restart).toBe('NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.RestartServiceCommand');
  });

  it('Restart-Service without -Force fails on the running dependent and changes nothing', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, `Restart-Service -Name TermService -ErrorAction SilentlyContinue -ErrorVariable ev
      @($ev[0].ToString(), $ev[0].FullyQualifiedErrorId, $ev[0].CategoryInfo.ToString())`);
    expect(r.error).toBeNull();
    expect(r.output).toEqual([
      "Cannot stop service 'Remote Desktop Services (TermService)' because it has dependent services. It can only be stopped if the Force flag is set.",
      'ServiceHasDependentServices,Microsoft.PowerShell.Commands.RestartServiceCommand',
      'InvalidOperation: (System.ServiceProcess.ServiceController:ServiceController) [Restart-Service], ServiceCommandException',
    ]);
    const after = host.read();
    expect(after.sessions).toEqual(host.state.sessions);
    expect(after.services.find((s) => s.Name === 'TermService')!.Status).toBe('Running');
  });

  it('Restart-Service -Force restarts the dependents, drops RDP sessions and calls the certificate hook', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, `
      $global:certCalls = @()
      # Replace the hook inside the module (another file may define it there) with a recorder.
      & (Get-Module RdpfixLab) { function script:Update-LabRdpCertificateOnServiceStart { param([string]$ServiceName) $global:certCalls += $ServiceName } }
      Restart-Service -Name TermService -Force -PassThru | ForEach-Object { $_.Name + '=' + $_.Status }
      'calls:' + ($global:certCalls -join ',')`);
    expect(r.error).toBeNull();
    expect(r.output).toEqual(['UmRdpService=Running', 'TermService=Running', 'calls:TermService']);
    const s = host.read();
    expect(s.services.filter((x) => ['TermService', 'UmRdpService'].includes(x.Name)).map((x) => x.Status)).toEqual(['Running', 'Running']);
    const alice = s.sessions.find((x) => x.UserName === 'alice')!;
    expect(alice).toMatchObject({ Id: 2, State: 'Disc', SessionName: '' });
    expect(s.sessions.filter((x) => x.State === 'Listen')).toEqual([expect.objectContaining({ Id: 65536, SessionName: 'rdp-tcp' })]);
  });

  it('stopping TermService removes the listener; starting it brings one back at the first free id', async () => {
    const host = makeLabHost((s) => {
      s.sessions.push({ Id: 65536, SessionName: '31c5ce94259d4', UserName: '', State: 'Listen', Type: '', Device: '', IdleMinutes: null, LogonTime: null });
      s.sessions = s.sessions.filter((x, i, a) => !(x.SessionName === 'rdp-tcp' && a.some((y) => y.SessionName === '31c5ce94259d4')));
    });
    const r = await runLab(host.statePath, `
      Stop-Service -Name TermService -Force
      $mid = @((Get-LabState).sessions | Where-Object State -eq 'Listen' | ForEach-Object SessionName)
      Start-Service -Name TermService
      [ordered]@{ mid = $mid; um = (Get-Service UmRdpService).Status.ToString(); ts = (Get-Service TermService).Status.ToString() }`);
    expect(r.error).toBeNull();
    expect(r.output[0]).toEqual({ mid: ['31c5ce94259d4'], um: 'Stopped', ts: 'Running' });
    const listener = host.read().sessions.find((x) => x.SessionName === 'rdp-tcp')!;
    expect(listener).toMatchObject({ Id: 65537, State: 'Listen', UserName: '' });
  });

  it('a disabled service fails to start with the Windows error; Set-Service takes 5.1 startup types only', async () => {
    const host = makeLabHost((s) => {
      const ts = s.services.find((x) => x.Name === 'TermService')!;
      ts.StartType = 'Disabled';
      ts.Status = 'Stopped';
    });
    const r = await runLab(host.statePath, `
      Start-Service TermService -ErrorAction SilentlyContinue -ErrorVariable ev
      $bad = $null
      try { Set-Service TermService -StartupType AutomaticDelayedStart } catch { $bad = $_.FullyQualifiedErrorId }
      Set-Service -Name TermService -StartupType Manual
      [ordered]@{ err = @($ev[0].ToString(), $ev[0].FullyQualifiedErrorId, $ev[0].CategoryInfo.ToString(), $ev[0].Exception.InnerException.InnerException.NativeErrorCode)
        bad = $bad; now = (Get-Service TermService).StartType.ToString(); mode = (Get-CimInstance Win32_Service -Filter "Name='TermService'").StartMode }`);
    expect(r.error).toBeNull();
    expect(r.output[0]).toEqual({
      err: [
        "Service 'Remote Desktop Services (TermService)' cannot be started due to the following error: Cannot start service TermService on computer '.'.",
        'CouldNotStartService,Microsoft.PowerShell.Commands.StartServiceCommand',
        'OpenError: (System.ServiceProcess.ServiceController:ServiceController) [Start-Service], ServiceCommandException',
        1058,
      ],
      bad: 'CannotConvertArgumentNoMessage,Microsoft.PowerShell.Commands.SetServiceCommand',
      now: 'Manual',
      mode: 'Manual',
    });
    expect(host.read().services.find((x) => x.Name === 'TermService')).toMatchObject({ StartType: 'Manual', Status: 'Stopped' });
  });

  it('a hung start waits with the Windows warning; killing the host process stops every service in it', async () => {
    const host = makeLabHost((s) => {
      const ts = s.services.find((x) => x.Name === 'TermService')!;
      ts.Status = 'Stopped';
      ts.hang = 'start';
    });
    const pid = host.state.services.find((x) => x.Name === 'TermService')!.ProcessId;
    const cohosted = host.state.services.filter((x) => x.ProcessId === pid).map((x) => x.Name).sort();
    const r = await runLab(host.statePath, `param($svcPid)
      $global:RdpfixLabServiceWaitMs = 20; $global:RdpfixLabServiceWaitLimit = 3
      $warn = @(); $limit = $null
      try { Start-Service TermService -WarningVariable +warn -WarningAction SilentlyContinue } catch { $limit = $_.FullyQualifiedErrorId }
      $pending = (Get-Service TermService).Status.ToString()
      Restart-Service TermService -Force -ErrorAction SilentlyContinue -ErrorVariable ev
      Stop-Process -Id $svcPid -Force
      [ordered]@{ warn = @($warn | ForEach-Object { $_.ToString() }); limit = $limit; pending = $pending; restartErr = $ev[0].FullyQualifiedErrorId
        killed = @(Get-CimInstance Win32_Service -Filter "ProcessId=$svcPid").Count }`, [pid]);
    expect(r.error).toBeNull();
    const o = r.output[0] as Record<string, unknown>;
    expect(o.warn).toEqual(Array(3).fill("Waiting for service 'Remote Desktop Services (TermService)' to start..."));
    expect(o.limit).toBe('LabServiceWaitLimit');
    expect(o.pending).toBe('StartPending');
    expect(o.restartErr).toBe('CouldNotStopService,Microsoft.PowerShell.Commands.RestartServiceCommand');
    expect(o.killed).toBe(0);
    const after = host.read().services.filter((x) => x.ProcessId === pid);
    expect(after.map((x) => x.Name).sort()).toEqual(cohosted);
    expect(after.every((x) => x.Status === 'Stopped' && !x.hang)).toBe(true);
  });
});

describe('lab services: hangs, ServiceController methods, killing the service host', () => {
  const withTs = (f: (ts: ReturnType<typeof makeLabHost>['state']['services'][number]) => void) =>
    makeLabHost((s) => f(s.services.find((x) => x.Name === 'TermService')!));

  it('Start() returns at once; a start-pending service accepts no stop and refuses a second start', async () => {
    const host = withTs((ts) => { ts.Status = 'Stopped'; ts.hang = 'start'; });
    const r = await runLab(host.statePath, `
      $s = Get-Service TermService
      $s.Start()
      $snapshot = $s.Status.ToString()
      $s.Refresh()
      $again = $null
      try { $s.Start() } catch { $again = @($_.Exception.GetType().FullName, $_.Exception.Message) }
      Stop-Service TermService -Force -NoWait -ErrorAction SilentlyContinue -ErrorVariable ev
      $cim = Get-CimInstance Win32_Service -Filter "Name='TermService'"
      [ordered]@{ snapshot = $snapshot; now = $s.Status.ToString(); canStop = $s.CanStop; again = $again
        stopErr = @($ev[0].ToString(), $ev[0].FullyQualifiedErrorId, $ev[0].Exception.InnerException.InnerException.NativeErrorCode)
        cim = @($cim.State, $cim.AcceptStop, ($cim.ProcessId -gt 0)) }`);
    expect(r.error).toBeNull();
    expect(r.warnings).toEqual([]);
    expect(r.output[0]).toEqual({
      snapshot: 'Stopped', now: 'StartPending', canStop: false,
      again: ['System.Management.Automation.MethodInvocationException', 'Exception calling "Start" with "0" argument(s): "Cannot start service TermService on computer \'.\'."'],
      stopErr: ["Service 'Remote Desktop Services (TermService)' cannot be stopped due to the following error: Cannot stop TermService service on computer '.'.",
        'CouldNotStopService,Microsoft.PowerShell.Commands.StopServiceCommand', 1061],
      cim: ['Start Pending', false, true],
    });
    expect(host.read().services.find((x) => x.Name === 'TermService')).toMatchObject({ Status: 'StartPending', hang: 'start' });
  });

  it('Start() of a disabled service and Stop() of a stopped one throw as .NET does; Stop-Service of a stopped one is silent', async () => {
    const host = withTs((ts) => { ts.Status = 'Stopped'; ts.StartType = 'Disabled'; });
    const r = await runLab(host.statePath, `
      $ErrorActionPreference = 'Stop'
      $s = Get-Service TermService
      $chain = { param($e) $out = @(); while ($e) { if ($e -is [System.ComponentModel.Win32Exception]) { $out += $e.NativeErrorCode } else { $out += $e.Message }; $e = $e.InnerException }; $out }
      $start = $null; try { $s.Start() } catch { $start = & $chain $_.Exception }
      $stop = $null; try { $s.Stop() } catch { $stop = & $chain $_.Exception }
      Stop-Service TermService -Force
      [ordered]@{ start = $start; stop = $stop }`);
    expect(r.error).toBeNull();
    expect(r.errors).toEqual([]);
    const o = r.output[0] as { start: unknown[]; stop: unknown[] };
    expect(o.start[0]).toBe('Exception calling "Start" with "0" argument(s): "Cannot start service TermService on computer \'.\'."');
    expect(o.start.at(-1)).toBe(1058);
    expect(o.stop[0]).toBe('Exception calling "Stop" with "0" argument(s): "Cannot stop TermService service on computer \'.\'."');
    expect(o.stop.at(-1)).toBe(1062);
  });

  it('Restart-Service of a running service that hangs on start stops it, then waits for the start with the warning: no timeout (ref 1.4)', async () => {
    const host = withTs((ts) => { ts.hang = 'start'; });
    const r = await runLab(host.statePath, `
      $global:RdpfixLabServiceWaitMs = 20; $global:RdpfixLabServiceWaitLimit = 3
      $ErrorActionPreference = 'Continue'
      $warn = @(); $limit = $null
      try { Restart-Service TermService -Force -WarningVariable +warn -WarningAction SilentlyContinue } catch { $limit = $_.FullyQualifiedErrorId }
      [ordered]@{ warn = @($warn | ForEach-Object { $_.ToString() }); limit = $limit
        ts = (Get-Service TermService).Status.ToString(); um = (Get-Service UmRdpService).Status.ToString() }`);
    expect(r.error).toBeNull();
    expect(r.output[0]).toEqual({
      warn: Array(3).fill("Waiting for service 'Remote Desktop Services (TermService)' to start..."),
      limit: 'LabServiceWaitLimit', ts: 'StartPending', um: 'Stopped',
    });
    // UmRdpService was stopped first and is started first: the SCM starts TermService for it, which hangs.
    expect(r.errors.map((e) => [e.message, e.fqid])).toEqual([[
      "Service 'Remote Desktop Services UserMode Port Redirector (UmRdpService)' cannot be started due to the following error: Cannot start service UmRdpService on computer '.'.",
      'CouldNotStartService,Microsoft.PowerShell.Commands.RestartServiceCommand',
    ]]);
    const s = host.read();
    expect(s.services.find((x) => x.Name === 'TermService')).toMatchObject({ Status: 'StartPending', hang: 'start' });
    expect(s.sessions.filter((x) => x.State === 'Listen')).toEqual([]);
  });

  it('a hang on stop: -NoWait returns StopPending, the stop control is refused after that, a start fails; ending the process clears it', async () => {
    const host = withTs((ts) => { ts.hang = 'stop'; });
    const pid = host.state.services.find((x) => x.Name === 'TermService')!.ProcessId;
    const cohosted = host.state.services.filter((x) => x.ProcessId === pid).map((x) => x.Name).sort();
    expect(cohosted).toEqual(['NlaSvc', 'TermService']);
    const r = await runLab(host.statePath, `param($svcPid)
      $global:RdpfixLabServiceWaitMs = 20
      $ErrorActionPreference = 'Continue'
      $first = @(Stop-Service TermService -Force -NoWait -PassThru | ForEach-Object { $_.Name + '=' + $_.Status })
      Stop-Service TermService -Force -NoWait -ErrorAction SilentlyContinue -ErrorVariable ev1
      Start-Service TermService -ErrorAction SilentlyContinue -ErrorVariable ev2
      $inProcess = @(Get-CimInstance Win32_Service -Filter "ProcessId=$svcPid" | ForEach-Object Name | Sort-Object)
      Stop-Process -Id $svcPid -Force
      $killed = @($inProcess | ForEach-Object { (Get-Service $_).Status.ToString() })
      Start-Service TermService
      [ordered]@{ first = $first; refused = $ev1[0].Exception.InnerException.InnerException.NativeErrorCode
        startFailed = @($ev2[0].ToString(), $ev2[0].FullyQualifiedErrorId, $ev2[0].CategoryInfo.Category.ToString())
        inProcess = $inProcess; killed = $killed; ts = (Get-Service TermService).Status.ToString() }`, [pid]);
    expect(r.error).toBeNull();
    expect(r.output[0]).toEqual({
      first: ['UmRdpService=Stopped', 'TermService=StopPending'],
      refused: 1061,
      startFailed: ["Failed to start service 'Remote Desktop Services (TermService)'.", 'StartServiceFailed,Microsoft.PowerShell.Commands.StartServiceCommand', 'OpenError'],
      inProcess: ['NlaSvc', 'TermService'],
      killed: ['Stopped', 'Stopped'],
      ts: 'Running',
    });
    const s = host.read();
    expect(s.services.find((x) => x.Name === 'TermService')).toMatchObject({ Status: 'Running', hang: null });
    expect(s.services.find((x) => x.Name === 'NlaSvc')!.Status).toBe('Stopped');
    expect(s.sessions.filter((x) => x.State === 'Listen')).toEqual([expect.objectContaining({ SessionName: 'rdp-tcp', Id: 65536 })]);
  });
});
