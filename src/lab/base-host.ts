import type { LabHostState, RegistryHive, LabService, LabFirewallRule, LabSession } from './state.js';
import { LAB_STATE_SCHEMA } from './state.js';
import type { Rng } from './rng.js';

// Registry key paths the lab and the playbooks use (Windows facts: docs/windows-facts.md, shared reference §1–§9).
export const HKLM = 'HKEY_LOCAL_MACHINE';
export const TS_KEY = `${HKLM}\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server`;
export const WINSTATIONS_KEY = `${TS_KEY}\\WinStations`;
export const RDP_TCP_KEY = `${WINSTATIONS_KEY}\\RDP-Tcp`;
export const TS_POLICY_KEY = `${HKLM}\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services`;
export const PROFILE_LIST_KEY = `${HKLM}\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList`;
export const CRYPTOGRAPHY_KEY = `${HKLM}\\SOFTWARE\\Microsoft\\Cryptography`;
export const CREDSSP_POLICY_KEY = `${HKLM}\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System\\CredSSP\\Parameters`;
export const MACHINE_KEYS_DIR = 'C:\\ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys';
/** The RDP self-signed certificate's CAPI key container hash (SA internal-error doc). */
export const RDP_KEY_PREFIX = 'f686aace6942fb7f7ceb231212eef4a4';
/** vmassist.ps1's expected MachineKeys folder ACL. */
export const MACHINE_KEYS_SDDL = 'O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)';
/** SA internal-error doc: RDP key file: NETWORK SERVICE Read, SYSTEM Full control, not inherited; owner an administrator. */
export const RDP_KEY_SDDL = 'O:BAG:SYD:P(A;;FR;;;NS)(A;;FA;;;SY)';
export const RDP_FIREWALL_GROUP = '@FirewallAPI.dll,-28752';
export const UNLIMITED_INSTANCES = 4294967295;

const dword = (data: number) => ({ kind: 'DWord' as const, data });
const sz = (data: string) => ({ kind: 'String' as const, data });
const expand = (data: string) => ({ kind: 'ExpandString' as const, data });

export interface LabUser {
  name: string;
  sid: string;
}

/** Hex thumbprint → REG_BINARY bytes, as SSLCertificateSHA1Hash stores it. */
export function thumbprintBytes(thumbprint: string): number[] {
  return thumbprint.match(/../g)!.map((h) => parseInt(h, 16));
}

function services(rng: Rng): LabService[] {
  const netsvcPid = rng.int(700, 1400);
  const localSystemPid = rng.int(1500, 2400);
  const svc = (Name: string, DisplayName: string, StartType: LabService['StartType'], ProcessId: number,
    deps: Partial<Pick<LabService, 'DependentServices' | 'ServicesDependedOn'>> = {}): LabService => ({
    Name, DisplayName, Status: 'Running', StartType, ServiceType: 'Win32ShareProcess',
    DependentServices: deps.DependentServices ?? [], ServicesDependedOn: deps.ServicesDependedOn ?? [],
    CanStop: true, ProcessId, hang: null,
  });
  return [
    // TermService: svchost -k NetworkService, default start Manual (trigger-started), UmRdpService depends on it (ref §1.1).
    svc('TermService', 'Remote Desktop Services', 'Manual', netsvcPid, { DependentServices: ['UmRdpService'], ServicesDependedOn: ['RPCSS'] }),
    svc('UmRdpService', 'Remote Desktop Services UserMode Port Redirector', 'Manual', localSystemPid, { ServicesDependedOn: ['TermService', 'RDPDR'] }),
    svc('SessionEnv', 'Remote Desktop Configuration', 'Manual', localSystemPid, { ServicesDependedOn: ['RPCSS', 'LanmanWorkstation'] }),
    // Needed to regenerate the self-signed certificate (ref §5.3).
    svc('CertPropSvc', 'Certificate Propagation', 'Manual', localSystemPid),
    svc('KeyIso', 'CNG Key Isolation', 'Manual', rng.int(600, 690), { ServicesDependedOn: ['RPCSS'] }),
    svc('CryptSvc', 'Cryptographic Services', 'Automatic', netsvcPid + 40, { ServicesDependedOn: ['RPCSS'] }),
    svc('WinRM', 'Windows Remote Management (WS-Management)', 'Automatic', netsvcPid + 80, { ServicesDependedOn: ['RPCSS', 'HTTP'] }),
    svc('MpsSvc', 'Windows Defender Firewall', 'Automatic', rng.int(2500, 2600), { ServicesDependedOn: ['BFE', 'mpsdrv'] }),
    svc('NlaSvc', 'Network Location Awareness', 'Automatic', netsvcPid, { ServicesDependedOn: ['NSI', 'RpcSs', 'TcpIp', 'Dhcp', 'Eventlog'] }),
    svc('RpcSs', 'Remote Procedure Call (RPC)', 'Automatic', rng.int(500, 599), { DependentServices: ['TermService', 'SessionEnv', 'KeyIso', 'CryptSvc', 'WinRM'] }),
    svc('Schedule', 'Task Scheduler', 'Automatic', localSystemPid),
  ].map((s) => (s.Name === 'RpcSs' ? { ...s, CanStop: false } : s));
}

