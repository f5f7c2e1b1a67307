import { RdpfixError } from '../errors.js';
import type { HostJob } from './context.js';

/**
 * Reverts that must not outlast another playbook's in the same run. NLA coming back on (nla-temporary-disable's
 * revert) over a security layer that is still lowered to the RDP Security Layer refuses every client: NLA needs TLS
 * (docs/windows-facts/nla-credssp.md). So rdp-security-layer's ttlMinutes may not exceed nla-temporary-disable's.
 */
const WITHIN: { playbook: string; within: string; why: string }[] = [
  { playbook: 'rdp-security-layer', within: 'nla-temporary-disable', why: 'NLA coming back on while the security layer is still lowered refuses every client (NLA needs TLS)' },
];

type Params = Record<string, Record<string, unknown>>;

/** Checked at plan time, before any host is touched: a clear usage error naming the host and both values. */
export function checkRevertTtls(jobs: Pick<HostJob, 'host' | 'playbooks' | 'parameters'>[], parameters: Params): void {
  for (const j of jobs) {
    const ids = new Set(j.playbooks.map((p) => p.id));
    const of = (id: string) => (j.parameters?.[id] ?? parameters[id] ?? {}) as Record<string, unknown>;
    for (const w of WITHIN) {
      if (!ids.has(w.playbook) || !ids.has(w.within)) continue;
      const mine = Number(of(w.playbook).ttlMinutes);
      const theirs = Number(of(w.within).ttlMinutes);
      if (!Number.isFinite(mine) || !Number.isFinite(theirs) || mine <= theirs) continue;
      throw new RdpfixError('usage',
        `Host ${j.host}: ${w.playbook}.ttlMinutes (${mine}) outlasts ${w.within}.ttlMinutes (${theirs}): ${w.why}.`,
        `Pass ${w.playbook}.ttlMinutes=${theirs} or less, or raise ${w.within}.ttlMinutes to ${mine}.`);
    }
  }
}
