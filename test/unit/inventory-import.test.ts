import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInventory, targetFor, type Inventory } from '../../src/inventory/inventory.js';
import { detectFormat } from '../../src/inventory/imports/load.js';
import { expandHostPattern } from '../../src/inventory/imports/host-patterns.js';
import { RdpfixError } from '../../src/errors.js';

const problem = (f: () => unknown): RdpfixError => {
  try {
    f();
  } catch (e) {
    if (e instanceof RdpfixError) return e;
    throw e;
  }
  throw new Error('expected an RdpfixError');
};
const byName = (inv: Inventory) => Object.fromEntries(inv.hosts.map((h) => [h.name, h]));

describe('Ansible host ranges', () => {
  it('expands numeric ranges with their width, letters, strides and several ranges', () => {
    expect(expandHostPattern('web[01:03].corp')).toEqual(['web01.corp', 'web02.corp', 'web03.corp']);
    expect(expandHostPattern('db-[a:c]')).toEqual(['db-a', 'db-b', 'db-c']);
    expect(expandHostPattern('h[1:7:3]')).toEqual(['h1', 'h4', 'h7']);
    expect(expandHostPattern('r[1:2]-[a:b]')).toEqual(['r1-a', 'r1-b', 'r2-a', 'r2-b']);
    expect(() => expandHostPattern('h[5:1]')).toThrow(/start is after the end/);
    expect(() => expandHostPattern('h[1:99999999]')).toThrow(/more than/);
  });
});

describe('Ansible INI inventories', () => {
  const ini = `# fleet
jump01 ansible_connection=ssh ansible_user=ops

[web]
web[01:02].corp.example
web03.corp.example ansible_host=10.0.0.3 ansible_port=15986 rdpfix_rdp_port=3390

[db]
db01.corp.example:5985 ansible_winrm_transport=kerberos

[windows:children]
web
db

[windows:vars]
ansible_connection=winrm
ansible_winrm_transport=ntlm
ansible_user=CORP\\rdpfix
rdpfix_password_env=RDPFIX_PW
ansible_winrm_server_cert_validation=ignore
ansible_password=hunter2-secret
ansible_python_interpreter=/usr/bin/python3

[web:vars]
ansible_winrm_transport=credssp
`;

  it('reads groups, children, ranges and host:port, and maps Ansible variables to rdpfix transports', () => {
    const inv = parseInventory(ini, '/x/hosts');
    expect(inv.format).toBe('ansible-ini');
    const h = byName(inv);
    expect(Object.keys(h)).toEqual(['jump01', 'web01.corp.example', 'web02.corp.example', 'web03.corp.example', 'db01.corp.example']);
    expect(h.jump01).toMatchObject({ groups: [], transport: { kind: 'ssh', user: 'ops' } });
    // The child group's vars beat the parent's; Ansible's winrm defaults are HTTPS on 5986.
    expect(h['web01.corp.example']).toMatchObject({
      groups: ['windows', 'web'],
      transport: { kind: 'winrm', useSsl: true, port: 5986, authentication: 'CredSSP', user: 'CORP\\rdpfix', passwordEnv: 'RDPFIX_PW', skipCACheck: true, skipCNCheck: true },
    });
    expect(h['web03.corp.example']).toMatchObject({ address: '10.0.0.3', rdpPort: 3390, transport: { port: 15986, useSsl: true } });
    // host:5985 means WinRM over HTTP (Ansible's rule); the host's own variable beats every group's.
    expect(h['db01.corp.example']).toMatchObject({ groups: ['windows', 'db'], transport: { port: 5985, useSsl: false, authentication: 'Kerberos' } });
    expect(targetFor(h['db01.corp.example']!, { RDPFIX_PW: 'pw' })).toMatchObject({ kind: 'winrm', host: 'db01.corp.example', credential: { user: 'CORP\\rdpfix', password: 'pw' } });
  });

  it('never reads a password from the file, and names every variable it did not use', () => {
    const inv = parseInventory(ini, '/x/hosts');
    const notes = inv.notes.join('\n');
    expect(notes).toMatch(/ansible_password \(4 hosts\) is not read/);
    expect(notes).toMatch(/ansible_python_interpreter \(4 hosts: .*\) is not used by rdpfix/);
    expect(JSON.stringify(inv)).not.toContain('hunter2');
    expect(notes).not.toMatch(/without ansible_connection/); // every host sets it
  });

  it('says when Ansible\'s default connection (ssh) is assumed, and renames a host to the ansible_host it connects to', () => {
    const inv = parseInventory('[w]\nalias1 ansible_host=real1.corp.example\n', '/x/hosts.ini');
    expect(inv.hosts[0]).toMatchObject({ name: 'real1.corp.example', transport: { kind: 'ssh' } });
    expect(inv.notes.join('\n')).toMatch(/without ansible_connection use Ansible's default, ssh/);
    expect(inv.notes.join('\n')).toMatch(/alias1 → real1\.corp\.example/);
  });

  it('rejects what it cannot honour, with the line and without echoing secrets', () => {
    expect(problem(() => parseInventory('[web\nh1\n', '/x/h.ini')).message).toMatch(/\(Ansible INI\): host \[web name: must be a host name/);
    expect(problem(() => parseInventory('[web:oops]\nh1\n', '/x/h.ini')).message).toMatch(/Ansible INI\): line 1: \[web:oops\] is not a section/);
    expect(problem(() => parseInventory('h1 ansible_connection=local\n', '/x/h.ini')).message).toMatch(/ansible_connection=local: rdpfix reaches Windows hosts over winrm, psrp or ssh/);
    expect(problem(() => parseInventory('h1 ansible_connection=winrm ansible_winrm_transport=certificate\n', '/x/h.ini')).message).toMatch(/certificate authentication is not supported/);
    expect(problem(() => parseInventory('h1 ansible_port=99999\n', '/x/h.ini')).message).toMatch(/ansible_port=99999 is not a number from 1 to 65535/);
    expect(problem(() => parseInventory('h1 x="unclosed\n', '/x/h.ini')).message).toMatch(/line 1: a quote is not closed/);
    expect(problem(() => parseInventory('[a:children]\nb\n[b:children]\na\n', '/x/h.ini')).message).toMatch(/its own ancestor/);
    // Host names still pass rdpfix's own check: nothing that ssh or PowerShell would read as an option.
    expect(problem(() => parseInventory('-oProxyCommand=x ansible_connection=ssh\n', '/x/h.ini')).message).toMatch(/host -oProxyCommand=x name: must be a host name/);
  });

  it('layers group_vars/ and host_vars/ over the file, as Ansible does, and skips vault files', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rdpfix-ansible-'));
    mkdirSync(path.join(dir, 'group_vars', 'windows'), { recursive: true });
    mkdirSync(path.join(dir, 'host_vars'));
    writeFileSync(path.join(dir, 'hosts'), '[windows]\nw1 ansible_port=5985\nw2\n[windows:vars]\nansible_connection=ssh\n');
    writeFileSync(path.join(dir, 'group_vars', 'all.yml'), 'ansible_winrm_transport: basic\n');
    writeFileSync(path.join(dir, 'group_vars', 'windows', 'main.yml'), 'ansible_connection: winrm\nansible_winrm_transport: kerberos\n');
    writeFileSync(path.join(dir, 'group_vars', 'windows', 'vault.yml'), '$ANSIBLE_VAULT;1.1;AES256\n3132\n');
    writeFileSync(path.join(dir, 'host_vars', 'w2.yaml'), 'ansible_port: 15985\nansible_winrm_scheme: http\n');
    const inv = parseInventory('[windows]\nw1 ansible_port=5985\nw2\n[windows:vars]\nansible_connection=ssh\n', path.join(dir, 'hosts'));
    const h = byName(inv);
    expect(h.w1!.transport).toEqual({ kind: 'winrm', useSsl: false, port: 5985, authentication: 'Kerberos' });
    expect(h.w2!.transport).toEqual({ kind: 'winrm', useSsl: false, port: 15985, authentication: 'Kerberos' });
    expect(inv.notes.join('\n')).toMatch(/vault\.yml is vault-encrypted and was not read/);
  });
});

