import { promises as dns } from 'node:dns';
import type { Broker } from '../broker/broker.js';
import type { Inventory, InventoryHost } from '../inventory/inventory.js';
import { readLabHost } from '../lab/fleet.js';
import { probeFleet } from '../probe/probe.js';
import { findingsFor, type ControllerView, type Finding } from './findings.js';

export interface HostDiagnosis {
  host: string;
  healthy: boolean;
  findings: Finding[];
  /** Set when the host could not be read at all. */
  error?: { category: string; message: string };
}

/**
 * What the controller sees of a host's name. A lab host's DNS answer is part of the simulated world (its state
 * document's network section); a real host's comes from the resolver.
 */
async function controllerView(host: InventoryHost): Promise<ControllerView> {
  if (!host.address) return {};
  if (host.transport.kind === 'lab') return { expectedAddress: host.address, resolvedAddress: readLabHost(host.transport.state).network.dnsAddress };
  try {
    const { address } = await dns.lookup(host.name, { family: 4 });
    return { expectedAddress: host.address, resolvedAddress: address };
  } catch {
    return { expectedAddress: host.address, resolvedAddress: null };
  }
}

export async function diagnoseFleet(inventory: Inventory, broker: Broker, options: { timeoutMs: number }): Promise<HostDiagnosis[]> {
  const [probes, views] = await Promise.all([probeFleet(inventory, broker, options), Promise.all(inventory.hosts.map(controllerView))]);
  return probes.map((p, i) => {
    if (!p.ok) {
      const finding: Finding = { cause: 'unreachable', confidence: 'high', playbook: null, evidence: [`${p.error.category}: ${p.error.message.split('\n')[0]}`] };
      return { host: p.host, healthy: false, findings: [finding], error: p.error };
    }
    const findings = findingsFor(p.data, views[i]);
    return { host: p.host, healthy: findings.length === 0, findings };
  });
}
