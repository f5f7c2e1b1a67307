import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { Broker } from '../broker/broker.js';
import type { LabTarget, TransportTarget } from '../transport/targets.js';
import { labModulePath, projectRoot } from '../paths.js';

/**
 * What a TCP connect from the controller sees on one port of a host: open (with the time the handshake
 * took), or closed with why: `ETIMEDOUT` (no answer within the timeout: host down, a network filter, or a
 * Windows host whose firewall drops the connect — it also drops the reset of a port nobody listens on),
 * `ECONNREFUSED` (the host answered with a reset: it is up, nothing accepts on the port), `ENOTFOUND`
 * (the name does not resolve), or the operating system's other socket error codes (`EHOSTUNREACH`...).
 */
export interface PortReach {
  port: number;
  open: boolean;
  latencyMs: number | null;
  error?: string;
}

/** The ports diagnosis tests: the RDP port clients dial, WinRM over HTTP and HTTPS. */
export const WINRM_HTTP = 5985;
export const WINRM_HTTPS = 5986;

export interface ReachOptions {
  /** TCP connect timeout per port. */
  timeoutMs: number;
  broker: Broker;
  /** Lab hosts: how long to wait for a host that another call (its probe) holds locked (default 120 s). */
  labLockWaitMs?: number;
}

/**
 * TCP reach of `ports` at `address` (an IP address or a name) as seen from the controller, one result per
 * distinct port, in the order given. Real targets (winrm, ssh, local) get real sockets. A lab host's network
 * is simulated: the lab answers from the host's state (src/lab/ps/commands/95-reach.ps1) through the broker,
 * as a local call that does not count as a remote call to the host.
 * Rejects only when the lab could not be asked at all (a broker failure); a closed port is a result.
 */
export async function probePorts(target: TransportTarget, address: string, ports: number[], opts: ReachOptions): Promise<PortReach[]> {
  const distinct = [...new Set(ports)];
  if (distinct.length === 0) return [];
  if (target.kind === 'lab') return (await askLabHost(target, address, distinct, opts)).ports;
  return Promise.all(distinct.map((port) => tcpConnect(address, port, opts.timeoutMs)));
}

/** One TCP connect with a deadline. Latency is the handshake alone: it starts once the name is resolved. */
export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<PortReach> {
  return new Promise((resolve) => {
    let started = performance.now();
    let settled = false;
    const socket = net.connect({ host, port });
    const finish = (r: PortReach) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ port, open: false, latencyMs: null, error: 'ETIMEDOUT' }), timeoutMs);
    socket.once('lookup', () => {
      started = performance.now();
    });
    socket.once('connect', () => finish({ port, open: true, latencyMs: round(performance.now() - started) }));
    socket.once('error', (err: NodeJS.ErrnoException) => finish({ port, open: false, latencyMs: null, error: err.code ?? err.message }));
  });
}

const round = (ms: number) => Math.round(ms * 10) / 10;

// ---------------------------------------------------------------------------------------------------------
// Lab hosts: calls made in the same turn of the event loop are asked in batches, one broker call each.

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
export type LabNegotiationAttempt = z.infer<typeof labAttempt>;

const labReply = z.array(
  z.object({
    statePath: z.string(),
    ports: z.array(z.object({ port: z.number(), open: z.boolean(), latencyMs: z.number().nullable(), error: z.string().nullable().optional() })).optional(),
    negotiation: z.array(labAttempt).optional(),
    error: z.string().optional(),
  }),
);

/** What the lab answers for one host: TCP reach of the ports, and the RDP negotiation when asked for. */
export interface LabAnswer {
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
const script = () => (labScript ??= readFileSync(path.join(projectRoot(), 'src', 'probe', 'ps', 'lab-reach.ps1'), 'utf8'));

/**
 * Asks the lab about one host, batched with the other asks of the same turn of the event loop. With `negotiate`,
 * the lab also answers the RDP negotiation on that port (src/rdp/probe.ts uses it).
 */
export function askLabHost(target: LabTarget, address: string, ports: number[], opts: ReachOptions, negotiate?: { port: number; offers: number[] }): Promise<LabAnswer> {
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