function rdpFirewallRules(profile: string): LabFirewallRule[] {
  const rule = (Name: string, DisplayName: string, Protocol: string, Program: string, Service: string): LabFirewallRule => ({
    Name, DisplayName,
    Description: `Inbound rule for the Remote Desktop service to allow RDP traffic. [${Protocol} 3389]`,
    DisplayGroup: 'Remote Desktop', Group: RDP_FIREWALL_GROUP,
    Enabled: 'True', Profile: profile, Direction: 'Inbound', Action: 'Allow',
    Protocol, LocalPort: '3389', RemotePort: 'Any', RemoteAddress: 'Any', Program, Service,
    PolicyStoreSourceType: 'Local',
  });
  const svchost = '%SystemRoot%\\system32\\svchost.exe';
  const shadow = rule('RemoteDesktop-Shadow-In-TCP', 'Remote Desktop - Shadow (TCP-In)', 'TCP', '%SystemRoot%\\system32\\RdpSa.exe', 'Any');
  return [
    rule('RemoteDesktop-UserMode-In-TCP', 'Remote Desktop - User Mode (TCP-In)', 'TCP', svchost, 'termservice'),
    rule('RemoteDesktop-UserMode-In-UDP', 'Remote Desktop - User Mode (UDP-In)', 'UDP', svchost, 'termservice'),
    { ...shadow, LocalPort: 'Any', Description: 'Inbound rule for the Remote Desktop service to allow shadowing of an existing Remote Desktop session. (TCP-In)' },
    {
      ...rule('RemoteDesktop-In-TCP-WS', 'Remote Desktop - (TCP-WS-In)', 'TCP', 'System', 'Any'),
      DisplayGroup: 'Remote Desktop (WebSocket)', Group: '@FirewallAPI.dll,-28852', Enabled: 'False', Profile: 'Any', LocalPort: '3387',
    },
    {
      ...rule('RemoteDesktop-In-TCP-WSS', 'Remote Desktop - (TCP-WSS-In)', 'TCP', 'System', 'Any'),
      DisplayGroup: 'Remote Desktop (WebSocket)', Group: '@FirewallAPI.dll,-28852', Enabled: 'False', Profile: 'Any', LocalPort: '3392',
    },
  ];
}

/** Enable-PSRemoting's two rules on a server: Domain, Private from anywhere; Public from the local subnet only
 *  ("the WinRM firewall exception for public profiles limits access to remote computers within the same local subnet"). */
function winrmFirewallRules(): LabFirewallRule[] {
  const base = {
    DisplayName: 'Windows Remote Management (HTTP-In)', Description: 'Inbound rule for Windows Remote Management via WS-Management. [TCP 5985]',
    DisplayGroup: 'Windows Remote Management', Group: '@FirewallAPI.dll,-30267', Enabled: 'True',
    Direction: 'Inbound', Action: 'Allow', Protocol: 'TCP', LocalPort: '5985', RemotePort: 'Any',
    Program: 'System', Service: 'Any', PolicyStoreSourceType: 'Local',
  } as const;
  return [
    { ...base, Name: 'WINRM-HTTP-In-TCP-NoScope', Profile: 'Domain, Private', RemoteAddress: 'Any' },
    { ...base, Name: 'WINRM-HTTP-In-TCP', Profile: 'Public', RemoteAddress: 'LocalSubnet' },
  ];
}

