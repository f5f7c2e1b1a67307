import { createHash } from 'node:crypto';
/**
 * Where a step script runs. Every kind runs the same script text with the same arguments and returns
 * its output as JSON values (Invoke-Command semantics); src/broker/ps/invoke-request.ps1 does the work.
 */
export type TransportTarget = LabTarget | WinRmTarget | SshTarget | LocalTarget;

/** A simulated Windows host: one state document (src/lab). */
export interface LabTarget {
  kind: 'lab';
  host: string;
  statePath: string;
  /** The call is the simulated world itself (the lab's clock or network), not a remote call: no transport faults. */
  world?: boolean;
}

export type WinRmAuthentication = 'Default' | 'Negotiate' | 'Kerberos' | 'CredSSP' | 'Basic';

/** New-PSSession -ComputerName: WinRM over HTTP (5985) or HTTPS (5986). */
export interface WinRmTarget {
  kind: 'winrm';
  host: string;
  port?: number;
  useSsl?: boolean;
  authentication?: WinRmAuthentication;
  /** Resolved at run time from the environment or a prompt; never stored in inventories or journals. */
  credential?: { user: string; password: string };
  /** Certificate checks are skipped only when asked for explicitly. */
  skipCACheck?: boolean;
  skipCNCheck?: boolean;
  skipRevocationCheck?: boolean;
  /** Kerberos SPN HTTP/host:port instead of HTTP/host (New-PSSessionOption -IncludePortInSPN). */
  includePortInSPN?: boolean;
  connectTimeoutMs?: number;
}

/** New-PSSession -HostName: PowerShell remoting over SSH (PowerShell 7 on both ends). */
export interface SshTarget {
  kind: 'ssh';
  host: string;
  user?: string;
  port?: number;
  keyFile?: string;
  connectTimeoutMs?: number;
  /**
   * OpenSSH client options (`ssh -o Name=value`), passed as `New-PSSession -Options` (PowerShell 7.3+),
   * e.g. `{ UserKnownHostsFile: '/etc/rdpfix/known_hosts', StrictHostKeyChecking: 'yes', BatchMode: 'yes' }`.
   */
  sshOptions?: Record<string, string>;
}

/** The controller itself (probes that run locally). */
export interface LocalTarget {
  kind: 'local';
  host: string;
}

/** Requests with the same key share one remote session; the key never contains a secret. */
export function sessionKey(target: TransportTarget): string {
  switch (target.kind) {
    case 'winrm':
      return `winrm://${target.credential?.user ?? ''}@${target.host}:${target.port ?? (target.useSsl ? 5986 : 5985)}/${target.authentication ?? 'Default'}`;
    case 'ssh': {
      // Different keys or ssh options are different sessions.
      const extra = JSON.stringify([target.keyFile ?? null, target.sshOptions ?? null]);
      return `ssh://${target.user ?? ''}@${target.host}:${target.port ?? 22}#${createHash('sha256').update(extra).digest('hex').slice(0, 12)}`;
    }
    case 'lab':
      return `lab://${target.statePath}`;
    case 'local':
      return `local://${target.host}`;
  }
}

/** Whether a target keeps a remote session the broker can close (the lab and the controller itself do not). */
export function hasSession(target: TransportTarget): boolean {
  return target.kind === 'winrm' || target.kind === 'ssh';
}

/** The remoting port a target's sessions use (the lab models WinRM over HTTP); null for the controller itself. */
export function remotingPort(target: TransportTarget): number | null {
  switch (target.kind) {
    case 'winrm':
      return target.port ?? (target.useSsl ? 5986 : 5985);
    case 'ssh':
      return target.port ?? 22;
    case 'lab':
      return 5985;
    case 'local':
      return null;
  }
}

/** What a host is, whichever inventory names it: the key its lease is held under. */
export function hostIdentity(target: TransportTarget): string {
  return target.kind === 'lab' ? `lab:${target.statePath}` : `host:${target.host.toLowerCase()}`;
}
