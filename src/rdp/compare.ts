import type { NegotiationAttempt, RdpNegotiation } from './negotiate.js';
import { FAILURE_MEANING } from './x224.js';

/**
 * Reading negotiation results: whether an offer gets a usable connection, in words, and whether a listener still
 * negotiates after a change as it did before (for the revert task's confirm step: src/revert is not wired to it
 * yet; it calls stillNegotiates(before, after) with two results of probeRdp/negotiateRdp).
 */

/** The offer gets past security negotiation: a protocol selected (and its TLS handshake done), or a pre-negotiation server. */
export function works(a: NegotiationAttempt): boolean {
  if (a.outcome === 'no-negotiation') return true;
  return a.outcome === 'selected' && (a.tls === undefined || a.tls.ok);
}

const OFFER_LABEL: Record<number, string> = { 3: 'TLS+CredSSP', 1: 'TLS', 0: 'Standard RDP Security', 2: 'CredSSP' };
export const offerLabel = (offered: number) => OFFER_LABEL[offered] ?? `requestedProtocols 0x${offered.toString(16)}`;

const SHORT: Record<string, string> = { PROTOCOL_RDP: 'Standard RDP Security', PROTOCOL_SSL: 'TLS', PROTOCOL_HYBRID: 'CredSSP (NLA)', PROTOCOL_HYBRID_EX: 'CredSSP with Early User Authorization' };

/** One attempt in words, e.g. "offered TLS+CredSSP: the server selects CredSSP (NLA); TLSv1.2, certificate CN=h1 (self-signed, valid until ...)". */
export function describeAttempt(a: NegotiationAttempt): string {
  const head = `offered ${offerLabel(a.offered)}: `;
  switch (a.outcome) {
    case 'selected': {
      const what = `the server selects ${(a.selectedNames ?? []).map((n) => SHORT[n] ?? n).join('+')}`;
      if (!a.tls) return head + what;
      if (!a.tls.ok) return `${head}${what}, then the TLS handshake fails (${a.tls.error ?? 'no reason'})`;
      const c = a.tls.certificate;
      return `${head}${what}; ${a.tls.version ?? 'TLS'}${c ? `, certificate ${c.subject} (${c.selfSigned ? 'self-signed' : `issued by ${c.issuer}`}, valid until ${c.notAfter})` : ', no certificate'}`;
    }
    case 'failure': return `${head}the server refuses with ${a.failure}${a.failure && FAILURE_MEANING[a.failure] ? ` (${FAILURE_MEANING[a.failure]})` : ''}`;
    case 'no-negotiation': return `${head}the server answers without negotiation (Standard RDP Security only)`;
    case 'closed': return `${head}the server closes the connection without a Connection Confirm (${a.error ?? ''})`;
    case 'timeout': return `${head}no answer (${a.error ?? 'timeout'})`;
    case 'unreachable': return `${head}TCP connect fails (${a.error ?? ''})`;
    case 'protocol': return `${head}the answer is not valid RDP: ${a.error ?? ''}`;
  }
}

/** The certificate the listener served over TLS (the first attempt that completed a handshake). */
export function servedCertificate(n: RdpNegotiation) {
  return n.attempts.find((a) => a.tls?.ok && a.tls.certificate)?.tls?.certificate;
}

export interface NegotiationComparison {
  /** The listener still negotiates: it did not before, or the strongest offer that worked before still works. */
  ok: boolean;
  /** Why not (empty when ok). */
  reasons: string[];
  /** Offers that worked before and no longer do, and other changes (a different protocol or certificate): information. */
  changes: string[];
}

/**
 * Whether a listener still negotiates as it did before a change. The strongest offer that worked before (what
 * mstsc sends comes first) must still work; losing a weaker offer (e.g. Standard RDP Security after the
 * security layer was raised to TLS) is a change worth reporting, not a lost listener. A listener that
 * negotiated nothing before cannot be judged by this: ok, with that said in `changes`.
 */
export function stillNegotiates(before: RdpNegotiation, after: RdpNegotiation): NegotiationComparison {
  const reasons: string[] = [];
  const changes: string[] = [];
  const afterOf = (offered: number) => after.attempts.find((a) => a.offered === offered);
  const strongest = before.attempts.find(works);
  if (!strongest) return { ok: true, reasons, changes: ['the listener negotiated no offer before the change: nothing to compare'] };
  const now = afterOf(strongest.offered);
  if (!now) reasons.push(`${offerLabel(strongest.offered)} was not tried after the change`);
  else if (!works(now)) reasons.push(`before: ${describeAttempt(strongest)}; now: ${describeAttempt(now)}`);
  for (const b of before.attempts) {
    const a = afterOf(b.offered);
    if (!a || b === strongest) continue;
    if (works(b) && !works(a)) changes.push(`no longer works: ${describeAttempt(a)}`);
    else if (!works(b) && works(a)) changes.push(`now works: ${describeAttempt(a)}`);
    else if (works(b) && b.selected !== a.selected) changes.push(`${offerLabel(b.offered)} now selects ${(a.selectedNames ?? []).join('+')} (before ${(b.selectedNames ?? []).join('+')})`);
  }
  if (now && works(now) && now.selected !== strongest.selected) {
    changes.push(`${offerLabel(strongest.offered)} now selects ${(now.selectedNames ?? []).join('+')} (before ${(strongest.selectedNames ?? []).join('+')})`);
  }
  const c0 = servedCertificate(before);
  const c1 = servedCertificate(after);
  if (c0 && c1 && c0.thumbprint !== c1.thumbprint) changes.push(`the listener now serves certificate ${c1.thumbprint} (${c1.subject}, valid until ${c1.notAfter}); before ${c0.thumbprint}`);
  return { ok: reasons.length === 0, reasons, changes };
}

/**
 * stillNegotiates for every listener (port) of a host: each that negotiated before must still negotiate. A listener
 * missing from `after` fails when it negotiated before. Ports are the key (a host may listen on 3389 and a PortNumber).
 */
export function allStillNegotiate(before: RdpNegotiation[], after: RdpNegotiation[]): NegotiationComparison & { byPort: Record<number, NegotiationComparison> } {
  const byPort: Record<number, NegotiationComparison> = {};
  for (const b of before) {
    const a = after.find((x) => x.port === b.port);
    byPort[b.port] = a ? stillNegotiates(b, a)
      : b.attempts.some(works) ? { ok: false, reasons: [`port ${b.port} was not probed after the change`], changes: [] } : stillNegotiates(b, b);
  }
  const all = Object.entries(byPort);
  return {
    ok: all.every(([, c]) => c.ok),
    reasons: all.flatMap(([port, c]) => c.reasons.map((r) => `port ${port}: ${r}`)),
    changes: all.flatMap(([port, c]) => c.changes.map((r) => `port ${port}: ${r}`)),
    byPort,
  };
}
