import { describe, it, expect } from 'vitest';
import { assess, assessUnreachable, MACHINE_KEYS_DEFAULT_SDDL, type ControllerView } from '../../src/diagnose/findings.js';
import type { ProbeData } from '../../src/probe/probe.js';
import type { PortReach } from '../../src/probe/reach.js';
import type { NegotiationAttempt, RdpNegotiation, TlsResult } from '../../src/rdp/negotiate.js';

// The healthy probe output of test/unit/findings.test.ts.
const GUID = '70e31daf-51fa-4cbc-8814-1ac2fe56925a';
const KEY = `f686aace6942fb7f7ceb231212eef4a4_${GUID}`;
const THUMB = '3AC25ED288161169404948909EA117E9423BBBDA';
const NOW = '2026-11-25T12:00:00.0000000Z';
const rule = (over: Record<string, unknown> = {}) => ({
  name: 'RemoteDesktop-UserMode-In-TCP', enabled: true, direction: 'Inbound', action: 'Allow', profile: 'Domain, Private, Public',
  localPort: '3389', program: '%SystemRoot%\\system32\\svchost.exe', service: 'termservice', source: 'Local', ...over,
});
const profiles = () => ['Domain', 'Private', 'Public'].map((name) => ({ name, enabled: true, defaultInboundAction: 'NotConfigured' }));

