import { describe, it, expect } from 'vitest';
import { RdpProtocolError, connectionRequest, parseConnectionConfirm, protocolNames, tpktLength } from '../../src/rdp/x224.js';

/** A Connection Confirm as [MS-RDPBCGR] 2.2.1.2 lays it out: TPKT, X.224 CC (src-ref 0x1234), 8 bytes of negotiation data. */
function confirm(type: number, value: number, flags = 0): Buffer {
  const neg = Buffer.alloc(8);
  neg.writeUInt8(type, 0);
  neg.writeUInt8(flags, 1);
  neg.writeUInt16LE(8, 2);
  neg.writeUInt32LE(value, 4);
  return Buffer.concat([Buffer.from([0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00]), neg]);
}

describe('the X.224 Connection Request', () => {
  it('is TPKT + X.224 CR + RDP_NEG_REQ, byte for byte', () => {
    // TLS+CredSSP, as mstsc offers it: 03 00 00 13 | 0e e0 00 00 00 00 00 | 01 00 08 00 03 00 00 00
    expect(connectionRequest(3).toString('hex')).toBe('030000130ee000000000000100080003000000');
    expect(connectionRequest(0).toString('hex')).toBe('030000130ee000000000000100080000000000');
  });
});

describe('the X.224 Connection Confirm parser', () => {
  it('reads RDP_NEG_RSP: the selected protocol and flags', () => {
    expect(parseConnectionConfirm(confirm(0x02, 2, 0x1f))).toEqual({ kind: 'selected', selectedProtocol: 2, flags: 0x1f });
    expect(parseConnectionConfirm(confirm(0x02, 0))).toEqual({ kind: 'selected', selectedProtocol: 0, flags: 0 });
  });

  it('reads RDP_NEG_FAILURE with each documented code, and an unknown one by number', () => {
    const names = ['SSL_REQUIRED_BY_SERVER', 'SSL_NOT_ALLOWED_BY_SERVER', 'SSL_CERT_NOT_ON_SERVER', 'INCONSISTENT_FLAGS', 'HYBRID_REQUIRED_BY_SERVER', 'SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER'];
    names.forEach((name, i) => expect(parseConnectionConfirm(confirm(0x03, i + 1))).toEqual({ kind: 'failure', failureCode: i + 1, failureName: name }));
    expect(parseConnectionConfirm(confirm(0x03, 0x99))).toEqual({ kind: 'failure', failureCode: 0x99, failureName: 'UNKNOWN_FAILURE_0x99' });
  });

  it('reads a confirm without negotiation data (11 bytes) as a pre-negotiation server', () => {
    expect(parseConnectionConfirm(Buffer.from('0300000b06d00000123400', 'hex'))).toEqual({ kind: 'no-negotiation' });
  });

  const malformed: [string, Buffer, RegExp][] = [
    ['an HTTP answer', Buffer.from('HTTP/1.1 400 Bad Request\r\n'), /not a TPKT packet \(first byte 0x48/],
    ['a TPKT length below 11', Buffer.from('0300000a05d000001234', 'hex'), /shorter than an X.224 Connection Confirm/],
    ['a TPKT length of 65535', Buffer.from('0300ffff', 'hex'), /longer than any X.224 Connection Confirm/],
    ['a length indicator that disagrees with TPKT', Buffer.from('0300000b07d00000123400', 'hex'), /length indicator 7 does not match/],
    ['a Disconnect Request', Buffer.from('0300000b06800000123400', 'hex'), /Disconnect Request/],
    ['a Data TPDU', Buffer.from('0300000b06f00000123400', 'hex'), /not a Connection Confirm/],
    ['a confirm of odd size', Buffer.from('0300000c07d0000012340000', 'hex'), /expected 7, or 15/],
    ['a negotiation length other than 8', (() => { const b = confirm(0x02, 1); b.writeUInt16LE(9, 13); return b; })(), /negotiation data length 9/],
    ['an unknown negotiation type', (() => { const b = confirm(0x02, 1); b[11] = 0x07; return b; })(), /type 0x7/],
    ['fewer bytes than the header counts', confirm(0x02, 1).subarray(0, 15), /says 19 bytes, 15 arrived/],
    ['a stub of two bytes', Buffer.from([3, 0]), /not a TPKT header/],
  ];
  for (const [what, bytes, why] of malformed) {
    it(`refuses ${what} with a protocol error`, () => {
      expect(() => parseConnectionConfirm(bytes)).toThrow(RdpProtocolError);
      expect(() => parseConnectionConfirm(bytes)).toThrow(why);
    });
  }

  it('knows the length from the TPKT header alone, and waits for four bytes', () => {
    expect(tpktLength(Buffer.from([3]))).toBeNull();
    expect(tpktLength(Buffer.from([3, 0, 0, 0x13]))).toBe(19);
    expect(() => tpktLength(Buffer.from([0x16]))).toThrow(/first byte 0x16/); // a TLS record: the port speaks TLS, not RDP
  });

  it('names protocol masks, unknown bits included', () => {
    expect(protocolNames(0)).toEqual(['PROTOCOL_RDP']);
    expect(protocolNames(3)).toEqual(['PROTOCOL_SSL', 'PROTOCOL_HYBRID']);
    expect(protocolNames(0x8 | 0x40)).toEqual(['PROTOCOL_HYBRID_EX', '0x40']);
  });
});
