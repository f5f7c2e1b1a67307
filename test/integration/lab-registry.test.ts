import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { makeLabHost, runLab } from '../helpers/lab.js';
import { PROFILE_LIST_KEY, RDP_TCP_KEY, TS_POLICY_KEY } from '../../src/lab/base-host.js';

const RDP_TCP = 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp';
const PROFILE_LIST = 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList';
const CREDSSP = 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System\\CredSSP\\Parameters';

function auditLines(statePath: string): { command: string; detail: unknown }[] {
  const p = statePath.replace(/\.json$/, '.audit.jsonl');
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

describe('lab registry provider', () => {
  it('reads values with Windows shapes, types and errors', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, `param($k, $pl)
      $p = Get-ItemProperty -Path $k -Name PortNumber
      $all = Get-ItemProperty $k
      Get-ItemProperty -Path $k -Name Nope -ErrorAction SilentlyContinue -ErrorVariable ev1
      Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Nope' -ErrorAction SilentlyContinue -ErrorVariable ev2
      $prov = Get-ItemProperty -Path ('Registry::' + $k.Replace('HKLM:', 'HKEY_LOCAL_MACHINE'))
      [ordered]@{
        names = @($p.PSObject.Properties.Name)
        port = $p.PortNumber; pspath = $p.PSPath; parent = $p.PSParentPath; child = $p.PSChildName; drive = [string]$p.PSDrive; provider = [string]$p.PSProvider
        maxType = $all.MaxInstanceCount.GetType().FullName; max = $all.MaxInstanceCount
        hashType = $all.SSLCertificateSHA1Hash.GetType().FullName
        profilesDir = (Get-ItemProperty $pl).ProfilesDirectory
        e1 = @($ev1[0].ToString(), $ev1[0].FullyQualifiedErrorId, $ev1[0].CategoryInfo.Category.ToString(), $ev1[0].Exception.GetType().FullName)
        e2 = @($ev2[0].ToString(), $ev2[0].FullyQualifiedErrorId, $ev2[0].CategoryInfo.Category.ToString(), $ev2[0].Exception.GetType().FullName)
        provNames = @($prov.PSObject.Properties.Name | Where-Object { $_ -like 'PS*' })
        value = Get-ItemPropertyValue -Path $k -Name PortNumber
        kind = (Get-Item $k).GetValueKind('SSLCertificateSHA1Hash').ToString()
      }`, [RDP_TCP, PROFILE_LIST]);
    expect(r.error).toBeNull();
    const o = r.output[0] as Record<string, unknown>;
    expect(o.names).toEqual(['PortNumber', 'PSPath', 'PSParentPath', 'PSChildName', 'PSDrive', 'PSProvider']);
    expect(o.port).toBe(3389);
    expect(o.pspath).toBe('Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp');
    expect(o.parent).toBe('Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations');
    expect(o.child).toBe('RDP-Tcp');
    expect(o.drive).toBe('HKLM');
    expect(o.provider).toBe('Microsoft.PowerShell.Core\\Registry');
    expect(o.maxType).toBe('System.Int32');
    expect(o.max).toBe(-1);
    expect(o.hashType).toBe('System.Byte[]');
    expect(o.profilesDir).toBe('C:\\Users');
    expect(o.e1).toEqual([
      'Property Nope does not exist at path HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp.',
      'System.Management.Automation.PSArgumentException,Microsoft.PowerShell.Commands.GetItemPropertyCommand',
      'InvalidArgument',
      'System.Management.Automation.PSArgumentException',
    ]);
    expect(o.e2).toEqual([
      "Cannot find path 'HKLM:\\SOFTWARE\\Nope' because it does not exist.",
      'PathNotFound,Microsoft.PowerShell.Commands.GetItemPropertyCommand',
      'ObjectNotFound',
      'System.Management.Automation.ItemNotFoundException',
    ]);
    // A provider-qualified path has no drive, so no PSDrive note.
    expect(o.provNames).toEqual(['PSPath', 'PSParentPath', 'PSChildName', 'PSProvider']);
    expect(o.value).toBe(3389);
    expect(o.kind).toBe('Binary');
  });

  it('a missing value becomes terminating under $ErrorActionPreference = Stop, as with the real cmdlet', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, `param($k) Get-ItemProperty -Path $k -Name Nope; 'not reached'`, [RDP_TCP]);
    expect(r.output).toEqual([]);
    expect(r.error?.fqid).toBe('System.Management.Automation.PSArgumentException,Microsoft.PowerShell.Commands.GetItemPropertyCommand');
  });

  it('Set-ItemProperty keeps an existing kind, infers a new one, and fails on a missing key', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, `param($k, $c)
      Set-ItemProperty -Path $k -Name PortNumber -Value '3390'
      Set-ItemProperty -Path $k -Name NewInt -Value 5
      Set-ItemProperty -Path $k -Name NewLong -Value 5L
      Set-ItemProperty -Path $k -Name NewStr -Value 'x'
      Set-ItemProperty -Path $k -Name NewBool -Value $true
      Set-ItemProperty -Path $k -Name NewMulti -Value ([string[]]@('a','b'))
      Set-ItemProperty -Path $c -Name AllowEncryptionOracle -Value 1 -ErrorAction SilentlyContinue -ErrorVariable ev
      $key = Get-Item $k
      [ordered]@{
        kinds = @('PortNumber','NewInt','NewLong','NewStr','NewBool','NewMulti' | ForEach-Object { $key.GetValueKind($_).ToString() })
        err = @($ev[0].FullyQualifiedErrorId, $ev[0].ToString())
      }`, [RDP_TCP, CREDSSP]);
    expect(r.error).toBeNull();
    const o = r.output[0] as Record<string, unknown>;
    expect(o.kinds).toEqual(['DWord', 'DWord', 'QWord', 'String', 'String', 'MultiString']);
    expect(o.err).toEqual(['PathNotFound,Microsoft.PowerShell.Commands.SetItemPropertyCommand', `Cannot find path '${CREDSSP}' because it does not exist.`]);
    const reg = host.read().registry[RDP_TCP_KEY];
    expect(reg.PortNumber).toEqual({ kind: 'DWord', data: 3390 });
    expect(reg.NewBool).toEqual({ kind: 'String', data: 'True' });
    expect(reg.NewMulti).toEqual({ kind: 'MultiString', data: ['a', 'b'] });
    expect(auditLines(host.statePath).filter((a) => a.command === 'Set-ItemProperty')).toHaveLength(6);
  });

  it('New-Item / New-ItemProperty / Remove-ItemProperty / Remove-Item follow the registry provider', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, `param($c)
      $ErrorActionPreference = 'Continue'
      $made = New-Item -Path $c -Force
      $p = New-ItemProperty -Path $c -Name AllowEncryptionOracle -PropertyType DWord -Value 2 -Force
      $dup = New-ItemProperty -Path $c -Name AllowEncryptionOracle -PropertyType DWord -Value 1 2>&1
      $exists = New-Item -Path $c 2>&1
      $orphan = New-Item -Path 'HKLM:\\SOFTWARE\\Nope\\Deeper' 2>&1
      Remove-ItemProperty -Path $c -Name AllowEncryptionOracle
      $gone = Remove-ItemProperty -Path $c -Name AllowEncryptionOracle 2>&1
      New-ItemProperty -Path $c -Name Keep -Value 1 -PropertyType DWord | Out-Null
      New-Item -Path $c -Force | Out-Null   # -Force on an existing key recreates it empty
      $afterForce = @((Get-Item $c).Property)
      Remove-Item -Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System\\CredSSP' -Recurse
      [ordered]@{
        made = @($made.Name, $made.PSChildName); pValue = $p.AllowEncryptionOracle
        dup = @($dup[0].FullyQualifiedErrorId, $dup[0].ToString())
        exists = @($exists[0].FullyQualifiedErrorId, $exists[0].ToString())
        orphan = @($orphan[0].FullyQualifiedErrorId, $orphan[0].ToString())
        gone = $gone[0].FullyQualifiedErrorId
        afterForce = $afterForce.Count
        test = Test-Path $c
      }`, [CREDSSP]);
    expect(r.error).toBeNull();
    const o = r.output[0] as Record<string, unknown>;
    expect(o.made).toEqual(['HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System\\CredSSP\\Parameters', 'Parameters']);
    expect(o.pValue).toBe(2);
    expect(o.dup).toEqual(['System.IO.IOException,Microsoft.PowerShell.Commands.NewItemPropertyCommand', 'The property already exists.']);
    expect(o.exists).toEqual(['System.IO.IOException,Microsoft.PowerShell.Commands.NewItemCommand', 'A key in this path already exists.']);
    expect(o.orphan).toEqual(['System.ArgumentException,Microsoft.PowerShell.Commands.NewItemCommand', 'The registry key at the specified path does not exist.']);
    expect(o.gone).toBe('System.Management.Automation.PSArgumentException,Microsoft.PowerShell.Commands.RemoveItemPropertyCommand');
    expect(o.afterForce).toBe(0);
    expect(o.test).toBe(false);
    const keys = Object.keys(host.read().registry);
    expect(keys.some((k) => /CredSSP/.test(k))).toBe(false);
  });

  it('Remove-Item of a key with subkeys needs -Recurse (no prompt possible remotely)', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, `Remove-Item -Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT'`);
    expect(r.error?.fqid).toBe('System.Management.Automation.PSInvalidOperationException,Microsoft.PowerShell.Commands.RemoveItemCommand');
    expect(host.read().registry[PROFILE_LIST_KEY]).toBeDefined();
  });

  it('Get-ChildItem / Rename-Item of ProfileList keys (the .bak rename)', async () => {
    const host = makeLabHost();
    const sid = Object.keys(host.state.registry).find((k) => /-1001$/.test(k))!.split('\\').pop()!;
    const r = await runLab(host.statePath, `param($pl, $sid)
      $kids = @(Get-ChildItem $pl)
      $one = $kids | Where-Object PSChildName -eq $sid
      $kind = $one.GetValueKind('ProfileImagePath').ToString(); $path = $one.GetValue('ProfileImagePath')
      Rename-Item -Path "$pl\\$sid" -NewName "$sid.bak"
      $clash = Rename-Item -Path "$pl\\S-1-5-18" -NewName 'S-1-5-19' -ErrorAction SilentlyContinue -ErrorVariable ev
      [ordered]@{
        count = $kids.Count; type = $one.PSObject.TypeNames[0]; name = $one.Name; pspath = $one.PSPath; props = @($one.Property)
        kind = $kind; path = $path
        names = @(Get-ChildItem $pl -Name)
        clash = $ev[0].FullyQualifiedErrorId
      }`, [PROFILE_LIST, sid]);
    expect(r.error).toBeNull();
    const o = r.output[0] as Record<string, unknown>;
    expect(o.count).toBe(7);
    expect(o.type).toBe('Microsoft.Win32.RegistryKey');
    expect(o.name).toBe(`${PROFILE_LIST_KEY}\\${sid}`);
    expect(o.pspath).toBe(`Microsoft.PowerShell.Core\\Registry::${PROFILE_LIST_KEY}\\${sid}`);
    expect(o.props).toEqual(['ProfileImagePath', 'Flags', 'State', 'RefCount', 'ProfileLoadTimeLow', 'ProfileLoadTimeHigh']);
    expect(o.kind).toBe('ExpandString');
    expect(o.path).toBe('C:\\Users\\alice');
    expect(o.names).toContain(`${sid}.bak`);
    expect(o.names).not.toContain(sid);
    expect(o.clash).toBe('System.ArgumentException,Microsoft.PowerShell.Commands.RenameItemCommand');
    const reg = host.read().registry;
    expect(reg[`${PROFILE_LIST_KEY}\\${sid}.bak`].ProfileImagePath).toEqual({ kind: 'ExpandString', data: 'C:\\Users\\alice' });
    expect(reg[`${PROFILE_LIST_KEY}\\${sid}`]).toBeUndefined();
  });
});

