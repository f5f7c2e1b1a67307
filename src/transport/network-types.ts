import type { Broker } from '../broker/broker.js';
import type { PortReach } from '../probe/reach.js';
import type { RdpNegotiation } from '../rdp/negotiate.js';

/**
 * What the controller's network sees of a target: the name resolved, TCP reach of ports, the RDP negotiation.
 * Diagnosis, the RDP probe and the revert task's confirm ask through this seam and never look at the target's
 * kind: `networkFor` (network.ts) is the one place that does. Real targets (winrm, ssh, local) get real sockets and
 * the resolver; a lab target gets the lab's simulated network (src/lab/network.ts), answered from its state document.
 */
export interface Network {
  /** The IPv4 address the controller's resolver gives for `name`, or null when it does not resolve. */
  resolve(name: string): Promise<string | null>;
  /**
   * TCP reach of `ports` at `address` (an IP address or a name), one result per distinct port, in the order given.
   * Rejects only when the network could not be asked at all (the lab unreadable); a closed port is a result.
   */
  reach(address: string, ports: number[]): Promise<PortReach[]>;
  /** The RDP security negotiation of `address:port` (src/rdp/negotiate.ts), one attempt per offer (default: mstsc's). */
  negotiateRdp(address: string, port: number, offers?: readonly number[]): Promise<RdpNegotiation>;
}

export interface NetworkOptions {
  /** Deadline of each TCP connect, and of each RDP negotiation attempt. */
  timeoutMs: number;
  /** Lab targets are answered by the lab through the broker; real targets never use it. */
  broker: Broker;
  /** Lab targets: how long to wait for a host that another call (its probe) holds locked (default 120 s). */
  labLockWaitMs?: number;
}
