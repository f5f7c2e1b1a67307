import { describe, it, expect } from 'vitest';
import { makeLabHost, runLab } from '../helpers/lab.js';
import { MACHINE_KEYS_DIR, RDP_KEY_PREFIX, MACHINE_KEYS_SDDL, RDP_KEY_SDDL } from '../../src/lab/base-host.js';
import type { LabHostState } from '../../src/lab/state.js';

const rdpKey = (s: LabHostState) => `${MACHINE_KEYS_DIR}\\${RDP_KEY_PREFIX}_${s.machineGuid}`;
const USER = 'S-1-5-21-111-222-333-1001';

/** MachineKeys and the RDP key owned by a stray user who alone has access (a "broken MachineKeys ACL"). */
function brokenAcl(s: LabHostState) {
  s.files[MACHINE_KEYS_DIR].sddl = `O:${USER}G:SYD:P(A;;FA;;;${USER})`;
  s.files[rdpKey(s)].sddl = `O:${USER}G:SYD:P(A;;FA;;;${USER})`;
}

describe('lab file system: reads and shapes', () => {
  it('Get-Acl, icacls listing, Get-ChildItem, Test-Path and errors look like Windows', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, `param($mk, $key)
      $acl = Get-Acl -LiteralPath $mk
      $items = @(Get-ChildItem -LiteralPath $mk)
      $err = $null; try { Get-Item -LiteralPath 'C:\\nope\\x' } catch { $err = $_ }
      $aclErr = $null; try { Get-Acl -LiteralPath 'C:\\nope' } catch { $aclErr = $_ }
      $readErr = $null; try { Get-Content -LiteralPath $key } catch { $readErr = $_ }
      [pscustomobject]@{
        Sddl = $acl.Sddl; Owner = $acl.Owner; Protected = $acl.AreAccessRulesProtected
        AclType = $acl.PSObject.TypeNames[0]; AccessToString = $acl.AccessToString
        Rule0 = [string]$acl.Access[0].FileSystemRights; Rule0Id = $acl.Access[0].IdentityReference.Value; Rule0Inh = $acl.Access[0].IsInherited
        Icacls = @(icacls $mk); Exit = $LASTEXITCODE
        Names = @($items | ForEach-Object Name); Type0 = $items[0].PSObject.TypeNames[0]; Mode = $items[0].Mode
        IsDir = (Get-Item -LiteralPath $mk).PSIsContainer; Time = $items[0].LastWriteTime.GetType().FullName
        Leaf = Test-Path -LiteralPath $key -PathType Leaf; Container = Test-Path -LiteralPath $key -PathType Container
        Implied = Test-Path -LiteralPath 'C:\\ProgramData\\Microsoft\\Crypto'
        Err = $err.FullyQualifiedErrorId; ErrMsg = $err.ToString(); AclErr = $aclErr.FullyQualifiedErrorId
        ReadErr = $readErr.FullyQualifiedErrorId; ReadMsg = $readErr.ToString()
      }`, [MACHINE_KEYS_DIR, rdpKey(host.state)]);
    expect(r.error).toBeNull();
    const o = r.output[0] as Record<string, unknown>;
    expect(o.Sddl).toBe(MACHINE_KEYS_SDDL);
    expect(o.Owner).toBe('NT AUTHORITY\\SYSTEM');
    expect(o.Protected).toBe(true);
    expect(o.AclType).toBe('System.Security.AccessControl.DirectorySecurity');
    expect(o.AccessToString).toBe('Everyone Allow  Write, Read, Synchronize\nBUILTIN\\Administrators Allow  FullControl');
    expect(o).toMatchObject({ Rule0: 'Write, Read, Synchronize', Rule0Id: 'Everyone', Rule0Inh: false });
    // Azure Backup troubleshooting doc: default MachineKeys listing is Everyone:(R,W), BUILTIN\Administrators:(F).
    const pad = ' '.repeat(MACHINE_KEYS_DIR.length + 1);
    expect(o.Icacls).toEqual([
      `${MACHINE_KEYS_DIR} Everyone:(R,W)`,
      `${pad}BUILTIN\\Administrators:(F)`,
      '',
      'Successfully processed 1 files; Failed processing 0 files',
    ]);
    expect(o.Exit).toBe(0);
    expect((o.Names as string[]).sort()).toEqual(Object.keys(host.state.files).filter((k) => k.startsWith(MACHINE_KEYS_DIR + '\\')).map((k) => k.split('\\').pop()).sort());
    expect(o).toMatchObject({ Type0: 'System.IO.FileInfo', Mode: '-a----', IsDir: true, Time: 'System.DateTime', Leaf: true, Container: false, Implied: true });
    expect(o.Err).toBe('PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand');
    expect(o.ErrMsg).toBe("Cannot find path 'C:\\nope\\x' because it does not exist.");
    expect(o.AclErr).toBe('GetAcl_PathNotFound,Microsoft.PowerShell.Commands.GetAclCommand');
    // The RDP key grants only NETWORK SERVICE and SYSTEM: an administrator cannot read its bytes.
    expect(o.ReadErr).toBe('GetContentReaderUnauthorizedAccessError,Microsoft.PowerShell.Commands.GetContentCommand');
    expect(o.ReadMsg).toBe(`Access to the path '${rdpKey(host.state)}' is denied.`);
  });
});

