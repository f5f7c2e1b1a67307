import { describe, it, expect } from 'vitest';
import { makeLabHost, runLab } from '../helpers/lab.js';
import type { LabFirewallRule } from '../../src/lab/state.js';

// Facts: docs/windows-facts/network-firewall-sessions-tasks.md, shared reference section 4.

const ERR = `function Show-Err($e) { , @($e | ForEach-Object { [pscustomobject]@{ m = $_.ToString(); fqid = $_.FullyQualifiedErrorId; cat = $_.CategoryInfo.Category.ToString(); ex = $_.Exception.GetType().FullName } }) }`;

const gpoRule: LabFirewallRule = {
  Name: 'GPO-RDP-In', DisplayName: 'RDP from jump hosts (GPO)', Description: '', DisplayGroup: '', Group: '',
  Enabled: 'False', Profile: 'Domain', Direction: 'Inbound', Action: 'Allow', Protocol: 'TCP', LocalPort: '3389',
  RemotePort: 'Any', RemoteAddress: '10.0.0.0/8', Program: 'Any', Service: 'Any', PolicyStoreSourceType: 'GroupPolicy',
};

describe('lab Get-NetFirewallRule', () => {
  it('returns MSFT_NetFirewallRule objects in the list-view order with enum-typed Enabled/Profile, and CDXML not-found errors', async () => {
    const host = makeLabHost((s) => s.firewall.rules.push(gpoRule));
    const r = await runLab(host.statePath, `${ERR}
      $r = Get-NetFirewallRule -Name 'RemoteDesktop-UserMode-In-TCP'
      $ws = Get-NetFirewallRule -Name 'RemoteDesktop-In-TCP-WS'
      $rdp = @(Get-NetFirewallRule -Name '*RemoteDesktop*')
      $grp = @(Get-NetFirewallRule -Group '@FirewallAPI.dll,-28752')
      $dg = @(Get-NetFirewallRule -DisplayGroup 'Remote Desktop')
      $off = @(Get-NetFirewallRule -Enabled False -Direction Inbound)
      Get-NetFirewallRule -Name 'X' -ErrorAction SilentlyContinue -ErrorVariable e1
      Get-NetFirewallRule -DisplayName 'Block TCP 4444' -ErrorAction SilentlyContinue -ErrorVariable e2
      Get-NetFirewallRule -Group 'nope' -ErrorAction SilentlyContinue -ErrorVariable e3
      $wild = @(Get-NetFirewallRule -Name 'Nope*' -ErrorAction SilentlyContinue -ErrorVariable e4)
      Get-NetFirewallRule -Name 'GPO-RDP-In' -ErrorAction SilentlyContinue -ErrorVariable e5
      $active = @(Get-NetFirewallRule -PolicyStore ActiveStore -Name 'GPO-RDP-In')
      $pf = $r | Get-NetFirewallPortFilter
      $af = Get-NetFirewallAddressFilter -AssociatedNetFirewallRule $active[0]
      $app = $r | Get-NetFirewallApplicationFilter
      $back = @($pf | Get-NetFirewallRule)
      $prof = @(Get-NetFirewallProfile)
      [pscustomobject]@{
        props = @($r.PSObject.Properties.Name)
        typeName = $r.PSObject.TypeNames[0]
        enabledType = $r.Enabled.GetType().FullName
        profileType = $r.Profile.GetType().FullName
        texts = @([string]$r.Enabled, [string]$r.Profile, [string]$ws.Enabled, [string]$ws.Profile, [string]$r.Direction, [string]$r.Action, [string]$r.PrimaryStatus, $r.Status, [string]$r.PolicyStoreSourceType)
        disabledIsTruthy = [bool]$ws.Enabled
        rdp = $rdp.Count; grp = @($grp | ForEach-Object Name); dg = $dg.Count; off = @($off | ForEach-Object Name)
        e1 = Show-Err $e1; e2 = Show-Err $e2; e3 = Show-Err $e3; wildcard = @($e4).Count + $wild.Count; e5 = Show-Err $e5
        active = @($active | ForEach-Object { [string]$_.PolicyStoreSourceType })
        pf = @($pf.Protocol, $pf.LocalPort, $pf.RemotePort, $pf.InstanceID); pfType = $pf.PSObject.TypeNames[0]
        af = $af.RemoteAddress; app = $app.Program; back = @($back | ForEach-Object Name)
        prof = @($prof | ForEach-Object { '{0}:{1}:{2}:{3}' -f $_.Name, $_.Enabled, $_.DefaultInboundAction, $_.Enabled.GetType().Name })
      } | ConvertTo-Json -Depth 5 -Compress`);
    expect(r.error).toBeNull();
    const o = JSON.parse(r.output[0] as string);
    expect(o.props.slice(0, 19)).toEqual(['Name', 'DisplayName', 'Description', 'DisplayGroup', 'Group', 'Enabled', 'Profile', 'Platform',
      'Direction', 'Action', 'EdgeTraversalPolicy', 'LooseSourceMapping', 'LocalOnlyMapping', 'Owner', 'PrimaryStatus', 'Status',
      'EnforcementStatus', 'PolicyStoreSource', 'PolicyStoreSourceType']);
    expect(o.typeName).toBe('Microsoft.Management.Infrastructure.CimInstance#root/standardcimv2/MSFT_NetFirewallRule');
    expect(o.enabledType).toBe('Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity.Enabled');
    expect(o.profileType).toBe('Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity.Profile');
    expect(o.texts).toEqual(['True', 'Domain, Private, Public', 'False', 'Any', 'Inbound', 'Allow', 'OK', 'The rule was parsed successfully from the store. (65536)', 'Local']);
    expect(o.disabledIsTruthy).toBe(true);
    expect(o.rdp).toBe(5);
    expect(o.grp).toEqual(['RemoteDesktop-UserMode-In-TCP', 'RemoteDesktop-UserMode-In-UDP', 'RemoteDesktop-Shadow-In-TCP']);
    expect(o.dg).toBe(3);
    expect(o.off).toEqual(['RemoteDesktop-In-TCP-WS', 'RemoteDesktop-In-TCP-WSS']);
    expect(o.e1).toEqual([{ m: "No MSFT_NetFirewallRule objects found with property 'InstanceID' equal to 'X'.  Verify the value of the property and retry.", fqid: 'CmdletizationQuery_NotFound_InstanceID,Get-NetFirewallRule', cat: 'ObjectNotFound', ex: 'Microsoft.PowerShell.Cmdletization.Cim.CimJobException' }]);
    expect(o.e2[0].m).toBe("No MSFT_NetFirewallRule objects found with property 'DisplayName' equal to 'Block TCP 4444'.  Verify the value of the property and retry.");
    expect(o.e2[0].fqid).toBe('CmdletizationQuery_NotFound_DisplayName,Get-NetFirewallRule');
    expect(o.e3[0].fqid).toBe('CmdletizationQuery_NotFound_RuleGroup,Get-NetFirewallRule');
    expect(o.wildcard).toBe(0);
    // GPO rules are not in the default PersistentStore, only in ActiveStore.
    expect(o.e5[0].fqid).toBe('CmdletizationQuery_NotFound_InstanceID,Get-NetFirewallRule');
    expect(o.active).toEqual(['GroupPolicy']);
    expect(o.pf).toEqual(['TCP', '3389', 'Any', 'RemoteDesktop-UserMode-In-TCP']);
    expect(o.pfType).toBe('Microsoft.Management.Infrastructure.CimInstance#root/standardcimv2/MSFT_NetProtocolPortFilter');
    expect(o.af).toBe('10.0.0.0/8');
    expect(o.app).toBe('%SystemRoot%\\system32\\svchost.exe');
    expect(o.back).toEqual(['RemoteDesktop-UserMode-In-TCP']);
    expect(o.prof).toEqual(['Domain:True:NotConfigured:GpoBoolean', 'Private:True:NotConfigured:GpoBoolean', 'Public:True:NotConfigured:GpoBoolean']);
  });
});

