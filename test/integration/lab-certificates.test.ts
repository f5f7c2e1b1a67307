import { describe, it, expect } from 'vitest';
import { makeLabHost, runLab } from '../helpers/lab.js';
import { MACHINE_KEYS_DIR, RDP_KEY_PREFIX, RDP_KEY_SDDL, RDP_TCP_KEY, thumbprintBytes } from '../../src/lab/base-host.js';
import type { LabHostState } from '../../src/lab/state.js';

const STORE = 'LocalMachine\\Remote Desktop';
const keyPath = (s: LabHostState) => `${MACHINE_KEYS_DIR}\\${RDP_KEY_PREFIX}_${s.machineGuid}`;
const RCM = 'Microsoft-Windows-TerminalServices-RemoteConnectionManager';
const EXISTS_1058 = 'RD Session host server has failed to create a new self-signed certificate to be used for RD Session host server authentication on TLS connections, the relevant status code was object already exists.';
const DENIED_1058 = 'The RD Session Host Server has failed to replace the expired self signed certificate used for RD Session Host Server authentication on TLS connections. The relevant status code was Access is denied.';
const SCHANNEL_36870 = 'A fatal error occurred when attempting to access the TLS server credential private key. The error code returned from the cryptographic module is 0x8009030D. The internal error state is 10001.';

/** Runs the RD service start hook and reports what a check step would see. */
const START_AND_READ = `param($svc)
  $before = Test-LabRdpTlsReady
  Update-LabRdpCertificateOnServiceStart -ServiceName $svc
  $certs = @(Get-ChildItem -Path 'Cert:\\LocalMachine\\Remote Desktop' -ErrorAction SilentlyContinue)
  [pscustomobject]@{ Before = $before; After = Test-LabRdpTlsReady; Thumbs = @($certs | ForEach-Object Thumbprint)
    Days = @($certs | ForEach-Object { [int]($_.NotAfter - (Get-Date)).TotalDays }) }`;

describe('lab certificate store: shapes', () => {
  it('Get-ChildItem Cert:\\LocalMachine\\Remote Desktop returns X509Certificate2-shaped certs; the service can use the key, the admin session cannot open it', async () => {
    const host = makeLabHost();
    const cert = host.state.certificates[STORE][0];
    const r = await runLab(host.statePath, `
      $c = @(Get-ChildItem -Path 'Cert:\\LocalMachine\\Remote Desktop')
      $one = Get-Item -Path ('Cert:\\LocalMachine\\Remote Desktop\\' + $c[0].Thumbprint)
      $e = $null; try { Get-Item -Path 'Cert:\\LocalMachine\\Remote Desktop\\0000' } catch { $e = $_ }
      [pscustomobject]@{ Count = $c.Count; Type = $c[0].PSObject.TypeNames[0]; Thumb = $c[0].Thumbprint; Subject = $c[0].Subject
        NotAfterType = $c[0].NotAfter.GetType().FullName; NotAfter = $c[0].NotAfter.ToUniversalTime().ToString('o'); HasKey = $c[0].HasPrivateKey
        PSPath = $c[0].PSPath; KeyNull = ($null -eq $c[0].PrivateKey); Same = $one.Thumbprint
        KeyError = $(try { $null = $c[0].get_PrivateKey(); $null } catch { @($_.Exception.GetType().FullName, $_.Exception.InnerException.GetType().FullName, $_.Exception.InnerException.HResult) })
        Exists = Test-Path -Path 'Cert:\\LocalMachine\\Remote Desktop'; Ready = Test-LabRdpTlsReady
        Err = $e.FullyQualifiedErrorId; Msg = $e.ToString() }`);
    expect(r.error).toBeNull();
    const o = r.output[0] as Record<string, unknown>;
    expect(o).toMatchObject({
      Count: 1, Type: 'System.Security.Cryptography.X509Certificates.X509Certificate2', Thumb: cert.Thumbprint, Subject: 'CN=LAB-001',
      NotAfterType: 'System.DateTime', HasKey: true, Same: cert.Thumbprint, Exists: true, Ready: true,
      PSPath: `Microsoft.PowerShell.Security\\Certificate::LocalMachine\\Remote Desktop\\${cert.Thumbprint}`,
      // The documented RDP key ACL (NETWORK SERVICE Read, SYSTEM Full) grants the remoting administrator nothing: the
      // property hides the getter's exception, the getter method surfaces NTE_BAD_KEYSET (0x80090016).
      KeyNull: true,
      KeyError: ['System.Management.Automation.MethodInvocationException', 'System.Security.Cryptography.CryptographicException', 0x80090016 | 0],
      Err: 'PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand',
      Msg: "Cannot find path 'Cert:\\LocalMachine\\Remote Desktop\\0000' because it does not exist.",
    });
    expect(new Date(o.NotAfter as string).getTime()).toBe(new Date(cert.NotAfter).getTime());
  });

  it('a key file NETWORK SERVICE cannot read leaves PrivateKey $null but HasPrivateKey True', async () => {
    const host = makeLabHost((s) => { s.files[keyPath(s)].sddl = 'O:BAG:SYD:P(A;;FA;;;SY)'; });
    const r = await runLab(host.statePath, `
      $c = Get-ChildItem -Path 'Cert:\\LocalMachine\\Remote Desktop'
      [pscustomobject]@{ HasKey = $c.HasPrivateKey; KeyNull = ($null -eq $c.PrivateKey); Ready = Test-LabRdpTlsReady }`);
    expect(r.error).toBeNull();
    expect(r.output[0]).toEqual({ HasKey: true, KeyNull: true, Ready: false });
  });
});

