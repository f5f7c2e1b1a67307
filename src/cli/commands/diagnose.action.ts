import { openFleet } from '../engine-options.js';
import { diagnoseFleet, type HostDiagnosis } from '../../diagnose/diagnose.js';
import type { PortReach } from '../../probe/reach.js';
import type { NegotiationAttempt, RdpNegotiation } from '../../rdp/negotiate.js';
import { renderTable } from '../table.js';
import type { FleetReadFlags } from '../options.js';
import { EXIT } from '../exit.js';
import { diagnosisEvents, openProgress } from '../views/open.js';
import { versioned } from '../../json-schema.js';

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

/** One port as the reach table shows it. */
export function reachCell(r: PortReach | undefined): string {
  if (!r) return '-';
  if (r.open) return r.latencyMs === null ? 'open' : `open ${r.latencyMs} ms`;
  if (r.error === 'ETIMEDOUT') return 'no answer';
  if (r.error === 'ECONNREFUSED') return 'refused';
  if (r.error === 'ENOTFOUND') return 'name not found';
  return `closed (${r.error ?? '?'})`;
}

/** One offer as the negotiation table shows it: the protocol selected (and TLS), or the refusal. */
export function negotiationCell(a: NegotiationAttempt | undefined): string {
  if (!a) return '-';
  const short = (names: string[] | undefined) => (names ?? []).map((n) => n.replace(/^PROTOCOL_/, '')).join('+');
  switch (a.outcome) {
    case 'selected': return `${short(a.selectedNames)}${a.tls ? (a.tls.ok ? ` ${a.tls.version ?? 'TLS'}` : ' TLS failed') : ''}`;
    case 'failure': return a.failure ?? `failure ${a.failureCode}`;
    case 'no-negotiation': return 'RDP (no negotiation)';
    case 'unreachable': return `unreachable (${a.error ?? '?'})`;
    default: return a.outcome;
  }
}

/** The certificate the listener served over TLS, in short. */
function certificateCell(n: RdpNegotiation): string {
  const c = n.attempts.find((a) => a.tls?.ok && a.tls.certificate)?.tls?.certificate;
  return c ? `${clip(c.subject, 40)}${c.selfSigned ? ' (self-signed)' : ''}, until ${c.notAfter.slice(0, 10)}` : '-';
}

/** The findings table (causes, then notes), and what the controller sees of each host. */
export function renderDiagnosis(result: HostDiagnosis[]): string {
  const rows = result.flatMap((h) => [
    ...(h.healthy ? [[h.host, 'healthy', '', '', '']] : []),
    ...h.findings.map((f) => [h.host, f.cause, f.confidence, `${f.playbook ?? '-'}${f.blockedByPolicy ? ' (blocked by policy)' : ''}`, clip(f.evidence.join('; '), 140)]),
    ...h.notes.map((n) => [h.host, `note: ${n.topic}`, n.confidence, '-', clip([n.text, ...n.evidence].join('; '), 140)]),
  ]);
  const reachRows = result.map((h) => {
    const winrm = (p: number) => p === 5985 || p === 5986;
    // The RDP port clients dial, then the host's own PortNumber where it differs; the transport's port (SSH, a custom WinRM port).
    const rdp = h.reach.ports.filter((p) => !winrm(p.port) && (p.port === h.reach.rdpPort || p.port !== h.reach.remotingPort));
    const other = h.reach.ports.filter((p) => !winrm(p.port) && !rdp.includes(p));
    const list = (ps: typeof rdp) => ps.map((p) => `${p.port} ${reachCell(p)}`).join('; ');
    const port = (n: number) => reachCell(h.reach.ports.find((p) => p.port === n));
    return [h.host, h.reach.address, rdp.length ? list(rdp) : `${h.reach.rdpPort} -`, port(5985), port(5986), list(other) || '-', h.reach.error ? clip(h.reach.error, 80) : ''];
  });
  const negotiated = result.filter((h) => h.reach.negotiation || h.reach.negotiationError);
  const negotiationRows = negotiated.map((h) => {
    const n = h.reach.negotiation;
    const cell = (offered: number) => negotiationCell(n?.attempts.find((a) => a.offered === offered));
    return [h.host, String(h.reach.rdpPort), cell(3), cell(1), cell(0), n ? certificateCell(n) : clip(h.reach.negotiationError ?? '', 80)];
  });
  const sick = result.filter((h) => !h.healthy).length;
  const notes = result.reduce((n, h) => n + h.notes.length, 0);
  return [
    renderTable(['HOST', 'CAUSE', 'CONFIDENCE', 'PLAYBOOK', 'EVIDENCE'], rows),
    '',
    'What the controller sees (TCP connect from here):',
    renderTable(['HOST', 'ADDRESS', 'RDP', 'WINRM 5985', 'WINRM 5986', 'REMOTING', 'REACH ERROR'], reachRows),
    '',
    ...(negotiationRows.length ? ['RDP security negotiation from here (what each offer gets):',
      renderTable(['HOST', 'PORT', 'TLS+CREDSSP', 'TLS', 'STANDARD RDP', 'CERTIFICATE'], negotiationRows), ''] : []),
    `${result.length} hosts: ${result.length - sick} healthy, ${sick} with findings${notes ? `; ${notes} note${notes > 1 ? 's' : ''} (low confidence, no cause by themselves)` : ''}.`,
  ].join('\n');
}

/** `rdpfix diagnose`: loaded only when the command runs (see diagnose.command.ts). */
export async function diagnoseAction(o: FleetReadFlags): Promise<void> {
  const { inventory, broker } = await openFleet(o);
  try {
    // --json prints one document: no progress then (its events are for the run commands).
    const progress = await openProgress({ ...o, quiet: o.quiet || o.json, json: false });
    const told = diagnosisEvents(progress.events, inventory.hosts.length);
    let result: HostDiagnosis[];
    try {
      result = await diagnoseFleet(inventory, broker, { timeoutMs: o.timeout, onProbed: told.onProbed });
      told.finished(result);
    } finally {
      await progress.close();
    }
    if (o.json) console.log(JSON.stringify(versioned('diagnosis', { inventory: inventory.path, hosts: result }), null, 2));
    else console.log(renderDiagnosis(result));
    if (result.some((h) => !h.healthy)) process.exitCode = EXIT.hostsFailed;
  } finally {
    await broker.close();
  }
}
