import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { makeLabHost, runLab } from '../helpers/lab.js';

// Facts: docs/windows-facts/network-firewall-sessions-tasks.md, shared reference section 3.

/** Error records as plain data (the harness runs with a global ErrorActionPreference of Stop, so the
 *  scripts collect CDXML errors with -ErrorAction SilentlyContinue -ErrorVariable). */
const ERR = `function Show-Err($e) { , @($e | ForEach-Object { [pscustomobject]@{ m = $_.ToString(); fqid = $_.FullyQualifiedErrorId; cat = $_.CategoryInfo.Category.ToString(); ex = $_.Exception.GetType().FullName; target = [string]$_.TargetObject } }) }`;

describe('lab Get-NetConnectionProfile', () => {
  it('returns MSFT_NetConnectionProfile-shaped objects with the CDXML enum types', async () => {
    const host = makeLabHost((s) => {
      s.netConnectionProfiles.push({ Name: 'Unidentified network', InterfaceAlias: 'vEthernet (Default Switch)', InterfaceIndex: 17, NetworkCategory: 'Public', IPv4Connectivity: 'NoTraffic', IPv6Connectivity: 'NoTraffic', DomainAuthenticationKind: 'None' });
    });
    const idx = host.state.netConnectionProfiles[0].InterfaceIndex;
    const r = await runLab(host.statePath, `param($idx)
      ${ERR}
      $all = @(Get-NetConnectionProfile)
      $p = Get-NetConnectionProfile -InterfaceIndex $idx
      $byAlias = @(Get-NetConnectionProfile -InterfaceAlias 'vEthernet*')
      $byCat = @(Get-NetConnectionProfile -NetworkCategory Public)
      $miss = Get-NetConnectionProfile -InterfaceIndex 99 -ErrorAction SilentlyContinue -ErrorVariable ev
      $wild = @(Get-NetConnectionProfile -InterfaceAlias 'Wi-Fi*' -ErrorAction SilentlyContinue -ErrorVariable ev2)
      [pscustomobject]@{
        count = $all.Count
        props = @($p.PSObject.Properties.Name)
        typeNames = @($p.PSObject.TypeNames | Select-Object -First 2)
        categoryType = $p.NetworkCategory.GetType().FullName
        ipv4Type = $p.IPv4Connectivity.GetType().FullName
        dakType = $p.DomainAuthenticationKind.GetType().FullName
        indexType = $p.InterfaceIndex.GetType().FullName
        values = @($p.Name, $p.InterfaceAlias, [string]$p.NetworkCategory, [int]$p.NetworkCategory, [string]$p.IPv4Connectivity, [string]$p.IPv6Connectivity)
        byAlias = @($byAlias | ForEach-Object { $_.InterfaceIndex })
        byCat = @($byCat | ForEach-Object { $_.InterfaceIndex })
        miss = Show-Err $ev
        wildcardMissErrors = @($ev2).Count + $wild.Count
      } | ConvertTo-Json -Depth 5 -Compress`, [idx]);
    expect(r.error).toBeNull();
    const o = JSON.parse(r.output[0] as string);
    expect(o.count).toBe(2);
    expect(o.props).toEqual(['Name', 'InterfaceAlias', 'InterfaceIndex', 'NetworkCategory', 'DomainAuthenticationKind', 'IPv4Connectivity', 'IPv6Connectivity']);
    expect(o.typeNames).toEqual([
      'Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetConnectionProfile',
      'Microsoft.Management.Infrastructure.CimInstance#MSFT_NetConnectionProfile',
    ]);
    expect(o.categoryType).toBe('Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetConnectionProfile.NetworkCategory');
    expect(o.ipv4Type).toBe('Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetConnectionProfile.IPv4Connectivity');
    expect(o.dakType).toBe('Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetConnectionProfile.DomainAuthenticationKind');
    expect(o.indexType).toBe('System.UInt32');
    expect(o.values).toEqual(['Network', 'Ethernet', 'Private', 1, 'Internet', 'NoTraffic']);
    expect(o.byAlias).toEqual([17]);
    expect(o.byCat).toEqual([17]);
    expect(o.miss).toEqual([{
      m: "No MSFT_NetConnectionProfile objects found with property 'InterfaceIndex' equal to '99'.  Verify the value of the property and retry.",
      fqid: 'CmdletizationQuery_NotFound_InterfaceIndex,Get-NetConnectionProfile', cat: 'ObjectNotFound',
      ex: 'Microsoft.PowerShell.Cmdletization.Cim.CimJobException', target: '99',
    }]);
    expect(o.wildcardMissErrors).toBe(0);
  });
});

