import type { ProbeData } from '../probe/probe.js';
import type { PortReach } from '../probe/reach.js';
import type { RdpNegotiation } from '../rdp/negotiate.js';
import { applyNegotiation, negotiationSummary } from './negotiation.js';
import { FILE_ALL, FILE_READ, TOKENS, effectiveRights, has, parseSddl, sameDacl } from './sddl.js';

/**
 * From what the probe read on a host (and what the controller saw of it), the causes of "0x904 / 0x7" that
 * hit it, each with its evidence, confidence and the playbook that fixes it, and low-confidence notes that
 * name no cause by themselves (a pending restart, event-log history). Pure: unit-testable on probe output.
 * The rules follow the shared reference (section numbers in comments) and docs/windows-facts/diagnosis.md;
 * docs/causes.md explains each cause.
 */
export type { Cause, Finding, Note } from './finding.js';
import type { Cause, Finding, Note } from './finding.js';

export interface Assessment {
  findings: Finding[];
  notes: Note[];
}

export interface ControllerView {
  /** What the inventory says the host's address is, and what DNS answered (null: no answer). */
  expectedAddress?: string;
  resolvedAddress?: string | null;
  /** The RDP port clients dial (the inventory's rdpPort, default 3389). */
  rdpPort?: number;
  /** TCP reach from the controller: the RDP port(s), WinRM 5985 and 5986, the transport's port (src/probe/reach.ts). */
  ports?: PortReach[];
  /** The ports rdpfix reads the host through, and their name (default WinRM, 5985 and 5986; SSH for ssh targets). */
  remoting?: { ports: number[]; name: string };
  /** The time to judge certificate expiry by, when the probe did not read the host's clock (tests). */
  now?: number;
  /** The RDP negotiation on the port clients dial, when it answered TCP (src/rdp/probe.ts). */
  negotiation?: RdpNegotiation;
}

type Row = Record<string, unknown>;
const list = (v: unknown): Row[] => (Array.isArray(v) ? (v as Row[]) : v && typeof v === 'object' ? [v as Row] : []);
const obj = (v: unknown): Row | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Row) : undefined);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const time = (v: unknown): number | null => {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isNaN(t) ? null : t;
};
/** REG_DWORD reads as Int32 in PowerShell: 4294967295 arrives as -1 (reference 9.1). */
const unsigned = (v: number | null) => (v === null ? null : v < 0 ? v + 2 ** 32 : v);
const DAY_MINUTES = 24 * 60;
// WTS_CONNECTSTATE_CLASS (wtsapi32.h).
const WTS_DISCONNECTED = 4;
const WTS_LISTEN = 6;

interface WtsSession { id: number; state: number; winStation: string; user: string; idleMinutes: number | null }
const wtsSession = (r: Row): WtsSession => ({
  id: typeof r.id === 'number' ? r.id : -1,
  state: typeof r.state === 'number' ? r.state : -1,
  winStation: typeof r.winStation === 'string' ? r.winStation : '',
  user: typeof r.user === 'string' ? r.user : '',
  idleMinutes: typeof r.idleMinutes === 'number' ? r.idleMinutes : null,
});

/** Idle minutes as quser writes them (d+hh:mm, h:mm, m), for evidence. */
export function formatIdle(minutes: number): string {
  const m = Math.floor(minutes);
  if (m < 60) return String(m);
  const d = Math.floor(m / 1440);
  const hh = Math.floor((m % 1440) / 60);
  const mm = String(m % 60).padStart(2, '0');
  return d === 0 ? `${hh}:${mm}` : `${d}+${String(hh).padStart(2, '0')}:${mm}`;
}

/** Event ids are per provider: the System log also holds e.g. Group Policy events in the 10xx range. */
const PROVIDER = {
  scm: 'Service Control Manager',
  schannel: 'Schannel',
  rcm: 'Microsoft-Windows-TerminalServices-RemoteConnectionManager',
  profiles: 'Microsoft-Windows-User Profiles Service',
};

/** Windows' MachineKeys folder ACL (reference 5.3: vmassist's default; SA: Administrators Full, Everyone Read/Write). */
export const MACHINE_KEYS_DEFAULT_SDDL = 'O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)';

/** Causes that close the RDP port, and causes that refuse a connection only after the socket opened. */
const CLOSES_PORT: Cause[] = ['termservice-stopped', 'termservice-hung', 'listener-down', 'rdp-disabled', 'firewall-blocked', 'public-profile'];
const AFTER_SOCKET: Cause[] = ['machinekeys-corrupt', 'nla-mismatch', 'session-cap', 'stuck-session', 'profile-corrupt'];

