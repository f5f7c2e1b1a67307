/**
 * Issue 10 item 1: an inventory must not be able to run a command on the controller through ssh options.
 * Every ssh option that runs a command, loads code, reads another config, writes files or opens forwards is
 * tried through the read-only probe, diagnose and plan of the built CLI: each exits 2 naming the option and
 * the allowed list, and the canary file the option would create stays absent.
 *
 * A control first proves the canary is live: the same ProxyCommand given straight to ssh does create it.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { parseInventory } from '../../src/inventory/inventory.js';
import { RdpfixError } from '../../src/errors.js';

const root = mkdtempSync(path.join(tmpdir(), 'rdpfix-sshopt-'));
const canary = path.join(root, 'canary');
const touch = `/bin/sh -c "touch ${canary}"`;
const script = path.join(root, 'touch-canary.sh');
const included = path.join(root, 'included.conf');

/** Options (and other ssh fields) an inventory might use to act on the controller. */
const hostile: [string, Record<string, unknown>][] = [
  ['ProxyCommand', { sshOptions: { ProxyCommand: touch } }],
  ['proxycommand (lower case: ssh ignores case)', { sshOptions: { proxycommand: touch } }],
  ['PROXYCOMMAND', { sshOptions: { PROXYCOMMAND: touch } }],
  ['ProxyCommand next to allowed options', { sshOptions: { StrictHostKeyChecking: 'yes', ProxyCommand: touch } }],
  ['LocalCommand + PermitLocalCommand', { sshOptions: { PermitLocalCommand: 'yes', LocalCommand: touch } }],
  ['PermitLocalCommand', { sshOptions: { PermitLocalCommand: 'yes' } }],
  ['KnownHostsCommand', { sshOptions: { KnownHostsCommand: touch } }],
  ['Match exec', { sshOptions: { Match: `exec "${touch}"` } }],
  ['ProxyJump', { sshOptions: { ProxyJump: '127.0.0.1' } }],
  ['RemoteCommand', { sshOptions: { RemoteCommand: touch } }],
  ['PKCS11Provider', { sshOptions: { PKCS11Provider: script } }],
  ['SecurityKeyProvider', { sshOptions: { SecurityKeyProvider: script } }],
  ['XAuthLocation + ForwardX11', { sshOptions: { XAuthLocation: script, ForwardX11: 'yes' } }],
  ['Include (a config with a ProxyCommand)', { sshOptions: { Include: included } }],
  ['IdentityAgent', { sshOptions: { IdentityAgent: path.join(root, 'agent.sock') } }],
  ['ControlMaster + ControlPath', { sshOptions: { ControlMaster: 'yes', ControlPath: path.join(root, 'ctl') } }],
  ['LocalForward', { sshOptions: { LocalForward: '2222 127.0.0.1:22' } }],
  ['DynamicForward', { sshOptions: { DynamicForward: '1080' } }],
  ['RemoteForward', { sshOptions: { RemoteForward: '2222 127.0.0.1:22' } }],
  ['Tunnel', { sshOptions: { Tunnel: 'yes' } }],
  ['SetEnv', { sshOptions: { SetEnv: 'LD_PRELOAD=/tmp/x.so' } }],
  ['SendEnv', { sshOptions: { SendEnv: '*' } }],
  ['ProxyUseFdpass', { sshOptions: { ProxyUseFdpass: 'yes', ProxyCommand: touch } }],
  ['CanonicalizeHostname', { sshOptions: { CanonicalizeHostname: 'always' } }],
  ['ForwardAgent', { sshOptions: { ForwardAgent: 'yes' } }],
  ['an option value with a line break', { sshOptions: { ConnectTimeout: `5\nProxyCommand ${touch}` } }],
  ['UserKnownHostsFile ssh may write to', { sshOptions: { UserKnownHostsFile: path.join(root, 'passwd'), StrictHostKeyChecking: 'accept-new' } }],
  ['an option name with a space', { sshOptions: { 'Proxy Command': touch } }],
  ['keyFile that is an option', { keyFile: `-oProxyCommand=${touch}` }],
  ['user that is an option', { user: `-oProxyCommand=${touch}` }],
];

