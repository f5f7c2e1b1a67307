/**
 * Classify a PowerShell remoting error (WinRM or SSH transport) into what an admin should do next.
 *
 * Order of evidence, strongest first (reference `windows-rdp.md` §11.1: "Messages are localized, FQIDs are not"):
 *   1. the FullyQualifiedErrorId prefix (the part before the first comma) — a name from PowerShell's
 *      WSManTransportManager mapping table, or a raw code when the code is unmapped;
 *   2. error codes inside the text (`errorcode 0x80090322`, `HRESULT 0x80338126`, WSManFault `Code="2150858770"`);
 *   3. the English message (and ssh's own stderr lines, which PowerShell does not wrap in an FQID of their own).
 * Anything not recognised as a transport failure is `script`: the step itself threw.
 *
 * Categories and what to do about each: docs/remoting-errors.md.
 */

export type RemotingErrorCategory =
  | 'unreachable'
  | 'auth'
  | 'trust'
  | 'timeout'
  | 'script'
  | 'not-found'
  | 'process';

/**
 * FQID prefix → category. Names are those of WSManTransportManagerUtils (§11.1 table) plus the few non-remoting
 * FQIDs a controller sees while probing a host (§10.2, §11.2). Absent on purpose: the default suffixes
 * (PSSessionOpenFailed, PSSessionStateBroken, CreateRemoteRunspaceFailed, JobFailure), WsManError and
 * PSRemotingDataStructureException: they wrap many causes, so the codes and message decide.
 */
const FQID_NAMES: Readonly<Record<string, RemotingErrorCategory>> = {
  // §11.1/§11.2: 0x80338126 "WinRM cannot complete the operation" — in practice host down or port filtered.
  WinRMOperationTimeout: 'unreachable',
  CannotConnect: 'unreachable', // 0x80338012: host up, WinRM not listening
  CannotConnectWinRMService: 'unreachable',
  WinRMOperationAborted: 'unreachable', // 995: WinRM stopped/restarted mid-call
  ShutDownInProgress: 'unreachable', // 1115
  ImproperResponse: 'unreachable', // 1722 RPC server unavailable
  URLNotAvailable: 'unreachable',
  AccessDenied: 'auth', // 5
  LogonFailure: 'auth', // 1326
  AuthenticationFailed: 'auth', // 1311 no logon servers
  InvalidAuthentication: 'auth', // mechanism not accepted by the server
  ServerNotTrusted: 'trust', // workgroup/NTLM without TrustedHosts or HTTPS
  CannotUseIPAddress: 'trust',
  ExplicitCredentialsRequired: 'trust', // same TrustedHosts/HTTPS family as the two above
  WorkgroupCannotUseKerberos: 'trust',
  ClientKerberosDisabled: 'trust',
  TargetUnknown: 'trust', // 0x80090303 Kerberos target (SPN) unknown
  ComputerNotFound: 'not-found', // name does not resolve
  NetworkPathNotFound: 'not-found', // 53: Kerberos "Cannot find the computer <fqdn>" (§11.2)
  DNS_ERROR_RCODE_NAME_ERROR: 'not-found', // Resolve-DnsName NXDOMAIN (§10.2)
  CommandNotFoundException: 'not-found',
};

/**
 * Error code → category, keyed by the unsigned 32-bit value; Win32 codes wrapped as HRESULT 0x8007xxxx are
 * looked up by their Win32 number too (see `codeCategory`). Sources: §10.3, §11.1 table, §11.2.
 */
