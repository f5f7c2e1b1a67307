/**
 * The RDP negotiation probe against lab hosts: the lab's simulated listener answers from the host's state
 * (SecurityLayer, UserAuthentication, policy copies, the bound certificate and its key as TermService sees it,
 * fDenyTSConnections, TermService, the firewall). The model and its sources: docs/windows-facts/rdp-negotiation.md.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { Broker } from '../../src/broker/broker.js';
import { createRng } from '../../src/lab/rng.js';
import { applyScenario, type Scenario } from '../../src/lab/scenarios.js';
import { RDP_TCP_KEY, TS_POLICY_KEY } from '../../src/lab/base-host.js';
import type { LabHostState } from '../../src/lab/state.js';
import { probeRdp } from '../../src/rdp/probe.js';
import { stillNegotiates, works } from '../../src/rdp/compare.js';
import type { LabTarget } from '../../src/transport/targets.js';
import { makeLabHost, type LabHostFixture } from '../helpers/lab.js';

const NOW = new Date('2026-11-25T12:00:00Z');

describe('the RDP negotiation of lab hosts (the simulated listener)', () => {
  let broker: Broker;
  beforeAll(() => {
    broker = new Broker({ processes: 1 });
  });
  afterAll(() => broker.close());

  const lab = (mutate?: (s: LabHostState) => void, ...scenarios: Scenario[]): LabHostFixture =>
    makeLabHost((s) => {
      for (const sc of scenarios) applyScenario(s, sc, createRng(3), NOW);
      mutate?.(s);
    });
  const target = (h: LabHostFixture): LabTarget => ({ kind: 'lab', host: h.state.name, statePath: h.statePath });
  const probe = (h: LabHostFixture, port = 3389) => probeRdp(target(h), h.state.network.address, port, { timeoutMs: 2000, broker });
  /** [offered, outcome, selected or failure, TLS ok] per attempt. */
  const table = (n: Awaited<ReturnType<typeof probe>>) => n.attempts.map((a) => [a.offered, a.outcome, a.selected ?? a.failure ?? a.error, a.tls?.ok]);
  const dword = (data: number) => ({ kind: 'DWord' as const, data });

  it('a healthy host (SecurityLayer 2, NLA): CredSSP for mstsc\'s offer, HYBRID_REQUIRED_BY_SERVER otherwise; its certificate over TLS', async () => {
    const h = lab();
    const before = readFileSync(h.statePath, 'utf8');
    const n = await probe(h);
    expect(table(n)).toEqual([[3, 'selected', 2, true], [1, 'failure', 'HYBRID_REQUIRED_BY_SERVER', undefined], [0, 'failure', 'HYBRID_REQUIRED_BY_SERVER', undefined]]);
    const cert = h.state.certificates['LocalMachine\\Remote Desktop']![0]!;
    expect(n.attempts[0]!.tls).toEqual({ ok: true, version: 'TLSv1.2', untrustedBecause: 'DEPTH_ZERO_SELF_SIGNED_CERT', certificate: {
      subject: cert.Subject, issuer: cert.Issuer, notBefore: new Date(cert.NotBefore).toISOString(), notAfter: new Date(cert.NotAfter).toISOString(),
      selfSigned: true, serialNumber: cert.SerialNumber, thumbprint: cert.Thumbprint } });
    expect(n.attempts[0]!.selectedNames).toEqual(['PROTOCOL_HYBRID']);
    // Read-only: no state change, no runtime or audit file (not a remote call).
    expect(readFileSync(h.statePath, 'utf8')).toBe(before);
    expect(existsSync(h.statePath.replace(/\.json$/, '.audit.jsonl'))).toBe(false);
  }, 120_000);

  it('follows SecurityLayer and UserAuthentication, local and by policy', async () => {
    const negotiateNoNla = lab((s) => { s.registry[RDP_TCP_KEY]!.SecurityLayer = dword(1); s.registry[RDP_TCP_KEY]!.UserAuthentication = dword(0); });
    const tlsNoNla = lab((s) => { s.registry[RDP_TCP_KEY]!.UserAuthentication = dword(0); });
    const rdpNoNla = lab((s) => { s.registry[RDP_TCP_KEY]!.SecurityLayer = dword(0); s.registry[RDP_TCP_KEY]!.UserAuthentication = dword(0); });
    const absent = lab((s) => { delete s.registry[RDP_TCP_KEY]!.SecurityLayer; delete s.registry[RDP_TCP_KEY]!.UserAuthentication; });
    const policyNoNla = lab((s) => { s.registry[TS_POLICY_KEY]!.UserAuthentication = dword(0); s.registry[TS_POLICY_KEY]!.SecurityLayer = dword(1); });
    const [a, b, c, d, e] = await Promise.all([probe(negotiateNoNla), probe(tlsNoNla), probe(rdpNoNla), probe(absent), probe(policyNoNla)]);
    expect(table(a)).toEqual([[3, 'selected', 2, true], [1, 'selected', 1, true], [0, 'selected', 0, undefined]]);
    expect(table(b)).toEqual([[3, 'selected', 2, true], [1, 'selected', 1, true], [0, 'failure', 'SSL_REQUIRED_BY_SERVER', undefined]]);
    expect(table(c)).toEqual([[3, 'failure', 'SSL_NOT_ALLOWED_BY_SERVER', undefined], [1, 'failure', 'SSL_NOT_ALLOWED_BY_SERVER', undefined], [0, 'selected', 0, undefined]]);
    // Absent values: Negotiate (1) and NLA on (Windows Server 2012 and later).
    expect(table(d)).toEqual([[3, 'selected', 2, true], [1, 'failure', 'HYBRID_REQUIRED_BY_SERVER', undefined], [0, 'failure', 'HYBRID_REQUIRED_BY_SERVER', undefined]]);
    expect(table(e)).toEqual(table(a)); // the policy values win over the local 2 / 1
  }, 120_000);

  it('nla-mismatch and nla-policy: no offer negotiates (NLA required on the RDP Security Layer)', async () => {
    const [a, b] = await Promise.all([probe(lab(undefined, 'nla-mismatch')), probe(lab(undefined, 'nla-policy'))]);
    for (const n of [a, b]) {
      expect(table(n)).toEqual([[3, 'failure', 'SSL_NOT_ALLOWED_BY_SERVER', undefined], [1, 'failure', 'SSL_NOT_ALLOWED_BY_SERVER', undefined], [0, 'failure', 'HYBRID_REQUIRED_BY_SERVER', undefined]]);
      expect(n.attempts.some(works)).toBe(false);
    }
  }, 120_000);

  it('machinekeys-corrupt: CredSSP is selected, then the TLS handshake is reset; a key that is fine for the admin but not for NETWORK SERVICE too', async () => {
    const corrupt = lab(undefined, 'machinekeys-corrupt');
    const flagged = lab((s) => { const k = Object.keys(s.files).find((p) => p.includes('\\MachineKeys\\f686aace'))!; s.files[k]!.corrupt = true; });
    const [a, b] = await Promise.all([probe(corrupt), probe(flagged)]);
    for (const n of [a, b]) {
      expect(n.attempts[0]).toMatchObject({ outcome: 'selected', selected: 2, tls: { ok: false, error: 'the server reset the connection during the TLS handshake' } });
      expect(works(n.attempts[0]!)).toBe(false);
    }
    const healthy = await probe(lab());
    expect(stillNegotiates(healthy, a)).toMatchObject({ ok: false });
  }, 120_000);

  it('no certificate: SSL_CERT_NOT_ON_SERVER where TLS or CredSSP would be selected; an expired one is still served, and reported', async () => {
    const none = lab((s) => { s.certificates['LocalMachine\\Remote Desktop'] = []; });
    const expired = lab((s) => { s.certificates['LocalMachine\\Remote Desktop']![0]!.NotAfter = '2026-01-01T00:00:00.000Z'; });
    const [a, b] = await Promise.all([probe(none), probe(expired)]);
    expect(table(a)).toEqual([[3, 'failure', 'SSL_CERT_NOT_ON_SERVER', undefined], [1, 'failure', 'HYBRID_REQUIRED_BY_SERVER', undefined], [0, 'failure', 'HYBRID_REQUIRED_BY_SERVER', undefined]]);
    expect(b.attempts[0]!.tls).toMatchObject({ ok: true, certificate: { notAfter: '2026-01-01T00:00:00.000Z' } });
  }, 120_000);

  it('no listener: TermService stopped and the firewall blocking time out; RDP disabled opens the socket and closes it unanswered', async () => {
    const [a, b, c, d] = await Promise.all([probe(lab(undefined, 'termservice-stopped')), probe(lab(undefined, 'firewall-blocked')),
      probe(lab(undefined, 'rdp-disabled')), probe(lab((s) => { s.firewall.profiles.forEach((p) => { p.Enabled = false; }); }, 'termservice-stopped'))]);
    for (const n of [a, b]) expect(n.attempts.map((x) => [x.outcome, x.error])).toEqual(Array(3).fill(['timeout', 'no TCP connection before the deadline']));
    expect(c.attempts.map((x) => [x.outcome, x.error])).toEqual(Array(3).fill(['closed', 'the server closed the connection after 0 bytes']));
    expect(d.attempts.map((x) => [x.outcome, x.error])).toEqual(Array(3).fill(['unreachable', 'ECONNREFUSED']));
  }, 120_000);
});