describe('lab RegistryKey.GetValue options', () => {
  it('expands REG_EXPAND_SZ by default and returns it as stored with DoNotExpandEnvironmentNames', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, `param($pl)
      $k = Get-Item -LiteralPath "$pl\\S-1-5-18"
      [ordered]@{
        expanded = $k.GetValue('ProfileImagePath')
        asEnum = $k.GetValue('ProfileImagePath', $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
        asText = $k.GetValue('ProfileImagePath', $null, 'DoNotExpandEnvironmentNames')
        none = $k.GetValue('ProfileImagePath', $null, [Microsoft.Win32.RegistryValueOptions]::None)
        missing = $k.GetValue('Nope', 'fallback', 'DoNotExpandEnvironmentNames')
        dword = $k.GetValue('Flags', $null, 'DoNotExpandEnvironmentNames').GetType().FullName
        programData = (Get-Item -LiteralPath $pl).GetValue('ProgramData', $null, 'DoNotExpandEnvironmentNames')
      }`, [PROFILE_LIST]);
    expect(r.error).toBeNull();
    expect(r.output[0]).toEqual({
      expanded: 'C:\\Windows\\system32\\config\\systemprofile',
      asEnum: '%systemroot%\\system32\\config\\systemprofile',
      asText: '%systemroot%\\system32\\config\\systemprofile',
      none: 'C:\\Windows\\system32\\config\\systemprofile',
      missing: 'fallback',
      dword: 'System.Int32',
      programData: '%SystemDrive%\\ProgramData',
    });
  });
});

