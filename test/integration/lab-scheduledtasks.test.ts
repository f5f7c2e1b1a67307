import { describe, it, expect } from 'vitest';
import { makeLabHost, runLab } from '../helpers/lab.js';
import { labHostNow } from '../../src/lab/state.js';

// Facts: docs/windows-facts/network-firewall-sessions-tasks.md, shared reference section 7.5.

const ERR = `function Show-Err($e) { , @($e | ForEach-Object { [pscustomobject]@{ m = $_.ToString(); fqid = $_.FullyQualifiedErrorId; cat = $_.CategoryInfo.Category.ToString(); ex = $_.Exception.GetType().FullName } }) }`;

/** The reference's revert-task registration (section 7.5), verbatim apart from the names. */
const REGISTER = `
  $action    = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "C:\\ProgramData\\Tool\\revert-123.ps1"'
  $trigger1  = New-ScheduledTaskTrigger -Once -At (Get-Date).AddMinutes(30)
  $trigger2  = New-ScheduledTaskTrigger -AtStartup
  $principal = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest
  $settings  = New-ScheduledTaskSettingsSet -StartWhenAvailable -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -ExecutionTimeLimit (New-TimeSpan -Minutes 10)
  $task = Register-ScheduledTask -TaskName 'Tool-RevertNLA-123' -TaskPath '\\Tool\\' -Action $action -Trigger $trigger1,$trigger2 -Principal $principal -Settings $settings -ErrorAction Stop`;

