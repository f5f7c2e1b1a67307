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
