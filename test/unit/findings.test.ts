import { describe, it, expect } from 'vitest';
import { assess, assessUnreachable, findingsFor } from '../../src/diagnose/findings.js';
import { effectiveRights, FILE_ALL, FILE_READ, has, parseSddl, sameDacl, TOKENS } from '../../src/diagnose/sddl.js';
import type { PortReach } from '../../src/probe/reach.js';
import { KEY, THUMB, rule, profiles, healthy, sec, open, closed, view, schannel } from '../helpers/probe-data.js';

describe('findings', () => {
  it('a healthy host has none; 4294967295 (read as -1) is no session cap', () => {
    expect(findingsFor(healthy(), { expectedAddress: '10.0.0.1', resolvedAddress: '10.0.0.1' })).toEqual([]);
    expect(assess(healthy(), view([open(3389), open(5985), closed(5986)]))).toEqual({ findings: [], notes: [] });
  });

  it('marks group-policy-controlled causes as blocked by policy', () => {
    const d = healthy();
    sec(d).rdp.policyFDenyTSConnections = 1;
    expect(findingsFor(d)).toEqual([expect.objectContaining({ cause: 'rdp-disabled', blockedByPolicy: true, evidence: ['group policy sets fDenyTSConnections=1'] })]);
  });

  it('a name that does not resolve is a DNS finding', () => {
    expect(findingsFor(healthy(), { expectedAddress: '10.0.0.1', resolvedAddress: null })).toEqual([
      expect.objectContaining({ cause: 'dns-mismatch', playbook: null, evidence: ['the name does not resolve'] }),
    ]);
  });

  it('a running service without a listener, and a cap reached', () => {
    const d = healthy();
    Object.assign(sec(d).listener, { owners: [], listening: false });
    sec(d).rdp.maxInstanceCount = 2;
    expect(findingsFor(d).map((f) => f.cause)).toEqual(['listener-down', 'session-cap']);
    expect(findingsFor(d)[0]!.evidence).toEqual(['TermService runs (PID 702), but nothing it owns listens on TCP port 3389']);
  });

  it('the listener is judged by its socket: another process on the RDP port is no listener', () => {
    const d = healthy();
    Object.assign(sec(d).listener, { owners: [4], listening: false });
    expect(findingsFor(d).map((f) => f.cause)).toEqual(['listener-down']);
  });

  it('a dependent of TermService that does not run is a note, not a cause', () => {
    const d = healthy();
    sec(d).services[0].dependents[0].status = 'Stopped';
    expect(assess(d)).toEqual({ findings: [], notes: [expect.objectContaining({ topic: 'service-dependents', confidence: 'low', evidence: ['UmRdpService is Stopped (start type Manual)'] })] });
  });
});

