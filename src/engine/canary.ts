import type { Broker } from '../broker/broker.js';
import { diagnoseFleet } from '../diagnose/diagnose.js';
import type { Inventory } from '../inventory/inventory.js';
import type { Playbook } from '../playbooks/manifest.js';
import type { Rollout } from './rollout.js';

/**
 * The canary's second look: diagnose the canary hosts again; a host is healthy when no finding remains whose cause
 * one of the playbooks it ran names (findings no playbook here fixes, such as DNS, do not hold the rollout back).
 */
export function canaryByDiagnosis(inventory: Inventory, broker: Broker, playbooksOf: (host: string) => Playbook[], timeoutMs = 60_000): NonNullable<Rollout['checkCanary']> {
  return async (names) => {
    const wanted = new Set(names.map((n) => n.toLowerCase()));
    const diagnosis = await diagnoseFleet({ ...inventory, hosts: inventory.hosts.filter((h) => wanted.has(h.name.toLowerCase())) }, broker, { timeoutMs });
    return diagnosis.map((d) => {
      const fixedHere = new Set(playbooksOf(d.host).flatMap((p) => p.causes));
      const left = d.findings.filter((f) => fixedHere.has(f.cause));
      return { host: d.host, healthy: left.length === 0, ...(left.length ? { why: `still ${left.map((f) => f.cause).join(', ')}` } : {}) };
    });
  };
}