function registry(machineGuid: string, rdpThumbprint: string, users: LabUser[]): RegistryHive {
  const hive: RegistryHive = {
    [`${HKLM}\\SYSTEM`]: {},
    [`${HKLM}\\SYSTEM\\CurrentControlSet`]: {},
    [`${HKLM}\\SYSTEM\\CurrentControlSet\\Control`]: {},
    [TS_KEY]: {
      fDenyTSConnections: dword(0),
      fSingleSessionPerUser: dword(1),
      TSUserEnabled: dword(0),
      fDenyChildConnections: dword(0),
    },
    [WINSTATIONS_KEY]: { SelfSignedCertStore: sz('Remote Desktop') },
    [RDP_TCP_KEY]: {
      PortNumber: dword(3389),
      UserAuthentication: dword(1),
      SecurityLayer: dword(2),
      MinEncryptionLevel: dword(2),
      fEnableWinStation: dword(1),
      fLogonDisabled: dword(0),
      fAllowSecProtocolNegotiation: dword(1),
      LanAdapter: dword(0),
      MaxInstanceCount: dword(UNLIMITED_INSTANCES),
      SSLCertificateSHA1Hash: { kind: 'Binary', data: thumbprintBytes(rdpThumbprint) },
    },
    [`${HKLM}\\SOFTWARE`]: {},
    [`${HKLM}\\SOFTWARE\\Policies`]: {},
    [`${HKLM}\\SOFTWARE\\Policies\\Microsoft`]: {},
    [`${HKLM}\\SOFTWARE\\Policies\\Microsoft\\Windows NT`]: {},
    [TS_POLICY_KEY]: {},
    [`${HKLM}\\SOFTWARE\\Microsoft`]: {},
    [CRYPTOGRAPHY_KEY]: { MachineGuid: sz(machineGuid) },
    [`${HKLM}\\SOFTWARE\\Microsoft\\Windows NT`]: {},
    [`${HKLM}\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion`]: {},
    [PROFILE_LIST_KEY]: {
      ProfilesDirectory: expand('%SystemDrive%\\Users'),
      Default: expand('%SystemDrive%\\Users\\Default'),
      Public: expand('%SystemDrive%\\Users\\Public'),
      ProgramData: expand('%SystemDrive%\\ProgramData'),
    },
    [`${HKLM}\\SOFTWARE\\Microsoft\\Windows`]: {},
    [`${HKLM}\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion`]: {},
    [`${HKLM}\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies`]: {},
    [`${HKLM}\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System`]: {},
  };
  const wellKnown: [string, string][] = [
    ['S-1-5-18', '%systemroot%\\system32\\config\\systemprofile'],
    ['S-1-5-19', '%systemroot%\\ServiceProfiles\\LocalService'],
    ['S-1-5-20', '%systemroot%\\ServiceProfiles\\NetworkService'],
  ];
  for (const [sid, p] of wellKnown) {
    hive[`${PROFILE_LIST_KEY}\\${sid}`] = { Flags: dword(sid === 'S-1-5-18' ? 12 : 0), ProfileImagePath: expand(p), State: dword(0) };
  }
  for (const u of users) {
    hive[`${PROFILE_LIST_KEY}\\${u.sid}`] = {
      ProfileImagePath: expand(`C:\\Users\\${u.name}`),
      Flags: dword(0),
      State: dword(0),
      RefCount: dword(0),
      ProfileLoadTimeLow: dword(0),
      ProfileLoadTimeHigh: dword(0),
    };
  }
  return hive;
}