describe('Ansible YAML inventories', () => {
  it('reads all/children/hosts/vars with null hosts and ranges', () => {
    const yaml = `all:
  vars: { ansible_connection: winrm, ansible_winrm_scheme: http }
  children:
    web:
      hosts:
        web[1:2].corp:
        web9.corp: { ansible_port: 5999, owner: team-a }
      vars: { ansible_winrm_transport: ntlm }
    ungrouped:
      hosts: { lonely.corp: }
`;
    const inv = parseInventory(yaml, '/x/inventory.yml');
    expect(inv.format).toBe('ansible-yaml');
    expect(inv.hosts.map((h) => [h.name, h.groups, h.transport])).toEqual([
      ['web1.corp', ['web'], { kind: 'winrm', useSsl: false, port: 5985, authentication: 'Negotiate' }],
      ['web2.corp', ['web'], { kind: 'winrm', useSsl: false, port: 5985, authentication: 'Negotiate' }],
      ['web9.corp', ['web'], { kind: 'winrm', useSsl: false, port: 5999, authentication: 'Negotiate' }],
      ['lonely.corp', [], { kind: 'winrm', useSsl: false, port: 5985 }],
    ]);
    expect(inv.notes).toContain('owner (1 host: web9.corp) is not used by rdpfix.');
    expect(problem(() => parseInventory('all:\n  hosts: [a, b]\n', '/x/i.yml')).message).toMatch(/all\.hosts: must be a mapping/);
  });

  it('merges groups exactly as the INI form does (one merge for both): depth, ancestors, ungrouped', () => {
    const ini = `[all:vars]\nansible_connection=winrm\n[dc]\nd1 ansible_port=5999\n[site_a:children]\ndc\n[site_a:vars]\nansible_winrm_scheme=http\nansible_port=5000\n[dc:vars]\nansible_winrm_transport=ntlm\n[ungrouped]\nd1\nloner\n`;
    const yaml = `all:
  vars: { ansible_connection: winrm }
  children:
    site_a:
      vars: { ansible_winrm_scheme: http, ansible_port: 5000 }
      children:
        dc:
          vars: { ansible_winrm_transport: ntlm }
          hosts: { d1: { ansible_port: 5999 } }
    ungrouped:
      hosts: { d1: , loner: }
`;
    const shape = (inv: Inventory) => inv.hosts.map((h) => [h.name, h.groups, h.transport]);
    const fromIni = parseInventory(ini, '/x/hosts.ini');
    expect(shape(parseInventory(yaml, '/x/hosts.yml'))).toEqual(shape(fromIni));
    expect(shape(fromIni)).toEqual([
      ['d1', ['site_a', 'dc'], { kind: 'winrm', useSsl: false, port: 5999, authentication: 'Negotiate' }],
      ['loner', [], { kind: 'winrm', useSsl: true, port: 5986 }],
    ]);
  });
});