describe('findings: the firewall and the RDP port in use', () => {
  it('a custom PortNumber that no rule admits is firewall-blocked, fixed by rdp-firewall-rules', () => {
    const d = healthy();
    sec(d).rdp.portNumber = 3390;
    sec(d).rdpPortFirewall = { port: 3390, profiles: profiles(), rules: [rule({ name: 'RemoteDesktop-Shadow-In-TCP', localPort: 'Any', program: '%SystemRoot%\\system32\\RdpSa.exe', service: 'Any' })] };
    const [f, ...rest] = findingsFor(d);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ cause: 'firewall-blocked', confidence: 'high', playbook: 'rdp-firewall-rules' });
    expect(f!.evidence.join('\n')).toMatch(/no inbound rule admits TCP 3390[\s\S]*PortNumber is 3390: the built-in rule RemoteDesktop-UserMode-In-TCP admits 3389 only/);
  });

  it('a custom port admitted by its own rule (or a port range, or a profile with the firewall off) is fine', () => {
    const d = healthy();
    sec(d).rdp.portNumber = 3390;
    sec(d).rdpPortFirewall = { port: 3390, profiles: profiles(), rules: [rule({ name: 'RDP-Custom-TCP-3390', localPort: '3390', program: null, service: null, profile: 'Any' })] };
    expect(findingsFor(d)).toEqual([]);
    sec(d).rdpPortFirewall.rules = [rule({ name: 'range', localPort: '3000-4000', program: 'Any', service: 'Any', profile: 'Private' })];
    expect(findingsFor(d)).toEqual([]);
    sec(d).rdpPortFirewall.rules = [];
    sec(d).rdpPortFirewall.profiles[1].enabled = false; // Private
    expect(findingsFor(d)).toEqual([]);
  });

  it('a rule for another program or service does not admit the RDP listener', () => {
    const d = healthy();
    sec(d).rdpPortFirewall.rules = [rule({ name: 'other-svc', service: 'RpcSs' }), rule({ name: 'other-prog', program: 'C:\\app\\app.exe', service: null })];
    expect(findingsFor(d).map((f) => f.cause)).toEqual(['firewall-blocked']);
  });

  it('block rules win over allow rules; a group-policy block rule is blocked by policy', () => {
    const d = healthy();
    sec(d).rdpPortFirewall.rules.push(rule({ name: 'GPO-Block-RDP', action: 'Block', source: 'GroupPolicy', profile: 'Any' }));
    expect(findingsFor(d)).toEqual([expect.objectContaining({ cause: 'firewall-blocked', blockedByPolicy: true, evidence: ['the block rule GPO-Block-RDP (group policy) covers TCP 3389 on Any'] })]);
  });

  it("group policy's 'Apply local firewall rules: No' on the active profile: the enabled local rule does nothing, blocked by policy", () => {
    const d = healthy();
    sec(d).rdpPortFirewall.profiles[1].allowLocalRules = false; // Private, the active network's profile
    const [f, ...rest] = findingsFor(d);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ cause: 'firewall-blocked', confidence: 'high', playbook: 'rdp-firewall-rules', blockedByPolicy: true });
    expect(f!.evidence).toEqual([
      "group policy sets 'Apply local firewall rules' to No on the Private profile (AllowLocalFirewallRules False): only group policy rules are in effect there, and none admits TCP 3389",
      'the local rule RemoteDesktop-UserMode-In-TCP (TCP 3389, Domain, Private, Public) is enabled but not in effect',
    ]);
    // Another profile's switch does not matter; a group policy rule admitting the port does.
    sec(d).rdpPortFirewall.profiles[1].allowLocalRules = true;
    sec(d).rdpPortFirewall.profiles[0].allowLocalRules = false;
    expect(findingsFor(d)).toEqual([]);
    sec(d).rdpPortFirewall.profiles[1].allowLocalRules = false;
    sec(d).rdpPortFirewall.rules.push(rule({ name: 'GPO-Allow-RDP', source: 'GroupPolicy', profile: 'Private' }));
    expect(findingsFor(d)).toEqual([]);
  });

  it('the rule disabled: firewall-blocked; scoped to other profiles: public-profile; both together: both', () => {
    const d = healthy();
    sec(d).rdpPortFirewall.rules[0].enabled = false;
    expect(findingsFor(d).map((f) => [f.cause, f.playbook])).toEqual([['firewall-blocked', 'rdp-firewall-rules']]);
    const p = healthy();
    sec(p).networkProfiles[0].category = 'Public';
    sec(p).rdpPortFirewall.rules[0].profile = 'Domain, Private';
    expect(findingsFor(p).map((f) => [f.cause, f.playbook, f.confidence])).toEqual([['public-profile', 'network-profile-private', 'high']]);
    sec(p).rdpPortFirewall.rules[0].enabled = false;
    expect(findingsFor(p).map((f) => f.cause)).toEqual(['firewall-blocked', 'public-profile']);
  });

  it('older probe output without the port section still uses the built-in rule', () => {
    const d = healthy();
    delete sec(d).rdpPortFirewall;
    sec(d).firewall[0].enabled = false;
    expect(findingsFor(d).map((f) => f.cause)).toEqual(['firewall-blocked']);
  });
});