/** A healthy Windows Server 2022 host, everything RDP needs in place, whose clock reads `now`. Deterministic for a given rng. */
export function healthyHost(index: number, rng: Rng, now: Date): LabHostState {
  const name = `lab-${String(index + 1).padStart(3, '0')}`;
  const computerName = name.toUpperCase();
  const machineGuid = rng.uuid();
  const rdpThumbprint = rng.hex(40).toUpperCase();
  const winrmThumbprint = rng.hex(40).toUpperCase();
  const domainSid = `S-1-5-21-${rng.int(1e9, 4e9)}-${rng.int(1e9, 4e9)}-${rng.int(1e9, 4e9)}`;
  const users: LabUser[] = ['Administrator', 'alice', 'bob', 'carol'].map((n, i) => ({ name: n, sid: `${domainSid}-${i === 0 ? 500 : 1000 + i}` }));
  const rdpKeyFile = `${RDP_KEY_PREFIX}_${machineGuid}`;
  const winrmKeyFile = `${rng.hex(32)}_${machineGuid}`;
  const iso = (ms: number) => new Date(now.getTime() + ms).toISOString();
  const day = 86_400_000;

  const files: LabHostState['files'] = {
    'C:\\ProgramData\\Microsoft\\Crypto\\RSA': { type: 'directory', sddl: 'O:SYG:SYD:(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;WD)' },
    [MACHINE_KEYS_DIR]: { type: 'directory', sddl: MACHINE_KEYS_SDDL },
    [`${MACHINE_KEYS_DIR}\\${rdpKeyFile}`]: { type: 'file', sddl: RDP_KEY_SDDL, content: Buffer.from(`RSA2 TSSecKeySet1 ${rng.hex(64)}`).toString('base64'), lastWriteTime: iso(-40 * day) },
    [`${MACHINE_KEYS_DIR}\\${winrmKeyFile}`]: { type: 'file', sddl: 'O:SYG:SYD:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;NS)', content: Buffer.from(`RSA2 WinRM-HTTPS ${rng.hex(64)}`).toString('base64'), lastWriteTime: iso(-200 * day) },
    'C:\\Users': { type: 'directory', sddl: 'O:SYG:SYD:PAI(A;OICIIO;GA;;;SY)(A;;FA;;;SY)(A;OICIIO;GA;;;BA)(A;;FA;;;BA)(A;;0x1200a9;;;WD)' },
  };
  for (const u of users) {
    files[`C:\\Users\\${u.name}`] = { type: 'directory', sddl: `O:${u.sid}G:${u.sid}D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;${u.sid})` };
    files[`C:\\Users\\${u.name}\\NTUSER.DAT`] = { type: 'file', sddl: `O:${u.sid}G:${u.sid}D:(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;FA;;;${u.sid})`, content: Buffer.from('regf').toString('base64') };
  }

  const sessions: LabSession[] = [
    { Id: 0, SessionName: 'services', UserName: '', State: 'Disc', Type: '', Device: '', IdleMinutes: null, LogonTime: null },
    { Id: 1, SessionName: 'console', UserName: '', State: 'Conn', Type: '', Device: '', IdleMinutes: null, LogonTime: null },
    { Id: 2, SessionName: 'rdp-tcp#0', UserName: 'alice', State: 'Active', Type: 'rdpwd', Device: '', IdleMinutes: rng.int(0, 20), LogonTime: iso(-rng.int(1, 8) * 3_600_000) },
    { Id: 65536, SessionName: 'rdp-tcp', UserName: '', State: 'Listen', Type: '', Device: '', IdleMinutes: null, LogonTime: null },
  ];

  return {
    schema: LAB_STATE_SCHEMA,
    name,
    computerName,
    domain: null,
    os: { caption: 'Microsoft Windows Server 2022 Datacenter', version: '10.0.20348', buildNumber: '20348', psVersion: '5.1.20348.2849', productType: 'Server' },
    locale: 'en-US',
    machineGuid,
    scenarios: ['healthy'],
    network: {
      fqdn: `${name}.lab.rdpfix.test`,
      // 198.18.0.0/15 is reserved for benchmarking (RFC 2544): lab addresses are data only, never dialled.
      address: `198.18.${Math.floor(index / 250)}.${(index % 250) + 1}`,
      dnsAddress: `198.18.${Math.floor(index / 250)}.${(index % 250) + 1}`,
      reachable: true,
    },
    services: services(rng),
    registry: registry(machineGuid, rdpThumbprint, users),
    netConnectionProfiles: [
      { Name: 'Network', InterfaceAlias: 'Ethernet', InterfaceIndex: rng.int(3, 12), NetworkCategory: 'Private', IPv4Connectivity: 'Internet', IPv6Connectivity: 'NoTraffic', DomainAuthenticationKind: 'None' },
    ],
    firewall: {
      profiles: (['Domain', 'Private', 'Public'] as const).map((Name) => ({ Name, Enabled: true, DefaultInboundAction: 'NotConfigured', DefaultOutboundAction: 'NotConfigured' })),
      rules: [...rdpFirewallRules('Domain, Private, Public'), ...winrmFirewallRules()],
    },
    files,
    certificates: {
      'LocalMachine\\Remote Desktop': [{
        Thumbprint: rdpThumbprint, Subject: `CN=${computerName}`, Issuer: `CN=${computerName}`,
        NotBefore: iso(-40 * day), NotAfter: iso(142 * day), SerialNumber: rng.hex(32).toUpperCase(), FriendlyName: '',
        HasPrivateKey: true, KeyContainer: rdpKeyFile,
      }],
      'LocalMachine\\My': [{
        Thumbprint: winrmThumbprint, Subject: `CN=${name}.lab.rdpfix.test`, Issuer: `CN=${name}.lab.rdpfix.test`,
        NotBefore: iso(-200 * day), NotAfter: iso(165 * day), SerialNumber: rng.hex(32).toUpperCase(), FriendlyName: 'WinRM HTTPS',
        HasPrivateKey: true, KeyContainer: winrmKeyFile,
      }],
    },
    sessions,
    events: [],
    scheduledTasks: [],
    faults: { commands: [], latencyMs: 0, drop: null, hang: null },
    clock: { now: now.toISOString() },
  };
}

