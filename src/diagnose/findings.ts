import { parseQuser } from '../parsers/quser.js';
import type { ProbeData } from '../probe/probe.js';

/**
 * From what the probe read on a host (and what the controller saw of it), the causes of "0x904 / 0x7" that
 * hit it, each with its evidence, confidence and the playbook that fixes it. Pure: unit-testable on probe output.
 * The rules follow the shared reference (section numbers in comments); docs/causes.md explains each cause.
 */
export type Cause =
  | 'unreachable' | 'dns-mismatch' | 'termservice-stopped' | 'termservice-hung' | 'listener-down' | 'rdp-disabled'
  | 'firewall-blocked' | 'public-profile' | 'machinekeys-corrupt' | 'profile-corrupt' | 'nla-mismatch'
  | 'session-cap' | 'stuck-session';

export interface Finding {
  cause: Cause;
  confidence: 'high' | 'medium' | 'low';
  evidence: string[];
  /** The playbook that fixes it, when the catalogue has one (null: the fix is outside the host, or not built yet). */
  playbook: string | null;
  /** Group policy decides the value: a local fix would be reverted at the next refresh (reference C.2). */
  blockedByPolicy?: boolean;
}

export interface ControllerView {
  /** What the inventory says the host's address is, and what DNS answered (null: no answer). */
  expectedAddress?: string;
  resolvedAddress?: string | null;
}

type Row = Record<string, unknown>;
const list = (v: unknown): Row[] => (Array.isArray(v) ? (v as Row[]) : v && typeof v === 'object' ? [v as Row] : []);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
/** REG_DWORD reads as Int32 in PowerShell: 4294967295 arrives as -1 (reference 9.1). */
const unsigned = (v: number | null) => (v === null ? null : v < 0 ? v + 2 ** 32 : v);
const DAY_MINUTES = 24 * 60;

