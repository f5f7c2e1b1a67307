import { describe, it, expect } from 'vitest';
import { makeLabHost, runLab } from '../helpers/lab.js';
import { PROFILE_LIST_KEY, RDP_TCP_KEY, TS_KEY, TS_POLICY_KEY, RDP_FIREWALL_GROUP } from '../../src/lab/base-host.js';

const TS_NS = 'root\\cimv2\\TerminalServices';

describe('lab CIM / WMI', () => {
  it('Win32_Service by name and by host process id', async () => {
    const host = makeLabHost((s) => { s.services.find((x) => x.Name === 'SessionEnv')!.Status = 'Stopped'; });
    const pid = host.state.services.find((x) => x.Name === 'TermService')!.ProcessId;
    const expected = host.state.services.filter((x) => x.ProcessId === pid && x.Status !== 'Stopped').map((x) => x.Name).sort();
    const r = await runLab(host.statePath, `
      $s = Get-CimInstance Win32_Service -Filter "Name='TermService'"
      $svcPid = $s.ProcessId
      $stopped = Get-CimInstance -ClassName Win32_Service -Filter "Name='SessionEnv'"
      [ordered]@{ type = $s.PSObject.TypeNames[0]; props = @($s | Select-Object Name, State, StartMode, ProcessId, ExitCode, Status | ForEach-Object { $_.PSObject.Properties.Value })
        pidType = $s.ProcessId.GetType().Name; cohosted = @(Get-CimInstance Win32_Service -Filter "ProcessId=$svcPid" | ForEach-Object Name)
        stopped = @($stopped.State, $stopped.ProcessId) }`);
    expect(r.error).toBeNull();
    const o = r.output[0] as Record<string, unknown>;
    expect(o.type).toBe('Microsoft.Management.Infrastructure.CimInstance#root/cimv2/Win32_Service');
    expect(o.props).toEqual(['TermService', 'Running', 'Manual', pid, 0, 'OK']);
    expect(o.pidType).toBe('UInt32');
    expect(o.cohosted).toEqual(expected);
    expect(o.stopped).toEqual(['Stopped', 0]);
  });

  it('Win32_TSGeneralSetting has the C.4 shape and reflects local vs policy values', async () => {
    const host = makeLabHost((s) => { s.registry[TS_POLICY_KEY] = { SecurityLayer: { kind: 'DWord', data: 1 } }; });
    const thumb = host.state.certificates['LocalMachine\\Remote Desktop'][0].Thumbprint;
    const r = await runLab(host.statePath, `param($ns)
      $ts = Get-CimInstance -Namespace $ns -ClassName Win32_TSGeneralSetting -Filter "TerminalName='RDP-Tcp'"
      [ordered]@{ names = @($ts.PSObject.Properties.Name)
        values = @($ts.UserAuthenticationRequired, $ts.PolicySourceUserAuthenticationRequired, $ts.SecurityLayer, $ts.PolicySourceSecurityLayer, $ts.MinEncryptionLevel, $ts.PolicySourceMinEncryptionLevel, $ts.SSLCertificateSHA1HashType, $ts.TerminalProtocol, $ts.Transport)
        hash = $ts.SSLCertificateSHA1Hash; uaType = $ts.UserAuthenticationRequired.GetType().Name }`, [TS_NS]);
    expect(r.error).toBeNull();
    const o = r.output[0] as Record<string, unknown>;
    expect((o.names as string[]).slice(0, 21)).toEqual([
      'Caption', 'Description', 'InstallDate', 'Name', 'Status', 'TerminalName', 'CertificateName', 'Certificates', 'Comment',
      'MinEncryptionLevel', 'PolicySourceMinEncryptionLevel', 'PolicySourceSecurityLayer', 'PolicySourceUserAuthenticationRequired',
      'SecurityLayer', 'SSLCertificateSHA1Hash', 'SSLCertificateSHA1HashType', 'TerminalProtocol', 'Transport',
      'UserAuthenticationRequired', 'WindowsAuthentication', 'PSComputerName',
    ]);
    expect(o.values).toEqual([1, 0, 1, 1, 2, 0, 1, 'Microsoft RDP 8.0', 'tcp']);
    expect(o.hash).toBe(thumb);
    expect(o.uaType).toBe('UInt32');
  });

  it('setters write the local value; under group policy they fail with 0x80041016 and write nothing', async () => {
    const host = makeLabHost((s) => { s.registry[TS_POLICY_KEY] = { fDenyTSConnections: { kind: 'DWord', data: 1 } }; });
    const r = await runLab(host.statePath, `param($ns)
      $ts = Get-CimInstance -Namespace $ns -ClassName Win32_TSGeneralSetting -Filter "TerminalName='RDP-Tcp'"
      $ok = Invoke-CimMethod -InputObject $ts -MethodName SetUserAuthenticationRequired -Arguments @{ UserAuthenticationRequired = [uint32]0 }
      $tss = Get-CimInstance -Namespace $ns -ClassName Win32_TerminalServiceSetting
      Invoke-CimMethod -InputObject $tss -MethodName SetAllowTSConnections -Arguments @{ AllowTSConnections = [uint32]1; ModifyFirewallException = [uint32]1 } -ErrorAction SilentlyContinue -ErrorVariable ev
      [ordered]@{ rv = $ok.ReturnValue; rvType = $ok.ReturnValue.GetType().Name; after = (Get-CimInstance -Namespace $ns -ClassName Win32_TSGeneralSetting).UserAuthenticationRequired
        allow = @($tss.AllowTSConnections, $tss.PolicySourceAllowTSConnections)
        err = @($ev[0].ToString(), $ev[0].FullyQualifiedErrorId, $ev[0].Exception.GetType().FullName, $ev[0].CategoryInfo.Category.ToString()) }`, [TS_NS]);
    expect(r.error).toBeNull();
    expect(r.output[0]).toEqual({
      rv: 0, rvType: 'UInt32', after: 0, allow: [0, 1],
      err: ['Invalid operation ', 'HRESULT 0x80041016,Microsoft.Management.Infrastructure.CimCmdlets.InvokeCimMethodCommand', 'Microsoft.Management.Infrastructure.CimException', 'InvalidOperation'],
    });
    const s = host.read();
    expect(s.registry[RDP_TCP_KEY].UserAuthentication).toEqual({ kind: 'DWord', data: 0 });
    expect(s.registry[TS_KEY].fDenyTSConnections).toEqual({ kind: 'DWord', data: 0 });
  });

  it('SetAllowTSConnections with ModifyFirewallException enables the Remote Desktop rules; WMI objects carry the methods', async () => {
    const host = makeLabHost((s) => {
      s.registry[TS_KEY].fDenyTSConnections = { kind: 'DWord', data: 1 };
      for (const rule of s.firewall.rules) if (rule.Group === RDP_FIREWALL_GROUP) rule.Enabled = 'False';
    });
    const r = await runLab(host.statePath, `param($ns)
      $tss = Get-CimInstance -Namespace $ns -ClassName Win32_TerminalServiceSetting
      $before = $tss.AllowTSConnections
      $rv = (Invoke-CimMethod -InputObject $tss -MethodName SetAllowTSConnections -Arguments @{ AllowTSConnections = [uint32]1; ModifyFirewallException = [uint32]1 }).ReturnValue
      $w = Get-WmiObject -Class Win32_TerminalServiceSetting -Namespace $ns -Authentication 6
      $single = $w.SetSingleSession(0).ReturnValue
      [ordered]@{ before = $before; rv = $rv; after = (Get-CimInstance -Namespace $ns -ClassName Win32_TerminalServiceSetting).AllowTSConnections
        single = $single; wmiClass = $w.__CLASS; wmiType = $w.PSObject.TypeNames[0] }`, [TS_NS]);
    expect(r.error).toBeNull();
    expect(r.output[0]).toEqual({ before: 0, rv: 0, after: 1, single: 0, wmiClass: 'Win32_TerminalServiceSetting', wmiType: 'System.Management.ManagementObject#root\\cimv2\\TerminalServices\\Win32_TerminalServiceSetting' });
    const s = host.read();
    expect(s.firewall.rules.filter((x) => x.Group === RDP_FIREWALL_GROUP).every((x) => x.Enabled === 'True')).toBe(true);
    expect(s.firewall.rules.find((x) => x.Name === 'WINRM-HTTP-In-TCP-NoScope')!.Enabled).toBe('True');
    expect(s.registry[TS_KEY].fSingleSessionPerUser).toEqual({ kind: 'DWord', data: 0 });
  });

  it('Win32_UserProfile: loaded, special, temporary and corrupted (.bak) profiles', async () => {
    let bobSid = '';
    let carolSid = '';
    const host = makeLabHost((s) => {
      const keys = Object.keys(s.registry);
      bobSid = keys.find((k) => /-1002$/.test(k))!.split('\\').pop()!;
      carolSid = keys.find((k) => /-1003$/.test(k))!.split('\\').pop()!;
      s.registry[`${PROFILE_LIST_KEY}\\${bobSid}.bak`] = s.registry[`${PROFILE_LIST_KEY}\\${bobSid}`];
      s.registry[`${PROFILE_LIST_KEY}\\${bobSid}`] = { ...s.registry[`${PROFILE_LIST_KEY}\\${bobSid}`], ProfileImagePath: { kind: 'ExpandString', data: 'C:\\Users\\TEMP' } };
      delete s.files['C:\\Users\\carol'];
    });
    const r = await runLab(host.statePath, `
      $p = @(Get-CimInstance Win32_UserProfile)
      $map = [ordered]@{}
      foreach ($x in $p) { $map[$x.SID] = @($x.LocalPath, $x.Loaded, $x.Special, $x.Status) }
      [ordered]@{ count = $p.Count; map = $map; type = $p[0].PSObject.TypeNames[0] }`);
    expect(r.error).toBeNull();
    const o = r.output[0] as { count: number; map: Record<string, unknown[]>; type: string };
    expect(o.type).toBe('Microsoft.Management.Infrastructure.CimInstance#root/cimv2/Win32_UserProfile');
    expect(o.count).toBe(7);
    expect(o.map['S-1-5-18']).toEqual(['C:\\Windows\\system32\\config\\systemprofile', true, true, 0]);
    const alice = Object.entries(o.map).find(([k]) => /-1001$/.test(k))![1];
    expect(alice).toEqual(['C:\\Users\\alice', true, false, 0]);
    expect(o.map[bobSid]).toEqual(['C:\\Users\\TEMP', false, false, 9]);
    expect(o.map[carolSid]).toEqual(['C:\\Users\\carol', false, false, 8]);
  });

  it('Win32_OperatingSystem, Win32_ComputerSystem and an unknown class', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, `
      $os = Get-CimInstance Win32_OperatingSystem
      $cs = Get-CimInstance -ClassName Win32_ComputerSystem
      Get-CimInstance Win32_Nope -ErrorAction SilentlyContinue -ErrorVariable ev
      Get-CimInstance -Namespace root\\cimv2 -ClassName Win32_TSGeneralSetting -ErrorAction SilentlyContinue -ErrorVariable ev2
      [ordered]@{ os = @($os.Caption, $os.Version, $os.BuildNumber, $os.LastBootUpTime.GetType().Name); cs = @($cs.Name, $cs.Domain, $cs.PartOfDomain)
        err = @($ev[0].ToString(), $ev[0].FullyQualifiedErrorId, $ev[0].CategoryInfo.Category.ToString()); err2 = $ev2[0].FullyQualifiedErrorId }`);
    expect(r.error).toBeNull();
    expect(r.output[0]).toEqual({
      os: ['Microsoft Windows Server 2022 Datacenter', '10.0.20348', '20348', 'DateTime'],
      cs: ['LAB-001', 'WORKGROUP', false],
      err: ['Invalid class ', 'HRESULT 0x80041010,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand', 'MetadataError'],
      err2: 'HRESULT 0x80041010,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand',
    });
  });
});