export function findingsFor(data: ProbeData, view: ControllerView = {}): Finding[] {
  return assess(data, view).findings;
}

export function assess(data: ProbeData, view: ControllerView = {}): Assessment {
  const s = data.sections;
  const out: Finding[] = [];
  const notes: Note[] = [];
  const add = (f: Finding) => out.push(f);
  const now = time(obj(s.clock)?.utcNow) ?? view.now ?? Date.now();

  if (view.expectedAddress && view.resolvedAddress !== undefined && view.resolvedAddress !== view.expectedAddress) {
    add({ cause: 'dns-mismatch', confidence: 'high', playbook: null,
      evidence: [view.resolvedAddress === null ? 'the name does not resolve' : `DNS answers ${view.resolvedAddress}; the inventory expects ${view.expectedAddress}`] });
  }

  // Services (reference 1): TermService must run, with its dependent UmRdpService.
  const services = list(s.services);
  const ts = services.find((x) => x.name === 'TermService');
  const umrdp = services.find((x) => x.name === 'UmRdpService');
  const events = list(s.events);
  const eventsOf = (provider: string, ids: number[]) => events.filter((e) => e.provider === provider && ids.includes(num(e.id) ?? -1));
  const hangEvents = eventsOf(PROVIDER.scm, [7022]);
  if (ts && (ts.status === 'StartPending' || ts.status === 'StopPending')) {
    add({ cause: 'termservice-hung', confidence: 'high', playbook: 'restart-termservice',
      evidence: [`TermService is ${ts.status}`, ...hangEvents.map((e) => `System event 7022 (hung on starting) at ${e.time}`)] });
  } else if (ts && ts.status !== 'Running') {
    add({ cause: 'termservice-stopped', confidence: 'high', playbook: 'restart-termservice',
      evidence: [`TermService is ${ts.status} (start type ${ts.startType})`, ...(umrdp && umrdp.status !== 'Running' ? [`UmRdpService is ${umrdp.status}`] : [])] });
  } else if (ts) {
    // Judged by the socket (port, owning process), never by qwinsta's STATE word: that is localized (Abhör., Écouter, ...).
    const listener = obj(s.listener);
    if (listener && listener.listening === false) {
      add({ cause: 'listener-down', confidence: 'medium', playbook: 'restart-termservice',
        evidence: [`TermService runs (PID ${num(listener.termServicePid) ?? '?'}), but nothing it owns listens on TCP port ${num(listener.port) ?? '?'}`] });
    }
    // Its dependents (UmRdpService) should run with it (reference 1.1, SA rdp-error-general-troubleshooting).
    const stopped = list(ts.dependents).filter((d) => d.status !== 'Running');
    if (stopped.length) {
      notes.push({ topic: 'service-dependents', confidence: 'low', text: 'TermService runs, but a service that depends on it does not (Microsoft\'s checklist expects both running; device redirection needs UmRdpService)',
        evidence: stopped.map((d) => `${d.name} is ${d.status} (start type ${d.startType})`) });
    }
  }

  // RDP enabled (reference 8): the policy value wins over the local one.
  const rdp = obj(s.rdp) ?? {};
  const policyDeny = num(rdp.policyFDenyTSConnections);
  const deny = policyDeny ?? num(rdp.fDenyTSConnections);
  if (deny === 1) {
    add({ cause: 'rdp-disabled', confidence: 'high', playbook: 'enable-remote-desktop', blockedByPolicy: policyDeny === 1,
      evidence: [policyDeny === 1 ? 'group policy sets fDenyTSConnections=1' : 'fDenyTSConnections=1 (local)'] });
  }

  // Firewall and network profile (references 3, 4): the RDP port must be admitted on an active profile.
  const categories = list(s.networkProfiles).map((p) => String(p.category));
  const portFirewall = obj(s.rdpPortFirewall);
  for (const f of portFirewall ? firewallByPort(portFirewall, categories) : firewallByBuiltInRule(list(s.firewall), categories)) add(f);

  // Certificate and MachineKeys (reference 5).
  const keys = machineKeys(s, eventsOf(PROVIDER.schannel, [36870]).concat(eventsOf(PROVIDER.rcm, [1057, 1058])), now);
  if (keys.finding) add(keys.finding);
  if (keys.note) notes.push(keys.note);

  // Profiles (reference 6): a <SID>.bak key or a TEMP profile path; User Profile 1511/1515.
  const profiles = list(s.profileList);
  const bak = profiles.filter((p) => String(p.key).endsWith('.bak'));
  const temp = profiles.filter((p) => /\\TEMP(\.[^\\]*)?$/i.test(String(p.path)));
  const profileEvents = eventsOf(PROVIDER.profiles, [1511, 1515]);
  if (bak.length || temp.length) {
    // Every affected SID is repaired: the first as the user, all of them in users (the playbook merges the two).
    const sids = [...new Set([...bak, ...temp].map((p) => String(p.key).replace(/\.bak$/, '')))];
    add({ cause: 'profile-corrupt', confidence: profileEvents.length ? 'high' : 'medium', playbook: 'fix-user-profile', parameters: { user: sids[0]!, users: sids },
      evidence: [...bak.map((p) => `ProfileList has ${p.key}`), ...temp.map((p) => `${p.key} points at ${p.path}`), ...summarize(profileEvents)] });
  } else if (profileEvents.length && s.profileList !== undefined) {
    // The log keeps them after the profile was repaired: history, not a cause.
    notes.push({ topic: 'event-history', confidence: 'low', text: 'temporary-profile events in the log, but no <SID>.bak key and no TEMP profile path now: history',
      evidence: summarize(profileEvents) });
  }

  // NLA / CredSSP / TLS (reference 7): NLA needs TLS (CredSSP); the RDP Security Layer cannot carry it;
  // TLS (SecurityLayer 2) is not valid with MinEncryptionLevel 1 (reference 7.1, Win32_TSGeneralSetting).
  const nla = num(rdp.policyUserAuthentication) ?? num(rdp.userAuthentication);
  const layer = num(rdp.policySecurityLayer) ?? num(rdp.securityLayer);
  const minEncryption = num(rdp.policyMinEncryptionLevel) ?? num(rdp.minEncryptionLevel);
  const oracle = num(rdp.allowEncryptionOracle);
  const tlsLowPair = layer === 2 && minEncryption === 1;
  const nlaEvidence = [
    ...(nla === 1 && layer === 0 ? [`NLA is required but SecurityLayer is 0 (RDP Security Layer)${num(rdp.policySecurityLayer) === 0 ? ', set by group policy' : ''}`] : []),
    ...(tlsLowPair ? [`SecurityLayer 2 (TLS) with MinEncryptionLevel 1 (Low)${num(rdp.policyMinEncryptionLevel) === 1 ? ', set by group policy' : ''}: Windows does not accept this pair`] : []),
    ...(oracle === 0 ? ['CredSSP AllowEncryptionOracle=0 (Force Updated Clients): unpatched clients are refused'] : []),
  ];
  const layerMismatch = nla === 1 && layer === 0;
  if (layerMismatch || tlsLowPair) {
    // Blocked only where policy sets the value the fix must change: a policy NLA=1 does not stop a local SecurityLayer fix.
    add({ cause: 'nla-mismatch', confidence: layerMismatch ? 'high' : 'medium', playbook: 'rdp-security-layer',
      blockedByPolicy: (layerMismatch && num(rdp.policySecurityLayer) !== null) || (tlsLowPair && (num(rdp.policySecurityLayer) !== null || num(rdp.policyMinEncryptionLevel) !== null)),
      evidence: nlaEvidence });
  } else if (oracle === 0) {
    // A secure policy setting, not a host fault: the fix is patching the clients (CVE-2018-0886), or the GPO.
    add({ cause: 'nla-mismatch', confidence: 'low', playbook: null, evidence: [...nlaEvidence, 'patch the clients (CredSSP, CVE-2018-0886) or change the GPO'] });
  }

  // Sessions (references 2, 9): the connection limit against the sessions in use; long-disconnected sessions.
  // Read through the WTS API on the host: the state is WTS_CONNECTSTATE_CLASS's number (4 = disconnected). Where
  // TermService does not run, Windows cannot list them: say the session causes are unknown rather than absent.
  const sessionsError = data.errors?.sessions;
  if (sessionsError) {
    notes.push({ topic: 'sessions-unknown', confidence: 'low', text: 'the sessions could not be read, so a session cap or stuck sessions cannot be judged until Remote Desktop Services runs again; diagnose again after the repair',
      evidence: [sessionsError.message] });
  }
  const userSessions = list(s.sessions).map(wtsSession).filter((x) => x.user && x.state !== WTS_LISTEN);
  const policyMax = unsigned(num(rdp.policyMaxInstanceCount));
  const max = policyMax ?? unsigned(num(rdp.maxInstanceCount));
  const remote = userSessions.filter((x) => x.winStation.toLowerCase() !== 'console');
  if (max !== null && remote.length >= max) {
    add({ cause: 'session-cap', confidence: 'high', playbook: 'session-limits', blockedByPolicy: policyMax !== null,
      evidence: [`MaxInstanceCount is ${max}${policyMax !== null ? ' (group policy)' : ''} and ${remote.length} remote session(s) are in use`] });
  }
  const stale = userSessions.filter((x) => x.state === WTS_DISCONNECTED && (x.idleMinutes ?? 0) >= DAY_MINUTES);
  if (stale.length) {
    add({ cause: 'stuck-session', confidence: 'medium', playbook: 'reset-stuck-sessions',
      evidence: stale.map((x) => `${x.user}: session ${x.id} disconnected, idle ${formatIdle(x.idleMinutes ?? 0)}`) });
  }

  // A pending restart names no cause, but changes that need one (PortNumber, security layer, TLS) may not be in effect.
  const reboot = obj(s.pendingReboot);
  if (reboot) {
    const signals = [
      ...(reboot.componentBasedServicing === true ? ['Component Based Servicing\\RebootPending'] : []),
      ...(reboot.windowsUpdate === true ? ['WindowsUpdate\\Auto Update\\RebootRequired'] : []),
      ...((num(reboot.pendingFileRenameOperations) ?? 0) > 0 ? [`Session Manager\\PendingFileRenameOperations (${reboot.pendingFileRenameOperations} entries)`] : []),
    ];
    if (signals.length) {
      notes.push({ topic: 'pending-reboot', confidence: 'low', text: 'a restart is pending: settings that take effect at restart (RDP port, security layer, TLS) may not be in effect yet', evidence: signals });
    }
  }

  controllerEvidence(out, notes, view, num(rdp.portNumber), now);
  return { findings: out, notes };
}