describe('lab Set-NetConnectionProfile', () => {
  it('changes the category (no output without -PassThru), pipes, refuses DomainAuthenticated and Identifying networks', async () => {
    const host = makeLabHost((s) => {
      s.netConnectionProfiles[0].NetworkCategory = 'Public';
      s.netConnectionProfiles.push({ Name: 'Identifying...', InterfaceAlias: 'Ethernet 2', InterfaceIndex: 21, NetworkCategory: 'Public', IPv4Connectivity: 'NoTraffic', IPv6Connectivity: 'NoTraffic', DomainAuthenticationKind: 'None', identifying: true });
    });
    const idx = host.state.netConnectionProfiles[0].InterfaceIndex;
    const r = await runLab(host.statePath, `param($idx)
      ${ERR}
      $silent = @(Set-NetConnectionProfile -InterfaceIndex $idx -NetworkCategory Private)
      $after = [string](Get-NetConnectionProfile -InterfaceIndex $idx).NetworkCategory
      $piped = @(Get-NetConnectionProfile -InterfaceIndex $idx | Set-NetConnectionProfile -NetworkCategory Public -PassThru)
      Set-NetConnectionProfile -InterfaceIndex $idx -NetworkCategory DomainAuthenticated -ErrorAction SilentlyContinue -ErrorVariable e1
      Set-NetConnectionProfile -InterfaceAlias 'Ethernet 2' -NetworkCategory Private -ErrorAction SilentlyContinue -ErrorVariable e2
      Set-NetConnectionProfile -InterfaceIndex 99 -NetworkCategory Private -ErrorAction SilentlyContinue -ErrorVariable e3
      [pscustomobject]@{ silent = $silent.Count; after = $after; piped = @($piped | ForEach-Object { [string]$_.NetworkCategory }); e1 = Show-Err $e1; e2 = Show-Err $e2; e3 = Show-Err $e3 } | ConvertTo-Json -Depth 5 -Compress`, [idx]);
    expect(r.error).toBeNull();
    const o = JSON.parse(r.output[0] as string);
    expect(o.silent).toBe(0);
    expect(o.after).toBe('Private');
    expect(o.piped).toEqual(['Public']);
    expect(o.e1[0].m).toBe("Unable to set NetworkCategory to 'DomainAuthenticated'.  This NetworkCategory type will be set automatically when authenticated to a domain network.");
    expect(o.e1[0].fqid).toMatch(/,Set-NetConnectionProfile$/);
    expect(o.e2[0].m).toBe("Unable to set NetworkCategory on a network marked 'Identifying...', Please wait for network identification to complete.");
    expect(o.e3[0].fqid).toBe('CmdletizationQuery_NotFound_InterfaceIndex,Set-NetConnectionProfile');
    const state = host.read();
    expect(state.netConnectionProfiles.map((p) => p.NetworkCategory)).toEqual(['Public', 'Public']);
    const audit = readFileSync(host.statePath.replace(/\.json$/, '.audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.map((a) => [a.command, a.detail.from, a.detail.to])).toEqual([
      ['Set-NetConnectionProfile', 'Public', 'Private'],
      ['Set-NetConnectionProfile', 'Private', 'Public'],
    ]);
  });
});

