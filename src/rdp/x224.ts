/**
 * The first two PDUs of an RDP connection, and nothing more: the client's X.224 Connection Request carrying an
 * RDP Negotiation Request, and the server's X.224 Connection Confirm carrying an RDP Negotiation Response or
 * Failure. Layouts from [MS-RDPBCGR] 2.2.1.1 (Client X.224 Connection Request PDU), 2.2.1.1.1 (RDP_NEG_REQ),
 * 2.2.1.2 (Server X.224 Connection Confirm PDU), 2.2.1.2.1 (RDP_NEG_RSP), 2.2.1.2.2 (RDP_NEG_FAILURE); the TPKT
 * header from [T123] section 8 (version 3, reserved 0, big-endian length of the whole packet); the X.224 class 0
 * TPDUs from [X224] 13.3/13.4 (length indicator = header length without itself; code 0xE0 CR / 0xD0 CC; dst-ref,
 * src-ref, class). The negotiation structures are little-endian. Pure: no I/O, unit-tested on byte buffers.
 */

/** requestedProtocols / selectedProtocol flags ([MS-RDPBCGR] 2.2.1.1.1, 2.2.1.2.1). */
export const PROTOCOL = { RDP: 0x0, SSL: 0x1, HYBRID: 0x2, RDSTLS: 0x4, HYBRID_EX: 0x8, RDSAAD: 0x10 } as const;

/** RDP_NEG_FAILURE failureCode values ([MS-RDPBCGR] 2.2.1.2.2). */
export const FAILURE_CODES: Record<number, string> = {
  1: 'SSL_REQUIRED_BY_SERVER',
  2: 'SSL_NOT_ALLOWED_BY_SERVER',
  3: 'SSL_CERT_NOT_ON_SERVER',
  4: 'INCONSISTENT_FLAGS',
  5: 'HYBRID_REQUIRED_BY_SERVER',
  6: 'SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER',
};

/** What each failure code means for a person ([MS-RDPBCGR] 2.2.1.2.2, shortened). */
export const FAILURE_MEANING: Record<string, string> = {
  SSL_REQUIRED_BY_SERVER: 'the server requires TLS or CredSSP (Enhanced RDP Security)',
  SSL_NOT_ALLOWED_BY_SERVER: 'the server only uses Standard RDP Security (SecurityLayer 0): no TLS, no CredSSP/NLA',
  SSL_CERT_NOT_ON_SERVER: 'the server has no valid certificate and cannot start TLS',
  INCONSISTENT_FLAGS: 'the requested protocols are inconsistent with the security already in effect',
  HYBRID_REQUIRED_BY_SERVER: 'the server requires CredSSP (Network Level Authentication)',
  SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER: 'the server requires TLS with client certificate authentication',
};

/** The names of the flags set in a protocol mask, in spec order ('PROTOCOL_RDP' for 0). */
export function protocolNames(mask: number): string[] {
  if (mask === 0) return ['PROTOCOL_RDP'];
  const names = Object.entries(PROTOCOL).filter(([, bit]) => bit !== 0 && (mask & bit) === bit).map(([n]) => `PROTOCOL_${n}`);
  const known = Object.values(PROTOCOL).reduce<number>((a, b) => a | b, 0);
  if ((mask & ~known) >>> 0) names.push(`0x${((mask & ~known) >>> 0).toString(16)}`);
  return names;
}

/** Protocols whose first leg is a TLS handshake on the same socket (CredSSP runs inside TLS: [MS-CSSP] 1.3.1). */
export const startsWithTls = (selected: number) => (selected & (PROTOCOL.SSL | PROTOCOL.HYBRID | PROTOCOL.HYBRID_EX)) !== 0;

const TPKT_HEADER = 4;
/** A Connection Confirm is 11 bytes (no negotiation data) or 19 (with it); anything larger is not one. */
export const MAX_CONFIRM_BYTES = 64;

/** The bytes a server returned are not a Connection Confirm the spec allows. */
export class RdpProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RdpProtocolError';
  }
}

/**
 * The Client X.224 Connection Request PDU with an RDP_NEG_REQ for `requestedProtocols`. No cookie and no routing
 * token (both optional; a cookie would carry a user name, which the probe has no business sending).
 */