const CODES: ReadonlyMap<number, RemotingErrorCategory> = new Map<number, RemotingErrorCategory>([
  [0x80338012, 'unreachable'], // CannotConnect; Test-WSMan shows it as Code="2150858770"
  [0x80338126, 'unreachable'], // WinRMOperationTimeout (client side; CIM shows "HRESULT 0x80338126")
  [0x80338029, 'timeout'], // 2150858793: server-side OperationTimeout — the command ran too long
  [0x80090322, 'trust'], // SEC_E_WRONG_PRINCIPAL: Kerberos SPN problem (fix: -IncludePortInSPN, §11.2)
  [0x80090303, 'trust'], // SEC_E_TARGET_UNKNOWN (TargetUnknown)
  [0x8009030e, 'auth'], // SEC_E_NO_CREDENTIALS: "A specified logon session does not exist"
  [0x80090311, 'auth'], // SEC_E_NO_AUTHENTICATING_AUTHORITY: domain / logon servers unavailable
  [0x8009030c, 'auth'], // SEC_E_LOGON_DENIED
  [5, 'auth'], // ERROR_ACCESS_DENIED
  [1326, 'auth'], // ERROR_LOGON_FAILURE
  [1311, 'auth'], // ERROR_NO_LOGON_SERVERS
  [53, 'not-found'], // ERROR_BAD_NETPATH (CIM: HRESULT 0x80070035)
  [995, 'unreachable'], // ERROR_OPERATION_ABORTED
  [1115, 'unreachable'], // ERROR_SHUTDOWN_IN_PROGRESS
  [1722, 'unreachable'], // RPC_S_SERVER_UNAVAILABLE
  [12175, 'trust'], // ERROR_WINHTTP_SECURE_FAILURE: HTTPS certificate CA/CN/revocation (FQID "12175,...")
]);

/**
 * English message fragments, first match wins; matched against the text with whitespace collapsed, so console
 * line wrapping does not matter. Order: a crash first (its text is unambiguous), then ssh's own stderr lines and
 * the specific WinRM sentences, and last the generic "SSH transport process has abruptly terminated", which
 * PowerShell prints for every ssh failure (captured on pwsh 7.6.9: DNS, refused, auth, host key all end with it).
 */
