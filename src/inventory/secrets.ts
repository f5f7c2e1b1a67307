
/**
 * Passwords typed at the prompt (src/cli/password-prompt.ts), held in this process's memory only, one per credential
 * profile: the same user and password variable on many hosts is asked for once. Never written anywhere.
 */
const typed = new Map<string, string>();

export interface CredentialProfile {
  key: string;
  user: string;
  passwordEnv?: string;
  hosts: string[];
}

export const profileKey = (user: string, passwordEnv: string | undefined) => `${passwordEnv ?? ''}\u0000${user.toLowerCase()}`;

export function rememberTypedPassword(key: string, password: string): void {
  typed.set(key, password);
}

export function typedPassword(key: string): string | undefined {
  return typed.get(key);
}

/** The credential profiles of these hosts whose password is neither in the environment nor typed yet. */
/** What this module reads of a host (structural: the inventory module imports this one). */
interface HostWithTransport {
  name: string;
  transport: { kind: string; user?: string; passwordEnv?: string };
}

export function missingPasswords(hosts: HostWithTransport[], env: NodeJS.ProcessEnv = process.env): CredentialProfile[] {
  const out = new Map<string, CredentialProfile>();
  for (const h of hosts) {
    const t = h.transport;
    if (t.kind !== 'winrm' || !t.user) continue; // only WinRM takes a password
    if (t.passwordEnv && env[t.passwordEnv] !== undefined) continue;
    const key = profileKey(t.user, t.passwordEnv);
    if (typed.has(key)) continue;
    const p = out.get(key) ?? { key, user: t.user, ...(t.passwordEnv ? { passwordEnv: t.passwordEnv } : {}), hosts: [] };
    p.hosts.push(h.name);
    out.set(key, p);
  }
  return [...out.values()];
}
