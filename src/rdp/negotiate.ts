import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import {
  PROTOCOL, RdpProtocolError, connectionRequest, parseConnectionConfirm, protocolNames, startsWithTls, tpktLength, type Confirm,
} from './x224.js';

/**
 * An RDP-level probe from the controller: what a Remote Desktop client meets before it authenticates. A TCP
 * connect only proves that something accepts on the port; 0x904-type failures (TLS, certificate, NLA) accept
 * the socket and drop later. This sends the X.224 Connection Request with an RDP Negotiation Request, reads the
 * Connection Confirm, and where the server selects TLS (or CredSSP, whose first leg is TLS) completes the TLS
 * handshake and reads the server certificate. It never authenticates and never sends credentials.
 *
 * Everything the server returns is untrusted: reads are bounded (a Connection Confirm is at most 64 bytes here),
 * every attempt has one deadline, and malformed bytes end the attempt as outcome 'protocol', never a throw.
 */

/** The offers, strongest first: what mstsc offers (TLS and CredSSP), TLS alone, Standard RDP Security alone. */
export const DEFAULT_OFFERS: readonly number[] = [PROTOCOL.SSL | PROTOCOL.HYBRID, PROTOCOL.SSL, PROTOCOL.RDP];

export interface CertificateInfo {
  subject: string;
  issuer: string;
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  /** Issued by itself and signed with its own key (Windows' RDP self-signed certificate is). */
  selfSigned: boolean;
  serialNumber: string;
  /** SHA-1 thumbprint, upper-case hex without separators: what Windows shows and SSLCertificateSHA1Hash holds. */
  thumbprint: string;
}

export interface TlsResult {
  /** The handshake completed (the certificate is never validated against a trust store: it is only reported). */
  ok: boolean;
  /** 'TLSv1.2', 'TLSv1.3'... */
  version?: string;
  certificate?: CertificateInfo;
  /** Why the chain would not be trusted by a validating client (e.g. DEPTH_ZERO_SELF_SIGNED_CERT). */
  untrustedBecause?: string;
  /** Why the handshake failed (ok false). */
  error?: string;
}

export type AttemptOutcome =
  /** RDP_NEG_RSP: `selected` names the protocol; `tls` is set when it starts with TLS. */
  | 'selected'
  /** RDP_NEG_FAILURE: `failure` names the code. */
  | 'failure'
  /** A Connection Confirm without negotiation data: Standard RDP Security. */
  | 'no-negotiation'
  /** The server closed the connection before a complete Connection Confirm. */
  | 'closed'
  /** No complete answer before the deadline (connect, confirm or TLS). */
  | 'timeout'
  /** The TCP connect failed (`error` has the socket error code: ECONNREFUSED, ENOTFOUND...). */
  | 'unreachable'
  /** The bytes are not a Connection Confirm the spec allows. */
  | 'protocol';

export interface NegotiationAttempt {
  /** requestedProtocols sent, and its flag names. */
  offered: number;
  offeredNames: string[];
  outcome: AttemptOutcome;
  selected?: number;
  selectedNames?: string[];
  /** RDP_NEG_RSP flags. */
  flags?: number;
  failureCode?: number;
  failure?: string;
  tls?: TlsResult;
  error?: string;
  /** Time from the start of the connect to the end of the attempt. */
  elapsedMs: number;
}

export interface RdpNegotiation {
  host: string;
  port: number;
  attempts: NegotiationAttempt[];
}

export interface NegotiateOptions {
  /** Deadline of each attempt, connect to TLS handshake (default 5000 ms). */
  timeoutMs?: number;
  /** requestedProtocols to try, one connection each (default DEFAULT_OFFERS). */
  offers?: readonly number[];
}

/** One connection per offer, one after the other (a listener that serves one client at a time is not crowded). */
export async function negotiateRdp(host: string, port: number, options: NegotiateOptions = {}): Promise<RdpNegotiation> {
  const attempts: NegotiationAttempt[] = [];
  for (const offer of options.offers ?? DEFAULT_OFFERS) attempts.push(await attempt(host, port, offer, options.timeoutMs ?? 5000));
  return { host, port, attempts };
}

