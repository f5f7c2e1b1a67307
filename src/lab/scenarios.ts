import type { LabHostState, LabEvent } from './state.js';
import type { Rng } from './rng.js';
import { RDP_TCP_KEY, TS_KEY, TS_POLICY_KEY, PROFILE_LIST_KEY, CREDSSP_POLICY_KEY, MACHINE_KEYS_DIR, HKLM, labUsers } from './base-host.js';

/**
 * Each scenario seeds one cause of "0x904 / extended 0x7" into a healthy host, the way it shows on a
 * real Windows host (state and the event log entries Windows writes). docs/lab.md lists them with sources.
 */
export const SCENARIOS = [
  'healthy',
  'termservice-stopped',
  'termservice-hung',
  'stuck-session',
  'public-profile',
  'firewall-blocked',
  'machinekeys-corrupt',
  'profile-corrupt',
  'nla-mismatch',
  'rdp-disabled',
  'session-cap',
  'dns-mismatch',
  'nla-policy',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export function isScenario(name: string): name is Scenario {
  return (SCENARIOS as readonly string[]).includes(name);
}

type Seeder = (s: LabHostState, rng: Rng, now: Date) => void;

const ago = (now: Date, minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();

function addEvent(s: LabHostState, e: Omit<LabEvent, 'RecordId'>): void {
  const last = s.events.reduce((m, x) => Math.max(m, x.RecordId), 10_000);
  s.events.push({ ...e, RecordId: last + 1 });
}

function service(s: LabHostState, name: string) {
  const svc = s.services.find((x) => x.Name === name);
  if (!svc) throw new Error(`lab base host has no service ${name}`);
  return svc;
}

function dropRdpListener(s: LabHostState): void {
  // With TermService down there is no listener, and live RDP sessions are gone from the list.
  s.sessions = s.sessions.filter((x) => x.State !== 'Listen' && !x.SessionName.startsWith('rdp-tcp#'));
}

const seeders: Record<Scenario, Seeder> = {
  healthy: () => {},

  'termservice-stopped': (s, _rng, now) => {
    service(s, 'TermService').Status = 'Stopped';
    service(s, 'UmRdpService').Status = 'Stopped';
    dropRdpListener(s);
    addEvent(s, { LogName: 'System', ProviderName: 'Service Control Manager', Id: 7036, Level: 4, TimeCreated: ago(now, 95),
      Message: 'The Remote Desktop Services service entered the stopped state.' });
  },

  'termservice-hung': (s, _rng, now) => {
    // SA troubleshoot-remote-desktop-services-issues: event 7022 "The Remote Desktop Services service hung on starting."
    const ts = service(s, 'TermService');
    ts.Status = 'StartPending';
    ts.hang = 'start';
    service(s, 'UmRdpService').Status = 'Stopped';
    dropRdpListener(s);
    addEvent(s, { LogName: 'System', ProviderName: 'Service Control Manager', Id: 7022, Level: 2, TimeCreated: ago(now, 40),
      Message: 'The Remote Desktop Services service hung on starting.' });
  },

  'stuck-session': (s, rng, now) => {
    // Disconnected sessions keep an empty SESSIONNAME (ref §2.2); one of them ignores logoff (hung).
    s.sessions = s.sessions.filter((x) => x.UserName !== 'bob' && x.UserName !== 'carol');
    s.sessions.push(
      { Id: 3, SessionName: '', UserName: 'bob', State: 'Disc', Type: '', Device: '', IdleMinutes: rng.int(2, 6) * 1440 + rng.int(0, 600), LogonTime: ago(now, 9 * 1440), hung: true },
      { Id: 4, SessionName: '', UserName: 'carol', State: 'Disc', Type: '', Device: '', IdleMinutes: rng.int(200, 900), LogonTime: ago(now, 1500) },
    );
  },

  'public-profile': (s) => {
    // Windows 10-style RDP rules scoped to Domain, Private: on a Public network nothing admits RDP (ref §3, §4.1).
    for (const p of s.netConnectionProfiles) p.NetworkCategory = 'Public';
    for (const r of s.firewall.rules) if (r.Group === '@FirewallAPI.dll,-28752') r.Profile = 'Domain, Private';
  },

  'firewall-blocked': (s) => {
    for (const r of s.firewall.rules) if (r.Group === '@FirewallAPI.dll,-28752') r.Enabled = 'False';
  },

  'machinekeys-corrupt': (s, _rng, now) => {
    // The RDP key exists but NETWORK SERVICE lost its read access and the folder ACL was replaced (ref §5):
    // Schannel 36870 on every connection, TermService 1057 when it tries to renew.
    const key = Object.keys(s.files).find((p) => p.startsWith(`${MACHINE_KEYS_DIR}\\f686aace`))!;
    s.files[key]!.sddl = 'O:BAG:SYD:P(A;;FA;;;BA)';
    s.files[MACHINE_KEYS_DIR]!.sddl = 'O:BAG:SYD:PAI(A;OICI;FA;;;BA)';
    addEvent(s, { LogName: 'System', ProviderName: 'Microsoft-Windows-TerminalServices-RemoteConnectionManager', Id: 1057, Level: 2, TimeCreated: ago(now, 300),
      Message: 'The RD Session Host Server has failed to create a new self signed certificate to be used for RD Session Host Server authentication on TLS connections. The relevant status code was Keyset does not exist' });
    for (const minutes of [30, 12, 3]) {
      addEvent(s, { LogName: 'System', ProviderName: 'Schannel', Id: 36870, Level: 2, TimeCreated: ago(now, minutes),
        Message: 'A fatal error occurred when attempting to access the TLS server credential private key. The error code returned from the cryptographic module is 0x8009030D. The internal error state is 10001.' });
    }
  },

  'profile-corrupt': (s, _rng, now) => {
    // KB947215: the SID key points at a TEMP profile, the real one was backed up as <SID>.bak (events 1511/1515).
    const user = labUsers(s).find((u) => u.name === 'carol')!;
    const key = `${PROFILE_LIST_KEY}\\${user.sid}`;
    s.registry[`${key}.bak`] = { ...s.registry[key]!, State: { kind: 'DWord', data: 0x8000 }, RefCount: { kind: 'DWord', data: 1 } };
    s.registry[key] = { ...s.registry[key]!, ProfileImagePath: { kind: 'ExpandString', data: 'C:\\Users\\TEMP' }, State: { kind: 'DWord', data: 0x0800 } };
    s.files['C:\\Users\\TEMP'] = { type: 'directory', sddl: `O:SYG:SYD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;${user.sid})` };
    addEvent(s, { LogName: 'Application', ProviderName: 'Microsoft-Windows-User Profiles Service', Id: 1515, Level: 3, TimeCreated: ago(now, 61),
      Message: 'Windows has backed up this user profile. Windows will automatically try to use the backup profile the next time this user logs on.' });
    addEvent(s, { LogName: 'Application', ProviderName: 'Microsoft-Windows-User Profiles Service', Id: 1511, Level: 3, TimeCreated: ago(now, 60),
      Message: 'Windows cannot find the local profile and is logging you on with a temporary profile. Changes you make to this profile will be lost when you log off.' });
  },

  'nla-mismatch': (s) => {
    // NLA required while the listener is set locally to the RDP Security Layer, which cannot carry CredSSP (ref §7.1;
    // MS-RDPBCGR 5.4.5: CredSSP is an External Security Protocol, Standard RDP Security supports none): every
    // NLA client is refused. Modelled on what Microsoft's Azure ResetRDPCert.ps1 leaves behind (ref §5.5 option 4):
    // SecurityLayer 0 and MinEncryptionLevel 1 written locally, UserAuthentication untouched (1, the default since
    // Windows Server 2012). No policy value: a local fix holds. docs/windows-facts/nla-credssp.md has the sources.
    s.registry[RDP_TCP_KEY]!.UserAuthentication = { kind: 'DWord', data: 1 };
    s.registry[RDP_TCP_KEY]!.SecurityLayer = { kind: 'DWord', data: 0 };
    s.registry[RDP_TCP_KEY]!.MinEncryptionLevel = { kind: 'DWord', data: 1 };
  },

  'nla-policy': (s) => {
    // The same mismatch imposed by group policy ("Require use of specific security layer" = RDP), plus the CredSSP
    // policy "Encryption Oracle Remediation" = Force Updated Clients, which rejects unpatched clients (ref §7.1,
    // §7.2). Policy values win over local ones (ref C.2): no playbook can fix this host; the GPO must change.
    s.registry[RDP_TCP_KEY]!.UserAuthentication = { kind: 'DWord', data: 1 };
    s.registry[TS_POLICY_KEY]!.SecurityLayer = { kind: 'DWord', data: 0 };
    ensureKey(s, CREDSSP_POLICY_KEY);
    s.registry[CREDSSP_POLICY_KEY]!.AllowEncryptionOracle = { kind: 'DWord', data: 0 };
  },

  'rdp-disabled': (s) => {
    s.registry[TS_KEY]!.fDenyTSConnections = { kind: 'DWord', data: 1 };
  },

  'session-cap': (s, _rng, now) => {
    // Two remote sessions in use and MaxInstanceCount 2: a third connection is refused (ref §9.1).
    s.registry[RDP_TCP_KEY]!.MaxInstanceCount = { kind: 'DWord', data: 2 };
    s.sessions = s.sessions.filter((x) => x.UserName !== 'bob');
    s.sessions.push({ Id: 3, SessionName: 'rdp-tcp#1', UserName: 'bob', State: 'Active', Type: 'rdpwd', Device: '', IdleMinutes: 95, LogonTime: ago(now, 400) });
  },

  'dns-mismatch': (s) => {
    // DNS answers with a stale address: the controller reaches some other machine (or none).
    const [a, b, c] = s.network.address.split('.');
    s.network.dnsAddress = `${a}.${b}.${Number(c) + 100}.${Number(s.network.address.split('.')[3]) + 1}`;
  },
};

function ensureKey(s: LabHostState, key: string): void {
  const parts = key.split('\\');
  for (let i = 1; i <= parts.length; i++) {
    const k = parts.slice(0, i).join('\\');
    if (k !== HKLM) s.registry[k] ??= {};
  }
}

export function applyScenario(state: LabHostState, scenario: Scenario, rng: Rng, now: Date): void {
  seeders[scenario](state, rng, now);
  state.scenarios = state.scenarios.filter((x) => x !== 'healthy');
  if (scenario !== 'healthy') state.scenarios.push(scenario);
  if (state.scenarios.length === 0) state.scenarios = ['healthy'];
}