describe('lab certificate store: removal', () => {
  it('Remove-Item -DeleteKey removes the cert but, in remoting, not the key (RemotingFailure)', async () => {
    const host = makeLabHost();
    const thumb = host.state.certificates[STORE][0].Thumbprint;
    const r = await runLab(host.statePath, `param($t)
      Remove-Item -Path "Cert:\\LocalMachine\\Remote Desktop\\$t" -DeleteKey -ErrorAction SilentlyContinue -ErrorVariable ev
      [pscustomobject]@{ Fqid = $ev[0].FullyQualifiedErrorId; Msg = $ev[0].ToString(); Left = @(Get-ChildItem 'Cert:\\LocalMachine\\Remote Desktop').Count }`, [thumb]);
    expect(r.error).toBeNull();
    const o = r.output[0] as Record<string, unknown>;
    expect(o.Fqid).toBe('RemotingFailure,Microsoft.PowerShell.Commands.RemoveItemCommand');
    expect(o.Msg).toContain('See Enable-WSManCredSSP Cmdlet help on how to enable and use CredSSP for delegation with PowerShell remoting.');
    expect(o.Left).toBe(0);
    const after = host.read();
    expect(after.certificates[STORE]).toEqual([]);
    expect(after.files[keyPath(host.state)]).toBeDefined();
  });

  it('the SA renew snippet with an empty store deletes the store itself (pitfall, ref §5.5)', async () => {
    const host = makeLabHost((s) => { s.certificates[STORE] = []; });
    const r = await runLab(host.statePath, `
      $RdpCertThumbprint = 'Cert:\\LocalMachine\\Remote Desktop\\'+((Get-ChildItem -Path 'Cert:\\LocalMachine\\Remote Desktop\\').thumbprint)
      Remove-Item -Path $RdpCertThumbprint
      [pscustomobject]@{ Path = $RdpCertThumbprint; Exists = Test-Path -Path 'Cert:\\LocalMachine\\Remote Desktop' }`);
    expect(r.error).toBeNull();
    expect(r.output[0]).toEqual({ Path: 'Cert:\\LocalMachine\\Remote Desktop\\', Exists: false });
    expect(host.read().certificates[STORE]).toBeUndefined();
  });
});