describe('lab scheduled tasks', () => {
  it('registers the reference revert task into state, with Windows shapes and the duplicate error', async () => {
    const host = makeLabHost();
    const hostTimeBefore = labHostNow(host.state, host.statePath).getTime();
    const r = await runLab(host.statePath, `${ERR}
      ${REGISTER}
      Register-ScheduledTask -TaskName 'Tool-RevertNLA-123' -TaskPath '\\Tool\\' -Action $action -ErrorAction SilentlyContinue -ErrorVariable dup
      $forced = Register-ScheduledTask -TaskName 'Tool-RevertNLA-123' -TaskPath '\\Tool\\' -Action $action -Trigger $trigger1 -Principal $principal -Settings $settings -Force
      $got = Get-ScheduledTask -TaskName 'Tool-RevertNLA-123'
      $info = Get-ScheduledTaskInfo -TaskName 'Tool-RevertNLA-123' -TaskPath '\\Tool\\'
      [pscustomobject]@{
        actionType = $action.PSObject.TypeNames[0]; trig = @($trigger1.PSObject.TypeNames[0], $trigger2.PSObject.TypeNames[0])
        principal = @($principal.UserId, [string]$principal.LogonType, [string]$principal.RunLevel, $principal.RunLevel.GetType().FullName)
        settings = @($settings.ExecutionTimeLimit, $settings.StartWhenAvailable, $settings.DisallowStartIfOnBatteries, $settings.StopIfGoingOnBatteries, $settings.Enabled)
        task = @($task.TaskName, $task.TaskPath, [string]$task.State, $task.State.GetType().FullName, $task.PSObject.TypeNames[0])
        dup = Show-Err $dup
        forcedTriggers = @($forced.Triggers).Count
        got = @($got.TaskPath, [string]$got.State, $got.Actions[0].Execute, [string]$got.Principal.RunLevel)
        info = @($info.LastRunTime.ToString('yyyy-MM-dd HH:mm:ss'), $info.LastTaskResult, ($null -ne $info.NextRunTime), $info.PSObject.TypeNames[0])
      } | ConvertTo-Json -Depth 5 -Compress`);
    expect(r.error).toBeNull();
    const o = JSON.parse(r.output[0] as string);
    expect(o.actionType).toBe('Microsoft.Management.Infrastructure.CimInstance#Root/Microsoft/Windows/TaskScheduler/MSFT_TaskExecAction');
    expect(o.trig).toEqual([
      'Microsoft.Management.Infrastructure.CimInstance#Root/Microsoft/Windows/TaskScheduler/MSFT_TaskTimeTrigger',
      'Microsoft.Management.Infrastructure.CimInstance#Root/Microsoft/Windows/TaskScheduler/MSFT_TaskBootTrigger',
    ]);
    expect(o.principal).toEqual(['SYSTEM', 'ServiceAccount', 'Highest', 'Microsoft.PowerShell.Cmdletization.GeneratedTypes.ScheduledTask.RunLevelEnum']);
    expect(o.settings).toEqual(['PT10M', true, false, false, true]);
    expect(o.task).toEqual(['Tool-RevertNLA-123', '\\Tool\\', 'Ready', 'Microsoft.PowerShell.Cmdletization.GeneratedTypes.ScheduledTask.StateEnum',
      'Microsoft.Management.Infrastructure.CimInstance#Root/Microsoft/Windows/TaskScheduler/MSFT_ScheduledTask']);
    expect(o.dup).toEqual([{ m: 'Cannot create a file when that file already exists.', fqid: 'HRESULT 0x800700b7,Register-ScheduledTask', cat: 'ResourceExists', ex: 'Microsoft.Management.Infrastructure.CimException' }]);
    expect(o.forcedTriggers).toBe(1);
    expect(o.got).toEqual(['\\Tool\\', 'Ready', 'powershell.exe', 'Highest']);
    // Never run: the 11/30/1999 placeholder and SCHED_S_TASK_HAS_NOT_RUN (267011).
    expect(o.info).toEqual(['1999-11-30 00:00:00', 267011, true, 'Microsoft.Management.Infrastructure.CimInstance#Root/Microsoft/Windows/TaskScheduler/MSFT_TaskDynamicInfo']);
    const tasks = host.read().scheduledTasks;
    expect(tasks).toHaveLength(1);
    const t = tasks[0];
    expect(t).toMatchObject({
      TaskPath: '\\Tool\\', TaskName: 'Tool-RevertNLA-123', State: 'Ready', LastRunTime: null, LastTaskResult: 267011,
      Actions: [{ Execute: 'powershell.exe', Arguments: '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "C:\\ProgramData\\Tool\\revert-123.ps1"', WorkingDirectory: null }],
      Principal: { UserId: 'SYSTEM', LogonType: 'ServiceAccount', RunLevel: 'Highest' },
    });
    expect(t.Triggers).toHaveLength(1);
    expect(t.Triggers[0].Type).toBe('Once');
    expect(Number.isNaN(Date.parse(t.Triggers[0].StartBoundary ?? ''))).toBe(false);
    // 30 minutes ahead by the host's own clock (seeded at a fixed time), whatever the controller's date.
    expect(Date.parse(t.NextRunTime ?? '')).toBeGreaterThanOrEqual(hostTimeBefore + 30 * 60_000);
    expect(Date.parse(t.NextRunTime ?? '')).toBeLessThan(labHostNow(host.state, host.statePath).getTime() + 31 * 60_000);
    expect(t.Settings).toMatchObject({ StartWhenAvailable: true, DisallowStartIfOnBatteries: false, ExecutionTimeLimit: 'PT10M' });
  });

  it('not-found errors, Start / Disable / Unregister; Start really runs the action as Windows would', async () => {
    // A group policy sets AllSigned ("Turn on Script Execution": Allow only signed scripts), and cmd.exe is blocked.
    const host = makeLabHost((s) => {
      s.registry['HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell'] = { EnableScripts: { kind: 'DWord', data: 1 }, ExecutionPolicy: { kind: 'String', data: 'AllSigned' } };
      s.blockedExecutables = ['cmd.exe'];
    });
    const r = await runLab(host.statePath, `${ERR}
      ${REGISTER}
      Get-ScheduledTask -TaskName 'Nope' -ErrorAction SilentlyContinue -ErrorVariable e1
      Get-ScheduledTask -TaskName 'Tool-RevertNLA-123' -TaskPath '\\' -ErrorAction SilentlyContinue -ErrorVariable e2
      $wild = @(Get-ScheduledTask -TaskName 'Nope*' -ErrorAction SilentlyContinue -ErrorVariable e3)
      Start-ScheduledTask -TaskName 'Nope' -ErrorAction SilentlyContinue -ErrorVariable e4
      $start = @(Start-ScheduledTask -TaskName 'Tool-RevertNLA-123' -TaskPath '\\Tool\\')
      $info = Get-ScheduledTask -TaskName 'Tool-RevertNLA-123' | Get-ScheduledTaskInfo
      $dis = Disable-ScheduledTask -TaskName 'Tool-RevertNLA-123' -TaskPath '\\Tool\\'
      # An unsigned script file under AllSigned (group policy outranks -ExecutionPolicy Bypass) vs the same text as a command.
      New-Item -ItemType Directory -Path 'C:\\ProgramData\\Tool' | Out-Null
      Set-Content -LiteralPath 'C:\\ProgramData\\Tool\\probe.ps1' -Value 'Set-Content -LiteralPath "$((Get-Location).ProviderPath)\\ran.txt" -Value x'
      $system = New-ScheduledTaskPrincipal -UserId 'S-1-5-18' -LogonType ServiceAccount -RunLevel Highest
      $file = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument '-NoProfile -ExecutionPolicy Bypass -File "C:\\ProgramData\\Tool\\probe.ps1"' -WorkingDirectory 'C:\\ProgramData\\Tool'
      Register-ScheduledTask -TaskName 'ByFile' -TaskPath '\\Tool\\' -Action $file -Principal $system | Out-Null
      Start-ScheduledTask -TaskName 'ByFile' -TaskPath '\\Tool\\'
      $byFile = @((Get-ScheduledTaskInfo -TaskName 'ByFile' -TaskPath '\\Tool\\').LastTaskResult, (Test-Path -LiteralPath 'C:\\ProgramData\\Tool\\ran.txt'))
      $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes((Get-Content -LiteralPath 'C:\\ProgramData\\Tool\\probe.ps1' -Raw)))
      $enc = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument ('-NoProfile -EncodedCommand ' + $encoded) -WorkingDirectory 'C:\\ProgramData\\Tool'
      $byEnc = Register-ScheduledTask -TaskName 'ByEncodedCommand' -TaskPath '\\Tool\\' -Action $enc -Principal $system
      Start-ScheduledTask -TaskName 'ByEncodedCommand' -TaskPath '\\Tool\\'
      $byEncResult = @((Get-ScheduledTaskInfo -TaskName 'ByEncodedCommand' -TaskPath '\\Tool\\').LastTaskResult, (Test-Path -LiteralPath 'C:\\ProgramData\\Tool\\ran.txt'))
      Register-ScheduledTask -TaskName 'Blocked' -TaskPath '\\Tool\\' -Action (New-ScheduledTaskAction -Execute 'cmd.exe' -Argument '/c exit') -Principal $system | Out-Null
      Start-ScheduledTask -TaskName 'Blocked' -TaskPath '\\Tool\\'
      $blocked = (Get-ScheduledTaskInfo -TaskName 'Blocked' -TaskPath '\\Tool\\').LastTaskResult
      Register-ScheduledTask -TaskName 'Nobody' -TaskPath '\\Tool\\' -Action $enc -Principal (New-ScheduledTaskPrincipal -UserId 'NoSuchAccount') -ErrorAction SilentlyContinue -ErrorVariable e5
      [pscustomobject]@{ e1 = Show-Err $e1; e2 = Show-Err $e2; wild = @($e3).Count + $wild.Count; e4 = Show-Err $e4; start = $start.Count
        result = $info.LastTaskResult; ran = ((Get-Date) - $info.LastRunTime).TotalMinutes -lt 5; disabled = [string]$dis.State
        byFile = $byFile; byEnc = $byEncResult; blocked = $blocked; systemBySid = @($system.UserId, $byEnc.Principal.UserId); e5 = Show-Err $e5 } | ConvertTo-Json -Depth 5 -Compress`);
    expect(r.error).toBeNull();
    const o = JSON.parse(r.output[0] as string);
    expect(o.e1).toEqual([{ m: "No MSFT_ScheduledTask objects found with property 'TaskName' equal to 'Nope'.  Verify the value of the property and retry.", fqid: 'CmdletizationQuery_NotFound_TaskName,Get-ScheduledTask', cat: 'ObjectNotFound', ex: 'Microsoft.PowerShell.Cmdletization.Cim.CimJobException' }]);
    expect(o.e2[0].m).toBe("No matching MSFT_ScheduledTask objects found by CIM query for instances of the Root/Microsoft/Windows/TaskScheduler/MSFT_ScheduledTask class on the  CIM server: SELECT * FROM MSFT_ScheduledTask  WHERE ((TaskName LIKE 'Tool-RevertNLA-123')) AND ((TaskPath LIKE '\\\\')). Verify query parameters and retry.");
    expect(o.e2[0].fqid).toBe('CmdletizationQuery_NotFound,Get-ScheduledTask');
    expect(o.wild).toBe(0);
    expect(o.e4[0]).toMatchObject({ m: 'The system cannot find the file specified.', fqid: 'HRESULT 0x80070002,Start-ScheduledTask' });
    expect(o.start).toBe(0);
    // Its -File script does not exist: powershell.exe exits 0xFFFD0000, which Task Scheduler records.
    expect(o.result).toBe(0xfffd0000);
    expect(o.ran).toBe(true);
    expect(o.disabled).toBe('Disabled');
    // AllSigned by group policy: the unsigned -File script never runs (exit 1); the same text as -EncodedCommand does,
    // in the action's working directory. A blocked executable never starts: ERROR_ACCESS_DISABLED_BY_POLICY.
    expect(o.byFile).toEqual([1, false]);
    expect(o.byEnc).toEqual([0, true]);
    expect(o.blocked).toBe(0x800704ec);
    // A principal given by SID reads back by name; an account that does not map is refused.
    expect(o.systemBySid).toEqual(['S-1-5-18', 'SYSTEM']);
    expect(o.e5[0]).toMatchObject({ m: expect.stringMatching(/^No mapping between account names and security IDs was done\.\r?\n\(14,8\):UserId:/), fqid: 'HRESULT 0x80070534,Register-ScheduledTask' });
    const t = host.read().scheduledTasks[0];
    expect(t.State).toBe('Disabled');
    expect(t.LastTaskResult).toBe(0xfffd0000);
    expect(t.NextRunTime).toBeNull();

    const u = await runLab(host.statePath, `Unregister-ScheduledTask -TaskPath '\\Tool\\' -Confirm:$false; @(Get-ScheduledTask -TaskPath '\\Tool\\*' -ErrorAction SilentlyContinue).Count`);
    expect(u.error).toBeNull();
    expect(u.output).toEqual([0]);
    expect(host.read().scheduledTasks).toEqual([]);
  });
});