describe('findings: certificate and MachineKeys', () => {
  it('an expired RDP certificate is machinekeys-corrupt, fixed by machinekeys-repair', () => {
    const d = healthy();
    sec(d).certificate[0].notAfter = '2026-11-01T00:00:00.0000000Z';
    expect(findingsFor(d)).toEqual([expect.objectContaining({ cause: 'machinekeys-corrupt', confidence: 'high', playbook: 'machinekeys-repair',
      evidence: [`the RDP certificate ${THUMB} expired on 2026-11-01T00:00:00.0000000Z: the service failed to renew it`] })]);
  });

  it('a key file without NETWORK SERVICE read, a missing key, a binding to no certificate: high', () => {
    const d = healthy();
    sec(d).machineKeys.rdpKey.sddl = 'O:BAG:SYD:P(A;;FA;;;BA)';
    const [f] = findingsFor(d);
    expect(f).toMatchObject({ cause: 'machinekeys-corrupt', confidence: 'high' });
    expect(f!.evidence[0]).toBe("the RDP key file's ACL O:BAG:SYD:P(A;;FA;;;BA) gives NETWORK SERVICE no read (SA: NETWORK SERVICE Read, SYSTEM Full control)"); // SYSTEM holds Full through Administrators
    const m = healthy();
    sec(m).machineKeys.rdpKey = { name: KEY, exists: false, sddl: null, aclError: null };
    expect(findingsFor(m)[0]!.evidence).toEqual([`the RDP key file ${KEY} is missing`]);
    const b = healthy();
    sec(b).rdpCertificateBinding = { thumbprint: 'AB'.repeat(20), inRemoteDesktopStore: false, inMyStore: false };
    expect(findingsFor(b)[0]!.evidence[0]).toMatch(/bound \(SSLCertificateSHA1Hash\) to ABAB.*in neither Remote Desktop nor My store/);
  });

  it('a MachineKeys folder ACL other than Windows\' default alone is medium; the same ACL spelled differently is fine', () => {
    const d = healthy();
    sec(d).machineKeys.sddl = 'O:BAG:SYD:PAI(A;OICI;FA;;;BA)';
    expect(findingsFor(d)).toEqual([expect.objectContaining({ cause: 'machinekeys-corrupt', confidence: 'medium' })]);
    sec(d).machineKeys.sddl = 'O:SYG:SYD:PAI(A;;FA;;;S-1-5-32-544)(A;;0x0012019F;;;S-1-1-0)';
    expect(findingsFor(d)).toEqual([]);
  });

  it('a key only the probe cannot open (ACL as Windows sets it, file there, no key event) is a note, not a cause', () => {
    const d = healthy();
    sec(d).certificate[0].privateKeyReadable = false;
    expect(assess(d)).toEqual({ findings: [], notes: [expect.objectContaining({ topic: 'rdp-key', evidence: [`the RDP certificate ${THUMB} claims a private key that cannot be read`] })] });
    sec(d).machineKeys.rdpKey.sddl = 'O:BAG:SYD:P(A;;FA;;;SY)'; // NETWORK SERVICE lost its read: the service cannot either
    expect(findingsFor(d)).toEqual([expect.objectContaining({ cause: 'machinekeys-corrupt', confidence: 'high' })]);
  });

  describe('a key the probe (an administrator) could not open is judged as Remote Desktop Services sees it, as machinekeys-repair does', () => {
    const NTE_BAD_KEYSET = 0x80090016 | 0;
    const NTE_BAD_PROV_TYPE = 0x80090014 | 0;
    const failed = (hr: number) => { const d = healthy(); sec(d).certificate[0].privateKeyReadable = false; sec(d).certificate[0].privateKeyError = hr; return d; };

    it('NTE_BAD_KEYSET behind the documented ACL (nothing for Administrators), or a CNG key (NTE_BAD_PROV_TYPE): healthy, no note', () => {
      expect(assess(failed(NTE_BAD_KEYSET))).toEqual({ findings: [], notes: [] });
      const cng = failed(NTE_BAD_PROV_TYPE);
      Object.assign(sec(cng).machineKeys.rdpKey, { storage: 'cng', path: 'D:\\ProgramData\\Microsoft\\Crypto\\Keys\\x' });
      expect(assess(cng)).toEqual({ findings: [], notes: [] });
    });

    it('a key the administrators may read that still does not open, an empty key file, or another error: a cause', () => {
      const damaged = failed(NTE_BAD_KEYSET);
      sec(damaged).machineKeys.rdpKey.sddl = 'O:BAG:SYD:P(A;;FR;;;NS)(A;;FA;;;SY)(A;;FR;;;BA)';
      const empty = failed(NTE_BAD_KEYSET);
      sec(empty).machineKeys.rdpKey.length = 0;
      const other = failed(0x8009000d | 0); // NTE_NO_KEY
      for (const d of [damaged, empty, other]) {
        expect(findingsFor(d)).toEqual([expect.objectContaining({ cause: 'machinekeys-corrupt', confidence: 'high', evidence: [`the RDP certificate ${THUMB} claims a private key that cannot be read`] })]);
      }
    });
  });

  it('Schannel 36870 with a broken key is high; once the state is healthy the old events are history, a note', () => {
    const d = healthy();
    sec(d).events = [schannel('2026-11-24T09:00:00.0000000Z'), schannel('2026-11-24T09:30:00.0000000Z')];
    sec(d).certificate[0].privateKeyReadable = false;
    expect(findingsFor(d)).toEqual([expect.objectContaining({ cause: 'machinekeys-corrupt', confidence: 'high',
      evidence: [`the RDP certificate ${THUMB} claims a private key that cannot be read`, 'event Schannel 36870 ×2 (last 2026-11-24T09:30:00.0000000Z)'] })]);
    sec(d).certificate[0].privateKeyReadable = true; // repaired; TermService restarted at 10:00
    const { findings, notes } = assess(d);
    expect(findings).toEqual([]);
    expect(notes).toEqual([{ topic: 'event-history', confidence: 'low', text: expect.stringMatching(/history$/),
      evidence: ['before TermService last started (2026-11-24T10:00:00.000Z): event Schannel 36870 ×2 (last 2026-11-24T09:30:00.0000000Z)'] }]);
  });

  it('events after the last start with a healthy state are still no cause: a note to watch', () => {
    const d = healthy();
    sec(d).events = [schannel('2026-11-25T11:00:00.0000000Z'), { log: 'System', provider: 'Microsoft-Windows-TerminalServices-RemoteConnectionManager', id: 1058, time: '2026-11-24T09:00:00.0000000Z' }];
    const { findings, notes } = assess(d);
    expect(findings).toEqual([]);
    expect(notes[0]!.text).toMatch(/watch for new ones/);
    expect(notes[0]!.evidence).toEqual([
      'before TermService last started (2026-11-24T10:00:00.000Z): event Microsoft-Windows-TerminalServices-RemoteConnectionManager 1058 ×1 (last 2026-11-24T09:00:00.0000000Z)',
      'since TermService last started: event Schannel 36870 ×1 (last 2026-11-25T11:00:00.0000000Z)',
    ]);
  });

  it('the same event ids from other providers are not evidence (Group Policy 1058)', () => {
    const d = healthy();
    sec(d).events = [{ log: 'System', provider: 'Microsoft-Windows-GroupPolicy', id: 1058, time: '2026-11-25T11:00:00.0000000Z' }];
    expect(assess(d)).toEqual({ findings: [], notes: [] });
  });
});