describe('lab reg.exe', () => {
  it('exports a key to a UTF-16LE .reg file and imports it back (success on stderr)', async () => {
    const host = makeLabHost();
    const sid = Object.keys(host.state.registry).find((k) => /-1002$/.test(k))!.split('\\').pop()!;
    const r = await runLab(host.statePath, `param($sid, $pl)
      $ErrorActionPreference = 'Continue'
      $out = reg export "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\$sid" 'C:\\ProgramData\\rdpfix\\p.reg' /y
      $code1 = $LASTEXITCODE
      Remove-Item "$pl\\$sid"
      $imp = reg import 'C:\\ProgramData\\rdpfix\\p.reg' 2>&1
      $code2 = $LASTEXITCODE
      [ordered]@{ out = $out; code1 = $code1; imp = @($imp | ForEach-Object { $_.GetType().Name + ':' + $_.ToString() }); impFqid = $imp[0].FullyQualifiedErrorId; code2 = $code2
        back = (Get-ItemProperty "$pl\\$sid").ProfileImagePath }`, [sid, PROFILE_LIST]);
    expect(r.error).toBeNull();
    const o = r.output[0] as Record<string, unknown>;
    expect(o.out).toBe('The operation completed successfully.');
    expect(o.code1).toBe(0);
    expect(o.imp).toEqual(['ErrorRecord:The operation completed successfully.']);
    expect(o.impFqid).toBe('NativeCommandError');
    expect(o.code2).toBe(0);
    expect(o.back).toBe('C:\\Users\\bob');
    const file = host.read().files['C:\\ProgramData\\rdpfix\\p.reg'];
    expect(file.type).toBe('file');
    expect(file.sddl).toBe('O:BAG:SYD:(A;;FA;;;SY)(A;;FA;;;BA)');
    const bytes = Buffer.from(file.content!, 'base64');
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xfe]);
    const text = bytes.subarray(2).toString('utf16le');
    expect(text.startsWith('Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\')).toBe(true);
    expect(text).toContain('"Flags"=dword:00000000\r\n');
    expect(text).toContain('"ProfileImagePath"=hex(2):43,00,3a,00,5c,00');
  });

  it('query prints reg.exe lines; a missing key is exit 1 + stderr, terminating under Stop', async () => {
    const host = makeLabHost((s) => { s.registry[TS_POLICY_KEY] = { fDenyTSConnections: { kind: 'DWord', data: 1 } }; });
    const r = await runLab(host.statePath, `
      $ErrorActionPreference = 'Continue'
      $q = reg query 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp' /v MaxInstanceCount
      $code1 = $LASTEXITCODE
      $p = reg query 'HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services' /v fDenyTSConnections
      $miss = reg query 'HKLM\\SOFTWARE\\Nope' 2>&1
      $code2 = $LASTEXITCODE
      $ErrorActionPreference = 'Stop'
      $thrown = $null
      try { reg query 'HKLM\\SOFTWARE\\Nope' } catch { $thrown = $_.FullyQualifiedErrorId }
      [ordered]@{ q = $q; code1 = $code1; p = $p[2]; miss = $miss[0].ToString(); missType = $miss[0].Exception.GetType().FullName; code2 = $code2; thrown = $thrown }`);
    expect(r.error).toBeNull();
    const o = r.output[0] as Record<string, unknown>;
    expect(o.q).toEqual(['', 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp', '    MaxInstanceCount    REG_DWORD    0xffffffff', '']);
    expect(o.code1).toBe(0);
    expect(o.p).toBe('    fDenyTSConnections    REG_DWORD    0x1');
    expect(o.miss).toBe('ERROR: The system was unable to find the specified registry key or value.');
    expect(o.missType).toBe('System.Management.Automation.RemoteException');
    expect(o.code2).toBe(1);
    expect(o.thrown).toBe('NativeCommandError');
  });
});