export function connectionRequest(requestedProtocols: number): Buffer {
  const neg = Buffer.alloc(8);
  neg.writeUInt8(0x01, 0); // TYPE_RDP_NEG_REQ
  neg.writeUInt8(0x00, 1); // flags
  neg.writeUInt16LE(8, 2); // length
  neg.writeUInt32LE(requestedProtocols >>> 0, 4);
  const x224 = Buffer.from([6 + neg.length, 0xe0, 0, 0, 0, 0, 0]); // LI, CR, dst-ref, src-ref, class 0
  const total = TPKT_HEADER + x224.length + neg.length;
  const tpkt = Buffer.from([3, 0, total >> 8, total & 0xff]);
  return Buffer.concat([tpkt, x224, neg]);
}

/** What a Connection Confirm says. */
export type Confirm =
  /** RDP_NEG_RSP: the server selected a protocol (flags: EXTENDED_CLIENT_DATA_SUPPORTED...). */
  | { kind: 'selected'; selectedProtocol: number; flags: number }
  /** RDP_NEG_FAILURE. */
  | { kind: 'failure'; failureCode: number; failureName: string }
  /** No negotiation data: a server that predates negotiation, which means Standard RDP Security ([MS-RDPBCGR] 3.3.5.3.2). */
  | { kind: 'no-negotiation' };

/**
 * How many bytes the packet starting in `head` is, from its TPKT header; null while fewer than 4 bytes are in.
 * Throws RdpProtocolError for a header no Connection Confirm can have (so a caller never waits for, or allocates,
 * a length the server made up).
 */
export function tpktLength(head: Buffer): number | null {
  if (head.length >= 1 && head[0] !== 3) {
    throw new RdpProtocolError(`not a TPKT packet (first byte 0x${head[0]!.toString(16).padStart(2, '0')}, expected 0x03): the port does not speak RDP`);
  }
  if (head.length < TPKT_HEADER) return null;
  const length = head.readUInt16BE(2);
  if (length < TPKT_HEADER + 7) throw new RdpProtocolError(`TPKT length ${length} is shorter than an X.224 Connection Confirm (11 bytes)`);
  if (length > MAX_CONFIRM_BYTES) throw new RdpProtocolError(`TPKT length ${length} is longer than any X.224 Connection Confirm (at most ${MAX_CONFIRM_BYTES} bytes accepted)`);
  return length;
}

/** Parses one complete Server X.224 Connection Confirm PDU (exactly the bytes its TPKT header counts). */
export function parseConnectionConfirm(pdu: Buffer): Confirm {
  const length = tpktLength(pdu);
  if (length === null) throw new RdpProtocolError(`${pdu.length} bytes are not a TPKT header`);
  if (pdu.length !== length) throw new RdpProtocolError(`the TPKT header says ${length} bytes, ${pdu.length} arrived`);
  const li = pdu[4]!;
  if (TPKT_HEADER + 1 + li !== length) throw new RdpProtocolError(`X.224 length indicator ${li} does not match the TPKT length ${length}`);
  const code = pdu[5]! & 0xf0;
  if (code === 0x80) throw new RdpProtocolError('the server answered with an X.224 Disconnect Request');
  if (code !== 0xd0) throw new RdpProtocolError(`X.224 TPDU code 0x${pdu[5]!.toString(16)} is not a Connection Confirm (0xD0)`);
  if (li === 6) return { kind: 'no-negotiation' };
  if (li !== 14) throw new RdpProtocolError(`X.224 Connection Confirm of ${li + 1} bytes: expected 7, or 15 with negotiation data`);
  const type = pdu[11]!;
  const negLength = pdu.readUInt16LE(13);
  if (negLength !== 8) throw new RdpProtocolError(`negotiation data length ${negLength}, expected 8`);
  const value = pdu.readUInt32LE(15);
  if (type === 0x02) return { kind: 'selected', selectedProtocol: value, flags: pdu[12]! };
  if (type === 0x03) return { kind: 'failure', failureCode: value, failureName: FAILURE_CODES[value] ?? `UNKNOWN_FAILURE_0x${value.toString(16)}` };
  throw new RdpProtocolError(`negotiation data type 0x${type.toString(16)} is neither RDP_NEG_RSP (0x02) nor RDP_NEG_FAILURE (0x03)`);
}