describe('lab firewall changes', () => {
  it('Enable with no selector enables every rule; Set/New/Remove change the state; GPO rules refuse local changes', async () => {
    const host = makeLabHost((s) => s.firewall.rules.push(gpoRule));
    const r = await runLab(host.statePath, `${ERR}
      Enable-NetFirewallRule
      Set-NetFirewallRule -Name 'RemoteDesktop-UserMode-In-TCP' -LocalPort 3390 -Profile Domain,Private -RemoteAddress '10.1.0.0/16','LocalSubnet'
      $new = New-NetFirewallRule -Name 'RDP-Custom-TCP-3390' -DisplayName 'Remote Desktop - Custom Port (TCP-In)' -Direction Inbound -Protocol TCP -LocalPort 3390 -Action Allow -Profile Any -Program '%SystemRoot%\\system32\\svchost.exe' -Service TermService
      New-NetFirewallRule -Name 'RDP-Custom-TCP-3390' -DisplayName 'dup' -ErrorAction SilentlyContinue -ErrorVariable dup
      $guid = New-NetFirewallRule -DisplayName 'RDPPORTLatest' -Profile Public -Direction Inbound -Action Allow -Protocol TCP -LocalPort 3391
      Remove-NetFirewallRule -Name 'RDP-Custom-TCP-3390'
      Get-NetFirewallRule -PolicyStore ActiveStore -Name 'GPO-RDP-In' | Disable-NetFirewallRule -ErrorAction SilentlyContinue -ErrorVariable gpo
      Disable-NetFirewallRule -Name 'Nope' -ErrorAction SilentlyContinue -ErrorVariable nf
      [pscustomobject]@{ newName = $new.Name; newEnabled = [string]$new.Enabled; guid = $guid.Name; dup = Show-Err $dup; gpo = @($gpo).Count; nf = Show-Err $nf } | ConvertTo-Json -Depth 5 -Compress`);
    expect(r.error).toBeNull();
    const o = JSON.parse(r.output[0] as string);
    const rules = host.read().firewall.rules;
    const byName = (n: string) => rules.find((x) => x.Name === n);
    // The "all rules" trap: the disabled WebSocket rules came on too; the GPO rule is not in the local store.
    expect(byName('RemoteDesktop-In-TCP-WS')?.Enabled).toBe('True');
    expect(byName('RemoteDesktop-In-TCP-WSS')?.Enabled).toBe('True');
    expect(byName('GPO-RDP-In')?.Enabled).toBe('False');
    // IPv4 subnets are stored (and shown) in mask notation (NetworkingDsc issues #169/#404).
    expect(byName('RemoteDesktop-UserMode-In-TCP')).toMatchObject({ LocalPort: '3390', Profile: 'Domain, Private', RemoteAddress: '10.1.0.0/255.255.0.0,LocalSubnet' });
    expect(o.newName).toBe('RDP-Custom-TCP-3390');
    expect(o.newEnabled).toBe('True');
    expect(o.dup).toEqual([{ m: 'Cannot create a file when that file already exists.', fqid: 'Windows System Error 183,New-NetFirewallRule', cat: 'ResourceExists', ex: 'Microsoft.Management.Infrastructure.CimException' }]);
    expect(o.guid).toMatch(/^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$/);
    expect(byName(o.guid)).toMatchObject({ DisplayName: 'RDPPORTLatest', Profile: 'Public', LocalPort: '3391', Protocol: 'TCP' });
    expect(byName('RDP-Custom-TCP-3390')).toBeUndefined();
    expect(o.gpo).toBe(1);
    expect(o.nf[0].fqid).toBe('CmdletizationQuery_NotFound_InstanceID,Disable-NetFirewallRule');
  });

  it('Test-LabRdpFirewallOpen follows rules, profiles, categories and block rules', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, `
      $o = [ordered]@{}
      $o.default3389 = Test-LabRdpFirewallOpen -Port 3389
      $o.default3390 = Test-LabRdpFirewallOpen -Port 3390
      Set-NetFirewallRule -Name 'RemoteDesktop-UserMode-In-TCP' -Profile Domain
      $o.privateNotCovered = Test-LabRdpFirewallOpen -Port 3389
      Set-NetConnectionProfile -InterfaceAlias Ethernet -NetworkCategory Public
      (Get-LabState).firewall.profiles | Where-Object Name -eq 'Public' | ForEach-Object { $_.Enabled = $false }
      $o.publicFirewallOff = Test-LabRdpFirewallOpen -Port 3389
      (Get-LabState).firewall.profiles | Where-Object Name -eq 'Public' | ForEach-Object { $_.Enabled = $true }
      New-NetFirewallRule -Name 'block' -DisplayName 'block' -Direction Inbound -Action Block -Protocol TCP -LocalPort 3000-4000 | Out-Null
      Set-NetFirewallRule -Name 'RemoteDesktop-UserMode-In-TCP' -Profile Any
      $o.blocked = Test-LabRdpFirewallOpen -Port 3389
      Remove-NetFirewallRule -Name 'block'
      $o.reopened = Test-LabRdpFirewallOpen -Port 3389
      [pscustomobject]$o | ConvertTo-Json -Compress`);
    expect(r.error).toBeNull();
    expect(JSON.parse(r.output[0] as string)).toEqual({
      default3389: true, default3390: false, privateNotCovered: false, publicFirewallOff: true, blocked: false, reopened: true,
    });
  });
});