describe('lab Set-NetConnectionProfile refusals: domain-authenticated networks, Network List Manager policy', () => {
  const NLM = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\CurrentVersion\\NetworkList\\Signatures';
  const UNIDENTIFIED = '010103000F0000F0010000000F0000F0C967A3643C3AD745950DA7859209176EF5B87C875FA20DF21951640E807D7C24';
  const REFUSAL = "Unable to set the NetworkCategory due to one of the following possible reasons: not running PowerShell elevated; the NetworkCategory cannot be changed from 'DomainAuthenticated'; user initiated changes to NetworkCategory are being prevented due to the Group Policy setting 'Network List Manager Policies'.";
  const policy = (s: import('../../src/lab/state.js').LabHostState, signature: string) => {
    for (const k of ['SOFTWARE\\Policies\\Microsoft\\Windows NT', 'SOFTWARE\\Policies\\Microsoft\\Windows NT\\CurrentVersion', 'SOFTWARE\\Policies\\Microsoft\\Windows NT\\CurrentVersion\\NetworkList']) s.registry[`HKEY_LOCAL_MACHINE\\${k}`] ??= {};
    s.registry[NLM] ??= {};
    s.registry[`${NLM}\\${signature}`] = { Category: { kind: 'DWord', data: 1 }, CategoryReadOnly: { kind: 'DWord', data: 1 } };
  };
  const unidentified = { Name: 'Unidentified network', InterfaceAlias: 'vEthernet (Default Switch)', InterfaceIndex: 17, NetworkCategory: 'Public' as const, IPv4Connectivity: 'NoTraffic' as const, IPv6Connectivity: 'NoTraffic' as const, DomainAuthenticationKind: 'None' as const };
  const script = `${ERR}
      Set-NetConnectionProfile -InterfaceIndex 17 -NetworkCategory Private -ErrorAction SilentlyContinue -ErrorVariable e1
      Set-NetConnectionProfile -InterfaceAlias Ethernet -NetworkCategory Private -ErrorAction SilentlyContinue -ErrorVariable e2
      [pscustomobject]@{ e1 = Show-Err $e1; e2 = Show-Err $e2 } | ConvertTo-Json -Depth 5 -Compress`;

  it('a domain-authenticated network keeps its category (MI RESULT 2, PermissionDenied)', async () => {
    const host = makeLabHost((s) => { s.netConnectionProfiles[0]!.NetworkCategory = 'DomainAuthenticated'; s.netConnectionProfiles.push({ ...unidentified }); });
    const r = await runLab(host.statePath, script);
    expect(r.error).toBeNull();
    const o = JSON.parse(r.output[0] as string);
    expect(o.e1).toEqual([]);
    expect(o.e2).toEqual([{ m: REFUSAL, fqid: 'MI RESULT 2,Set-NetConnectionProfile', cat: 'PermissionDenied', ex: 'Microsoft.Management.Infrastructure.CimException', target: expect.stringContaining('MSFT_NetConnectionProfile') }]);
    expect(host.read().netConnectionProfiles.map((p) => p.NetworkCategory)).toEqual(['DomainAuthenticated', 'Private']);
  });

  it("'User cannot change location': the Unidentified Networks key locks unidentified networks only; another signature key locks every network", async () => {
    const a = makeLabHost((s) => { s.netConnectionProfiles[0]!.NetworkCategory = 'Public'; s.netConnectionProfiles.push({ ...unidentified }); policy(s, UNIDENTIFIED); });
    const ra = await runLab(a.statePath, script);
    const oa = JSON.parse(ra.output[0] as string);
    expect(oa.e1.map((e: { m: string; fqid: string }) => [e.m, e.fqid])).toEqual([[REFUSAL, 'MI RESULT 2,Set-NetConnectionProfile']]);
    expect(oa.e2).toEqual([]);
    expect(a.read().netConnectionProfiles.map((p) => p.NetworkCategory)).toEqual(['Private', 'Public']);

    const b = makeLabHost((s) => { s.netConnectionProfiles[0]!.NetworkCategory = 'Public'; s.netConnectionProfiles.push({ ...unidentified }); policy(s, '010103000F0000F0080000000F0000F0E8982FB31F37E52AF30A6575A4898CE6676E8C2F99C4C5131D84F64BD823E0'); });
    const rb = await runLab(b.statePath, script);
    const ob = JSON.parse(rb.output[0] as string);
    expect([ob.e1.length, ob.e2.length]).toEqual([1, 1]);
    expect(b.read().netConnectionProfiles.map((p) => p.NetworkCategory)).toEqual(['Public', 'Public']);
  });
});
