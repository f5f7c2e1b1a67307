import { describeAttempt, servedCertificate, works } from '../rdp/compare.js';
import type { RdpNegotiation } from '../rdp/negotiate.js';
import type { Finding, Note } from './finding.js';

/**
 * What the RDP negotiation seen from the controller (src/rdp/negotiate.ts) says about the causes. It is the
 * stronger evidence where it shows what a client meets: a listener that selects TLS and then drops the handshake,
 * or answers SSL_CERT_NOT_ON_SERVER, cannot use its certificate whatever the probe (an administrator) could read;
 * a listener on which no offer negotiates refuses every client. It weakens a host-side key finding when the
 * listener completes TLS with an in-date certificate. Facts: docs/windows-facts/rdp-negotiation.md.
 */

/** Every attempt in words, for the evidence line of the findings that refuse after the socket opens. */
export function negotiationSummary(n: RdpNegotiation): string {
  return `RDP negotiation: ${n.attempts.map(describeAttempt).join('; ')}`;
}

const noConfirm = (n: RdpNegotiation) => n.attempts.length > 0 && n.attempts.every((a) => a.outcome === 'closed' || a.outcome === 'protocol' || a.outcome === 'timeout');

/**
 * Adds, promotes or demotes findings from the negotiation. `closesPort` are the causes that stop RDP before
 * negotiation (they explain a listener that never confirms). Returns nothing: edits `out` and `notes` in place.
 */
export function applyNegotiation(out: Finding[], notes: Note[], n: RdpNegotiation, now: number, closesPort: readonly string[]): void {
  if (n.attempts.length === 0) return;
  const find = (cause: Finding['cause']) => out.find((f) => f.cause === cause);

  // Certificate / key: the TLS handshake dropped after the protocol was selected, no certificate, or an expired one served.
  const dropped = n.attempts.find((a) => a.outcome === 'selected' && a.tls !== undefined && !a.tls.ok);
  const noCert = n.attempts.find((a) => a.failure === 'SSL_CERT_NOT_ON_SERVER');
  const served = servedCertificate(n);
  const expiry = served ? Date.parse(served.notAfter) : NaN;
  const expired = served && !Number.isNaN(expiry) && expiry < now ? served : undefined;
  const keyLines = [
    ...(dropped ? [`from the controller, the listener selects ${(dropped.selectedNames ?? []).join('+')} and then drops the TLS handshake (${dropped.tls?.error ?? 'no reason'}): it cannot use its certificate's private key — the 0x904 pattern`] : []),
    ...(noCert ? ['from the controller, the listener answers SSL_CERT_NOT_ON_SERVER: it has no certificate it can use for TLS'] : []),
    ...(expired ? [`from the controller, the certificate the listener serves (${expired.thumbprint}, ${expired.subject}) expired on ${expired.notAfter}`] : []),
  ];
  const mk = find('machinekeys-corrupt');
  if (keyLines.length) {
    if (mk) {
      mk.confidence = 'high';
      mk.evidence.push(...keyLines);
    } else {
      // The probe's own view of the key (a note: it could not open it as an administrator) is confirmed by the listener.
      const i = notes.findIndex((x) => x.topic === 'rdp-key');
      const noted = i >= 0 ? notes.splice(i, 1)[0]!.evidence : [];
      out.push({ cause: 'machinekeys-corrupt', confidence: noCert || expired || noted.length ? 'high' : 'medium', playbook: 'machinekeys-repair', evidence: [...noted, ...keyLines] });
    }
  } else if (mk && served && mk.confidence === 'high') {
    mk.confidence = 'medium';
    mk.evidence.push(`yet from the controller the listener completes the TLS handshake with certificate ${served.thumbprint} (valid until ${served.notAfter}): the Remote Desktop service can use its key now`);
  }

  // No offer negotiates, and the listener refuses TLS: NLA required on the RDP Security Layer (or an equivalent policy).
  const anyWorks = n.attempts.some(works);
  if (!anyWorks && n.attempts.some((a) => a.failure === 'SSL_NOT_ALLOWED_BY_SERVER')) {
    const line = 'from the controller, no offer negotiates: the listener refuses TLS (SSL_NOT_ALLOWED_BY_SERVER) and clients without NLA alike';
    const nla = find('nla-mismatch');
    if (nla) {
      nla.confidence = 'high';
      nla.evidence.push(line);
    } else {
      // The host's own values did not show it (e.g. a policy the probe does not read): the listener decides.
      out.push({ cause: 'nla-mismatch', confidence: 'medium', playbook: null, evidence: [line, negotiationSummary(n)] });
    }
  }

  // The port accepts, and nothing answers the Connection Request as RDP does.
  if (noConfirm(n) && !out.some((f) => closesPort.includes(f.cause))) {
    out.push({ cause: 'unreachable', confidence: 'medium', playbook: null,
      evidence: [`from the controller the port accepts, but ${negotiationSummary(n)}`,
        'no RDP Connection Confirm: another program listens on the port, or Remote Desktop refuses every connection (fDenyTSConnections, licensing, a filter in between)'] });
  }
}
