import type { Broker } from '../broker/broker.js';
import type { Inventory, InventoryHost } from '../inventory/inventory.js';
import { targetFor } from '../inventory/inventory.js';
import { probeFleet } from '../probe/probe.js';
import { WINRM_HTTP, WINRM_HTTPS, type PortReach } from '../probe/reach.js';
import type { RdpNegotiation } from '../rdp/negotiate.js';
import { probeRdp } from '../rdp/probe.js';
import { networkFor, type NetworkOptions } from '../transport/network.js';
import { assess, assessUnreachable, type ControllerView, type Finding, type Note } from './findings.js';

export interface HostDiagnosis {
  host: string;
  healthy: boolean;
  findings: Finding[];
  /** Low-confidence evidence that names no cause by itself (pending restart, event history...). */
  notes: Note[];
  /** What TCP connects from the controller saw: the RDP port clients dial (and the host's own, if it differs), WinRM. */
  reach: {
    address: string;
    rdpPort: number;
    /** The port rdpfix reads the host through (WinRM's, or SSH's for ssh targets). */
    remotingPort: number;
    ports: PortReach[];
    /** Set when the ports could not be tested at all (not a closed port: a failure of the test). */
    error?: string;
    /** The RDP security negotiation on rdpPort, when it answered TCP (src/rdp/negotiate.ts): offers, answers, certificate. */
    negotiation?: RdpNegotiation;
    /** Set when the negotiation could not be tried at all (the lab could not be asked). */
    negotiationError?: string;
  };
  /** Set when the host could not be read at all. */
  error?: { category: string; message: string };
}

export interface DiagnoseOptions {
  timeoutMs: number;
  /** TCP connect timeout of the reach probes (default: 5 s, or timeoutMs when shorter). */
  reachTimeoutMs?: number;
  /** Told as each host's probe returns (the progress views count hosts probed). */
  onProbed?: (host: string, reached: boolean) => void;
}

/** What the controller's network (src/transport/network.ts: a lab host's is simulated) answers for a host's name. */
async function nameView(host: InventoryHost, options: NetworkOptions): Promise<ControllerView> {
  if (!host.address) return {};
  return { expectedAddress: host.address, resolvedAddress: await networkFor(targetFor(host), options).resolve(host.name) };
}

/** The address TCP probes dial: the inventory's address when it has one (DNS is judged apart), else the name. */
const dialAddress = (host: InventoryHost) => host.address ?? host.name;

/** The ports rdpfix reads a host through: WinRM 5985/5986 (a lab host simulates WinRM), or the transport's own. */
function remotingOf(host: InventoryHost): { port: number; ports: number[]; name: string } {
  const t = host.transport;
  if (t.kind === 'ssh') return { port: t.port ?? 22, ports: [t.port ?? 22], name: 'SSH' };
  const port = t.kind === 'winrm' ? t.port ?? (t.useSsl ? WINRM_HTTPS : WINRM_HTTP) : WINRM_HTTP;
  return { port, ports: [...new Set([WINRM_HTTP, WINRM_HTTPS, port])], name: 'WinRM' };
}

async function reach(host: InventoryHost, ports: number[], options: NetworkOptions): Promise<{ ports: PortReach[]; error?: string }> {
  try {
    return { ports: await networkFor(targetFor(host), options).reach(dialAddress(host), ports) };
  } catch (err) {
    return { ports: [], error: (err as Error).message };
  }
}

/**
 * Reads every host (the probe) and looks at it from the controller (DNS, TCP reach of the RDP port and of
 * WinRM, then the RDP security negotiation where the RDP port answers), then names the causes
 * (src/diagnose/findings.ts). When a host's RDP port (PortNumber)
 * differs from the one the inventory says clients dial, that port is tested too.
 */
export async function diagnoseFleet(inventory: Inventory, broker: Broker, options: DiagnoseOptions): Promise<HostDiagnosis[]> {
  // A lab host is locked while its probe runs, for as long as the probe's own timeout at most.
  const reachOptions = { timeoutMs: options.reachTimeoutMs ?? Math.min(5000, options.timeoutMs), labLockWaitMs: options.timeoutMs + 30_000, broker };
  const [probes, names, reaches] = await Promise.all([
    probeFleet(inventory, broker, { timeoutMs: options.timeoutMs, ...(options.onProbed ? { onResult: (r: { host: string; ok: boolean }) => options.onProbed!(r.host, r.ok) } : {}) }),
    Promise.all(inventory.hosts.map((h) => nameView(h, reachOptions))),
    Promise.all(inventory.hosts.map((h) => reach(h, [h.rdpPort, WINRM_HTTP, WINRM_HTTPS, remotingOf(h).port], reachOptions))),
  ]);
  // The host's own RDP port, where it differs from the inventory's: one more round for those hosts only.
  await Promise.all(probes.map(async (p, i) => {
    const hostPort = p.ok ? (p.data.sections.rdp as { portNumber?: unknown } | undefined)?.portNumber : undefined;
    const r = reaches[i]!;
    if (typeof hostPort !== 'number' || r.error || r.ports.some((x) => x.port === hostPort)) return;
    const more = await reach(inventory.hosts[i]!, [hostPort], reachOptions);
    if (more.error) r.error = more.error;
    r.ports.push(...more.ports);
  }));
  // The RDP security negotiation where the port clients dial answers: what a client meets before it logs on.
  const negotiations = await Promise.all(inventory.hosts.map(async (host, i) => {
    if (!reaches[i]!.ports.some((x) => x.port === host.rdpPort && x.open)) return {};
    try {
      return { negotiation: await probeRdp(targetFor(host), dialAddress(host), host.rdpPort, reachOptions) };
    } catch (err) {
      return { negotiationError: (err as Error).message };
    }
  }));
  return probes.map((p, i) => {
    const host = inventory.hosts[i]!;
    const r = reaches[i]!;
    const remoting = remotingOf(host);
    const n = negotiations[i]!;
    const view: ControllerView = { ...names[i], rdpPort: host.rdpPort, remoting: { ports: remoting.ports, name: remoting.name }, ...(r.error ? {} : { ports: r.ports }),
      ...(n.negotiation ? { negotiation: n.negotiation } : {}) };
    const reachInfo = { address: dialAddress(host), rdpPort: host.rdpPort, remotingPort: remoting.port, ports: r.ports, ...(r.error ? { error: r.error } : {}), ...n };
    if (!p.ok) {
      const { findings, notes } = assessUnreachable(p.error, view);
      return { host: p.host, healthy: false, findings, notes, reach: reachInfo, error: p.error };
    }
    const { findings, notes } = assess(p.data, view);
    return { host: p.host, healthy: findings.length === 0, findings, notes, reach: reachInfo };
  });
}