describe('findings: profiles, NLA, pending restart', () => {
  it('User Profile 1511/1515 without a .bak key or TEMP path are history', () => {
    const d = healthy();
    sec(d).events = [{ log: 'Application', provider: 'Microsoft-Windows-User Profiles Service', id: 1511, time: '2026-11-25T10:00:00.0000000Z' }];
    expect(assess(d)).toEqual({ findings: [], notes: [expect.objectContaining({ topic: 'event-history', text: expect.stringMatching(/no <SID>\.bak key and no TEMP profile path now/) })] });
    sec(d).profileList.push({ key: 'S-1-5-21-1-2-3-1003.bak', path: 'C:\\Users\\carol' });
    // The finding names the user for fix-user-profile: the SID of the first affected key.
    expect(findingsFor(d)).toEqual([expect.objectContaining({ cause: 'profile-corrupt', confidence: 'high', parameters: { user: 'S-1-5-21-1-2-3-1003', users: ['S-1-5-21-1-2-3-1003'] } })]);
  });

  it('NLA over the RDP Security Layer: blocked only when policy sets SecurityLayer; AllowEncryptionOracle=0 alone has no playbook', () => {
    const d = healthy();
    Object.assign(sec(d).rdp, { userAuthentication: 1, securityLayer: 0 });
    expect(findingsFor(d)).toEqual([expect.objectContaining({ cause: 'nla-mismatch', confidence: 'high', playbook: 'rdp-security-layer', blockedByPolicy: false })]);
    sec(d).rdp.policyUserAuthentication = 1; // a policy NLA=1 does not stop a local SecurityLayer fix
    expect(findingsFor(d)[0]).toMatchObject({ blockedByPolicy: false });
    sec(d).rdp.policySecurityLayer = 0;
    expect(findingsFor(d)[0]).toMatchObject({ blockedByPolicy: true });
    const o = healthy();
    sec(o).rdp.allowEncryptionOracle = 0;
    expect(findingsFor(o)).toEqual([expect.objectContaining({ cause: 'nla-mismatch', confidence: 'low', playbook: null })]);
  });

  it('TLS (SecurityLayer 2) with MinEncryptionLevel 1 is an nla-mismatch finding', () => {
    const d = healthy();
    sec(d).rdp.minEncryptionLevel = 1;
    expect(findingsFor(d)).toEqual([expect.objectContaining({ cause: 'nla-mismatch', confidence: 'medium', playbook: 'rdp-security-layer', blockedByPolicy: false })]);
    sec(d).rdp.policyMinEncryptionLevel = 1;
    expect(findingsFor(d)[0]).toMatchObject({ blockedByPolicy: true });
  });

  it('a pending restart is a note on a healthy host, with each signal', () => {
    const d = healthy();
    sec(d).pendingReboot = { componentBasedServicing: true, windowsUpdate: false, pendingFileRenameOperations: 4 };
    expect(assess(d)).toEqual({ findings: [], notes: [{ topic: 'pending-reboot', confidence: 'low', text: expect.stringMatching(/restart is pending/),
      evidence: ['Component Based Servicing\\RebootPending', 'Session Manager\\PendingFileRenameOperations (4 entries)'] }] });
  });
});