describe('lab scheduled tasks on hosts in other display languages', () => {
  // LookupAccountName knows the localized names only: 'SYSTEM' is no account on a fr-FR or ru-RU host, its SID is.
  // Facts: docs/windows-facts/locales.md.
  it.each([
    ['fr-FR', 'Le mappage entre les noms de compte et les ID de sécurité n’a pas été effectué.', 'AUTORITE NT\\Système'],
  ])('%s refuses the English name SYSTEM, takes the SID and the localized name', async (locale, message, system) => {
    const host = makeLabHost((s) => { s.locale = locale as 'fr-FR' | 'ru-RU'; });
    const r = await runLab(host.statePath, `param($system)
      ${ERR}
      $action = New-ScheduledTaskAction -Execute 'powershell.exe'
      $p = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest
      Register-ScheduledTask -TaskName 'T-name' -TaskPath '\\Tool\\' -Action $action -Principal $p -ErrorAction SilentlyContinue -ErrorVariable bad
      $bySid = Register-ScheduledTask -TaskName 'T-sid' -TaskPath '\\Tool\\' -Action $action -Principal (New-ScheduledTaskPrincipal -UserId 'S-1-5-18' -LogonType ServiceAccount) -ErrorAction Stop
      $byName = Register-ScheduledTask -TaskName 'T-local' -TaskPath '\\Tool\\' -Action $action -Principal (New-ScheduledTaskPrincipal -UserId $system -LogonType ServiceAccount) -ErrorAction Stop
      $sid = [string](Get-Acl -LiteralPath 'C:\\ProgramData\\Microsoft\\Crypto\\RSA').Owner
      [pscustomobject]@{ bad = Show-Err $bad; ok = @($bySid.TaskName, $byName.TaskName); name = $sid } | ConvertTo-Json -Depth 4 -Compress`, [system]);
    expect(r.error).toBeNull();
    const o = JSON.parse(r.output[0] as string);
    expect(o.bad).toEqual([{ m: `${message}\n(14,8):UserId:`.replace('\n', o.bad[0].m.includes('\r\n') ? '\r\n' : '\n'), fqid: 'HRESULT 0x80070534,Register-ScheduledTask', cat: 'NotSpecified', ex: 'Microsoft.Management.Infrastructure.CimException' }]);
    expect(o.ok).toEqual(['T-sid', 'T-local']);
    expect(o.name).toBe(system);
    expect(host.read().scheduledTasks.map((t) => t.TaskName).sort()).toEqual(['T-local', 'T-sid']);
  });
});