beforeAll(() => {
  writeFileSync(script, `#!/bin/sh\ntouch '${canary}'\n`);
  chmodSync(script, 0o755);
  writeFileSync(included, `ProxyCommand ${touch}\n`);
});

describe('ssh options in an inventory', () => {
  const hasSsh = spawnSync('sh', ['-c', 'command -v ssh']).status === 0;
  it.skipIf(!hasSsh && !process.env.CI)('control: the canary works — ssh itself runs a ProxyCommand given with -o', () => {
    const r = spawnSync('ssh', ['-F', '/dev/null', '-o', `ProxyCommand=${touch}`, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=3', 'canary-host', 'true'], { timeout: 15_000 });
    expect(r.error).toBeUndefined();
    expect(existsSync(canary)).toBe(true);
    rmSync(canary);
  });

  it.each(hostile)('refuses %s in the inventory itself, naming the field', (_name, ssh) => {
    let error: unknown;
    try {
      parseInventory(stringify({ version: 1, hosts: [{ name: 'canary-host', transport: { kind: 'ssh', ...ssh } }] }), '/x/inv.yaml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RdpfixError);
    expect((error as RdpfixError).kind).toBe('input');
    expect((error as RdpfixError).message).toMatch(/hosts\.0\.transport\.(sshOptions|keyFile|user)/);
  });

  it('probe, diagnose and plan exit 2 for every one of them, and nothing ran: the canary stays absent', async () => {
    // One inventory, one host per hostile option: every host's problem is reported, none of them runs.
    const stateDir = path.join(root, 'state');
    const configDir = path.join(root, 'config');
    mkdirSync(configDir);
    const inv = path.join(root, 'inventory.yaml');
    writeFileSync(inv, stringify({ version: 1, hosts: hostile.map(([, ssh], i) => ({ name: `canary-${i}`, address: '127.0.0.1', transport: { kind: 'ssh', port: 1, connectTimeoutMs: 2000, ...ssh } })) }));
    for (const cmd of ['probe', 'diagnose', 'plan']) {
      const r = await runCli([cmd, '-i', inv, ...(cmd === 'plan' ? ['--state-dir', stateDir, '-p', 'restart-termservice'] : ['--timeout', '5000'])],
        { env: { RDPFIX_CONFIG_DIR: configDir, RDPFIX_STATE_DIR: stateDir }, timeoutMs: 60_000 });
      expect({ cmd, code: r.code }).toEqual({ cmd, code: 2 });
      expect(r.stderr).toMatch(/^rdpfix: Inventory .*: hosts\.0\.transport\.sshOptions\.ProxyCommand: ssh option 'ProxyCommand' is not allowed \(allowed: StrictHostKeyChecking, UserKnownHostsFile, .*, LogLevel\)/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(canary)).toBe(false);
    expect(existsSync(stateDir) ? readdirSync(stateDir) : []).toEqual([]);
  }, 240_000);

  it('a host with a hostile option is refused even when it is not the first problem in the file', () => {
    for (const [name, ssh] of hostile) {
      const text = stringify({ version: 1, hosts: [{ name: 'fine', transport: { kind: 'ssh', sshOptions: { BatchMode: 'yes' } } }, { name: 'bad', transport: { kind: 'ssh', ...ssh } }] });
      expect(() => parseInventory(text, '/x/inv.yaml'), name).toThrow(/hosts\.1\.transport\.(sshOptions|keyFile|user)/);
    }
  });

  it('still accepts the allowlisted options, case-insensitively, in their canonical spelling', () => {
    const inv = parseInventory(stringify({ version: 1, hosts: [{ name: 'h', transport: { kind: 'ssh', user: 'CORP\\admin', keyFile: '/k/id', sshOptions: {
      stricthostkeychecking: 'yes', UserKnownHostsFile: '/etc/rdpfix/known_hosts', ConnectTimeout: '10', ServerAliveInterval: '15', ServerAliveCountMax: '3', BatchMode: 'yes',
    } } }] }), '/x/inv.yaml');
    expect(inv.hosts[0]!.transport).toMatchObject({ sshOptions: { StrictHostKeyChecking: 'yes', UserKnownHostsFile: '/etc/rdpfix/known_hosts', ConnectTimeout: '10', ServerAliveInterval: '15', ServerAliveCountMax: '3', BatchMode: 'yes' } });
  });
});