/** The host could not be read at all: the finding, with what the controller's TCP probes rule in or out. */
export function assessUnreachable(error: { category: string; message: string }, view: ControllerView = {}): Assessment {
  const evidence = [`${error.category}: ${error.message.split('\n')[0]}`];
  const rdpPort = view.rdpPort ?? 3389;
  const rdp = reachOf(view, rdpPort);
  const { name } = remotingOf(view);
  const winrm = remotingReach(view);
  const winrmOpen = winrm.filter((r) => r.open);
  if (rdp && winrm.length) {
    if (winrmOpen.length) {
      evidence.push(`${winrmOpen.map(say).join('; ')}: the host is up and reachable, the remoting call itself failed (see the error); ${say(rdp)}`);
    } else if (rdp.open) {
      evidence.push(`${say(rdp)}: the host is up and Remote Desktop listens; ${winrm.map(say).join('; ')}: ${name} is stopped or blocked, so the host's own state could not be read`);
    } else if ([rdp, ...winrm].some((r) => r.error === 'ECONNREFUSED')) {
      evidence.push(`${[rdp, ...winrm].map(say).join('; ')}: the host answers but neither Remote Desktop nor ${name} accepts connections`);
    } else {
      evidence.push(`${[rdp, ...winrm].map(say).join('; ')}: the host is down, or the network between the controller and it drops the traffic`);
    }
  }
  // The host could not be read; what its listener negotiates still shows what clients meet.
  if (rdp?.open && view.negotiation?.port === rdpPort && view.negotiation.attempts.length) evidence.push(negotiationSummary(view.negotiation));
  return { findings: [{ cause: 'unreachable', confidence: 'high', playbook: null, evidence }], notes: [] };
}

