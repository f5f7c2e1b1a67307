import { describe, expect, it } from 'vitest';
import { compareFacts } from '../../src/conform/compare.js';
import type { HostFacts } from '../../src/conform/facts.js';

const model = { builds: ['20348'], locales: ['en-US', 'de-DE'] };

function facts(change?: (f: HostFacts['facts']) => void): HostFacts {
  const f: HostFacts['facts'] = {
    os: { caption: 'Microsoft Windows Server 2022 Datacenter', version: '10.0.20348', buildNumber: '20348', productType: 3, locale: '0409', uiCulture: 'en-US', psVersion: '5.1.20348.2849', psEdition: 'Desktop' },
    commands: { 'Get-NetTCPConnection': true, quser: true },
    enums: { serviceStatus: { type: 'ServiceControllerStatus', value: 4, name: 'Running' }, networkCategory: { type: 'NetworkCategory', value: 1, name: 'Private' } },
    jsonShapes: { wrappedArray: '{"value":[1,2],"Count":2}' },
    accounts: { 'S-1-5-18': 'SYSTEM', 'S-1-5-20': 'NETWORK SERVICE' },
    keyAcls: { machineKeysSddl: 'O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)', rdpKeySddl: 'O:BAG:SYD:P(A;;FR;;;NS)(A;;FA;;;SY)' },
    firewallRules: [{ name: 'RemoteDesktop-UserMode-In-TCP', group: '@FirewallAPI.dll,-28752', displayGroup: 'Remote Desktop' }],
    eventProviders: { Schannel: { present: true, ids: [36870] } },
    sessions: { session0: { state: 4, winStation: 'Services', hasUser: false }, listener: { state: 6, winStation: 'RDP-Tcp', hasUser: false }, agreesWithQwinsta: true },
    toolText: { qwinstaHeader: ' SESSIONNAME       USERNAME                 ID  STATE   TYPE        DEVICE' },
  };
  change?.(f);
  return { facts: f, errors: {} };
}

describe('conform: comparing a host with the lab reference', () => {
  it('finds nothing when the host answers as the lab does, whatever state it is in', () => {
    const stopped = facts((f) => {
      f.enums!.serviceStatus = { type: 'ServiceControllerStatus', value: 1, name: 'Stopped' };
      f.enums!.networkCategory = { type: 'NetworkCategory', value: 0, name: 'Public' };
    });
    expect(compareFacts(stopped, facts(), model)).toEqual([]);
  });

  it('names each kind of difference, with both answers', () => {
    const host = facts((f) => {
      f.os!.buildNumber = '17763';
      f.os!.uiCulture = 'ja-JP';
      f.commands!['Get-NetTCPConnection'] = false;
      f.enums!.serviceStatus = { type: 'String', value: null, name: 'Running' };
      f.enums!.networkCategory = { type: 'NetworkCategory', value: 2, name: 'Private' };
      f.jsonShapes!.wrappedArray = '[1,2]';
      f.accounts!['S-1-5-18'] = 'Système';
      f.keyAcls!.rdpKeySddl = 'O:BAG:SYD:P(A;;FR;;;NS)(A;;FA;;;SY)(A;;FR;;;BA)';
      f.firewallRules = [{ name: 'RemoteDesktop-UserMode-In-TCP', group: '@FirewallAPI.dll,-28753', displayGroup: 'Bureau à distance' }, { name: 'RemoteDesktop-Extra', group: 'x', displayGroup: 'y' }];
      f.eventProviders = { Schannel: { present: true, ids: [] } };
      f.toolText = { qwinstaHeader: ' SITZUNGSNAME' };
    });
    const items = compareFacts(host, facts(), model).map((d) => `${d.aspect}: ${d.item}`);
    expect(items).toEqual([
      'model: build', 'model: display language',
      'commands: Get-NetTCPConnection',
      'enums: serviceStatus type', 'enums: networkCategory value of Private',
      'jsonShapes: wrappedArray',
      'accounts: S-1-5-18',
      'keyAcls: rdpKeySddl',
      'firewallRules: RemoteDesktop-UserMode-In-TCP group', 'firewallRules: RemoteDesktop-UserMode-In-TCP display group', 'firewallRules: RemoteDesktop-Extra',
      'eventProviders: Schannel event IDs',
      'toolText: qwinsta header',
    ]);
    const account = compareFacts(host, facts(), model).find((d) => d.aspect === 'accounts')!;
    expect(account).toMatchObject({ host: 'Système', lab: 'SYSTEM' });
  });

  it('reports a fact one side could not read, and a PowerShell other than 5.1', () => {
    const host: HostFacts = { ...facts((f) => { f.os!.psVersion = '7.4.6'; f.os!.psEdition = 'Core'; delete f.enums; }), errors: { enums: { message: 'Get-NetConnectionProfile: not found', fqid: 'CommandNotFoundException' } } };
    const items = compareFacts(host, facts(), model);
    expect(items.map((d) => `${d.aspect}: ${d.item}`)).toEqual(['enums: (read)', 'os: PowerShell']);
    expect(items[1]).toMatchObject({ host: '7.4.6 (Core)', lab: '5.1 (Desktop)' });
  });

  it('the WTS session reader: a state or WinStation the lab models otherwise, and IDs that disagree with qwinsta', () => {
    const host = facts((f) => {
      f.sessions = { session0: { state: 4, winStation: 'Services', hasUser: false }, listener: { state: 6, winStation: 'RDP-Tcp', hasUser: false }, agreesWithQwinsta: false };
    });
    expect(compareFacts(host, facts(), model)).toEqual([expect.objectContaining({ aspect: 'sessions', item: 'WTS list agrees with qwinsta', host: false, lab: true })]);
    const other = facts((f) => { f.sessions!.session0 = { state: 1, winStation: 'Services', hasUser: false }; });
    expect(compareFacts(other, facts(), model)).toEqual([expect.objectContaining({ aspect: 'sessions', item: 'session0' })]);
  });
});
