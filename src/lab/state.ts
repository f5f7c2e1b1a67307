/**
 * The lab host state document: one JSON file per simulated Windows host. The PowerShell lab module
 * (src/lab/ps) reads and writes it; TypeScript only creates it (lab init) and prints it (lab show).
 * docs/lab.md describes each part and the Windows facts it follows.
 */

import { readFileSync } from 'node:fs';
import type { LabLocale } from './locales.js';

export const LAB_STATE_SCHEMA = 1;

/** .NET RegistryValueKind names, as `(Get-Item $key).GetValueKind($name)` prints them. */
export type RegistryKind = 'String' | 'ExpandString' | 'Binary' | 'DWord' | 'MultiString' | 'QWord';

/**
 * DWord data is stored unsigned (as regedit shows it, 0..4294967295); PowerShell reads REG_DWORD as
 * Int32, so the lab returns 4294967295 as -1 exactly as Windows does. Binary data is a byte array.
 */
export interface RegistryValue {
  kind: RegistryKind;
  data: string | number | number[] | string[];
}

/** Key path (`HKEY_LOCAL_MACHINE\SYSTEM\...`, original case) → value name → value. The default value is '(default)' (ConvertFrom-Json cannot load an empty property name). */
export type RegistryHive = Record<string, Record<string, RegistryValue>>;

export type ServiceStatus = 'Running' | 'Stopped' | 'StartPending' | 'StopPending' | 'Paused';
export type ServiceStartType = 'Automatic' | 'Manual' | 'Disabled' | 'Boot' | 'System';

export interface LabService {
  Name: string;
  DisplayName: string;
  Status: ServiceStatus;
  StartType: ServiceStartType;
  /** Win32_Service.StartMode spelling: Auto / Manual / Disabled. Derived from StartType by the lab. */
  ServiceType: string;
  DependentServices: string[];
  ServicesDependedOn: string[];
  CanStop: boolean;
  /** svchost group the service is hosted in; services sharing a ProcessId die together. */
  ProcessId: number;
  /** Fault: the service hangs in StartPending ('start') or StopPending ('stop') until its process is killed. */
  hang?: 'start' | 'stop' | null;
}

export interface LabSession {
  Id: number;
  SessionName: string; // '' for disconnected user sessions, as quser prints them
  UserName: string; // '' for services / console without a user / listeners
  State: 'Active' | 'Disc' | 'Conn' | 'Listen' | 'Down' | 'Idle';
  Type: string; // qwinsta TYPE column ('rdpwd' for active RDP sessions)
  Device: string;
  /** Minutes since last input; null prints as 'none' (console). Less than 1 prints as '.'. */
  IdleMinutes: number | null;
  /** ISO 8601; quser prints it in the host locale's short date/time. */
  LogonTime: string | null;
  /** Fault: logoff of this session hangs (a stuck session). */
  hung?: boolean;
  /** Seconds of host time a logged-off session stays listed (logoff returns before it is gone); default 3, 0 = at once. */
  logoffLingerSeconds?: number;
  /** Set by logoff: the host time (ISO 8601) at which the session is gone. */
  logoffDueAt?: string;
}

export interface LabNetProfile {
  Name: string;
  InterfaceAlias: string;
  InterfaceIndex: number;
  NetworkCategory: 'Public' | 'Private' | 'DomainAuthenticated';
  IPv4Connectivity: 'Disconnected' | 'NoTraffic' | 'Subnet' | 'LocalNetwork' | 'Internet';
  IPv6Connectivity: 'Disconnected' | 'NoTraffic' | 'Subnet' | 'LocalNetwork' | 'Internet';
  DomainAuthenticationKind: 'None' | 'Ldap' | 'Tls';
  /** Network identification still running: Set-NetConnectionProfile fails with the 'Identifying...' error. */
  identifying?: boolean;
}

