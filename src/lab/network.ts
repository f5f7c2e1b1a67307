import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Broker } from '../broker/broker.js';
import type { PortReach } from '../probe/reach.js';
import { DEFAULT_OFFERS, type NegotiationAttempt } from '../rdp/negotiate.js';
import { protocolNames } from '../rdp/x224.js';
import type { LabTarget } from '../transport/targets.js';
import type { Network, NetworkOptions } from '../transport/network-types.js';
import { labModulePath, projectRoot } from '../paths.js';
import { readLabHost } from './fleet.js';

/**
 * The lab's simulated network: what the controller's network sees of a lab host, answered from the host's state.
 * Reach and RDP negotiation are asked of the lab (src/lab/ps/commands/95-reach.ps1, 96-rdp-negotiation.ps1) through
 * the broker, as a local call that is not a remote call to the host; the DNS answer is the state document's
 * network section. src/transport/network.ts hands this out for lab targets.
 */
export function labNetwork(target: LabTarget, opts: NetworkOptions): Network {
  return {
    resolve: async () => readLabHost(target.statePath).network.dnsAddress,
    reach: async (address, ports) => (await askLabHost(target, address, ports, opts)).ports,
    negotiateRdp: async (address, port, offers) => {
      const answer = await askLabHost(target, address, [port], opts, { port, offers: [...(offers ?? DEFAULT_OFFERS)] });
      return { host: address, port, attempts: (answer.negotiation ?? []).map(toAttempt) };
    },
  };
}