export function labUsers(state: LabHostState): LabUser[] {
  const prefix = `${PROFILE_LIST_KEY}\\`.toLowerCase();
  return Object.entries(state.registry)
    .filter(([k]) => k.toLowerCase().startsWith(prefix) && /S-1-5-21-/.test(k))
    .map(([k, v]) => ({ sid: k.slice(prefix.length).replace(/\.bak$/, ''), name: String(v.ProfileImagePath?.data ?? '').split('\\').pop() ?? '' }));
}

// ---------------------------------------------------------------------------------------------------------
// Host options: real hosts that differ from the default install in ways scripts must not assume away.

/** Where a CNG (key storage provider) machine key lives, beside the CAPI MachineKeys folder (learn.microsoft.com
 *  seccng "Key Storage and Retrieval": shared private keys in %ALLUSERSPROFILE%\Application Data\Microsoft\Crypto\Keys). */
export const cngKeysDir = (drive = 'C:') => `${drive}\\ProgramData\\Microsoft\\Crypto\\Keys`;
export const machineKeysDir = (drive = 'C:') => `${drive}\\ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys`;

/** Windows installed on another drive: %SystemDrive% is `drive`, and every file the host has on C: moves there
 *  (%ProgramData%, %SystemRoot%, the profiles). Apply after any scenario: scenarios address C: paths. */
export function onSystemDrive(s: LabHostState, drive: string): void {
  if (!/^[D-Z]:$/.test(drive)) throw new Error(`onSystemDrive: '${drive}' is not a drive letter D: to Z:`);
  const move = (p: string) => (/^C:\\/i.test(p) ? drive + p.slice(2) : p);
  s.systemDrive = drive;
  s.files = Object.fromEntries(Object.entries(s.files).map(([p, f]) => [move(p), f.reparseTarget ? { ...f, reparseTarget: move(f.reparseTarget) } : f]));
  for (const values of Object.values(s.registry)) {
    for (const v of Object.values(values)) if (typeof v.data === 'string') v.data = move(v.data);
  }
}

/** The RDP certificate's key held by the Microsoft Software Key Storage Provider (CNG) instead of a CAPI CSP: the
 *  key file sits in Crypto\Keys, with the same ACL. The file keeps its name [LAB: a CNG key file's name is the
 *  provider's hash of the key name; the lab reuses the CAPI name so that one name finds it in either folder]. */
export function withCngRdpKey(s: LabHostState): void {
  const drive = s.systemDrive ?? 'C:';
  const cert = s.certificates['LocalMachine\\Remote Desktop']![0]!;
  const from = `${machineKeysDir(drive)}\\${cert.KeyContainer}`;
  const file = s.files[from];
  if (!file) throw new Error(`withCngRdpKey: no RDP key file ${from}`);
  delete s.files[from];
  s.files[cngKeysDir(drive)] = { type: 'directory', sddl: 'O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)' };
  s.files[`${cngKeysDir(drive)}\\${cert.KeyContainer}`] = file;
  cert.KeyStorage = 'cng';
}