describe('findings: what the controller sees', () => {
  it('RDP closed, WinRM open, nothing wrong on the host: unreachable (something between filters the port)', () => {
    const [f, ...rest] = findingsFor(healthy(), view([closed(3389), open(5985), closed(5986)]));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ cause: 'unreachable', confidence: 'medium', playbook: null });
    expect(f!.evidence).toEqual(['from the controller: TCP 3389 does not answer', 'TCP 5985 answers (4 ms): the host is up', expect.stringMatching(/filters the port/)]);
  });

  it('RDP closed with an on-host cause: the cause gets the evidence, no extra finding', () => {
    const d = healthy();
    sec(d).services[0].status = 'Stopped';
    expect(findingsFor(d, view([closed(3389), open(5985), closed(5986)]))).toEqual([expect.objectContaining({ cause: 'termservice-stopped',
      evidence: ['TermService is Stopped (start type Manual)', 'from the controller: TCP 3389 does not answer; TCP 5985 answers (4 ms), so the host is up: the cause is on the host'] })]);
  });

  it('RDP open although the rules say blocked: the firewall finding drops to medium', () => {
    const d = healthy();
    sec(d).rdpPortFirewall.rules[0].enabled = false;
    const [f] = findingsFor(d, view([open(3389), open(5985)]));
    expect(f).toMatchObject({ cause: 'firewall-blocked', confidence: 'medium' });
    expect(f!.evidence.at(-1)).toMatch(/^yet from the controller: TCP 3389 answers \(4 ms\)/);
  });

  it('RDP open with an NLA cause: the refusal comes after the socket', () => {
    const d = healthy();
    sec(d).rdp.securityLayer = 0;
    expect(findingsFor(d, view([open(3389), open(5985)]))[0]!.evidence.at(-1)).toBe('from the controller: TCP 3389 answers (4 ms): the socket opens, the refusal comes after it (TLS, NLA, session limits)');
  });

  it('the host listens on another port than the inventory says: unreachable when only that one answers, else a note', () => {
    const d = healthy();
    sec(d).rdp.portNumber = 3390;
    sec(d).rdpPortFirewall = { port: 3390, profiles: profiles(), rules: [rule({ localPort: '3390' })] };
    const [f] = findingsFor(d, view([closed(3389), open(5985), open(3390)]));
    expect(f).toMatchObject({ cause: 'unreachable', confidence: 'high', playbook: null });
    expect(f!.evidence[1]).toMatch(/TCP 3390 answers \(4 ms\): Remote Desktop listens on 3390 \(PortNumber\); clients and the inventory's rdpPort must use host:3390/);
    expect(assess(d, view([open(3389), open(5985), open(3390)]))).toEqual({ findings: [], notes: [expect.objectContaining({ topic: 'rdp-port', text: "the host's RDP port (PortNumber) is 3390; the inventory says clients dial 3389" })] });
  });

  it('a host that cannot be read: the ports say whether it is down, WinRM is blocked, or remoting fails', () => {
    const err = { category: 'unreachable', message: 'WinRM cannot complete the operation.\nmore' };
    const ev = (ports: PortReach[]) => assessUnreachable(err, view(ports)).findings[0]!.evidence;
    expect(ev([])).toEqual(['unreachable: WinRM cannot complete the operation.']);
    expect(ev([closed(3389), closed(5985), closed(5986)])[1]).toMatch(/does not answer.*the host is down, or the network between the controller and it drops the traffic$/);
    expect(ev([open(3389), closed(5985), closed(5986)])[1]).toMatch(/^TCP 3389 answers \(4 ms\): the host is up and Remote Desktop listens; .*WinRM is stopped or blocked/);
    expect(ev([closed(3389), open(5985), closed(5986)])[1]).toMatch(/^TCP 5985 answers \(4 ms\): the host is up and reachable, the remoting call itself failed/);
    expect(ev([closed(3389, 'ECONNREFUSED'), closed(5985), closed(5986)])[1]).toMatch(/the host answers but neither Remote Desktop nor WinRM accepts connections$/);
    expect(assessUnreachable(err).findings[0]).toMatchObject({ cause: 'unreachable', confidence: 'high', playbook: null });
    // An SSH-managed host: its remoting port is SSH's, WinRM being closed means nothing there.
    const ssh = assessUnreachable(err, { rdpPort: 3389, remoting: { ports: [22], name: 'SSH' }, ports: [open(3389), closed(5985), closed(5986), closed(22, 'ECONNREFUSED')] });
    expect(ssh.findings[0]!.evidence[1]).toMatch(/^TCP 3389 answers \(4 ms\): the host is up and Remote Desktop listens; TCP 22 is refused .*: SSH is stopped or blocked/);
  });
});

