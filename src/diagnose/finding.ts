/** What a diagnosis says of a host: causes with evidence (findings) and evidence that names no cause (notes). */

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
  /** Parameters for the playbook that this host's evidence decides (e.g. whose profile to repair). */
  parameters?: Record<string, unknown>;
}

/** Evidence worth showing that names no cause by itself; never a reason to run a playbook. */
export interface Note {
  topic: 'pending-reboot' | 'event-history' | 'service-dependents' | 'rdp-port' | 'rdp-key' | 'sessions-unknown';
  confidence: 'low';
  text: string;
  evidence: string[];
}