describe('lab firewall RemoteAddress, profiles and filters', () => {
  it('stores addresses as Windows shows them, refuses invalid ones with the provider error, and exposes service filters', async () => {
    const host = makeLabHost((s) => s.firewall.rules.push(gpoRule));
    const r = await runLab(host.statePath, `${ERR}
      New-NetFirewallRule -Name 'scoped' -DisplayName 'scoped' -Protocol TCP -LocalPort 3390 -RemoteAddress '10.20.30.40/16','localsubnet','192.0.2.1-192.0.2.9','FE80:0::1/64','Internet6','198.51.100.0/255.255.255.128' -Profile 'Private,Public' | Out-Null
      $af = Get-NetFirewallRule -Name 'scoped' | Get-NetFirewallAddressFilter
      $sf = Get-NetFirewallRule -Name 'RemoteDesktop-UserMode-In-TCP' | Get-NetFirewallServiceFilter
      $all = @(Get-NetFirewallServiceFilter -PolicyStore ActiveStore)
      New-NetFirewallRule -Name 'bad' -DisplayName 'bad' -RemoteAddress 'rdp.example.com' -ErrorAction SilentlyContinue -ErrorVariable e1 | Out-Null
      Set-NetFirewallRule -Name 'scoped' -RemoteAddress 'Any','10.0.0.0/8' -ErrorAction SilentlyContinue -ErrorVariable e2
      Set-NetFirewallRule -Name 'scoped' -RemoteAddress '10.0.0.0/33' -ErrorAction SilentlyContinue -ErrorVariable e3
      Set-NetFirewallRule -Name 'RemoteDesktop-UserMode-In-UDP' -Profile 'Domain,Public'
      Enable-NetFirewallRule -Name 'GPO-RDP-In' -ErrorAction SilentlyContinue -ErrorVariable e4
      [pscustomobject]@{
        ra = @($af.RemoteAddress); profile = [string](Get-NetFirewallRule -Name 'scoped').Profile
        sf = @($sf.Service, $sf.InstanceID, $sf.PSObject.TypeNames[0]); all = $all.Count
        e1 = Show-Err $e1; e2 = @($e2).Count; e3 = @($e3).Count; e4 = @($e4 | ForEach-Object FullyQualifiedErrorId)
      } | ConvertTo-Json -Depth 5 -Compress`);
    expect(r.error).toBeNull();
    const o = JSON.parse(r.output[0] as string);
    expect(o.ra).toEqual(['10.20.0.0/255.255.0.0', 'LocalSubnet', '192.0.2.1-192.0.2.9', 'fe80::1/64', 'Internet6', '198.51.100.0/255.255.255.128']);
    expect(o.profile).toBe('Private, Public');
    expect(o.sf).toEqual(['termservice', 'RemoteDesktop-UserMode-In-TCP', 'Microsoft.Management.Infrastructure.CimInstance#root/standardcimv2/MSFT_NetServiceFilter']);
    expect(o.all).toBe(9);
    expect(o.e1).toEqual([{
      m: 'The address is invalid.  Addresses may be specified as IP addresses, ranges, or subnets.  Also, the following address keywords are allowed in certain places: LocalSubnet, DNS, DHCP, WINS, DefaultGateway, Internet, Intranet, IntranetRemoteAccess, PlayToDevice.  Keywords can be restricted to IPv4 or IPv6 by appending a 4 or 6.',
      fqid: 'HRESULT 0x80070057,New-NetFirewallRule', cat: 'InvalidArgument', ex: 'Microsoft.Management.Infrastructure.CimException',
    }]);
    expect([o.e2, o.e3]).toEqual([1, 1]);
    // A GPO rule is not in the default PersistentStore: by name it is simply not found there.
    expect(o.e4).toEqual(['CmdletizationQuery_NotFound_InstanceID,Enable-NetFirewallRule']);
    const state = host.read();
    expect(state.firewall.rules.find((x) => x.Name === 'bad')).toBeUndefined();
    expect(state.firewall.rules.find((x) => x.Name === 'scoped')!.RemoteAddress).toBe('10.20.0.0/255.255.0.0,LocalSubnet,192.0.2.1-192.0.2.9,fe80::1/64,Internet6,198.51.100.0/255.255.255.128');
    expect(state.firewall.rules.find((x) => x.Name === 'RemoteDesktop-UserMode-In-UDP')!.Profile).toBe('Domain, Public');
    expect(state.firewall.rules.find((x) => x.Name === 'GPO-RDP-In')!.Enabled).toBe('False');
  });
});

