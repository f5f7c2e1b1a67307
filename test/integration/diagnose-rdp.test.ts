/**
 * diagnose with the RDP negotiation from the controller, on lab hosts: the negotiation is reported per host and
 * used where it is the stronger evidence (src/diagnose/negotiation.ts).
 */
import { describe, it, expect } from 'vitest';
import { Broker } from '../../src/broker/broker.js';
import { diagnoseFleet } from '../../src/diagnose/diagnose.js';
import { renderDiagnosis } from '../../src/cli/commands/diagnose.action.js';
import { createRng } from '../../src/lab/rng.js';
import { applyScenario, type Scenario } from '../../src/lab/scenarios.js';
import type { LabHostState } from '../../src/lab/state.js';
import { labInventory } from '../helpers/engine.js';
import { makeLabHost } from '../helpers/lab.js';

const NOW = new Date('2026-11-25T12:00:00Z');

describe('diagnose and the RDP negotiation of lab hosts', () => {
  const host = (name: string, scenarios: Scenario[], mutate?: (s: LabHostState) => void) =>
    makeLabHost((s) => {
      s.name = name;
      for (const sc of scenarios) applyScenario(s, sc, createRng(7), NOW);
      mutate?.(s);
    });

  it('reports what each offer gets and the certificate; a corrupt key hidden from the probe is a finding once the listener drops TLS', async () => {
    const hosts = [
      host('healthy', []),
      // The key file is corrupt, but its ACL is as documented (nothing for Administrators) and no event was logged
      // yet: the probe's NTE_BAD_KEYSET is what that ACL gives any healthy key too, so the state shows nothing; the
      // listener dropping TLS does (medium: it says the key is unusable, not why).
      host('corrupt-key', [], (s) => { const k = Object.keys(s.files).find((p) => p.includes('\\MachineKeys\\f686aace'))!; s.files[k]!.corrupt = true; }),
      host('nla-mismatch', ['nla-mismatch']),
      host('rdp-disabled', ['rdp-disabled']),
      host('stopped', ['termservice-stopped']),
    ];
    const broker = new Broker({ processes: 1 });
    try {
      const by = Object.fromEntries((await diagnoseFleet(labInventory(hosts), broker, { timeoutMs: 60_000 })).map((d) => [d.host, d]));
      const cert = hosts[0]!.state.certificates['LocalMachine\\Remote Desktop']![0]!;
      expect(by.healthy).toMatchObject({ healthy: true, findings: [], notes: [] });
      expect(by.healthy!.reach.negotiation!.attempts.map((a) => [a.offered, a.outcome, a.selected ?? a.failure])).toEqual([[3, 'selected', 2], [1, 'failure', 'HYBRID_REQUIRED_BY_SERVER'], [0, 'failure', 'HYBRID_REQUIRED_BY_SERVER']]);
      expect(by.healthy!.reach.negotiation!.attempts[0]!.tls!.certificate).toMatchObject({ subject: cert.Subject, thumbprint: cert.Thumbprint, notAfter: new Date(cert.NotAfter).toISOString(), selfSigned: true });

      expect(by['corrupt-key']!.notes).toEqual([]);
      expect(by['corrupt-key']!.findings).toEqual([expect.objectContaining({ cause: 'machinekeys-corrupt', confidence: 'medium', playbook: 'machinekeys-repair' })]);
      expect(by['corrupt-key']!.findings[0]!.evidence).toContain("from the controller, the listener selects PROTOCOL_HYBRID and then drops the TLS handshake (the server reset the connection during the TLS handshake): it cannot use its certificate's private key — the 0x904 pattern");

      expect(by['nla-mismatch']!.findings.map((f) => [f.cause, f.confidence])).toEqual([['nla-mismatch', 'high']]);
      expect(by['nla-mismatch']!.findings[0]!.evidence).toContain('from the controller, no offer negotiates: the listener refuses TLS (SSL_NOT_ALLOWED_BY_SERVER) and clients without NLA alike');

      expect(by['rdp-disabled']!.findings.map((f) => f.cause)).toEqual(['rdp-disabled']);
      expect(by['rdp-disabled']!.findings[0]!.evidence.at(-1)).toMatch(/TCP 3389 answers \(0 ms\); RDP negotiation: offered TLS\+CredSSP: the server closes the connection without a Connection Confirm/);

      // No TCP answer: no negotiation is tried.
      expect(by.stopped!.reach.negotiation).toBeUndefined();

      const table = renderDiagnosis(Object.values(by));
      expect(table).toMatch(/^RDP security negotiation from here \(what each offer gets\):\nHOST +PORT +TLS\+CREDSSP +TLS +STANDARD RDP +CERTIFICATE$/m);
      expect(table).toMatch(new RegExp(`^healthy +3389 +HYBRID TLSv1\\.2 +HYBRID_REQUIRED_BY_SERVER +HYBRID_REQUIRED_BY_SERVER +${cert.Subject} \\(self-signed\\), until ${new Date(cert.NotAfter).toISOString().slice(0, 10)}$`, 'm'));
      expect(table).toMatch(/^corrupt-key +3389 +HYBRID TLS failed +HYBRID_REQUIRED_BY_SERVER +HYBRID_REQUIRED_BY_SERVER +-$/m);
      expect(table).toMatch(/^nla-mismatch +3389 +SSL_NOT_ALLOWED_BY_SERVER +SSL_NOT_ALLOWED_BY_SERVER +HYBRID_REQUIRED_BY_SERVER +-$/m);
      expect(table).not.toMatch(/^stopped +3389 +/m);
    } finally {
      await broker.close();
    }
  }, 180_000);
});