/** One offer on one connection. Never rejects. */
export function attempt(host: string, port: number, offered: number, timeoutMs: number): Promise<NegotiationAttempt> {
  return new Promise((resolve) => {
    const started = performance.now();
    const base = { offered, offeredNames: protocolNames(offered) };
    let settled = false;
    let socket: net.Socket | tls.TLSSocket = net.connect({ host, port });
    let connected = false;
    let received = Buffer.alloc(0);
    let selectedSoFar: Pick<NegotiationAttempt, 'selected' | 'selectedNames' | 'flags'> | undefined;
    const finish = (r: Omit<NegotiationAttempt, 'offered' | 'offeredNames' | 'elapsedMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {}); // late errors of a socket being torn down
      socket.destroy();
      resolve({ ...base, ...r, elapsedMs: Math.round((performance.now() - started) * 10) / 10 });
    };
    const timer = setTimeout(() => {
      if (!connected) return finish({ outcome: 'timeout', error: 'no TCP connection before the deadline' });
      if (selectedSoFar) return finish({ outcome: 'selected', ...selectedSoFar, tls: { ok: false, error: 'no TLS handshake before the deadline' } });
      finish({ outcome: 'timeout', error: received.length ? `only ${received.length} bytes of the Connection Confirm arrived` : 'no Connection Confirm before the deadline' });
    }, timeoutMs);

    socket.once('connect', () => {
      connected = true;
      socket.write(connectionRequest(offered));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) return finish({ outcome: 'unreachable', error: err.code ?? err.message });
      finish({ outcome: 'closed', error: `${err.code ?? err.message} after ${received.length} bytes` });
    });
    socket.on('end', () => finish({ outcome: 'closed', error: `the server closed the connection after ${received.length} bytes` }));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      let confirm: Confirm;
      try {
        const length = tpktLength(received);
        if (length === null || received.length < length) return;
        confirm = parseConnectionConfirm(received.subarray(0, length));
        // Nothing may follow a confirm the client must answer (it starts TLS, or sends MCS). A refusal ends the
        // connection instead, and what the server sends on its way out does not change it: xrdp follows its
        // RDP_NEG_FAILURE with a 9-byte MCS Disconnect Provider Ultimatum, which a loaded machine can read in the
        // same chunk.
        if (received.length > length && confirm.kind !== 'failure') throw new RdpProtocolError(`${received.length - length} unexpected bytes after the Connection Confirm`);
      } catch (err) {
        return finish({ outcome: 'protocol', error: err instanceof RdpProtocolError ? err.message : String(err) });
      }
      if (confirm.kind === 'failure') return finish({ outcome: 'failure', failureCode: confirm.failureCode, failure: confirm.failureName });
      if (confirm.kind === 'no-negotiation') return finish({ outcome: 'no-negotiation' });
      const selected = { selected: confirm.selectedProtocol, selectedNames: protocolNames(confirm.selectedProtocol), flags: confirm.flags };
      // A server may only select what was offered; PROTOCOL_RDP (0) is always acceptable.
      if ((confirm.selectedProtocol & ~offered) !== 0) {
        return finish({ outcome: 'protocol', ...selected, error: `the server selected ${selected.selectedNames.join('+')}, which was not offered` });
      }
      if (!startsWithTls(confirm.selectedProtocol)) return finish({ outcome: 'selected', ...selected });
      selectedSoFar = selected;
      socket.removeAllListeners('data');
      socket.removeAllListeners('end');
      socket.removeAllListeners('error');
      startTls(socket as net.Socket, host, (t) => finish({ outcome: 'selected', ...selected, tls: t }), (s) => { socket = s; });
    });
  });
}

/**
 * The TLS handshake on the RDP socket. Trust is not checked (rejectUnauthorized false: the probe must see a
 * self-signed or expired certificate to report it) but reported. Old protocol versions and ciphers are allowed
 * so that a server limited to TLS 1.0 is seen and reported, not mistaken for a broken one.
 */
function startTls(raw: net.Socket, host: string, done: (t: TlsResult) => void, adopt: (s: tls.TLSSocket) => void): void {
  const secure = tls.connect({
    socket: raw,
    rejectUnauthorized: false,
    minVersion: 'TLSv1',
    ciphers: 'DEFAULT:@SECLEVEL=0',
    ...(net.isIP(host) ? {} : { servername: host }),
  });
  adopt(secure);
  secure.once('secureConnect', () => {
    const t: TlsResult = { ok: true };
    const version = secure.getProtocol();
    if (version) t.version = version;
    if (secure.authorizationError) t.untrustedBecause = String(secure.authorizationError);
    const cert = secure.getPeerX509Certificate();
    if (cert) t.certificate = describeCertificate(cert);
    done(t);
  });
  secure.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: tlsErrorText(err) }));
  secure.on('end', () => done({ ok: false, error: 'the server closed the connection during the TLS handshake' }));
  secure.on('close', () => done({ ok: false, error: 'the connection closed during the TLS handshake' }));
}

function tlsErrorText(err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNRESET' || /socket hang up/i.test(err.message)) return 'the server reset the connection during the TLS handshake';
  // OpenSSL's own message carries its source file and line; its reason is enough.
  const reason = (err as { reason?: unknown }).reason;
  return `${err.code ? `${err.code}: ` : ''}${typeof reason === 'string' ? reason : err.message.split('\n')[0]}`;
}

/** The facts of a certificate a person and the diagnosis need; the rest of it is not kept. */
export function describeCertificate(cert: X509Certificate): CertificateInfo {
  let selfSigned = false;
  try {
    selfSigned = cert.checkIssued(cert) && cert.verify(cert.publicKey);
  } catch {
    selfSigned = false; // a key type node cannot verify: not provably self-signed
  }
  return {
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    notBefore: isoDate(cert.validFrom),
    notAfter: isoDate(cert.validTo),
    selfSigned,
    serialNumber: cert.serialNumber.toUpperCase(),
    thumbprint: cert.fingerprint.replace(/:/g, '').toUpperCase(),
  };
}

/** X509Certificate prints distinguished names one attribute per line; one line, comma-separated, reads better. */
const oneLine = (dn: string) => dn.split('\n').filter(Boolean).join(', ');

function isoDate(text: string): string {
  const t = Date.parse(text);
  return Number.isNaN(t) ? text : new Date(t).toISOString();
}