export interface LabFirewallProfile {
  Name: 'Domain' | 'Private' | 'Public';
  Enabled: boolean;
  DefaultInboundAction: 'NotConfigured' | 'Allow' | 'Block';
  DefaultOutboundAction: 'NotConfigured' | 'Allow' | 'Block';
  /**
   * Group policy's "Apply local firewall rules" (AllowLocalPolicyMerge): 'False' = only rules from group policy are in
   * effect on this profile; local rules stay listed but do nothing. Absent = not configured by policy (merged).
   */
  AllowLocalFirewallRules?: 'True' | 'False' | 'NotConfigured';
}

export interface LabFirewallRule {
  Name: string; // InstanceID, locale independent
  DisplayName: string;
  Description: string;
  DisplayGroup: string;
  Group: string; // '@FirewallAPI.dll,-28752' for Remote Desktop
  Enabled: 'True' | 'False';
  Profile: string; // 'Any' or 'Domain, Private, Public' subsets, in that order
  Direction: 'Inbound' | 'Outbound';
  Action: 'Allow' | 'Block';
  Protocol: string; // 'TCP' | 'UDP' | 'Any'
  LocalPort: string; // '3389' | 'Any' | '3389,3390'
  RemotePort: string;
  RemoteAddress: string; // 'Any' or comma-separated
  Program: string;
  Service: string;
  /** PersistentStore (local) or GroupPolicy (visible in ActiveStore only, read-only locally). */
  PolicyStoreSourceType: 'Local' | 'GroupPolicy';
}

export interface LabFile {
  type: 'file' | 'directory';
  /** Owner + DACL as SDDL, e.g. 'O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)'. */
  sddl: string;
  /** File content, base64 (small files only); absent for directories. */
  content?: string;
  /** Fault: reading the file fails as a corrupt key does (NTE_BAD_KEYSET). */
  corrupt?: boolean;
  lastWriteTime?: string;
  /** A directory that is a junction to this path: Get-Item shows ReparsePoint, LinkType Junction and the Target.
   *  (Paths beneath it are not redirected: rdpfix must refuse such a folder before it uses it.) */
  reparseTarget?: string;
}

export interface LabCertificate {
  Thumbprint: string;
  Subject: string;
  Issuer: string;
  NotBefore: string; // ISO
  NotAfter: string; // ISO
  SerialNumber: string;
  FriendlyName: string;
  HasPrivateKey: boolean;
  /** UniqueKeyContainerName: the key file name (under MachineKeys for a CAPI key, under Crypto\\Keys for a CNG key). */
  KeyContainer: string | null;
  /** Who holds the key: a CAPI CSP (%ProgramData%\\Microsoft\\Crypto\\RSA\\MachineKeys; the default when absent) or a
   *  CNG key storage provider (%ProgramData%\\Microsoft\\Crypto\\Keys). .NET Framework's .PrivateKey cannot open a CNG key. */
  KeyStorage?: 'capi' | 'cng';
}

export interface LabEvent {
  LogName: string;
  ProviderName: string;
  Id: number;
  Level: number; // 1 Critical, 2 Error, 3 Warning, 4 Information
  TimeCreated: string; // ISO
  Message: string;
  RecordId: number;
}

export interface LabScheduledTask {
  TaskPath: string;
  TaskName: string;
  State: 'Ready' | 'Running' | 'Disabled' | 'Queued' | 'Unknown';
  Description: string;
  Author: string;
  Actions: { Execute: string; Arguments: string | null; WorkingDirectory: string | null }[];
  Triggers: { Type: 'Once' | 'AtStartup' | 'Daily' | 'AtLogOn'; StartBoundary: string | null; Enabled: boolean }[];
  Principal: { UserId: string; LogonType: string; RunLevel: 'Highest' | 'Limited' };
  Settings: Record<string, string | boolean | number | null>;
  LastRunTime: string | null;
  LastTaskResult: number;
  NextRunTime: string | null;
}

export interface LabCommandFault {
  /** Command name as the script calls it, e.g. 'Restart-Service', 'Set-ItemProperty', 'logoff'. */
  command: string;
  /** 1-based: the Nth call of that command on this host fails (counted across remote calls). */
  nth: number;
  mode: 'error' | 'hang';
  message?: string;
}