function toAttempt(a: LabNegotiationAttempt): NegotiationAttempt {
  const out: NegotiationAttempt = { offered: a.offered, offeredNames: protocolNames(a.offered), outcome: a.outcome, elapsedMs: a.elapsedMs ?? 0 };
  if (a.selected !== null && a.selected !== undefined) Object.assign(out, { selected: a.selected, selectedNames: protocolNames(a.selected), flags: a.flags ?? 0 });
  if (a.failureCode !== null && a.failureCode !== undefined) Object.assign(out, { failureCode: a.failureCode, failure: a.failure ?? '' });
  if (a.tls) out.tls = a.tls;
  if (a.error) out.error = a.error;
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Calls made in the same turn of the event loop are asked in batches, one broker call each.

/** One RDP negotiation attempt as the lab answers it (src/lab/ps/commands/96-rdp-negotiation.ps1). */
const labAttempt = z.object({
  offered: z.number(),
  outcome: z.enum(['selected', 'failure', 'no-negotiation', 'closed', 'timeout', 'unreachable', 'protocol']),
  selected: z.number().nullable().optional(),
  flags: z.number().nullable().optional(),
  failureCode: z.number().nullable().optional(),
  failure: z.string().nullable().optional(),
  tls: z.object({
    ok: z.boolean(),
    version: z.string().optional(),
    untrustedBecause: z.string().optional(),
    error: z.string().optional(),
    certificate: z.object({ subject: z.string(), issuer: z.string(), notBefore: z.string(), notAfter: z.string(), selfSigned: z.boolean(), serialNumber: z.string(), thumbprint: z.string() }).optional(),
  }).nullable().optional(),
  error: z.string().nullable().optional(),
  elapsedMs: z.number().nullable().optional(),
});
type LabNegotiationAttempt = z.infer<typeof labAttempt>;

const labReply = z.array(
  z.object({
    statePath: z.string(),
    ports: z.array(z.object({ port: z.number(), open: z.boolean(), latencyMs: z.number().nullable(), error: z.string().nullable().optional() })).optional(),
    negotiation: z.array(labAttempt).optional(),
    error: z.string().optional(),
  }),
);

/** What the lab answers for one host: TCP reach of the ports, and the RDP negotiation when asked for. */
interface LabAnswer {
  ports: PortReach[];
  negotiation?: LabNegotiationAttempt[];
}

interface LabAsk {
  target: LabTarget;
  address: string;
  ports: number[];
  timeoutMs: number;
  lockWaitMs: number;
  negotiate?: { port: number; offers: number[] };
  resolve: (r: LabAnswer) => void;
  reject: (e: Error) => void;
}

const BATCH = 25;
const pending = new WeakMap<Broker, LabAsk[]>();
let batchCounter = 0;
let labScript: string | undefined;
const script = () => (labScript ??= readFileSync(path.join(projectRoot(), 'src', 'lab', 'ps', 'lab-reach.ps1'), 'utf8'));

/**
 * Asks the lab about one host, batched with the other asks of the same turn of the event loop. With `negotiate`,
 * the lab also answers the RDP negotiation on that port.
 * Rejects only when the lab could not be asked at all (a broker failure, an unreadable state); a closed port is a result.
 */
function askLabHost(target: LabTarget, address: string, ports: number[], opts: NetworkOptions, negotiate?: { port: number; offers: number[] }): Promise<LabAnswer> {
  return new Promise((resolve, reject) => {
    let queue = pending.get(opts.broker);
    if (!queue) {
      queue = [];
      pending.set(opts.broker, queue);
      setImmediate(() => flush(opts.broker));
    }
    queue.push({ target, address, ports, timeoutMs: opts.timeoutMs, lockWaitMs: opts.labLockWaitMs ?? 120_000, ...(negotiate ? { negotiate } : {}), resolve, reject });
  });
}

function flush(broker: Broker): void {
  const queue = pending.get(broker) ?? [];
  pending.delete(broker);
  for (let i = 0; i < queue.length; i += BATCH) void askLab(broker, queue.slice(i, i + BATCH));
}

async function askLab(broker: Broker, asks: LabAsk[]): Promise<void> {
  const lockWaitMs = Math.max(...asks.map((a) => a.lockWaitMs));
  const input = {
    labModule: labModulePath(),
    lockWaitMs,
    hosts: asks.map((a) => ({ statePath: a.target.statePath, address: a.address, ports: a.ports, timeoutMs: a.timeoutMs, ...(a.negotiate ? { negotiate: a.negotiate } : {}) })),
  };
  // A local call (the controller's own PowerShell); its own key, so batches in flight run side by side.
  const target = { kind: 'local' as const, host: `rdpfix-lab-reach-${++batchCounter}` };
  // The first call in a runspace imports the lab module (seconds when its types are compiled the first time).
  const envelope = await broker.invoke(target, script(), [JSON.stringify(input)], { timeoutMs: lockWaitMs + 120_000 });
  const fail = (why: string) => asks.forEach((a) => a.reject(new Error(`The lab could not answer the reach probe of ${a.target.host}: ${why}`)));
  if (!envelope.ok) return fail(`${envelope.error.category}: ${envelope.error.message.split('\n')[0]}`);
  const text = envelope.data.output[0];
  let parsed: z.infer<typeof labReply>;
  try {
    parsed = labReply.parse(typeof text === 'string' ? JSON.parse(text) : undefined);
  } catch {
    return fail(`unexpected output ${JSON.stringify(envelope.data.output).slice(0, 200)}`);
  }
  asks.forEach((a, i) => {
    const r = parsed[i];
    if (!r || r.statePath !== a.target.statePath) return a.reject(new Error(`The lab reach probe answered out of order for ${a.target.host}.`));
    if (r.error !== undefined || !r.ports) return a.reject(new Error(`The lab could not answer the reach probe of ${a.target.host}: ${r.error ?? 'no result'}`));
    if (a.negotiate && !r.negotiation) return a.reject(new Error(`The lab could not answer the RDP negotiation probe of ${a.target.host}: no result`));
    a.resolve({ ports: r.ports.map((p) => ({ port: p.port, open: p.open, latencyMs: p.latencyMs, ...(p.error ? { error: p.error } : {}) })), ...(r.negotiation ? { negotiation: r.negotiation } : {}) });
  });
}
