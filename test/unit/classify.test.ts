import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyRemotingError, extractFqid, type RemotingErrorCategory } from '../../src/broker/classify.js';

/**
 * Real error texts only (test/fixtures/remoting-errors.json): each names its source — a public issue/file, or
 * "captured on pwsh 7.6.9 / Debian 12" with the command. `layout`: ps51 = NormalView block (Windows PowerShell
 * 5.1, or 6.x printing the same layout), ps7 = PowerShell 7 ConciseView / Get-Error, wsman = a raw WinRM fault
 * relayed by a non-PowerShell client (used only where no PowerShell rendering could be found).
 */
interface Fixture {
  id: string;
  layout: 'ps51' | 'ps7' | 'wsman';
  text: string;
  fqid?: string;
  expected: RemotingErrorCategory;
  source: string;
}

const fixtures = JSON.parse(
  readFileSync(new URL('../fixtures/remoting-errors.json', import.meta.url), 'utf8'),
) as Fixture[];
const byId = (id: string): Fixture => {
  const f = fixtures.find((x) => x.id === id);
  if (!f) throw new Error(`no fixture ${id}`);
  return f;
};

describe('remoting error corpus', () => {
  it('is well formed and covers every category', () => {
    expect(new Set(fixtures.map((f) => f.id)).size).toBe(fixtures.length);
    for (const f of fixtures) {
      expect(f.text.trim(), f.id).not.toBe('');
      expect(f.source.trim(), f.id).not.toBe('');
    }
    const seen = new Set(fixtures.map((f) => f.expected));
    for (const c of ['unreachable', 'auth', 'trust', 'timeout', 'script', 'not-found', 'process'] as const) {
      expect(seen.has(c), c).toBe(true);
    }
    expect(fixtures.some((f) => f.layout === 'ps51')).toBe(true);
    expect(fixtures.some((f) => f.layout === 'ps7')).toBe(true);
  });

  it.each(fixtures.map((f) => [f.id, f] as const))('%s', (_id, f) => {
    expect(classifyRemotingError(f.text, f.fqid)).toBe(f.expected);
  });
});

describe('extractFqid', () => {
  it('reads the 5.1 NormalView line', () => {
    expect(extractFqid(byId('access-denied-invoke').text)).toBe('AccessDenied,PSSessionStateBroken');
  });
  it('prefers the top-level record in a Get-Error rendering over nested inner records', () => {
    expect(extractFqid(byId('ssh-connection-refused-get-error').text)).toBe('PSSessionOpenFailed');
  });
  it('finds a bare FQID field in a tab-separated grid row', () => {
    expect(extractFqid(byId('kerberos-spn-0x80090322-numeric-fqid').text)).toBe('-2144108387,PSSessionStateBroken');
  });
  it('returns undefined for a ConciseView line, which carries no FQID', () => {
    expect(extractFqid(byId('ssh-could-not-resolve').text)).toBeUndefined();
  });
});

describe('classifyRemotingError: focused cases', () => {
  it('empty or blank text is a script error', () => {
    expect(classifyRemotingError('')).toBe('script');
    expect(classifyRemotingError('   \n')).toBe('script');
  });

  it('the FQID wins over a misleading message', () => {
    // Real "Access is denied" text, but the caller's FQID says the name did not resolve.
    const denied = byId('access-denied-invoke').text.split('\n')[0]!;
    expect(classifyRemotingError(denied)).toBe('auth');
    expect(classifyRemotingError(denied, 'ComputerNotFound,PSSessionStateBroken')).toBe('not-found');
    // The 0x80090322 "Possible causes" text mentions bad passwords and TrustedHosts; the FQID still decides.
    expect(classifyRemotingError(byId('kerberos-spn-0x80090322-message').text, 'AccessDenied,PSSessionStateBroken')).toBe('auth');
  });

  it('a localized message is classified by its FQID alone', () => {
    expect(classifyRemotingError(byId('winrm-operation-timeout-ko').text)).toBe('unreachable');
    expect(classifyRemotingError(byId('dns-nxdomain-fr').text)).toBe('not-found');
    // Without its FQID line the Korean text has nothing the classifier can read: it falls back to script.
    const koMessageOnly = byId('winrm-operation-timeout-ko').text.split('\n').slice(0, 4).join('\n');
    expect(classifyRemotingError(koMessageOnly)).toBe('script');
  });

  it('a numeric FQID (unmapped code) is resolved by the inner Kerberos errorcode', () => {
    const spn = byId('kerberos-spn-0x80090322-message').text; // 0x80090322: SPN problem
    expect(classifyRemotingError(spn, '-2144108387,PSSessionStateBroken')).toBe('trust');
    const logon = byId('openerror-0x8009030e-ps7').text; // 0x8009030e: no logon session
    expect(classifyRemotingError(logon, '-2144108387,PSSessionStateBroken')).toBe('auth');
    // A numeric FQID that is itself a known code decides on its own.
    expect(classifyRemotingError('', '12175,PSSessionStateBroken')).toBe('trust');
  });

  it('an fqid passed separately gives the same answer as one embedded in the text', () => {
    for (const id of ['server-not-trusted', 'dns-nxdomain-en', 'cim-hresult-0x80338126', 'logon-failure']) {
      const f = byId(id);
      const fqid = extractFqid(f.text)!;
      const messageOnly = f.text.split('\n').filter((l) => !/FullyQualifiedErrorId/.test(l)).join('\n');
      expect(classifyRemotingError(messageOnly, fqid), id).toBe(classifyRemotingError(f.text));
    }
    // A blank fqid argument means "unknown": the one in the text is used.
    expect(classifyRemotingError(byId('server-not-trusted').text, '  ')).toBe('trust');
  });

  it('an unmapped FQID falls through to codes, then to the message', () => {
    expect(classifyRemotingError(byId('kerberos-0x8009030e-cim').text)).toBe('auth'); // CimJob_BrokenCimSession
    expect(classifyRemotingError(byId('test-wsman-wsmanfault-code').text)).toBe('unreachable'); // WsManError
    expect(classifyRemotingError(byId('jobfailure-io-aborted').text)).toBe('unreachable'); // JobFailure
  });

  it('"not found" wording from an ordinary cmdlet stays a script error', () => {
    expect(classifyRemotingError(byId('path-not-found-7').text)).toBe('script');
    expect(classifyRemotingError(byId('path-not-found-51').text)).toBe('script');
  });

  it('ssh stderr lines decide over the generic "transport process has abruptly terminated"', () => {
    expect(classifyRemotingError(byId('ssh-could-not-resolve').text)).toBe('not-found');
    expect(classifyRemotingError(byId('ssh-permission-denied').text)).toBe('auth');
    expect(classifyRemotingError(byId('ssh-host-key-changed').text)).toBe('trust');
    expect(classifyRemotingError(byId('ssh-connection-refused').text)).toBe('unreachable');
  });

  it('a stopped pipeline is not a process crash', () => {
    expect(classifyRemotingError(byId('pipeline-stopped').text)).toBe('script');
    expect(classifyRemotingError(byId('pwsh-failfast').text)).toBe('process');
  });
});
