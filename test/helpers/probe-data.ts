import { MACHINE_KEYS_DEFAULT_SDDL, type ControllerView } from '../../src/diagnose/findings.js';
import type { ProbeData } from '../../src/probe/probe.js';
import type { PortReach } from '../../src/probe/reach.js';

// The probe output of a healthy host and small builders, shared by the findings tests.
export const GUID = '70e31daf-51fa-4cbc-8814-1ac2fe56925a';
export const KEY = `f686aace6942fb7f7ceb231212eef4a4_${GUID}`;
export const THUMB = '3AC25ED288161169404948909EA117E9423BBBDA';
export const NOW = '2026-11-25T12:00:00.0000000Z';
export const rule = (over: Record<string, unknown> = {}) => ({
  name: 'RemoteDesktop-UserMode-In-TCP', enabled: true, direction: 'Inbound', action: 'Allow', profile: 'Domain, Private, Public',
  localPort: '3389', program: '%SystemRoot%\\system32\\svchost.exe', service: 'termservice', source: 'Local', ...over,
});
export const profiles = () => ['Domain', 'Private', 'Public'].map((name) => ({ name, enabled: true, defaultInboundAction: 'NotConfigured' }));

/** Probe output of a healthy host, as probe-host.ps1 returns it (shape taken from a lab run). */
export function healthy(): ProbeData {
  return {
    computerName: 'H1',
    errors: {},
    sections: {
      clock: { utcNow: NOW, lastBoot: '2026-11-20T08:00:00.0000000Z' },
      services: [
        { name: 'TermService', status: 'Running', startType: 'Manual', dependents: [{ name: 'UmRdpService', status: 'Running', startType: 'Manual' }] },
        { name: 'UmRdpService', status: 'Running', startType: 'Manual', dependents: [] },
      ],
      termService: { processId: 702, processStart: '2026-11-24T10:00:00.0000000Z' },
      rdp: { fDenyTSConnections: 0, policyFDenyTSConnections: null, portNumber: 3389, userAuthentication: 1, policyUserAuthentication: null, securityLayer: 2, policySecurityLayer: null, minEncryptionLevel: 2, policyMinEncryptionLevel: null, maxInstanceCount: -1, policyMaxInstanceCount: null, fSingleSessionPerUser: 1, allowEncryptionOracle: null },
      networkProfiles: [{ interfaceAlias: 'Ethernet', interfaceIndex: 4, category: 'Private' }],
      firewall: [{ name: 'RemoteDesktop-UserMode-In-TCP', enabled: true, profile: 'Domain, Private, Public' }],
      rdpPortFirewall: { port: 3389, profiles: profiles(), rules: [rule(), rule({ name: 'RemoteDesktop-Shadow-In-TCP', localPort: 'Any', program: '%SystemRoot%\\system32\\RdpSa.exe', service: 'Any' })] },
      sessions: [
        { id: 0, state: 4, stateName: 'Disconnected', winStation: 'Services', user: '', domain: '', idleMinutes: null, logonTime: null },
        { id: 2, state: 0, stateName: 'Active', winStation: 'RDP-Tcp#0', user: 'alice', domain: 'LAB-001', idleMinutes: 5, logonTime: '2026-11-25T09:00:00.0000000Z' },
        { id: 3, state: 0, stateName: 'Active', winStation: 'RDP-Tcp#1', user: 'bob', domain: 'LAB-001', idleMinutes: 0, logonTime: '2026-11-25T09:10:00.0000000Z' },
        { id: 65536, state: 6, stateName: 'Listen', winStation: 'RDP-Tcp', user: '', domain: '', idleMinutes: null, logonTime: null },
      ],
      listener: { port: 3389, termServicePid: 702, owners: [702], listening: true },
      certificate: [{ thumbprint: THUMB, notBefore: '2026-10-16T12:00:00.0000000Z', notAfter: '2027-04-16T12:00:00.0000000Z', hasPrivateKey: true, privateKeyReadable: true }],
      rdpCertificateBinding: { thumbprint: THUMB, inRemoteDesktopStore: true, inMyStore: null },
      machineKeys: { path: 'C:\\ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys', exists: true, sddl: MACHINE_KEYS_DEFAULT_SDDL, aclError: null, machineGuid: GUID,
        rdpKey: { name: KEY, exists: true, sddl: 'O:BAG:SYD:P(A;;FR;;;NS)(A;;FA;;;SY)', aclError: null } },
      pendingReboot: { componentBasedServicing: false, windowsUpdate: false, pendingFileRenameOperations: 0 },
      events: [],
      profileList: [{ key: 'S-1-5-18', path: 'C:\\Windows\\system32\\config\\systemprofile' }],
    },
  };
}

export type Sections = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export const sec = (d: ProbeData) => d.sections as Sections;
export const open = (port: number, latencyMs = 4): PortReach => ({ port, open: true, latencyMs });
export const closed = (port: number, error = 'ETIMEDOUT'): PortReach => ({ port, open: false, latencyMs: null, error });
export const view = (ports: PortReach[], rdpPort = 3389): ControllerView => ({ rdpPort, ports });
export const schannel = (time: string) => ({ log: 'System', provider: 'Schannel', id: 36870, time });
