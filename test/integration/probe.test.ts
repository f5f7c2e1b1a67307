import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { Broker } from '../../src/broker/broker.js';
import { probeFleet } from '../../src/probe/probe.js';
import { MACHINE_KEYS_DIR, RDP_KEY_PREFIX, RDP_TCP_KEY, HKLM } from '../../src/lab/base-host.js';
import { makeLabHost } from '../helpers/lab.js';
import { labInventory } from '../helpers/engine.js';

interface Section { [k: string]: unknown }

describe('rdpfix probe on a lab fleet of every scenario', () => {
  it('reads each host through the broker with the Windows commands, read-only', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-probe-')), 'lab');
    expect((await runCli(['lab', 'init', dir, '--hosts', '12', '--seed', '5'])).code).toBe(0);
    const r = await runCli(['probe', '-i', path.join(dir, 'inventory.yaml'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.failed).toBe(0);
    const by: Record<string, { sections: Record<string, unknown>; errors: Record<string, unknown>; computerName: string }> = Object.fromEntries(
      doc.results.map((x: { host: string; data: unknown }) => [x.host, x.data]),
    );
    const ts = (h: string) => (by[h]!.sections.services as Section[]).find((s) => s.name === 'TermService')!.status;
    const rdp = (h: string) => by[h]!.sections.rdp as Section;
    expect(by['lab-001']!.computerName).toBe('LAB-001');
    // TermService is the session manager: where it is not running (lab-002 stopped, lab-003 hung starting) the
    // WTS API cannot list sessions, and that section alone reports the error.
    for (const h of Object.keys(by)) {
      if (h === 'lab-002' || h === 'lab-003') expect(Object.keys(by[h]!.errors)).toEqual(['sessions']);
      else expect(by[h]!.errors).toEqual({});
    }
    expect((by['lab-002']!.errors as Record<string, { message: string }>).sessions!.message).toMatch(/WTS API.*Win32 error 1722.*TermService/);
    expect(ts('lab-001')).toBe('Running');
    expect(ts('lab-002')).toBe('Stopped');
    expect(ts('lab-003')).toBe('StartPending');
    expect((by['lab-005']!.sections.networkProfiles as Section[])[0]!.category).toBe('Public');
    expect((by['lab-006']!.sections.firewall as Section[]).map((f) => f.enabled)).toEqual([false, false]);
    expect(rdp('lab-009')).toMatchObject({ userAuthentication: 1, securityLayer: 0, policySecurityLayer: null }); // local mismatch (nla-policy is lab-013)
    expect(rdp('lab-010').fDenyTSConnections).toBe(1);
    expect(rdp('lab-001')).toMatchObject({ fDenyTSConnections: 0, portNumber: 3389, maxInstanceCount: -1 }); // REG_DWORD 4294967295 reads as Int32 -1
    expect(rdp('lab-011').maxInstanceCount).toBe(2);
    const sessions = (h: string) => by[h]!.sections.sessions as Section[];
    expect(sessions('lab-004').filter((x) => x.state === 4 && x.user !== '')).toHaveLength(2);   // WTSDisconnected
    expect(sessions('lab-001').map((x) => x.id)).toEqual([0, 1, 2, 65536]);
    expect(sessions('lab-001').find((x) => x.id === 2)).toMatchObject({ state: 0, stateName: 'Active', winStation: 'RDP-Tcp#0', user: 'alice' });
    expect((by['lab-001']!.sections.certificate as Section[])).toHaveLength(1);
    expect((by['lab-001']!.sections.certificate as Section[])[0]).toMatchObject({ notBefore: expect.stringMatching(/Z$/), notAfter: expect.stringMatching(/Z$/) });

    // TermService's dependents; its process start (the lab has no Win32_Process: unknown, as the probe reports it).
    const services = (h: string) => by[h]!.sections.services as Section[];
    expect(services('lab-001').find((x) => x.name === 'TermService')!.dependents).toEqual([{ name: 'UmRdpService', status: 'Running', startType: 'Manual' }]);
    expect(services('lab-002').find((x) => x.name === 'TermService')!.dependents).toEqual([{ name: 'UmRdpService', status: 'Stopped', startType: 'Manual' }]);
    expect(by['lab-001']!.sections.termService).toEqual({ processId: expect.any(Number), processStart: null });
    expect(by['lab-001']!.sections.clock).toEqual({ utcNow: expect.stringMatching(/Z$/), lastBoot: expect.stringMatching(/Z$/) });
    expect(rdp('lab-001')).toMatchObject({ minEncryptionLevel: 2, policyMinEncryptionLevel: null });

    // The rules that cover the RDP port in use, with their program/service conditions, and the profiles.
    const fw = (h: string) => by[h]!.sections.rdpPortFirewall as { port: number; profiles: Section[]; rules: Section[] };
    expect(fw('lab-001').port).toBe(3389);
    expect(fw('lab-001').profiles.map((p) => [p.name, p.enabled])).toEqual([['Domain', true], ['Private', true], ['Public', true]]);
    expect(fw('lab-001').rules.find((r) => r.name === 'RemoteDesktop-UserMode-In-TCP')).toEqual({ name: 'RemoteDesktop-UserMode-In-TCP', enabled: true, direction: 'Inbound',
      action: 'Allow', profile: 'Domain, Private, Public', localPort: '3389', program: '%SystemRoot%\\system32\\svchost.exe', service: 'termservice', source: 'Local' });
    expect(fw('lab-001').rules.map((r) => r.name)).not.toContain('RemoteDesktop-UserMode-In-UDP');
    expect(fw('lab-006').rules.find((r) => r.name === 'RemoteDesktop-UserMode-In-TCP')!.enabled).toBe(false);
    expect(fw('lab-005').rules.find((r) => r.name === 'RemoteDesktop-UserMode-In-TCP')!.profile).toBe('Domain, Private');

    // The certificate binding, the MachineKeys folder and the RDP key file with their ACLs, pending restart.
    const thumb = (by['lab-001']!.sections.certificate as Section[])[0]!.thumbprint;
    expect(by['lab-001']!.sections.rdpCertificateBinding).toEqual({ thumbprint: thumb, inRemoteDesktopStore: true, inMyStore: null });
    const mk = (h: string) => by[h]!.sections.machineKeys as Section & { rdpKey: Section };
    expect(mk('lab-001')).toMatchObject({ exists: true, sddl: 'O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)', aclError: null });
    const keyName = `f686aace6942fb7f7ceb231212eef4a4_${mk('lab-001').machineGuid}`;
    expect(mk('lab-001').rdpKey).toEqual({ name: keyName, path: `${MACHINE_KEYS_DIR}\\${keyName}`, storage: 'capi', exists: true, length: expect.any(Number), sddl: 'O:BAG:SYD:P(A;;FR;;;NS)(A;;FA;;;SY)', aclError: null });
    // The probe is an administrator: the documented key ACL shuts it out (NTE_BAD_KEYSET), which the diagnosis explains.
    expect((by['lab-001']!.sections.certificate as Section[])[0]).toMatchObject({ privateKeyReadable: false, privateKeyError: 0x80090016 | 0 });
    expect(mk('lab-007').rdpKey.sddl).toBe('O:BAG:SYD:P(A;;FA;;;BA)');
    expect(mk('lab-007').sddl).toBe('O:BAG:SYD:PAI(A;OICI;FA;;;BA)');
    expect(by['lab-001']!.sections.pendingReboot).toEqual({ componentBasedServicing: false, windowsUpdate: false, pendingFileRenameOperations: 0 });
  }, 180_000);

  it('reads a missing RDP key file, a custom port and the pending-restart signals', async () => {
    const host = makeLabHost((st) => {
      delete st.files[`${MACHINE_KEYS_DIR}\\${RDP_KEY_PREFIX}_${st.machineGuid}`];
      st.registry[RDP_TCP_KEY]!.PortNumber = { kind: 'DWord', data: 3390 };
      st.registry[`${HKLM}\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate`] = {};
      st.registry[`${HKLM}\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update`] = {};
      st.registry[`${HKLM}\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired`] = {};
      st.registry[`${HKLM}\\SYSTEM\\CurrentControlSet\\Control\\Session Manager`] = {
        PendingFileRenameOperations: { kind: 'MultiString', data: ['\\??\\C:\\Windows\\Temp\\a.tmp', '', '\\??\\C:\\Windows\\Temp\\b.tmp', ''] },
      };
    });
    const broker = new Broker({ processes: 1 });
    try {
      const [r] = await probeFleet(labInventory([host]), broker, { timeoutMs: 120_000 });
      expect(r!.ok).toBe(true);
      if (!r!.ok) return;
      expect(r!.data.errors).toEqual({});
      const s = r!.data.sections as Record<string, Section>;
      expect((s.machineKeys as { rdpKey: Section }).rdpKey).toMatchObject({ exists: false, sddl: null, aclError: null });
      // The built-in rules admit 3389 only; the Shadow rule (any port) is RdpSa.exe's: diagnosis leaves it out.
      expect(s.rdpPortFirewall!.port).toBe(3390);
      expect((s.rdpPortFirewall!.rules as Section[]).map((x) => x.name)).toEqual(['RemoteDesktop-Shadow-In-TCP']);
      expect(s.pendingReboot).toEqual({ componentBasedServicing: false, windowsUpdate: true, pendingFileRenameOperations: 2 });
    } finally {
      await broker.close();
    }
  }, 180_000);
});

