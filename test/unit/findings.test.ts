import { describe, it, expect } from 'vitest';
import { findingsFor } from '../../src/diagnose/findings.js';
import type { ProbeData } from '../../src/probe/probe.js';

/** Probe output of a healthy host, as probe-host.ps1 returns it (shape taken from a lab run). */
function healthy(): ProbeData {
  return {
    computerName: 'H1',
    errors: {},
    sections: {
      services: [{ name: 'TermService', status: 'Running', startType: 'Manual' }, { name: 'UmRdpService', status: 'Running', startType: 'Manual' }],
      rdp: { fDenyTSConnections: 0, policyFDenyTSConnections: null, portNumber: 3389, userAuthentication: 1, policyUserAuthentication: null, securityLayer: 2, policySecurityLayer: null, maxInstanceCount: -1, policyMaxInstanceCount: null, fSingleSessionPerUser: 1, allowEncryptionOracle: null },
      networkProfiles: [{ interfaceAlias: 'Ethernet', interfaceIndex: 4, category: 'Private' }],
      firewall: [{ name: 'RemoteDesktop-UserMode-In-TCP', enabled: true, profile: 'Domain, Private, Public' }],
      sessions: { exitCode: 0, lines: [' USERNAME              SESSIONNAME        ID  STATE   IDLE TIME  LOGON TIME', ' alice                 rdp-tcp#0           2  Active          5  11/25/2026 9:00 AM', ' bob                   rdp-tcp#1           3  Active          .  11/25/2026 9:10 AM'] },
      listener: { exitCode: 0, lines: [' SESSIONNAME       USERNAME                 ID  STATE   TYPE        DEVICE', ' rdp-tcp                                 65536  Listen'] },
      certificate: [{ thumbprint: 'AB', notAfter: '2027-01-01T00:00:00Z', hasPrivateKey: true, privateKeyReadable: true }],
      events: [],
      profileList: [{ key: 'S-1-5-18', path: 'C:\\Windows\\system32\\config\\systemprofile' }],
    },
  };
}

describe('findings', () => {
  it('a healthy host has none; 4294967295 (read as -1) is no session cap', () => {
    expect(findingsFor(healthy(), { expectedAddress: '10.0.0.1', resolvedAddress: '10.0.0.1' })).toEqual([]);
  });

  it('marks group-policy-controlled causes as blocked by policy', () => {
    const d = healthy();
    (d.sections.rdp as Record<string, unknown>).policyFDenyTSConnections = 1;
    expect(findingsFor(d)).toEqual([expect.objectContaining({ cause: 'rdp-disabled', blockedByPolicy: true, evidence: ['group policy sets fDenyTSConnections=1'] })]);
  });

  it('a name that does not resolve is a DNS finding', () => {
    expect(findingsFor(healthy(), { expectedAddress: '10.0.0.1', resolvedAddress: null })).toEqual([
      expect.objectContaining({ cause: 'dns-mismatch', playbook: null, evidence: ['the name does not resolve'] }),
    ]);
  });

  it('a running service without a listener, and a cap reached', () => {
    const d = healthy();
    (d.sections.listener as { lines: string[] }).lines = [' SESSIONNAME       USERNAME                 ID  STATE   TYPE        DEVICE', ' services                                    0  Disc'];
    (d.sections.rdp as Record<string, unknown>).maxInstanceCount = 2;
    expect(findingsFor(d).map((f) => f.cause)).toEqual(['listener-down', 'session-cap']);
  });
});