describe('lab certificate store: New-Item (stores) and Move-Item (certificates)', () => {
  it('moves a certificate with its key link to a new LocalMachine store; refuses what CertificateProvider.cs refuses', async () => {
    // Administrators may read this key too, so the session can see the key link.
    const host = makeLabHost((s) => { s.files[keyPath(s)].sddl = 'O:BAG:SYD:P(A;;FR;;;NS)(A;;FA;;;SY)(A;;FR;;;BA)'; });
    const cert = host.state.certificates[STORE][0];
    const r = await runLab(host.statePath, `param($t)
      $store = New-Item -Path 'Cert:\\LocalMachine\\rdpfix-test'
      $quiet = @(Move-Item -LiteralPath "Cert:\\LocalMachine\\Remote Desktop\\$t" -Destination 'Cert:\\LocalMachine\\rdpfix-test')
      $moved = Get-Item -Path "Cert:\\LocalMachine\\rdpfix-test\\$t"
      $back = Move-Item -Path "Cert:\\LocalMachine\\rdpfix-test\\$t" -Destination "Cert:\\LocalMachine\\Remote Desktop\\$t" -PassThru
      function Try-It([scriptblock]$Sb) { try { & $Sb; return $null } catch { return @($_.FullyQualifiedErrorId, $_.ToString()) } }
      [pscustomobject]@{
        StoreType = $store.PSObject.TypeNames[0]; StoreName = $store.Name; Quiet = $quiet.Count
        MovedKey = $moved.PrivateKey.CspKeyContainerInfo.UniqueKeyContainerName; BackPath = $back.PSPath
        Same = Try-It { Move-Item -LiteralPath "Cert:\\LocalMachine\\Remote Desktop\\$t" -Destination 'Cert:\\LocalMachine\\Remote Desktop' }
        Cross = Try-It { Move-Item -LiteralPath "Cert:\\LocalMachine\\Remote Desktop\\$t" -Destination 'Cert:\\CurrentUser\\My' }
        Container = Try-It { Move-Item -LiteralPath 'Cert:\\LocalMachine\\Remote Desktop' -Destination 'Cert:\\LocalMachine\\My' }
        NoStore = Try-It { Move-Item -LiteralPath "Cert:\\LocalMachine\\Remote Desktop\\$t" -Destination 'Cert:\\LocalMachine\\Nope' }
        Exists = Try-It { New-Item -Path 'Cert:\\LocalMachine\\rdpfix-test' -ErrorAction Stop }
        User = Try-It { New-Item -Path 'Cert:\\CurrentUser\\rdpfix-test' }
        Deep = Try-It { New-Item -Path 'Cert:\\LocalMachine\\My\\x' }
      }`, [cert.Thumbprint]);
    expect(r.error).toBeNull();
    expect(r.output[0]).toEqual({
      StoreType: 'System.Security.Cryptography.X509Certificates.X509Store', StoreName: 'rdpfix-test', Quiet: 0,
      MovedKey: cert.KeyContainer, BackPath: `Microsoft.PowerShell.Security\\Certificate::LocalMachine\\Remote Desktop\\${cert.Thumbprint}`,
      Same: ['CannotMoveToSameStore,Microsoft.PowerShell.Commands.MoveItemCommand', 'You cannot move a certificate to the same store. '],
      Cross: ['CannotMoveCrossContext,Microsoft.PowerShell.Commands.MoveItemCommand', 'You cannot move a certificate from user store to or from machine. '],
      Container: ['CannotMoveContainer,Microsoft.PowerShell.Commands.MoveItemCommand', 'You cannot move a certificate container. '],
      NoStore: ['CertProviderItemNotFound,Microsoft.PowerShell.Commands.MoveItemCommand', 'Cannot find the X509 certificate store at path LocalMachine\\Nope.'],
      Exists: ['NewItemProviderException,Microsoft.PowerShell.Commands.NewItemCommand', 'The file exists.'],
      User: ['CannotCreateUserStore,Microsoft.PowerShell.Commands.NewItemCommand', 'Creating certificate stores under CurrentUser is not supported. '],
      Deep: ['CannotCreateItem,Microsoft.PowerShell.Commands.NewItemCommand', 'You cannot create an item other than certificate store. '],
    });
    const after = host.read();
    expect(after.certificates[STORE]).toEqual([cert]);
    expect(after.certificates['LocalMachine\\rdpfix-test']).toEqual([]);
  });

  it('an empty key file is as unusable as a corrupt one', async () => {
    const host = makeLabHost((s) => { s.files[keyPath(s)].content = ''; });
    const r = await runLab(host.statePath, `[pscustomobject]@{ KeyNull = ($null -eq (Get-ChildItem 'Cert:\\LocalMachine\\Remote Desktop').PrivateKey); Ready = Test-LabRdpTlsReady }`);
    expect(r.error).toBeNull();
    expect(r.output[0]).toEqual({ KeyNull: true, Ready: false });
  });
});

