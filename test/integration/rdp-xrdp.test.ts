/**
 * The RDP negotiation probe against a real RDP server: xrdp (Debian package), started by this file on 127.0.0.1
 * through scripts/start-test-xrdp.sh with security_layer tls / rdp / negotiate and its own certificates, stopped
 * afterwards. What the probe must report is read back from the certificates the script generated (openssl), not
 * written down here.
 *
 * Skipped (describe.skip, the reason in its name) only outside CI and only when xrdp cannot be started here
 * (not Linux, not root, no xrdp and no apt-get). In CI it always runs.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { projectRoot } from '../../src/paths.js';
import { negotiateRdp, type RdpNegotiation } from '../../src/rdp/negotiate.js';
import { describeAttempt, stillNegotiates, works } from '../../src/rdp/compare.js';
import { applyNegotiation } from '../../src/diagnose/negotiation.js';
import type { Finding, Note } from '../../src/diagnose/findings.js';

const inCI = Boolean(process.env.CI);
const startScript = path.join(projectRoot(), 'scripts', 'start-test-xrdp.sh');
const stopScript = path.join(projectRoot(), 'scripts', 'stop-test-xrdp.sh');

function cannotStartXrdp(): string | undefined {
  if (process.platform !== 'linux') return `the test xrdp script needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'the test xrdp must be started as root (apt-get, /etc/xrdp/rsakeys.ini)';
  const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  if (!has('xrdp') && !has('apt-get')) return 'xrdp is not installed and there is no apt-get to install it';
  return undefined;
}
const notHere = inCI ? undefined : cannotStartXrdp();
const suite = notHere ? describe.skip : describe;

interface Server { dir: string; port: number; cert: X509Certificate }
const root = mkdtempSync(path.join(tmpdir(), 'rdpfix-xrdp-'));
const started: string[] = [];

function start(name: string, layer: 'tls' | 'rdp' | 'negotiate', cert: 'self-signed' | 'ca-signed' | 'wrong-key' | 'expired' = 'self-signed'): Server {
  const dir = path.join(root, name);
  started.push(dir);
  const r = spawnSync(startScript, [dir, layer, cert], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`start-test-xrdp.sh ${layer} ${cert} failed (${r.status}): ${r.stderr}`);
  const env = Object.fromEntries(readFileSync(path.join(dir, 'env'), 'utf8').trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
  return { dir, port: Number(env.RDPFIX_XRDP_PORT), cert: new X509Certificate(readFileSync(path.join(dir, 'cert.pem'))) };
}

/** What the probe must report of a certificate, from the certificate file itself. */
const expected = (c: X509Certificate, selfSigned: boolean) => ({
  subject: c.subject.split('\n').join(', '),
  issuer: c.issuer.split('\n').join(', '),
  notBefore: new Date(c.validFrom).toISOString(),
  notAfter: new Date(c.validTo).toISOString(),
  selfSigned,
  serialNumber: c.serialNumber.toUpperCase(),
  thumbprint: c.fingerprint.replace(/:/g, ''),
});

