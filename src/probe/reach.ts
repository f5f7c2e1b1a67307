import net from 'node:net';
import { performance } from 'node:perf_hooks';

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
