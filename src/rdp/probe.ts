import type { Broker } from '../broker/broker.js';
import { networkFor } from '../transport/network.js';
import type { TransportTarget } from '../transport/targets.js';
import type { RdpNegotiation } from './negotiate.js';

export interface RdpProbeOptions {
  /** Deadline of each attempt (connect to TLS handshake). */
  timeoutMs: number;
  /** Lab hosts are answered by the lab through the broker; real hosts never use it. */
  broker: Broker;
  /** Lab hosts: how long to wait for a host that another call holds locked (default 120 s). */
  labLockWaitMs?: number;
  offers?: readonly number[];
}

/**
 * The RDP negotiation of `address:port` as the controller's network sees it (src/transport/network.ts): real sockets
 * for real targets (src/rdp/negotiate.ts), the lab's simulated listener for a lab host. Rejects only when the lab
 * could not be asked. The revert task's confirm can call it before and after a change (with stillNegotiates).
 */
export async function probeRdp(target: TransportTarget, address: string, port: number, opts: RdpProbeOptions): Promise<RdpNegotiation> {
  const { offers, ...networkOptions } = opts;
  return networkFor(target, networkOptions).negotiateRdp(address, port, offers);
}