suite(`the RDP negotiation probe against a real xrdp${notHere ? ` (skipped: ${notHere})` : ''}`, () => {
  let tlsOnly: Server, rdpOnly: Server, negotiate: Server, wrongKey: Server, expired: Server;
  beforeAll(() => {
    tlsOnly = start('tls', 'tls');
    rdpOnly = start('rdp', 'rdp');
    negotiate = start('negotiate', 'negotiate', 'ca-signed');
    wrongKey = start('wrong-key', 'tls', 'wrong-key');
    expired = start('expired', 'tls', 'expired');
  }, 600_000);
  afterAll(() => {
    for (const dir of started) spawnSync(stopScript, [dir], { encoding: 'utf8' });
    rmSync(root, { recursive: true, force: true });
  });

  const probe = (s: Server): Promise<RdpNegotiation> => negotiateRdp('127.0.0.1', s.port, { timeoutMs: 5000 });

  it('listens on the loopback address only', () => {
    const ini = readFileSync(path.join(tlsOnly.dir, 'xrdp.ini'), 'utf8');
    expect(ini).toMatch(new RegExp(`^port=tcp://127\\.0\\.0\\.1:${tlsOnly.port}$`, 'm'));
    const ss = spawnSync('ss', ['-Hltn', `sport = :${tlsOnly.port}`], { encoding: 'utf8' });
    if (ss.status === 0) expect(ss.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)[3])).toEqual([`127.0.0.1:${tlsOnly.port}`]);
  });

  it('security_layer=tls: TLS for TLS offers (xrdp has no CredSSP), SSL_REQUIRED_BY_SERVER for Standard RDP Security; the certificate read over TLS', async () => {
    const n = await probe(tlsOnly);
    expect(n.attempts.map((a) => [a.offered, a.outcome, a.selected ?? a.failure])).toEqual([[3, 'selected', 1], [1, 'selected', 1], [0, 'failure', 'SSL_REQUIRED_BY_SERVER']]);
    for (const a of n.attempts.slice(0, 2)) {
      expect(a.tls).toEqual({ ok: true, version: expect.stringMatching(/^TLSv1\.[23]$/), untrustedBecause: 'DEPTH_ZERO_SELF_SIGNED_CERT', certificate: expected(tlsOnly.cert, true) });
    }
    expect(n.attempts[0]!.tls!.certificate!.subject).toBe('CN=rdpfix-xrdp-tls, O=rdpfix tests');
    // The script makes 30-day certificates: the expiry the probe reports is the file's.
    const days = (Date.parse(n.attempts[0]!.tls!.certificate!.notAfter) - Date.parse(n.attempts[0]!.tls!.certificate!.notBefore)) / 86_400_000;
    expect(days).toBe(30);
    expect(describeAttempt(n.attempts[2]!)).toBe('offered Standard RDP Security: the server refuses with SSL_REQUIRED_BY_SERVER (the server requires TLS or CredSSP (Enhanced RDP Security))');
  });

  it('security_layer=rdp: xrdp selects Standard RDP Security for every offer, with no TLS', async () => {
    const n = await probe(rdpOnly);
    expect(n.attempts.map((a) => [a.offered, a.outcome, a.selected, a.tls])).toEqual([[3, 'selected', 0, undefined], [1, 'selected', 0, undefined], [0, 'selected', 0, undefined]]);
    expect(n.attempts.every(works)).toBe(true);
  });

  it('security_layer=negotiate: TLS where offered, Standard RDP Security otherwise; a CA-signed certificate is not self-signed', async () => {
    const n = await probe(negotiate);
    expect(n.attempts.map((a) => [a.offered, a.outcome, a.selected])).toEqual([[3, 'selected', 1], [1, 'selected', 1], [0, 'selected', 0]]);
    expect(n.attempts[0]!.tls).toEqual({ ok: true, version: expect.any(String), untrustedBecause: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', certificate: expected(negotiate.cert, false) });
    expect(n.attempts[0]!.tls!.certificate!.issuer).toBe('CN=rdpfix-test-ca');
  });

  it('a certificate whose key does not match: TLS is selected, then the handshake fails — the 0x904 signature a TCP connect cannot see', async () => {
    const n = await probe(wrongKey);
    expect(n.attempts[0]).toMatchObject({ outcome: 'selected', selected: 1, tls: { ok: false, error: expect.any(String) } });
    expect(n.attempts[0]!.tls!.certificate).toBeUndefined();
    expect(works(n.attempts[0]!)).toBe(false);
    // For the revert task: a listener that negotiated before and now drops TLS does not "still negotiate".
    const verdict = stillNegotiates(await probe(tlsOnly), n);
    expect(verdict.ok).toBe(false);
    expect(verdict.reasons[0]).toMatch(/then the TLS handshake fails/);
    expect(stillNegotiates(await probe(tlsOnly), await probe(tlsOnly))).toEqual({ ok: true, reasons: [], changes: [] });
  });

  it('an expired certificate is still served; its expiry, judged by an injected clock, is machinekeys-corrupt evidence', async () => {
    const n = await probe(expired);
    expect(n.attempts[0]).toMatchObject({ outcome: 'selected', selected: 1, tls: { ok: true, certificate: { ...expected(expired.cert, true), notAfter: '2025-02-01T00:00:00.000Z' } } });
    const judge = (now: string) => {
      const out: Finding[] = [];
      const notes: Note[] = [];
      applyNegotiation(out, notes, n, Date.parse(now), []);
      return out;
    };
    expect(judge('2025-01-15T00:00:00Z')).toEqual([]);
    expect(judge('2026-11-25T12:00:00Z')).toEqual([expect.objectContaining({ cause: 'machinekeys-corrupt', confidence: 'high',
      evidence: [`from the controller, the certificate the listener serves (${n.attempts[0]!.tls!.certificate!.thumbprint}, CN=rdpfix-xrdp-tls, O=rdpfix tests) expired on 2025-02-01T00:00:00.000Z`] })]);
  });

  it('after xrdp stops, the probe reports a refused connect, not an error', async () => {
    const s = start('stopped', 'tls');
    expect(spawnSync(stopScript, [s.dir]).status).toBe(0);
    expect(existsSync(path.join(s.dir, 'xrdp.pid'))).toBe(false);
    const n = await probe(s);
    expect(n.attempts.map((a) => [a.outcome, a.error])).toEqual([['unreachable', 'ECONNREFUSED'], ['unreachable', 'ECONNREFUSED'], ['unreachable', 'ECONNREFUSED']]);
  }, 120_000);
});