/** Probe output of a healthy host, as probe-host.ps1 returns it (shape taken from a lab run). */
function healthy(): ProbeData {
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
      sessions: { exitCode: 0, lines: [' USERNAME              SESSIONNAME        ID  STATE   IDLE TIME  LOGON TIME', ' alice                 rdp-tcp#0           2  Active          5  11/25/2026 9:00 AM', ' bob                   rdp-tcp#1           3  Active          .  11/25/2026 9:10 AM'] },
      listener: { exitCode: 0, lines: [' SESSIONNAME       USERNAME                 ID  STATE   TYPE        DEVICE', ' rdp-tcp                                 65536  Listen'] },
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

type Sections = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const sec = (d: ProbeData) => d.sections as Sections;
const open = (port: number, latencyMs = 4): PortReach => ({ port, open: true, latencyMs });
const closed = (port: number, error = 'ETIMEDOUT'): PortReach => ({ port, open: false, latencyMs: null, error });
const view = (ports: PortReach[], rdpPort = 3389): ControllerView => ({ rdpPort, ports });
const schannel = (time: string) => ({ log: 'System', provider: 'Schannel', id: 36870, time });


const cert = { subject: 'CN=H1', issuer: 'CN=H1', notBefore: '2026-10-16T12:00:00.000Z', notAfter: '2027-04-16T12:00:00.000Z', selfSigned: true, serialNumber: '01', thumbprint: THUMB };
const tlsOk: TlsResult = { ok: true, version: 'TLSv1.2', untrustedBecause: 'DEPTH_ZERO_SELF_SIGNED_CERT', certificate: cert };
const names = (p: number) => (p === 0 ? ['PROTOCOL_RDP'] : [...(p & 1 ? ['PROTOCOL_SSL'] : []), ...(p & 2 ? ['PROTOCOL_HYBRID'] : [])]);
const sel = (offered: number, selected: number, tls?: TlsResult): NegotiationAttempt =>
  ({ offered, offeredNames: names(offered), outcome: 'selected', selected, selectedNames: names(selected), flags: 0, ...(tls ? { tls } : {}), elapsedMs: 3 });
const fail = (offered: number, failure: string): NegotiationAttempt => ({ offered, offeredNames: names(offered), outcome: 'failure', failure, failureCode: 0, elapsedMs: 3 });
const other = (offered: number, outcome: NegotiationAttempt['outcome'], error: string): NegotiationAttempt => ({ offered, offeredNames: names(offered), outcome, error, elapsedMs: 3 });
const neg = (...attempts: NegotiationAttempt[]): RdpNegotiation => ({ host: '10.0.0.1', port: 3389, attempts });
const NLA_OK = neg(sel(3, 2, tlsOk), fail(1, 'HYBRID_REQUIRED_BY_SERVER'), fail(0, 'HYBRID_REQUIRED_BY_SERVER'));
const reachView = (negotiation?: RdpNegotiation): ControllerView => ({ rdpPort: 3389, ports: [open(3389), open(5985), closed(5986)], ...(negotiation ? { negotiation } : {}) });

describe('findings from the RDP negotiation seen from the controller', () => {
  it('a healthy host that negotiates CredSSP with an in-date certificate: nothing', () => {
    expect(assess(healthy(), reachView(NLA_OK))).toEqual({ findings: [], notes: [] });
  });

  it('TLS selected then dropped: machinekeys-corrupt, even where the host-side state looks right (medium alone)', () => {
    const dropped = neg(sel(3, 2, { ok: false, error: 'the server reset the connection during the TLS handshake' }), fail(1, 'HYBRID_REQUIRED_BY_SERVER'), fail(0, 'HYBRID_REQUIRED_BY_SERVER'));
    const { findings } = assess(healthy(), reachView(dropped));
    expect(findings).toEqual([expect.objectContaining({ cause: 'machinekeys-corrupt', confidence: 'medium', playbook: 'machinekeys-repair' })]);
    expect(findings[0]!.evidence[0]).toBe("from the controller, the listener selects PROTOCOL_HYBRID and then drops the TLS handshake (the server reset the connection during the TLS handshake): it cannot use its certificate's private key — the 0x904 pattern");
    expect(findings[0]!.evidence.at(-1)).toMatch(/^from the controller: TCP 3389 answers \(4 ms\): the socket opens, the refusal comes after it \(TLS, NLA, session limits\); RDP negotiation: offered TLS\+CredSSP: the server selects CredSSP \(NLA\), then the TLS handshake fails/);
  });

  it('turns the probe\'s "administrator cannot open the key" note into a high finding when the listener drops TLS too', () => {
    const d = healthy();
    sec(d).certificate[0].privateKeyReadable = false;
    expect(assess(d, reachView(NLA_OK))).toMatchObject({ findings: [], notes: [{ topic: 'rdp-key' }] });
    const dropped = neg(sel(3, 2, { ok: false, error: 'reset' }));
    const a = assess(d, reachView(dropped));
    expect(a.notes).toEqual([]);
    expect(a.findings).toEqual([expect.objectContaining({ cause: 'machinekeys-corrupt', confidence: 'high',
      evidence: expect.arrayContaining([`the RDP certificate ${THUMB} claims a private key that cannot be read`]) })]);
  });

  it('SSL_CERT_NOT_ON_SERVER and an expired certificate served: machinekeys-corrupt, high', () => {
    const noCert = assess(healthy(), reachView(neg(fail(3, 'SSL_CERT_NOT_ON_SERVER'), fail(1, 'HYBRID_REQUIRED_BY_SERVER'))));
    expect(noCert.findings).toEqual([expect.objectContaining({ cause: 'machinekeys-corrupt', confidence: 'high',
      evidence: expect.arrayContaining(['from the controller, the listener answers SSL_CERT_NOT_ON_SERVER: it has no certificate it can use for TLS']) })]);
    const old = { ...tlsOk, certificate: { ...cert, notAfter: '2026-11-01T00:00:00.000Z' } };
    const expired = assess(healthy(), reachView(neg(sel(3, 2, old))));
    expect(expired.findings).toEqual([expect.objectContaining({ cause: 'machinekeys-corrupt', confidence: 'high',
      evidence: expect.arrayContaining([`from the controller, the certificate the listener serves (${THUMB}, CN=H1) expired on 2026-11-01T00:00:00.000Z`]) })]);
  });

  it('a host-side key finding is weakened when the listener completes TLS with an in-date certificate', () => {
    const d = healthy();
    sec(d).machineKeys.rdpKey.sddl = 'O:BAG:SYD:P(A;;FA;;;BA)'; // NETWORK SERVICE without read: high on the host's evidence
    expect(assess(d, reachView()).findings).toEqual([expect.objectContaining({ cause: 'machinekeys-corrupt', confidence: 'high' })]);
    const f = assess(d, reachView(NLA_OK)).findings;
    expect(f).toEqual([expect.objectContaining({ cause: 'machinekeys-corrupt', confidence: 'medium' })]);
    expect(f[0]!.evidence).toContain(`yet from the controller the listener completes the TLS handshake with certificate ${THUMB} (valid until 2027-04-16T12:00:00.000Z): the Remote Desktop service can use its key now`);
  });

  it('no offer negotiates: nla-mismatch confirmed (high), or named by the listener alone (medium, no playbook)', () => {
    const refused = neg(fail(3, 'SSL_NOT_ALLOWED_BY_SERVER'), fail(1, 'SSL_NOT_ALLOWED_BY_SERVER'), fail(0, 'HYBRID_REQUIRED_BY_SERVER'));
    const d = healthy();
    sec(d).rdp.securityLayer = 0;
    sec(d).rdp.minEncryptionLevel = 1;
    const both = assess(d, reachView(refused)).findings;
    expect(both.map((f) => [f.cause, f.confidence])).toEqual([['nla-mismatch', 'high']]);
    expect(both[0]!.evidence).toContain('from the controller, no offer negotiates: the listener refuses TLS (SSL_NOT_ALLOWED_BY_SERVER) and clients without NLA alike');
    const alone = assess(healthy(), reachView(refused)).findings;
    expect(alone).toEqual([expect.objectContaining({ cause: 'nla-mismatch', confidence: 'medium', playbook: null })]);
    // Standard RDP Security selected for an RDP-only client (NLA off, SecurityLayer 0): the listener works, nothing to say.
    expect(assess(healthy(), reachView(neg(fail(3, 'SSL_NOT_ALLOWED_BY_SERVER'), fail(1, 'SSL_NOT_ALLOWED_BY_SERVER'), sel(0, 0)))).findings).toEqual([]);
  });

  it('no Connection Confirm: evidence for rdp-disabled; unexplained, an unreachable finding', () => {
    const silent = neg(other(3, 'closed', 'the server closed the connection after 0 bytes'), other(1, 'protocol', 'not a TPKT packet'), other(0, 'timeout', 'no Connection Confirm before the deadline'));
    const d = healthy();
    sec(d).rdp.fDenyTSConnections = 1;
    const disabled = assess(d, reachView(silent)).findings;
    expect(disabled.map((f) => f.cause)).toEqual(['rdp-disabled']);
    expect(disabled[0]!.evidence.at(-1)).toMatch(/^from the controller: TCP 3389 answers \(4 ms\); RDP negotiation: offered TLS\+CredSSP: the server closes the connection without a Connection Confirm/);
    const unexplained = assess(healthy(), reachView(silent)).findings;
    expect(unexplained).toEqual([expect.objectContaining({ cause: 'unreachable', confidence: 'medium', playbook: null })]);
    expect(unexplained[0]!.evidence[1]).toMatch(/another program listens on the port/);
  });

  it('a negotiation of another port than the one clients dial is not used; an unreadable host still shows it', () => {
    const dropped = { ...neg(sel(3, 2, { ok: false, error: 'reset' })), port: 3390 };
    expect(assess(healthy(), reachView(dropped)).findings).toEqual([]);
    const u = assessUnreachable({ category: 'auth', message: 'Access is denied' }, { ...reachView(NLA_OK), ports: [open(3389), closed(5985), closed(5986)] });
    expect(u.findings[0]!.evidence.at(-1)).toMatch(/^RDP negotiation: offered TLS\+CredSSP: the server selects CredSSP \(NLA\); TLSv1.2, certificate CN=H1 \(self-signed, valid until 2027-04-16T12:00:00.000Z\)/);
  });
});
