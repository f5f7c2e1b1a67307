import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('rdpfix inventory show', () => {
  it('reads an Ansible inventory from standard input and prints what it understood, with its notes', async () => {
    const r = await runCli(['inventory', 'show', '-i', '-'], { input: '[windows]\nweb[01:02].corp ansible_connection=winrm ansible_password=hunter2 owner=ops\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('-: an Ansible INI inventory, 2 host(s), 1 group(s).');
    expect(r.stdout).toMatch(/web01\.corp\s+winrm https:5986, current user\s+windows/);
    expect(r.stdout).toContain('note: ansible_password (2 hosts) is not read');
    expect(r.stdout).toContain('note: owner (2 hosts: web01.corp, web02.corp) is not used by rdpfix.');
    expect(r.stdout + r.stderr).not.toContain('hunter2');
  });

  it('prints versioned JSON for a CSV file, and a clear error (exit 2) for a bad one', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rdpfix-inv-'));
    writeFileSync(path.join(dir, 'fleet.csv'), 'name,address,transport,port\nweb01.corp,10.1.2.3,winrm,5986\n');
    const r = await runCli(['inventory', 'show', '-i', path.join(dir, 'fleet.csv'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ schema: 'rdpfix.inventory-show/1', format: 'csv', hosts: [{ name: 'web01.corp', address: '10.1.2.3', transport: { kind: 'winrm', port: 5986 } }], notes: [] });
    writeFileSync(path.join(dir, 'bad.csv'), 'name,port\nweb01.corp,http\n');
    const bad = await runCli(['inventory', 'show', '-i', path.join(dir, 'bad.csv')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.csv \(CSV\): line 2: port=http is not a number from 1 to 65535/);
  });
});