describe('lab netsh advfirewall', () => {
  it('show / set / add / delete rule with Windows texts and exit codes', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, `
      $ErrorActionPreference = 'Continue'
      $steps = @(
        'netsh advfirewall firewall show rule name="Remote Desktop - User Mode (TCP-In)"',
        'netsh advfirewall firewall set rule group="remote desktop" new enable=No',
        'netsh advfirewall firewall set rule name="Remote Desktop - User Mode (TCP-In)" new enable=yes',
        'netsh advfirewall firewall add rule name="Remote Desktop - Custom Port" dir=in program=%systemroot%\\system32\\svchost.exe service=termservice action=allow protocol=TCP localport=3390 enable=yes',
        'netsh advfirewall firewall delete rule name="Remote Desktop - Custom Port"',
        'netsh advfirewall firewall show rule name="nothing here"'
      )
      $res = foreach ($s in $steps) { $out = @(Invoke-Expression $s); [pscustomobject]@{ lines = $out; code = $LASTEXITCODE } }
      ConvertTo-Json -InputObject @($res) -Depth 4 -Compress`);
    expect(r.error).toBeNull();
    const [show, setGroup, setName, add, del, none] = JSON.parse(r.output[0] as string) as { lines: string[]; code: number }[];
    expect(show.code).toBe(0);
    expect(show.lines).toEqual([
      '',
      'Rule Name:                            Remote Desktop - User Mode (TCP-In)',
      '----------------------------------------------------------------------',
      'Enabled:                              Yes',
      'Direction:                            In',
      'Profiles:                             Domain,Private,Public',
      'Grouping:                             Remote Desktop',
      'LocalIP:                              Any',
      'RemoteIP:                             Any',
      'Protocol:                             TCP',
      'LocalPort:                            3389',
      'RemotePort:                           Any',
      'Edge traversal:                       No',
      'Action:                               Allow',
      'Ok.',
      '',
    ]);
    expect(setGroup).toEqual({ lines: ['', 'Updated 3 rule(s).', 'Ok.', ''], code: 0 });
    expect(setName).toEqual({ lines: ['', 'Updated 1 rule(s).', 'Ok.', ''], code: 0 });
    expect(add).toEqual({ lines: ['Ok.', ''], code: 0 });
    expect(del).toEqual({ lines: ['', 'Deleted 1 rule(s).', 'Ok.', ''], code: 0 });
    expect(none).toEqual({ lines: ['No rules match the specified criteria.'], code: 1 });
    const rules = host.read().firewall.rules;
    expect(rules.filter((x) => x.DisplayGroup === 'Remote Desktop').map((x) => [x.Name, x.Enabled])).toEqual([
      ['RemoteDesktop-UserMode-In-TCP', 'True'], ['RemoteDesktop-UserMode-In-UDP', 'False'], ['RemoteDesktop-Shadow-In-TCP', 'False'],
    ]);
    expect(rules.find((x) => x.DisplayName === 'Remote Desktop - Custom Port')).toBeUndefined();
  });
});
