import { describe, it, expect } from 'vitest';
import { parseInventory, targetFor } from '../../src/inventory/inventory.js';
import { RdpfixError } from '../../src/errors.js';

function error(text: string): RdpfixError {
  try {
    parseInventory(text, '/x/inv.yaml');
  } catch (e) {
    if (e instanceof RdpfixError) return e;
    throw e;
  }
  throw new Error('expected an RdpfixError');
}

describe('inventory', () => {
  it('reads hosts with their own or the default transport, lab paths relative to the file', () => {
    const inv = parseInventory(
      `version: 1
defaults: { transport: { kind: winrm, useSsl: true, port: 5986, authentication: Negotiate } }
hosts:
  - { name: web01.corp.example, address: 10.1.2.3 }
  - { name: lab-001, transport: { kind: lab, state: hosts/lab-001.json } }
  - { name: pwsh7, transport: { kind: ssh, user: admin, keyFile: /k } }
`, '/x/inv.yaml');
    expect(inv.hosts.map((h) => [h.name, h.transport.kind, h.rdpPort])).toEqual([
      ['web01.corp.example', 'winrm', 3389], ['lab-001', 'lab', 3389], ['pwsh7', 'ssh', 3389]]);
    expect(targetFor(inv.hosts[1]!)).toEqual({ kind: 'lab', host: 'lab-001', statePath: '/x/hosts/lab-001.json' });
    expect(targetFor(inv.hosts[0]!)).toEqual({ kind: 'winrm', host: 'web01.corp.example', useSsl: true, port: 5986, authentication: 'Negotiate' });
  });

  it('takes a WinRM password from the environment variable the inventory names, never from the file', () => {
    const inv = parseInventory('version: 1\nhosts:\n  - { name: h1, transport: { kind: winrm, user: "CORP\\\\admin", passwordEnv: RDPFIX_PW } }\n', '/x/i.yaml');
    expect(targetFor(inv.hosts[0]!, { RDPFIX_PW: 's3cret' })).toMatchObject({ credential: { user: 'CORP\\admin', password: 's3cret' } });
    expect(() => targetFor(inv.hosts[0]!, {})).toThrow(/\$RDPFIX_PW is not set/);
  });

  it('rejects a password written into the inventory', () => {
    const e = error('version: 1\nhosts:\n  - { name: h1, transport: { kind: winrm, user: a, password: hunter2 } }\n');
    expect(e.message).toMatch(/hosts\.0\.transport: Unrecognized key\(s\) in object: 'password'/);
    expect(e.message).not.toContain('hunter2');
  });

  it.each([
    ['not YAML', 'version: 1\nhosts: [\n', /not valid YAML/],
    ['no version', 'hosts: [{ name: a, transport: { kind: ssh } }]\n', /version: Invalid literal value/],
    ['no hosts', 'version: 1\nhosts: []\n', /hosts: must list at least one host/],
    ['bad host name', 'version: 1\nhosts: [{ name: "a b;rm", transport: { kind: ssh } }]\n', /hosts\.0\.name: must be a host name/],
    ['bad address', 'version: 1\nhosts: [{ name: a, address: 999.1.1.1, transport: { kind: ssh } }]\n', /hosts\.0\.address: Invalid ip/],
    ['unknown transport', 'version: 1\nhosts: [{ name: a, transport: { kind: telnet } }]\n', /hosts\.0\.transport\.kind: Invalid discriminator/],
    ['bad port', 'version: 1\nhosts: [{ name: a, transport: { kind: winrm, port: 70000 } }]\n', /hosts\.0\.transport\.port/],
    ['duplicate host', 'version: 1\nhosts: [{ name: a, transport: { kind: ssh } }, { name: A, transport: { kind: ssh } }]\n', /'A' is listed twice/],
    ['no transport', 'version: 1\nhosts: [{ name: a }]\n', /no transport for 'a'/],
  ])('rejects %s with the file, the field and a fix', (_name, text, pattern) => {
    const e = error(text);
    expect(e.message).toMatch(pattern);
    expect(e.message).toContain('/x/inv.yaml');
    expect(e.fix).toBeTruthy();
  });
});