export function findingsFor(data: ProbeData, view: ControllerView = {}): Finding[] {
  const s = data.sections;
  const out: Finding[] = [];
  const add = (f: Finding) => out.push(f);

  if (view.expectedAddress && view.resolvedAddress !== undefined && view.resolvedAddress !== view.expectedAddress) {
    add({ cause: 'dns-mismatch', confidence: 'high', playbook: null,
      evidence: [view.resolvedAddress === null ? 'the name does not resolve' : `DNS answers ${view.resolvedAddress}; the inventory expects ${view.expectedAddress}`] });
  }

  // Services (reference 1): TermService must run, with its dependent UmRdpService.
  const services = list(s.services);
  const ts = services.find((x) => x.name === 'TermService');
  const umrdp = services.find((x) => x.name === 'UmRdpService');
  const events = list(s.events);
  const eventIds = (ids: number[]) => events.filter((e) => ids.includes(num(e.id) ?? -1));
  const hangEvents = eventIds([7022]);
  if (ts && (ts.status === 'StartPending' || ts.status === 'StopPending')) {
    add({ cause: 'termservice-hung', confidence: 'high', playbook: 'restart-termservice',
      evidence: [`TermService is ${ts.status}`, ...hangEvents.map((e) => `System event 7022 (hung on starting) at ${e.time}`)] });
  } else if (ts && ts.status !== 'Running') {
    add({ cause: 'termservice-stopped', confidence: 'high', playbook: 'restart-termservice',
      evidence: [`TermService is ${ts.status} (start type ${ts.startType})`, ...(umrdp && umrdp.status !== 'Running' ? [`UmRdpService is ${umrdp.status}`] : [])] });
  } else if (ts) {
    const listener = (s.listener as { lines?: string[] } | undefined)?.lines ?? [];
    if (listener.length && !listener.some((l) => /\brdp-tcp\b/i.test(l) && /\bListen\b/.test(l))) {
      add({ cause: 'listener-down', confidence: 'medium', playbook: 'restart-termservice', evidence: ['TermService runs, but qwinsta shows no rdp-tcp listener'] });
    }
  }

  // RDP enabled (reference 8): the policy value wins over the local one.
  const rdp = (s.rdp as Row | undefined) ?? {};
  const policyDeny = num(rdp.policyFDenyTSConnections);
  const deny = policyDeny ?? num(rdp.fDenyTSConnections);
  if (deny === 1) {
    add({ cause: 'rdp-disabled', confidence: 'high', playbook: 'enable-remote-desktop', blockedByPolicy: policyDeny === 1,
      evidence: [policyDeny === 1 ? 'group policy sets fDenyTSConnections=1' : 'fDenyTSConnections=1 (local)'] });
  }

  // Firewall and network profile (references 3, 4): an enabled TCP rule must cover an active profile's category.
  const rules = list(s.firewall);
  const tcp = rules.find((r) => r.name === 'RemoteDesktop-UserMode-In-TCP');
  const categories = list(s.networkProfiles).map((p) => String(p.category));
  const covers = (profile: string, category: string) => profile === 'Any' || profile.split(/,\s*/).includes(category === 'DomainAuthenticated' ? 'Domain' : category);
  if (!tcp || tcp.enabled !== true) {
    add({ cause: 'firewall-blocked', confidence: 'high', playbook: 'rdp-firewall-rules',
      evidence: [tcp ? 'the rule RemoteDesktop-UserMode-In-TCP is disabled' : 'no RemoteDesktop-UserMode-In-TCP rule'] });
  }
  // Checked whether or not the rule is enabled: enabling it would still leave a Public network uncovered.
  if (tcp && categories.length && !categories.some((c) => covers(String(tcp.profile), c))) {
    const publicOnes = categories.filter((c) => c === 'Public');
    add({ cause: 'public-profile', confidence: publicOnes.length ? 'high' : 'medium', playbook: publicOnes.length ? 'network-profile-private' : 'rdp-firewall-rules',
      evidence: [`network category ${categories.join(', ')}; the RDP rule covers ${tcp.profile} only`] });
  }

  // Certificate and MachineKeys (reference 5): the RDP key must be readable; Schannel 36870 / TermService 1057-1058.
  const certs = list(s.certificate);
  const keyEvents = eventIds([36870, 1057, 1058]);
  const unreadable = certs.filter((c) => c.privateKeyReadable === false);
  if (unreadable.length || keyEvents.length || (certs.length === 0 && s.certificate !== undefined)) {
    add({ cause: 'machinekeys-corrupt', confidence: unreadable.length && keyEvents.length ? 'high' : 'medium', playbook: 'machinekeys-repair',
      evidence: [
        ...unreadable.map((c) => `the RDP certificate ${c.thumbprint} claims a private key that cannot be read`),
        ...(certs.length === 0 ? ['no certificate in Cert:\\LocalMachine\\Remote Desktop'] : []),
        ...summarize(keyEvents),
      ] });
  }

  // Profiles (reference 6): a <SID>.bak key or a TEMP profile path; User Profile 1511/1515.
  const profiles = list(s.profileList);
  const bak = profiles.filter((p) => String(p.key).endsWith('.bak'));
  const temp = profiles.filter((p) => /\\TEMP(\.[^\\]*)?$/i.test(String(p.path)));
  const profileEvents = eventIds([1511, 1515]);
  if (bak.length || temp.length) {
    add({ cause: 'profile-corrupt', confidence: profileEvents.length ? 'high' : 'medium', playbook: 'fix-user-profile',
      evidence: [...bak.map((p) => `ProfileList has ${p.key}`), ...temp.map((p) => `${p.key} points at ${p.path}`), ...summarize(profileEvents)] });
  }

  // NLA / CredSSP (reference 7): NLA needs TLS (CredSSP); the RDP Security Layer cannot carry it.
  const nla = num(rdp.policyUserAuthentication) ?? num(rdp.userAuthentication);
  const layer = num(rdp.policySecurityLayer) ?? num(rdp.securityLayer);
  const oracle = num(rdp.allowEncryptionOracle);
  const nlaEvidence = [
    ...(nla === 1 && layer === 0 ? [`NLA is required but SecurityLayer is 0 (RDP Security Layer)${num(rdp.policySecurityLayer) === 0 ? ', set by group policy' : ''}`] : []),
    ...(oracle === 0 ? ['CredSSP AllowEncryptionOracle=0 (Force Updated Clients): unpatched clients are refused'] : []),
  ];
  if (nlaEvidence.length) {
    add({ cause: 'nla-mismatch', confidence: nla === 1 && layer === 0 ? 'high' : 'medium', playbook: 'rdp-security-layer',
      blockedByPolicy: num(rdp.policySecurityLayer) === 0 || num(rdp.policyUserAuthentication) !== null, evidence: nlaEvidence });
  }

  // Sessions (references 2, 9): the connection limit against the sessions in use; long-disconnected sessions.
  const quser = parseQuser(((s.sessions as { lines?: string[] } | undefined)?.lines ?? []).join('\n'));
  const userSessions = quser.sessions.filter((x) => x.user);
  const policyMax = unsigned(num(rdp.policyMaxInstanceCount));
  const max = policyMax ?? unsigned(num(rdp.maxInstanceCount));
  const remote = userSessions.filter((x) => x.sessionName !== 'console');
  if (max !== null && remote.length >= max) {
    add({ cause: 'session-cap', confidence: 'high', playbook: 'session-limits', blockedByPolicy: policyMax !== null,
      evidence: [`MaxInstanceCount is ${max}${policyMax !== null ? ' (group policy)' : ''} and ${remote.length} remote session(s) are in use`] });
  }
  const stale = userSessions.filter((x) => x.state === 'Disconnected' && (x.idleMinutes ?? 0) >= DAY_MINUTES);
  if (stale.length) {
    add({ cause: 'stuck-session', confidence: 'medium', playbook: 'reset-stuck-sessions',
      evidence: stale.map((x) => `${x.user}: session ${x.id} disconnected, idle ${x.idleRaw}`) });
  }
  return out;
}

function summarize(events: Row[]): string[] {
  const byId = new Map<string, { n: number; last: string }>();
  for (const e of events) {
    const k = `${e.provider} ${e.id}`;
    const x = byId.get(k) ?? { n: 0, last: '' };
    x.n++;
    if (String(e.time) > x.last) x.last = String(e.time);
    byId.set(k, x);
  }
  return [...byId].map(([k, x]) => `event ${k} ×${x.n} (last ${x.last})`);
}