// ---------------------------------------------------------------------------------------------------------
// Controller view: what TCP connects from the controller rule in or out.

const reachOf = (view: ControllerView, port: number) => view.ports?.find((p) => p.port === port);
const remotingOf = (view: ControllerView) => view.remoting ?? { ports: [5985, 5986], name: 'WinRM' };
const remotingReach = (view: ControllerView) => remotingOf(view).ports.map((p) => reachOf(view, p)).filter((r): r is PortReach => r !== undefined);

/** One port's reach in words. */
export function say(r: PortReach): string {
  if (r.open) return `TCP ${r.port} answers${r.latencyMs !== null ? ` (${r.latencyMs} ms)` : ''}`;
  switch (r.error) {
    case 'ETIMEDOUT': return `TCP ${r.port} does not answer`;
    case 'ECONNREFUSED': return `TCP ${r.port} is refused (the host answered; nothing accepts there)`;
    case 'ENOTFOUND': return `TCP ${r.port} cannot be dialled: the name does not resolve`;
    default: return `TCP ${r.port} fails (${r.error ?? 'closed'})`;
  }
}

function controllerEvidence(out: Finding[], notes: Note[], view: ControllerView, hostPort: number | null, now: number): void {
  const dialled = view.rdpPort ?? hostPort ?? 3389;
  const portDiffers = hostPort !== null && view.rdpPort !== undefined && hostPort !== view.rdpPort;
  const r = reachOf(view, dialled);
  const onHostPort = portDiffers ? reachOf(view, hostPort) : undefined;
  if (portDiffers && !(r && !r.open && onHostPort?.open)) {
    notes.push({ topic: 'rdp-port', confidence: 'low', text: `the host's RDP port (PortNumber) is ${hostPort}; the inventory says clients dial ${view.rdpPort}`,
      evidence: [r, onHostPort].filter((x): x is PortReach => x !== undefined).map(say) });
  }
  if (!r) return;
  const winrmOpen = remotingReach(view).filter((x) => x.open);
  const from = `from the controller: ${say(r)}`;
  if (!r.open) {
    const hostUp = winrmOpen.length ? `; ${winrmOpen.map(say).join('; ')}, so the host is up: the cause is on the host` : '';
    const explained = out.filter((f) => CLOSES_PORT.includes(f.cause));
    for (const f of explained) f.evidence.push(from + hostUp);
    if (explained.length) return;
    if (portDiffers && onHostPort?.open) {
      out.push({ cause: 'unreachable', confidence: 'high', playbook: null,
        evidence: [from, `${say(onHostPort)}: Remote Desktop listens on ${hostPort} (PortNumber); clients and the inventory's rdpPort must use host:${hostPort}, or PortNumber must go back to ${dialled}`] });
      return;
    }
    out.push({ cause: 'unreachable', confidence: 'medium', playbook: null,
      evidence: [from, ...(winrmOpen.length ? [`${winrmOpen.map(say).join('; ')}: the host is up`] : []),
        'the host\'s own state admits RDP (service, listener, firewall): something between the controller and the host filters the port (a network firewall, a security group), or clients must dial another port'] });
    return;
  }
  // The negotiation on the dialled port: where it shows what a client meets, it is the stronger evidence.
  const neg = view.negotiation?.port === dialled ? view.negotiation : undefined;
  if (neg) applyNegotiation(out, notes, neg, now, CLOSES_PORT);
  const negotiated = neg && neg.attempts.length ? `; ${negotiationSummary(neg)}` : '';
  for (const f of out) {
    if (f.cause === 'firewall-blocked' || f.cause === 'public-profile') {
      // The host's rules say closed, the port answers: a rule or profile setting the probe cannot see admits it.
      if (f.confidence === 'high') f.confidence = 'medium';
      f.evidence.push(`yet ${from}: another rule, a group policy store or a disabled firewall profile admits it`);
    } else if (CLOSES_PORT.includes(f.cause)) {
      f.evidence.push(from + negotiated);
    } else if (AFTER_SOCKET.includes(f.cause)) {
      f.evidence.push(`${from}: the socket opens, the refusal comes after it (TLS, NLA, session limits)${negotiated}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Firewall (reference 4): which rules admit the RDP port on which profile.

const profileOf = (category: string) => (category === 'DomainAuthenticated' ? 'Domain' : category);
const covers = (profile: string, category: string) => profile === 'Any' || profile.split(/,\s*/).includes(profileOf(category));

/** Rules whose program/service conditions let the Remote Desktop service (svchost.exe, TermService) accept. */
function forTermService(r: Row): boolean {
  const program = str(r.program);
  const service = str(r.service);
  return (program === null || program === 'Any' || /\\svchost\.exe$/i.test(program)) && (service === null || service === 'Any' || /^termservice$/i.test(service));
}

/**
 * From the rules that cover the RDP port (probe section rdpPortFirewall, reference 4.2: "the rule the user
 * actually needs is the one whose LocalPort equals the configured PortNumber and whose Profile covers the
 * current network category"). Block rules win over allow rules (MS-FASP 2.2.34); a profile with the firewall
 * off admits everything; an unset default inbound action is Block.
 */
function firewallByPort(section: Row, categories: string[]): Finding[] {
  const port = num(section.port) ?? 3389;
  const profiles = list(section.profiles);
  const rules = list(section.rules).filter((r) => r.direction === undefined || r.direction === 'Inbound').filter(forTermService);
  const allow = rules.filter((r) => r.action === 'Allow');
  const enabledAllow = allow.filter((r) => r.enabled === true);
  const blocks = rules.filter((r) => r.action === 'Block' && r.enabled === true);
  if (!categories.length) return [];
  // Group policy's "Apply local firewall rules: No" (AllowLocalFirewallRules False in the ActiveStore): on that
  // profile only group policy rules are in effect, local ones are listed but do nothing (MS-GPFAS 2.2.3.13).
  const localOff = (c: string) => profiles.find((x) => x.name === profileOf(c))?.allowLocalRules === false;
  const inEffect = (r: Row, c: string) => covers(String(r.profile), c) && (r.source === 'GroupPolicy' || !localOff(c));
  const admittedOn = categories.filter((c) => {
    const p = profiles.find((x) => x.name === profileOf(c));
    if (p && p.enabled === false) return true;
    if (blocks.some((b) => inEffect(b, c))) return false;
    if (enabledAllow.some((a) => inEffect(a, c))) return true;
    return p?.defaultInboundAction === 'Allow';
  });
  if (admittedOn.length) return [];
  const named = (r: Row) => `${r.name}${r.source === 'GroupPolicy' ? ' (group policy)' : ''}`;
  const coversActive = (r: Row) => categories.some((c) => inEffect(r, c));
  const active = `the active network (${categories.join(', ')})`;
  const blocking = blocks.filter(coversActive);
  if (blocking.length) {
    return [{ cause: 'firewall-blocked', confidence: 'high', playbook: 'rdp-firewall-rules', blockedByPolicy: blocking.some((b) => b.source === 'GroupPolicy'),
      evidence: blocking.map((b) => `the block rule ${named(b)} covers TCP ${port} on ${b.profile}`) }];
  }
  const ignoring = categories.filter(localOff);
  if (ignoring.length) {
    // No local rule can let RDP in where local rules are not merged: the fix is the GPO's, not the host's.
    const ignored = enabledAllow.filter((a) => a.source !== 'GroupPolicy' && ignoring.some((c) => covers(String(a.profile), c)));
    return [{ cause: 'firewall-blocked', confidence: 'high', playbook: 'rdp-firewall-rules', blockedByPolicy: true,
      evidence: [`group policy sets 'Apply local firewall rules' to No on the ${[...new Set(ignoring.map(profileOf))].join(', ')} profile (AllowLocalFirewallRules False): only group policy rules are in effect there, and none admits TCP ${port}`,
        ...ignored.map((a) => `the local rule ${a.name} (TCP ${a.localPort}, ${a.profile}) is enabled but not in effect`)] }];
  }
  const disabled = (rs: Row[]) => rs.filter((r) => r.enabled !== true).map((r) => `the rule ${named(r)} (TCP ${r.localPort}, ${r.profile}) is disabled`);
  if (allow.length === 0) {
    return [{ cause: 'firewall-blocked', confidence: 'high', playbook: 'rdp-firewall-rules',
      evidence: [`no inbound rule admits TCP ${port} (the RDP port) on ${active}`,
        port !== 3389 ? `PortNumber is ${port}: the built-in rule RemoteDesktop-UserMode-In-TCP admits 3389 only` : 'the rule RemoteDesktop-UserMode-In-TCP is missing, or admits another port'] }];
  }
  if (allow.some(coversActive)) {
    // Rules for the active profile exist but are disabled: enabling them fixes it.
    return [{ cause: 'firewall-blocked', confidence: 'high', playbook: 'rdp-firewall-rules',
      evidence: [`no enabled inbound rule admits TCP ${port} (the RDP port) on ${active}`, ...disabled(allow.filter(coversActive))] }];
  }
  // No rule, enabled or not, covers the active network's profile: enabling rules would not be enough.
  const publicOnes = categories.filter((c) => c === 'Public');
  const out: Finding[] = [{ cause: 'public-profile', confidence: publicOnes.length ? 'high' : 'medium', playbook: publicOnes.length ? 'network-profile-private' : 'rdp-firewall-rules',
    evidence: [`network category ${categories.join(', ')}; the rules that admit TCP ${port} cover ${[...new Set(allow.map((a) => String(a.profile)))].join('; ')} only`] }];
  if (!enabledAllow.length) {
    out.unshift({ cause: 'firewall-blocked', confidence: 'high', playbook: 'rdp-firewall-rules',
      evidence: [`no enabled inbound rule admits TCP ${port} (the RDP port)`, ...disabled(allow)] });
  }
  return out;
}

/** Older probe output (no rdpPortFirewall section): the built-in rule alone. */
function firewallByBuiltInRule(rules: Row[], categories: string[]): Finding[] {
  const out: Finding[] = [];
  const tcp = rules.find((r) => r.name === 'RemoteDesktop-UserMode-In-TCP');
  if (!tcp || tcp.enabled !== true) {
    out.push({ cause: 'firewall-blocked', confidence: 'high', playbook: 'rdp-firewall-rules',
      evidence: [tcp ? 'the rule RemoteDesktop-UserMode-In-TCP is disabled' : 'no RemoteDesktop-UserMode-In-TCP rule'] });
  }
  if (tcp && categories.length && !categories.some((c) => covers(String(tcp.profile), c))) {
    const publicOnes = categories.filter((c) => c === 'Public');
    out.push({ cause: 'public-profile', confidence: publicOnes.length ? 'high' : 'medium', playbook: publicOnes.length ? 'network-profile-private' : 'rdp-firewall-rules',
      evidence: [`network category ${categories.join(', ')}; the RDP rule covers ${tcp.profile} only`] });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Certificate and MachineKeys (reference 5): the state decides; Schannel 36870 / TermService 1057-1058
// corroborate it, and are history once the state is healthy (the log keeps them after a repair).

/** HRESULTs of X509Certificate2.get_PrivateKey() (winerror.h): the key cannot be opened by this token / is a CNG key. */
const NTE_BAD_KEYSET = 0x80090016 | 0;
const NTE_BAD_PROV_TYPE = 0x80090014 | 0;

/**
 * Whether Remote Desktop Services can use a certificate's key that the probe (an administrator) could not open —
 * the judgement machinekeys-repair makes (Test-KeyReadable). The documented RDP key ACL (NETWORK SERVICE Read,
 * SYSTEM Full) grants administrators nothing, so their NTE_BAD_KEYSET is explained by the ACL; .NET Framework's
 * getter cannot open CNG keys at all (NTE_BAD_PROV_TYPE). Either way the service's view is the key file: there, not
 * empty, NETWORK SERVICE read and SYSTEM full control. A key administrators may read that still will not open is damaged.
 */
function keyUsableByService(cert: Record<string, unknown>, key: Record<string, unknown> | undefined): boolean {
  const hr = cert.privateKeyError;
  if (hr !== NTE_BAD_KEYSET && hr !== NTE_BAD_PROV_TYPE) return false;
  if (!key || key.exists !== true || key.length === 0 || !str(key.sddl)) return false;
  const sd = parseSddl(String(key.sddl));
  if (!sd) return false;
  if (!has(effectiveRights(sd, TOKENS.networkService), FILE_READ) || !has(effectiveRights(sd, TOKENS.system), FILE_ALL)) return false;
  return hr === NTE_BAD_PROV_TYPE || !has(effectiveRights(sd, TOKENS.administrator), 0x1);
}

function machineKeys(s: Record<string, unknown>, keyEvents: Row[], now: number): { finding?: Finding; note?: Note } {
  const certs = list(s.certificate);
  const binding = obj(s.rdpCertificateBinding);
  const folder = obj(s.machineKeys);
  const bound = str(binding?.thumbprint);
  const current = (bound ? certs.find((c) => String(c.thumbprint).toUpperCase() === bound.toUpperCase()) : undefined)
    ?? [...certs].sort((a, b) => (time(b.notAfter) ?? 0) - (time(a.notAfter) ?? 0))[0];
  const high: string[] = [];
  const medium: string[] = [];

  if (certs.length === 0 && s.certificate !== undefined) high.push('no certificate in Cert:\\LocalMachine\\Remote Desktop');
  const rdpKey = folder ? obj(folder.rdpKey) : undefined;
  const failed = certs.filter((x) => x.privateKeyReadable === false && !keyUsableByService(x, rdpKey));
  const unreadable = failed.map((c) => `the RDP certificate ${c.thumbprint} claims a private key that cannot be read`);
  const expiry = current ? time(current.notAfter) : null;
  if (current && expiry !== null && expiry < now) high.push(`the RDP certificate ${current.thumbprint} expired on ${current.notAfter}: the service failed to renew it`);
  if (bound && binding?.inRemoteDesktopStore === false && binding?.inMyStore === false) {
    high.push(`the listener is bound (SSLCertificateSHA1Hash) to ${bound}, a certificate in neither Remote Desktop nor My store`);
  }
  const selfSigned = !bound || binding?.inRemoteDesktopStore === true;
  if (folder) {
    if (folder.exists === false) high.push(`the MachineKeys folder ${folder.path} is missing`);
    if (str(folder.aclError)) medium.push(`the MachineKeys folder's ACL cannot be read: ${folder.aclError}`);
    const key = obj(folder.rdpKey);
    if (key && key.exists === false && selfSigned && certs.length) high.push(`the RDP key file ${key.name} is missing`);
    const keySd = key && str(key.sddl) ? parseSddl(String(key.sddl)) : null;
    if (key && keySd) {
      const ns = has(effectiveRights(keySd, TOKENS.networkService), FILE_READ);
      const sy = has(effectiveRights(keySd, TOKENS.system), FILE_ALL);
      if (!ns || !sy) {
        high.push(`the RDP key file's ACL ${key.sddl} gives ${[!ns ? 'NETWORK SERVICE no read' : '', !sy ? 'SYSTEM no full control' : ''].filter(Boolean).join(' and ')} (SA: NETWORK SERVICE Read, SYSTEM Full control)`);
      }
    } else if (key && key.exists === true && str(key.aclError)) {
      medium.push(`the RDP key file's ACL cannot be read: ${key.aclError}`);
    }
    const folderSd = str(folder.sddl) ? parseSddl(String(folder.sddl)) : null;
    if (folderSd && !sameDacl(folderSd, parseSddl(MACHINE_KEYS_DEFAULT_SDDL)!)) {
      medium.push(`the MachineKeys folder ACL is ${folder.sddl}; Windows' default is ${MACHINE_KEYS_DEFAULT_SDDL} (Administrators Full, Everyone Read/Write): regenerating the certificate may fail`);
    }
  }

  // The probe opens the key as an administrator; the documented key ACL (NETWORK SERVICE Read, SYSTEM Full) need
  // not let administrators read it. With that ACL in place, the file there and no Schannel/TermService key event
  // (which every failing connection logs), "cannot be read" alone is the probe's view, not the service's: a note.
  const key = folder ? obj(folder.rdpKey) : undefined;
  const keyAclAsDocumented = !!key && key.exists === true && str(key.sddl) !== null && !high.some((h) => h.startsWith("the RDP key file's ACL"));
  // Only a probe that could not say why (no HRESULT) leaves that doubt; with one, keyUsableByService decided.
  const unexplained = failed.every((c) => typeof c.privateKeyError !== 'number');
  if (unreadable.length && unexplained && keyAclAsDocumented && !keyEvents.length && !high.length && !medium.length) {
    return { note: { topic: 'rdp-key', confidence: 'low', evidence: unreadable,
      text: "the probe (an administrator) could not open the RDP certificate's key, but its ACL is as Windows sets it (NETWORK SERVICE Read, SYSTEM Full) and no key event is logged: not a cause by itself" } };
  }
  high.unshift(...unreadable);

  if (high.length || medium.length) {
    return { finding: { cause: 'machinekeys-corrupt', confidence: high.length ? 'high' : 'medium', playbook: 'machinekeys-repair', evidence: [...high, ...medium, ...summarize(keyEvents)] } };
  }
  if (!keyEvents.length) return {};
  // Healthy now. Events before the last TermService start (its process, or the last boot: lower bounds) or
  // before the current certificate was issued are history; later ones are worth a look, still not a cause.
  const refs: [string, number | null][] = [
    ['TermService last started', time(obj(s.termService)?.processStart)],
    ['the host last booted', time(obj(s.clock)?.lastBoot)],
    ['the current certificate was issued', current ? time(current.notBefore) : null],
  ];
  const known = refs.filter((r): r is [string, number] => r[1] !== null).sort((a, b) => b[1] - a[1]);
  const since = known[0];
  const recent = since ? keyEvents.filter((e) => (time(e.time) ?? 0) >= since[1]) : keyEvents;
  const history = keyEvents.filter((e) => !recent.includes(e));
  const evidence = [
    ...(history.length && since ? [`before ${since[0]} (${new Date(since[1]).toISOString()}): ${summarize(history).join('; ')}`] : []),
    ...(recent.length ? [`${since ? `since ${since[0]}` : 'when, unknown'}: ${summarize(recent).join('; ')}`] : []),
  ];
  return { note: { topic: 'event-history', confidence: 'low', evidence,
    text: recent.length
      ? 'certificate/key events in the log, but the certificate is in date, its key readable and the ACLs right: watch for new ones after a connection attempt'
      : 'certificate/key events in the log from before the current state: history' } };
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