describe('CSV inventories', () => {
  it('reads a header with aliases, quoted fields, tags and groups; notes unused columns; never reads passwords', () => {
    const csv = '\uFEFFHostName,IP,Transport,Port,User,UseSSL,Auth,Password,Owner,Tags,Groups\r\n'
      + 'web01.corp,10.0.0.1,winrm,5986,"CORP\\rdpfix",yes,kerberos,hunter2,"Smith, J.",web;prod,web\r\n'
      + 'jump,,ssh,2222,ops,,,,,,\r\n';
    const inv = parseInventory(csv, '/x/fleet.csv');
    expect(inv.format).toBe('csv');
    expect(inv.hosts).toMatchObject([
      { name: 'web01.corp', address: '10.0.0.1', tags: ['web', 'prod'], groups: ['web'], transport: { kind: 'winrm', port: 5986, user: 'CORP\\rdpfix', useSsl: true, authentication: 'Kerberos' } },
      { name: 'jump', transport: { kind: 'ssh', port: 2222, user: 'ops' } },
    ]);
    expect(inv.notes).toEqual([expect.stringMatching(/Column Password is not read/), 'Column Owner is not used by rdpfix.']);
    expect(JSON.stringify(inv)).not.toContain('hunter2');
  });

  it('takes ; as the delimiter when the header has no comma, and reports bad rows by line', () => {
    expect(parseInventory('name;port\nh1;5985\n', '/x/f.csv').hosts[0]!.transport).toEqual({ kind: 'winrm', port: 5985 });
    expect(problem(() => parseInventory('name,port\nh1,abc\n', '/x/f.csv')).message).toMatch(/\(CSV\): line 2: port=abc is not a number/);
    expect(problem(() => parseInventory('address\n10.0.0.1\n', '/x/f.csv')).message).toMatch(/no host name column/);
    expect(problem(() => parseInventory('name,port\nh1,1,2\n', '/x/f.csv')).message).toMatch(/line 2: 3 fields, the header has 2/);
    expect(problem(() => parseInventory('name\n"h1\n', '/x/f.csv')).message).toMatch(/quoted field is not closed/);
  });
});

describe('plain host lists', () => {
  it('reads one name per line with comments; each host uses WinRM defaults', () => {
    const inv = parseInventory('# fleet\nweb01.corp\n\nweb02.corp   # the other one\n', '/x/hosts.txt');
    expect(inv.format).toBe('list');
    expect(inv.hosts.map((h) => [h.name, h.transport])).toEqual([['web01.corp', { kind: 'winrm' }], ['web02.corp', { kind: 'winrm' }]]);
    expect(problem(() => parseInventory('web01 web02\n', '/x/hosts.txt')).message).toMatch(/line 1: one host name per line/);
    expect(problem(() => parseInventory('a\na\n', '/x/hosts.txt')).message).toMatch(/listed twice/);
  });
});

describe('format detection', () => {
  it('goes by extension, then by content', () => {
    expect(detectFormat('x', '/a/f.csv')).toBe('csv');
    expect(detectFormat('x', '/a/f.ini')).toBe('ansible-ini');
    expect(detectFormat('x', '/a/f.txt')).toBe('list');
    expect(detectFormat('version: 1\nhosts: []\n', '/a/f.yaml')).toBe('rdpfix');
    expect(detectFormat('all:\n  hosts:\n    a:\n', '/a/f.yaml')).toBe('ansible-yaml');
    expect(detectFormat('[web]\na\n', '/a/hosts')).toBe('ansible-ini');
    expect(detectFormat('a ansible_host=1.2.3.4\n', '-')).toBe('ansible-ini');
    expect(detectFormat('name,address\na,1.2.3.4\n', '-')).toBe('csv');
    expect(detectFormat('a\nb.corp\n', '-')).toBe('list');
    expect(detectFormat('{"version":1,"hosts":[]}', '-')).toBe('rdpfix');
    expect(detectFormat('version: 1\nhosts:\n  - name: a\n', '-')).toBe('rdpfix');
  });
});