const MESSAGES: ReadonlyArray<readonly [RegExp, RemotingErrorCategory]> = [
  // The local pwsh died: .NET's own fatal-exit headers. Deliberately NOT here: "The pipeline has been stopped"
  // (a cancel, usually our own Stop() — the broker knows that without reading text) and EPIPE / broken pipe
  // (also seen when pwsh exited normally); both fall through to `script`.
  [/(?:^|\n)(?:Process terminated\.|Unhandled exception\. )/, 'process'],
  [/Could not resolve hostname/i, 'not-found'], // ssh
  [/server name cannot be resolved/i, 'not-found'],
  [/DNS name does not exist/i, 'not-found'],
  [/Cannot find the computer /i, 'not-found'], // Kerberos, NetworkPathNotFound
  [/WSMan client library (?:was found|is not installed)|no supported WSMan client library/i, 'not-found'],
  [/is not recognized as (?:the|a) name of a cmdlet/i, 'not-found'],
  [/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/, 'trust'], // ssh
  [/must be added to the TrustedHosts configuration setting/i, 'trust'], // ServerNotTrusted
  [/Default authentication may be used with an IP address/i, 'trust'], // CannotUseIPAddress
  [/server certificate on the destination computer|The SSL certificate |does not currently support CA or CN checks/i, 'trust'],
  [/Permission denied \(/, 'auth'], // ssh: "Permission denied (publickey,password)."
  [/Access is denied|returned an 'access denied' error|Authorization failed/i, 'auth'],
  [/user name or password is incorrect/i, 'auth'],
  [/logon session does not exist|no logon servers available|domain isn't available/i, 'auth'],
  [/within the time specified in OperationTimeout/i, 'timeout'],
  [/WinRM cannot complete the operation/i, 'unreachable'],
  [/client cannot connect to the destination specified in the request/i, 'unreachable'],
  [/I\/O operation has been aborted/i, 'unreachable'],
  [/Connection refused|Connection timed out|No route to host|SSH connection attempt failed after time out/i, 'unreachable'],
  [/SSH transport process has abruptly terminated/i, 'unreachable'],
];

/** Top-level `FullyQualifiedErrorId : X` (5.1 NormalView `+ ...`, Get-Error list), or an unlabelled `X,PSSession...` token. */
export function extractFqid(text: string): string | undefined {
  let best: { indent: number; value: string } | undefined;
  // Get-Error nests inner records deeper; the least indented line is the record itself.
  for (const m of text.matchAll(/^([ \t]*)(?:\+[ \t]*)?FullyQualifiedErrorId[ \t]*:[ \t]*(\S[^\r\n]*?)[ \t]*$/gm)) {
    const indent = m[1]!.length;
    if (!best || indent < best.indent) best = { indent, value: m[2]! };
  }
  if (best) return best.value;
  // Rows copied from an error grid carry the FQID as a bare field ending in a remoting default suffix (§11.1).
  return /(?:^|\s)([^\s,]+,(?:PSSessionStateBroken|PSSessionOpenFailed|CreateRemoteRunspaceFailed))\b/.exec(text)?.[1];
}

/** Category of a numeric code, or undefined. Accepts signed (-2144108387) or unsigned forms. */
function codeCategory(code: number): RemotingErrorCategory | undefined {
  const u = code >>> 0;
  // HRESULT_FROM_WIN32: 0x8007xxxx carries a Win32 code in its low word.
  return CODES.get(u) ?? ((u & 0xffff0000) === 0x80070000 ? CODES.get(u & 0xffff) : undefined);
}

function fqidCategory(fqid: string): RemotingErrorCategory | undefined {
  const prefix = fqid.split(',')[0]!.trim();
  const hresult = /^HRESULT\s+0x([0-9a-f]{1,8})$/i.exec(prefix); // CIM flavour (§11.2)
  if (hresult) return codeCategory(parseInt(hresult[1]!, 16));
  if (/^-?\d+$/.test(prefix)) return codeCategory(Number(prefix)); // unmapped code, e.g. 12175 or -2144108387
  return Object.hasOwn(FQID_NAMES, prefix) ? FQID_NAMES[prefix] : undefined;
}

/** Codes embedded in the message, in text order: hex (errorcode/HRESULT), WSManFault Code="...", "[WSMAN ERROR CODE: n]". */
function textCodeCategory(text: string): RemotingErrorCategory | undefined {
  const scan = (s: string): RemotingErrorCategory | undefined => {
    const re = /0x([0-9a-f]{8})(?![0-9a-f])|\bCode=["'](\d+)["']|WSMAN ERROR CODE: (\d+)/gi;
    for (const m of s.matchAll(re)) {
      const c = codeCategory(m[1] ? parseInt(m[1], 16) : Number(m[2] ?? m[3]));
      if (c) return c;
    }
    return undefined;
  };
  // A console can wrap inside a code ("0x80090 \n30e"); retry with line breaks removed.
  return scan(text) ?? scan(text.replace(/[ \t]*\r?\n[ \t]*/g, ''));
}

/**
 * Map a remoting error text (a whole 5.1 NormalView block, a 7.x ConciseView / Get-Error rendering, or a bare
 * message) to a category. `fqid`, when known (e.g. `$_.FullyQualifiedErrorId`), is used instead of one found in
 * the text.
 */
export function classifyRemotingError(text: string, fqid?: string): RemotingErrorCategory {
  const id = fqid?.trim() || extractFqid(text);
  const byId = id ? fqidCategory(id) : undefined;
  if (byId) return byId;
  const byCode = textCodeCategory(text);
  if (byCode) return byCode;
  // ConciseView boxes wrapped message lines behind a "     | " gutter; drop it, then collapse whitespace.
  const flat = text.replace(/^[ \t]*(?:\d+[ \t]*)?\|[ \t]?/gm, '').replace(/[ \t]+/g, ' ');
  const spaced = flat.replace(/\s+/g, ' ');
  for (const [re, category] of MESSAGES) {
    // The crash rule is anchored at a line start, so it reads the text with its line breaks kept.
    if (re.test(category === 'process' ? flat : spaced)) return category;
  }
  return 'script';
}