describe('lab certificate store: regeneration on TermService / SessionEnv start', () => {
  it('a missing certificate is re-issued on the existing usable key and bound in SSLCertificateSHA1Hash', async () => {
    const host = makeLabHost((s) => { s.certificates[STORE] = []; });
    const r = await runLab(host.statePath, START_AND_READ, ['SessionEnv']);
    expect(r.error).toBeNull();
    const o = r.output[0] as { Before: boolean; After: boolean; Thumbs: string[]; Days: number[] };
    expect(o.Before).toBe(false);
    expect(o.After).toBe(true);
    expect(o.Thumbs).toHaveLength(1);
    expect(o.Days[0]).toBeGreaterThanOrEqual(179);
    expect(o.Days[0]).toBeLessThanOrEqual(185);
    const after = host.read();
    const cert = after.certificates[STORE][0];
    expect(cert).toMatchObject({ Subject: 'CN=LAB-001', Issuer: 'CN=LAB-001', HasPrivateKey: true, KeyContainer: `${RDP_KEY_PREFIX}_${host.state.machineGuid}` });
    expect(after.registry[RDP_TCP_KEY].SSLCertificateSHA1Hash.data).not.toEqual(host.state.registry[RDP_TCP_KEY].SSLCertificateSHA1Hash.data);
    expect(after.registry[RDP_TCP_KEY].SSLCertificateSHA1Hash).toEqual({ kind: 'Binary', data: thumbprintBytes(cert.Thumbprint) });
    expect(after.files[keyPath(host.state)].content).toBe(host.state.files[keyPath(host.state)].content);
    expect(after.events).toEqual([]);
  });

  it('an expired certificate with its key gone gets a new key file with the RDP key ACL', async () => {
    const host = makeLabHost((s) => {
      s.certificates[STORE][0].NotAfter = '2025-01-01T00:00:00.000Z';
      delete s.files[keyPath(s)];
    });
    const r = await runLab(host.statePath, START_AND_READ, ['TermService']);
    expect(r.error).toBeNull();
    expect(r.output[0]).toMatchObject({ Before: false, After: true });
    const after = host.read();
    expect(after.files[keyPath(host.state)].sddl).toBe(RDP_KEY_SDDL);
    expect(after.certificates[STORE]).toHaveLength(1);
    expect(after.certificates[STORE][0].Thumbprint).not.toBe(host.state.certificates[STORE][0].Thumbprint);
  });

  it('an unreadable key file blocks regeneration: 1058 "object already exists" and Schannel 36870', async () => {
    const host = makeLabHost((s) => { s.files[keyPath(s)].corrupt = true; });
    const r = await runLab(host.statePath, START_AND_READ, ['TermService']);
    expect(r.error).toBeNull();
    expect(r.output[0]).toMatchObject({ Before: false, After: false, Thumbs: [host.state.certificates[STORE][0].Thumbprint] });
    const ev = host.read().events;
    expect(ev.map((e) => [e.ProviderName, e.Id, e.Level, e.LogName])).toEqual([[RCM, 1058, 2, 'System'], ['Schannel', 36870, 2, 'System']]);
    expect(ev[0].Message).toBe(EXISTS_1058);
    expect(ev[1].Message).toBe(SCHANNEL_36870);
    expect(ev[1].RecordId).toBe(ev[0].RecordId + 1);
  });

  it('an expired certificate and a MachineKeys folder SYSTEM cannot write: 1058 "Access is denied"', async () => {
    const host = makeLabHost((s) => {
      s.certificates[STORE][0].NotAfter = '2025-01-01T00:00:00.000Z';
      delete s.files[keyPath(s)];
      s.files[MACHINE_KEYS_DIR].sddl = 'O:SYG:SYD:PAI(D;;FW;;;SY)(A;;FR;;;WD)(A;;FA;;;BA)';
    });
    const r = await runLab(host.statePath, START_AND_READ, ['SessionEnv']);
    expect(r.error).toBeNull();
    expect(r.output[0]).toMatchObject({ After: false });
    const after = host.read();
    expect(after.events.map((e) => [e.Id, e.Message])).toContainEqual([1058, DENIED_1058]);
    expect(after.files[keyPath(host.state)]).toBeUndefined();
  });

  it('nothing is regenerated while KeyIso is stopped', async () => {
    const host = makeLabHost((s) => {
      s.certificates[STORE] = [];
      s.services.find((x) => x.Name === 'KeyIso')!.Status = 'Stopped';
    });
    const r = await runLab(host.statePath, START_AND_READ, ['TermService']);
    expect(r.error).toBeNull();
    expect(r.output[0]).toMatchObject({ After: false, Thumbs: [] });
    expect(host.read().certificates[STORE]).toEqual([]);
  });
});
