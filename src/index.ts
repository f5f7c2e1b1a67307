// rdpfix's package entry: what other programs (and the tests) may use.
export { Broker, toEnvelope } from './broker/broker.js';
export type { BrokerOptions, InvokeOptions } from './broker/broker.js';
export type { Envelope, ErrorCategory, Streams } from './broker/protocol.js';
export { classifyRemotingError } from './broker/classify.js';
export type { TransportTarget, LabTarget, WinRmTarget, SshTarget, LocalTarget } from './transport/targets.js';
export { locatePowerShell } from './powershell/locate.js';
export { RdpfixError } from './errors.js';
export { parseQuser, type QuserResult, type QuserSession, type QuserSessionState, type QuserKind } from './parsers/quser.js';
