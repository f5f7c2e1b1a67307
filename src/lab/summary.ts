import { labHostNow, type LabHostState } from './state.js';
import { RDP_TCP_KEY, TS_KEY, TS_POLICY_KEY } from './base-host.js';

/** One line of `rdpfix lab show`: the RDP-relevant facts of a lab host, read straight from its state. */
export interface LabHostSummary {
  host: string;
  scenarios: string[];
  termService: string;
  rdpEnabled: boolean;
  nla: boolean;
  securityLayer: number | null;
  networkCategories: string[];
  rdpRulesEnabled: string;
  sessions: { active: number; disconnected: number };
  rdpCertificate: string;
  events: number;
}

function value(s: LabHostState, key: string, name: string): unknown {
  const k = Object.keys(s.registry).find((x) => x.toLowerCase() === key.toLowerCase());
  const v = k ? Object.entries(s.registry[k]!).find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1] : undefined;
  return v?.data;
}

/** Policy values win over local ones (shared reference C.2). */
function effective(s: LabHostState, localKey: string, name: string): unknown {
  return value(s, TS_POLICY_KEY, name) ?? value(s, localKey, name);
}

/** `now` defaults to what the host's own clock reads. */
export function summarizeLabHost(s: LabHostState, now = labHostNow(s)): LabHostSummary {
  const ts = s.services.find((x) => x.Name === 'TermService');
  const rules = s.firewall.rules.filter((r) => r.Group === '@FirewallAPI.dll,-28752' && r.Name.startsWith('RemoteDesktop-UserMode'));
  const cert = s.certificates['LocalMachine\\Remote Desktop']?.[0];
  const userSessions = s.sessions.filter((x) => x.UserName);
  return {
    host: s.name,
    scenarios: s.scenarios,
    termService: ts ? ts.Status : 'missing',
    rdpEnabled: effective(s, TS_KEY, 'fDenyTSConnections') === 0,
    nla: effective(s, RDP_TCP_KEY, 'UserAuthentication') === 1,
    securityLayer: (effective(s, RDP_TCP_KEY, 'SecurityLayer') as number | undefined) ?? null,
    networkCategories: s.netConnectionProfiles.map((p) => `${p.InterfaceAlias}:${p.NetworkCategory}`),
    rdpRulesEnabled: `${rules.filter((r) => r.Enabled === 'True').length}/${rules.length} (${[...new Set(rules.map((r) => r.Profile))].join('; ')})`,
    sessions: { active: userSessions.filter((x) => x.State === 'Active').length, disconnected: userSessions.filter((x) => x.State === 'Disc').length },
    rdpCertificate: !cert ? 'none' : new Date(cert.NotAfter) < now ? `expired ${cert.NotAfter.slice(0, 10)}` : `valid to ${cert.NotAfter.slice(0, 10)}`,
    events: s.events.length,
  };
}
