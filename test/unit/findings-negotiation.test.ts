import { describe, it, expect } from 'vitest';
import { assess, assessUnreachable, type ControllerView } from '../../src/diagnose/findings.js';
import type { NegotiationAttempt, RdpNegotiation, TlsResult } from '../../src/rdp/negotiate.js';
import { THUMB, healthy, sec, open, closed, view } from '../helpers/probe-data.js';

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
