import type { Broker } from '../broker/broker.js';
import { askLabHost } from '../probe/reach.js';
import type { TransportTarget } from '../transport/targets.js';
import { DEFAULT_OFFERS, negotiateRdp, type NegotiationAttempt, type RdpNegotiation } from './negotiate.js';
import { protocolNames } from './x224.js';

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
 * The RDP negotiation of `address:port` as seen from the controller (src/rdp/negotiate.ts). Real targets get real
 * sockets; a lab host's listener is simulated from its state (src/lab/ps/commands/96-rdp-negotiation.ps1) through
 * the broker, as a local call that is not a remote call to the host. Rejects only when the lab could not be asked.
 * This is the function the revert guard's confirm can call before and after a change (with stillNegotiates).
 */
export async function probeRdp(target: TransportTarget, address: string, port: number, opts: RdpProbeOptions): Promise<RdpNegotiation> {
  const offers = [...(opts.offers ?? DEFAULT_OFFERS)];
  if (target.kind !== 'lab') return negotiateRdp(address, port, { timeoutMs: opts.timeoutMs, offers });
  const answer = await askLabHost(target, address, [port], { timeoutMs: opts.timeoutMs, broker: opts.broker, ...(opts.labLockWaitMs !== undefined ? { labLockWaitMs: opts.labLockWaitMs } : {}) },
    { port, offers });
  const attempts = (answer.negotiation ?? []).map((a): NegotiationAttempt => {
    const out: NegotiationAttempt = { offered: a.offered, offeredNames: protocolNames(a.offered), outcome: a.outcome, elapsedMs: a.elapsedMs ?? 0 };
    if (a.selected !== null && a.selected !== undefined) Object.assign(out, { selected: a.selected, selectedNames: protocolNames(a.selected), flags: a.flags ?? 0 });
    if (a.failureCode !== null && a.failureCode !== undefined) Object.assign(out, { failureCode: a.failureCode, failure: a.failure ?? '' });
    if (a.tls) out.tls = a.tls;
    if (a.error) out.error = a.error;
    return out;
  });
  return { host: address, port, attempts };
}