export interface LabFaults {
  commands: LabCommandFault[];
  /** Added to every remote call to this host. */
  latencyMs: number;
  /** The Nth remote call loses its connection, before the script runs or after it ran (reply lost). */
  drop: { nth: number; when: 'before' | 'after' } | null;
  /** The Nth remote call never returns. */
  hang: { nth: number } | null;
}

export interface LabNetwork {
  /** Name in the inventory and what the controller resolves. */
  fqdn: string;
  /** The address the inventory expects. */
  address: string;
  /** What DNS answers for fqdn (differs from address in the dns-mismatch scenario; null = NXDOMAIN). */
  dnsAddress: string | null;
  /** Whether the host answers at all (powered on, routed). */
  reachable: boolean;
}

export interface LabHostState {
  schema: typeof LAB_STATE_SCHEMA;
  name: string;
  computerName: string;
  domain: string | null;
  os: { caption: string; version: string; buildNumber: string; psVersion: string; productType: 'Server' | 'Workstation' };
  /** Display language (src/lab/locales.json): tool text and well-known account names follow it; SIDs, enums, ports do not. */
  locale: LabLocale;
  machineGuid: string;
  /** The scenarios this host was seeded with (informational). */
  scenarios: string[];
  network: LabNetwork;
  services: LabService[];
  registry: RegistryHive;
  netConnectionProfiles: LabNetProfile[];
  firewall: { profiles: LabFirewallProfile[]; rules: LabFirewallRule[] };
  files: Record<string, LabFile>;
  certificates: Record<string, LabCertificate[]>; // store path 'LocalMachine\Remote Desktop' → certs
  sessions: LabSession[];
  events: LabEvent[];
  scheduledTasks: LabScheduledTask[];
  faults: LabFaults;
  /** The drive Windows is installed on ('D:': %SystemRoot% D:\\Windows, %ProgramData% D:\\ProgramData). Absent = 'C:'. */
  systemDrive?: string;
  /** Executables a WDAC/AppLocker/SRP rule blocks for every account ('powershell.exe'): a scheduled task running one
   *  never starts (LastTaskResult 0x800704EC). Absent = none. */
  blockedExecutables?: string[];
  /** The host's own clock. Absent on lab states made before it: such a host reads the controller's time. */
  clock?: { now: string };
}

/**
 * A lab host's clock is its own, not the controller's: it reads `clock.now` (the time the host was seeded at)
 * plus the time that passed *on the host* — while its commands ran (a mutating command keeps the reading in
 * the `<host>.clock.json` sidecar) and what `rdpfix lab advance` let pass. A host seeded at a fixed time thus
 * keeps that meaning on any date: event age, certificate validity, task triggers and revert-task TTLs are all
 * judged by it. Kept beside the state document, not in it, so that a rolled-back host still equals its
 * checkpoint.
 */
export interface LabClockSidecar {
  now: string;
  /** Set by `lab advance --reboot`: the host's last boot. */
  bootTime?: string | null;
}

export function labClockPath(statePath: string): string {
  return statePath.replace(/\.json$/, '') + '.clock.json';
}

/** What the host's clock reads now (the sidecar's reading, else the seeded time, else the controller's time). */
export function labHostNow(s: Pick<LabHostState, 'clock'>, statePath?: string): Date {
  if (statePath) {
    try {
      const side = JSON.parse(readFileSync(labClockPath(statePath), 'utf8')) as Partial<LabClockSidecar>;
      const t = typeof side.now === 'string' ? Date.parse(side.now) : NaN;
      if (!Number.isNaN(t)) return new Date(t);
    } catch {
      // No sidecar yet (or a torn one): the seeded time.
    }
  }
  const seeded = s.clock ? Date.parse(s.clock.now) : NaN;
  return Number.isNaN(seeded) ? new Date() : new Date(seeded);
}