describe('lab file system: MachineKeys repairs', () => {
  it('Microsoft\'s Azure ACL reset (takeown + icacls /grant) repairs a broken MachineKeys ACL', async () => {
    const host = makeLabHost(brokenAcl);
    const r = await runLab(host.statePath, `param($mk)
      $ErrorActionPreference = 'Continue'
      $before = @(icacls $mk /t /c /grant '*S-1-5-18:(F)' 2>&1 | ForEach-Object { "$_" }); $beforeExit = $LASTEXITCODE
      $listErr = $null; try { Get-ChildItem -LiteralPath $mk -ErrorAction Stop } catch { $listErr = $_.FullyQualifiedErrorId }
      $take = @(takeown /f $mk /a /r /d y); $takeExit = $LASTEXITCODE
      icacls $mk /t /c /grant "NT AUTHORITY\\System:(F)" | Out-Null
      icacls $mk /t /c /grant "NT AUTHORITY\\NETWORK SERVICE:(R)" | Out-Null
      $grant = @(icacls $mk /t /c /grant "BUILTIN\\Administrators:(F)")
      [pscustomobject]@{ Before = $before; BeforeExit = $beforeExit; ListErr = $listErr; Take = $take; TakeExit = $takeExit; Grant = $grant; Exit = $LASTEXITCODE }`, [MACHINE_KEYS_DIR]);
    expect(r.error).toBeNull();
    const o = r.output[0] as Record<string, unknown>;
    expect(o.Before).toEqual([`${MACHINE_KEYS_DIR}: Access is denied.`, 'Successfully processed 0 files; Failed processing 1 files']);
    expect(o.BeforeExit).toBe(5);
    expect(o.ListErr).toBe('DirUnauthorizedAccessError,Microsoft.PowerShell.Commands.GetChildItemCommand');
    expect(o.Take).toContain(`SUCCESS: The file (or folder): "${rdpKey(host.state)}" now owned by the administrators group.`);
    expect(o.TakeExit).toBe(0);
    expect((o.Grant as string[]).at(-1)).toBe('Successfully processed 3 files; Failed processing 0 files');
    expect(o.Grant).toContain(`processed file: ${rdpKey(host.state)}`);
    const after = host.read().files;
    expect(after[rdpKey(host.state)].sddl).toBe(`O:BAG:SYD:P(A;;FA;;;${USER})(A;;FA;;;SY)(A;;FR;;;NS)(A;;FA;;;BA)`);
    expect(after[MACHINE_KEYS_DIR].sddl.startsWith('O:BAG:SYD:P(')).toBe(true);
  });

  it('icacls /save writes UTF-16LE name/SDDL pairs and /restore on the parent folder puts the DACLs back', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, `param($mk)
      New-Item -ItemType Directory -Path 'C:\\temp' | Out-Null
      $save = @(icacls $mk /save C:\\temp\\mk.acl /t /c)
      $bytes = [byte[]](Get-Content -LiteralPath C:\\temp\\mk.acl -Encoding Byte -Raw)
      icacls $mk /t /c /grant '*S-1-1-0:(F)' | Out-Null
      $mid = (Get-Acl -LiteralPath $mk).Sddl
      $restore = @(icacls 'C:\\ProgramData\\Microsoft\\Crypto\\RSA' /restore C:\\temp\\mk.acl)
      [pscustomobject]@{ Save = $save; Text = [Text.Encoding]::Unicode.GetString($bytes); First = [int]$bytes[0]; Second = [int]$bytes[1]; Mid = $mid; Restore = $restore; Exit = $LASTEXITCODE }`, [MACHINE_KEYS_DIR]);
    expect(r.error).toBeNull();
    const o = r.output[0] as Record<string, unknown>;
    expect(o.Save).toContain('Successfully processed 3 files; Failed processing 0 files');
    const key = rdpKey(host.state).split('\\').pop();
    expect(o.Text).toContain(`MachineKeys\r\nD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)\r\n`);
    expect(o.Text).toContain(`MachineKeys\\${key}\r\nD:P(A;;FR;;;NS)(A;;FA;;;SY)\r\n`);
    expect([o.First, o.Second]).toEqual([77, 0]); // 'M' in UTF-16LE, no BOM
    expect(o.Mid).toContain('(A;;FA;;;WD)');
    expect(o.Restore).toContain(`processed file: ${rdpKey(host.state)}`);
    expect(o.Exit).toBe(0);
    const files = host.read().files;
    expect(files[MACHINE_KEYS_DIR].sddl).toBe(MACHINE_KEYS_SDDL);
    expect(files[rdpKey(host.state)].sddl).toBe(RDP_KEY_SDDL);
  });

  it('Set-Acl refuses an owner the caller cannot assign; SDDL edits with owner Administrators apply', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, `param($mk)
      $e = $null
      try { Get-Acl -LiteralPath $mk | Set-Acl -LiteralPath $mk } catch { $e = $_ }
      $acl = Get-Acl -LiteralPath $mk
      $acl.SetSecurityDescriptorSddlForm('O:BAG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)(A;;FR;;;NS)')
      Set-Acl -LiteralPath $mk -AclObject $acl
      [pscustomobject]@{ Fqid = $e.FullyQualifiedErrorId; Msg = $e.ToString(); Cat = $e.CategoryInfo.Category.ToString(); Owner = (Get-Acl -LiteralPath $mk).Owner }`, [MACHINE_KEYS_DIR]);
    expect(r.error).toBeNull();
    const o = r.output[0] as Record<string, unknown>;
    expect(o.Fqid).toBe('System.InvalidOperationException,Microsoft.PowerShell.Commands.SetAclCommand');
    expect(o.Msg).toBe('The security identifier is not allowed to be the owner of this object.');
    expect(o.Cat).toBe('InvalidOperation');
    expect(o.Owner).toBe('BUILTIN\\Administrators');
    expect(host.read().files[MACHINE_KEYS_DIR].sddl).toBe('O:BAG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)(A;;FR;;;NS)');
  });

  it('renaming MachineKeys moves every key; a new folder inherits the parent ACL; copying the RDP key is denied', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, `param($mk, $key)
      Rename-Item -LiteralPath $mk -NewName MachineKeys_old
      $gone = Test-Path -LiteralPath $mk
      New-Item -ItemType Directory -Path $mk | Out-Null
      $e = $null
      try { Copy-Item -LiteralPath ($key -replace 'MachineKeys', 'MachineKeys_old') -Destination 'C:\\ProgramData' } catch { $e = $_.FullyQualifiedErrorId }
      $dup = $null
      try { Rename-Item -LiteralPath ($mk + '_old') -NewName MachineKeys } catch { $dup = $_.FullyQualifiedErrorId }
      [pscustomobject]@{ Gone = $gone; CopyErr = $e; DupErr = $dup; Listing = @(icacls $mk) }`, [MACHINE_KEYS_DIR, rdpKey(host.state)]);
    expect(r.error).toBeNull();
    const o = r.output[0] as Record<string, unknown>;
    expect(o.Gone).toBe(false);
    expect(o.CopyErr).toBe('CopyFileInfoItemUnauthorizedAccessError,Microsoft.PowerShell.Commands.CopyItemCommand');
    expect(o.DupErr).toBe('RenameItemIOError,Microsoft.PowerShell.Commands.RenameItemCommand');
    expect((o.Listing as string[])[0]).toBe(`${MACHINE_KEYS_DIR} NT AUTHORITY\\SYSTEM:(I)(OI)(CI)(F)`);
    const files = host.read().files;
    const oldKey = rdpKey(host.state).replace('MachineKeys', 'MachineKeys_old');
    expect(files[oldKey].sddl).toBe(RDP_KEY_SDDL);
    expect(files[rdpKey(host.state)]).toBeUndefined();
    expect(files[MACHINE_KEYS_DIR].sddl).toBe('O:BAG:SYD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;0x1200a9;;;WD)');
  });
  it('what machinekeys-repair relies on: exact owner via Set-Acl + icacls /setowner; moving or deleting a key through the folder\'s delete-child right', async () => {
    const host = makeLabHost((s) => { s.files[MACHINE_KEYS_DIR].sddl = 'O:BAG:SYD:PAI(A;OICI;FA;;;BA)'; });
    const r = await runLab(host.statePath, `param($mk, $key)
      $acl = Get-Acl -LiteralPath $mk
      $acl.SetSecurityDescriptorSddlForm('O:BAG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)')
      Set-Acl -LiteralPath $mk -AclObject $acl
      $own = @(icacls $mk /setowner '*S-1-5-18' /q); $ownExit = $LASTEXITCODE
      $mid = (Get-Acl -LiteralPath $mk).Sddl
      New-Item -ItemType Directory -Path 'C:\\ProgramData\\Microsoft\\Crypto\\RSA\\aside' | Out-Null
      Move-Item -LiteralPath $key -Destination ('C:\\ProgramData\\Microsoft\\Crypto\\RSA\\aside\\' + $key.Split('\\')[-1])
      Move-Item -LiteralPath ('C:\\ProgramData\\Microsoft\\Crypto\\RSA\\aside\\' + $key.Split('\\')[-1]) -Destination $key
      $acl = Get-Acl -LiteralPath $mk
      $acl.SetSecurityDescriptorSddlForm('O:BAG:SYD:PAI(A;;0x12019f;;;WD)')
      Set-Acl -LiteralPath $mk -AclObject $acl
      $e = $null; try { Remove-Item -LiteralPath $key -Force } catch { $e = $_.FullyQualifiedErrorId }
      [pscustomobject]@{ Mid = $mid; Sddl = (Get-Acl -LiteralPath $mk).Sddl; Own = $own; OwnExit = $ownExit; DenyDelete = $e }`, [MACHINE_KEYS_DIR, rdpKey(host.state)]);
    expect(r.error).toBeNull();
    expect(r.output[0]).toEqual({ Mid: MACHINE_KEYS_SDDL, Sddl: 'O:BAG:SYD:PAI(A;;0x12019f;;;WD)', Own: ['Successfully processed 1 files; Failed processing 0 files'], OwnExit: 0,
      DenyDelete: 'RemoveFileSystemItemUnAuthorizedAccess,Microsoft.PowerShell.Commands.RemoveItemCommand' });
    const files = host.read().files;
    // The key went out and back through MachineKeys' FILE_DELETE_CHILD (its own ACL grants administrators nothing), unchanged.
    expect(files[rdpKey(host.state)]).toEqual(host.state.files[rdpKey(host.state)]);
  });
});