describe('SDDL', () => {
  it('effective rights follow aliases, generic rights, group membership, deny entries and inherit-only entries', () => {
    const rights = (sddl: string, who: string[]) => effectiveRights(parseSddl(sddl)!, who);
    expect(has(rights('O:BAG:SYD:P(A;;FR;;;NS)(A;;FA;;;SY)', TOKENS.networkService), FILE_READ)).toBe(true);
    expect(has(rights('O:BAG:SYD:P(A;;GR;;;S-1-5-20)(A;;GA;;;BA)', TOKENS.networkService), FILE_READ)).toBe(true);
    expect(has(rights('O:BAG:SYD:P(A;;GR;;;S-1-5-20)(A;;GA;;;BA)', TOKENS.system), FILE_ALL)).toBe(true); // SYSTEM is in Administrators
    expect(has(rights('O:BAG:SYD:P(D;;FR;;;WD)(A;;FR;;;NS)', TOKENS.networkService), FILE_READ)).toBe(false);
    expect(has(rights('O:BAG:SYD:P(A;OICIIO;FR;;;NS)', TOKENS.networkService), FILE_READ)).toBe(false);
    expect(rights('O:BAG:SYD:NO_ACCESS_CONTROL', TOKENS.networkService)).toBe(FILE_ALL);
  });

  it('compares DACLs by their entries', () => {
    const a = parseSddl('O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)')!;
    expect(sameDacl(a, parseSddl('O:BAG:SYD:PAI(A;;FA;;;S-1-5-32-544)(A;;0x12019F;;;S-1-1-0)')!)).toBe(true);
    expect(sameDacl(a, parseSddl('O:SYG:SYD:AI(A;;0x12019f;;;WD)(A;;FA;;;BA)')!)).toBe(false);
    expect(sameDacl(a, parseSddl('O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)(A;;FR;;;NS)')!)).toBe(false);
  });
});
