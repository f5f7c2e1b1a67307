import { describe, it, expect, afterEach } from 'vitest';
import net from 'node:net';
import { attempt, negotiateRdp, type NegotiationAttempt, type RdpNegotiation } from '../../src/rdp/negotiate.js';
import { allStillNegotiate, describeAttempt, stillNegotiates, works } from '../../src/rdp/compare.js';

/** Servers that answer the Connection Request with hand-built bytes: real sockets, hostile content. */
const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function serve(onRequest: (socket: net.Socket, request: Buffer) => void): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (d) => onRequest(socket, d));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

function confirm(type: number, value: number): Buffer {
  const b = Buffer.from('030000130ed00000123400' + '0000080000000000', 'hex');
  b[11] = type;
  b.writeUInt32LE(value, 15);
  return b;
}

describe('one negotiation attempt against hostile or odd servers', () => {
  it('sends the Connection Request for the offer and reads a failure code', async () => {
    let seen = '';
    const port = await serve((s, req) => { seen = req.toString('hex'); s.write(confirm(0x03, 5)); });
    const a = await attempt('127.0.0.1', port, 1, 2000);
    expect(seen).toBe('030000130ee000000000000100080001000000');
    expect(a).toMatchObject({ offered: 1, offeredNames: ['PROTOCOL_SSL'], outcome: 'failure', failureCode: 5, failure: 'HYBRID_REQUIRED_BY_SERVER' });
  });

  it('reads a refusal followed in the same chunk by what the server sends as it closes (xrdp: a Disconnect Provider Ultimatum)', async () => {
    const dpum = Buffer.from('0300000902f0802180', 'hex'); // TPKT, X.224 Data, MCS Disconnect Provider Ultimatum
    const port = await serve((s) => s.end(Buffer.concat([confirm(0x03, 1), dpum])));
    expect(await attempt('127.0.0.1', port, 0, 2000)).toMatchObject({ outcome: 'failure', failureCode: 1, failure: 'SSL_REQUIRED_BY_SERVER' });
  });

  it('reads a confirm that arrives one byte at a time', async () => {
    const port = await serve((s) => {
      const bytes = confirm(0x02, 0);
      let i = 0;
      const tick = setInterval(() => { if (i < bytes.length) s.write(bytes.subarray(i, ++i)); else clearInterval(tick); }, 2);
    });
    expect(await attempt('127.0.0.1', port, 0, 3000)).toMatchObject({ outcome: 'selected', selected: 0, selectedNames: ['PROTOCOL_RDP'] });
  });

  it('ends with a protocol error on garbage, a huge length, trailing bytes or an unoffered protocol, and never throws', async () => {
    const http = await serve((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const huge = await serve((s) => s.write(Buffer.from('0300ffff', 'hex'))); // then silence: must not wait for 65535 bytes
    const trailing = await serve((s) => s.write(Buffer.concat([confirm(0x02, 1), Buffer.from('16030100', 'hex')])));
    const unoffered = await serve((s) => s.write(confirm(0x02, 2))); // CredSSP selected, TLS only offered
    const [a, b, c, d] = await Promise.all([attempt('127.0.0.1', http, 3, 2000), attempt('127.0.0.1', huge, 3, 2000),
      attempt('127.0.0.1', trailing, 1, 2000), attempt('127.0.0.1', unoffered, 1, 2000)]);
    expect(a).toMatchObject({ outcome: 'protocol', error: expect.stringMatching(/not a TPKT packet/) });
    expect(b).toMatchObject({ outcome: 'protocol', error: expect.stringMatching(/longer than any X.224 Connection Confirm/) });
    expect(b.elapsedMs).toBeLessThan(1500);
    expect(c).toMatchObject({ outcome: 'protocol', error: expect.stringMatching(/4 unexpected bytes after the Connection Confirm/) });
    expect(d).toMatchObject({ outcome: 'protocol', selected: 2, error: expect.stringMatching(/PROTOCOL_HYBRID, which was not offered/) });
  });

  it('tells a server that closes, one that stalls half-way, and a closed port apart', async () => {
    const closes = await serve((s) => s.end());
    const stalls = await serve((s) => s.write(confirm(0x02, 0).subarray(0, 7)));
    const free = await serve(() => {});
    servers.pop()!.close();
    const started = performance.now();
    const [a, b, c] = await Promise.all([attempt('127.0.0.1', closes, 3, 2000), attempt('127.0.0.1', stalls, 3, 400), attempt('127.0.0.1', free, 3, 2000)]);
    expect(a).toMatchObject({ outcome: 'closed', error: 'the server closed the connection after 0 bytes' });
    expect(b).toMatchObject({ outcome: 'timeout', error: 'only 7 bytes of the Connection Confirm arrived' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
    expect(c).toMatchObject({ outcome: 'unreachable', error: 'ECONNREFUSED' });
  });

  it('reports a TLS handshake the server drops after selecting TLS (the 0x904 signature), not a crash', async () => {
    const port = await serve((s) => {
      s.write(confirm(0x02, 2));
      s.once('data', () => s.destroy()); // the ClientHello: reset, as a listener whose key cannot be used does
    });
    const a = await attempt('127.0.0.1', port, 3, 2000);
    expect(a).toMatchObject({ outcome: 'selected', selected: 2, tls: { ok: false, error: expect.stringMatching(/TLS handshake|reset|closed/) } });
    expect(works(a)).toBe(false);
    expect(describeAttempt(a)).toMatch(/^offered TLS\+CredSSP: the server selects CredSSP \(NLA\), then the TLS handshake fails/);
  });

  it('tries each offer on its own connection, strongest first', async () => {
    const offers: string[] = [];
    const port = await serve((s, req) => { offers.push(req.subarray(15, 19).toString('hex')); s.write(confirm(0x03, 2)); });
    const n = await negotiateRdp('127.0.0.1', port, { timeoutMs: 2000 });
    expect(offers).toEqual(['03000000', '01000000', '00000000']);
    expect(n.attempts.map((a) => a.failure)).toEqual(['SSL_NOT_ALLOWED_BY_SERVER', 'SSL_NOT_ALLOWED_BY_SERVER', 'SSL_NOT_ALLOWED_BY_SERVER']);
  });
});

describe('whether a listener still negotiates as before', () => {
  const tlsOk = { ok: true, version: 'TLSv1.2', certificate: { subject: 'CN=h1', issuer: 'CN=h1', notBefore: '2026-06-01T00:00:00.000Z', notAfter: '2027-06-01T00:00:00.000Z', selfSigned: true, serialNumber: '01', thumbprint: 'AA' } };
  const sel = (offered: number, selected: number, tls?: NegotiationAttempt['tls']): NegotiationAttempt =>
    ({ offered, offeredNames: [], outcome: 'selected', selected, selectedNames: [['PROTOCOL_RDP', 'PROTOCOL_SSL', 'PROTOCOL_HYBRID'][selected]!], ...(tls ? { tls } : {}), elapsedMs: 1 });
  const fail = (offered: number, failure: string): NegotiationAttempt => ({ offered, offeredNames: [], outcome: 'failure', failure, elapsedMs: 1 });
  const neg = (...attempts: NegotiationAttempt[]): RdpNegotiation => ({ host: 'h1', port: 3389, attempts });
  const nla = neg(sel(3, 2, tlsOk), fail(1, 'HYBRID_REQUIRED_BY_SERVER'), fail(0, 'HYBRID_REQUIRED_BY_SERVER'));

  it('is ok when nothing changed', () => {
    expect(stillNegotiates(nla, nla)).toEqual({ ok: true, reasons: [], changes: [] });
  });

  it('fails when the strongest offer that worked no longer does (TLS now dropped)', () => {
    const broken = neg(sel(3, 2, { ok: false, error: 'the server reset the connection during the TLS handshake' }), fail(1, 'HYBRID_REQUIRED_BY_SERVER'), fail(0, 'HYBRID_REQUIRED_BY_SERVER'));
    const r = stillNegotiates(nla, broken);
    expect(r.ok).toBe(false);
    expect(r.reasons).toEqual([expect.stringMatching(/^before: offered TLS\+CredSSP: the server selects CredSSP \(NLA\); TLSv1.2.*now: .*TLS handshake fails/)]);
  });

  it('fails when the listener now refuses what it accepted (security layer 0 with NLA)', () => {
    const mismatch = neg(fail(3, 'SSL_NOT_ALLOWED_BY_SERVER'), fail(1, 'SSL_NOT_ALLOWED_BY_SERVER'), fail(0, 'HYBRID_REQUIRED_BY_SERVER'));
    expect(stillNegotiates(nla, mismatch).ok).toBe(false);
  });

  it('reports, without failing, a weaker offer lost, a new certificate, and a listener that negotiated nothing before', () => {
    const open = neg(sel(3, 2, tlsOk), sel(1, 1, tlsOk), sel(0, 0));
    const renewed = { ...tlsOk, certificate: { ...tlsOk.certificate, thumbprint: 'BB', notAfter: '2027-12-01T00:00:00.000Z' } };
    const raised = neg(sel(3, 2, renewed), sel(1, 1, renewed), fail(0, 'SSL_REQUIRED_BY_SERVER'));
    const r = stillNegotiates(open, raised);
    expect(r.ok).toBe(true);
    expect(r.changes).toEqual([expect.stringMatching(/^no longer works: offered Standard RDP Security: the server refuses with SSL_REQUIRED_BY_SERVER/),
      'the listener now serves certificate BB (CN=h1, valid until 2027-12-01T00:00:00.000Z); before AA']);
    const dead = neg(fail(3, 'SSL_CERT_NOT_ON_SERVER'));
    expect(stillNegotiates(dead, dead)).toMatchObject({ ok: true, changes: [expect.stringMatching(/negotiated no offer before/)] });
  });
});

describe('whether every listener of a host still negotiates', () => {
  const tls = { ok: true, version: 'TLSv1.2' };
  const at = (port: number, ...attempts: NegotiationAttempt[]): RdpNegotiation => ({ host: 'h1', port, attempts });
  const ok = (offered: number): NegotiationAttempt => ({ offered, offeredNames: [], outcome: 'selected', selected: 2, selectedNames: ['PROTOCOL_HYBRID'], tls, elapsedMs: 1 });
  const refused = (offered: number): NegotiationAttempt => ({ offered, offeredNames: [], outcome: 'failure', failure: 'SSL_CERT_NOT_ON_SERVER', elapsedMs: 1 });

  it('is ok only when each listener that negotiated before still does, and names the port that does not', () => {
    const before = [at(3389, ok(3)), at(3390, refused(3))];
    expect(allStillNegotiate(before, [at(3389, ok(3)), at(3390, refused(3))])).toMatchObject({ ok: true, reasons: [] });
    const lost = allStillNegotiate(before, [at(3389, refused(3)), at(3390, refused(3))]);
    expect(lost.ok).toBe(false);
    expect(lost.reasons).toEqual([expect.stringMatching(/^port 3389: before: offered TLS\+CredSSP/)]);
    expect(lost.byPort[3390]!.ok).toBe(true);
    expect(allStillNegotiate(before, [at(3390, refused(3))])).toMatchObject({ ok: false, reasons: ['port 3389: port 3389 was not probed after the change'] });
  });
});
