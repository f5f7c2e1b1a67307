/**
 * Issue 10 items 5 and 6 through the built CLI: file content in errors reaches the terminal inert (control
 * characters escaped, secret values redacted), and a corrupt config.json is a config error (exit 3, the
 * file and the fix) for every command that reads it, never a stack trace.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';

const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), p));
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f\u0080-\u009f]/;

describe('a corrupt config.json', () => {
  it('is exit 3 with the file and the fix for every command that reads it; `config path` still answers', async () => {
    const configDir = tmp('rdpfix-badconf-');
    const file = path.join(configDir, 'config.json');
    const corrupt = '{"processes": 2, "playbookDirs": [\u001b]0;owned\u0007';
    writeFileSync(file, corrupt);
    const inv = path.join(tmp('rdpfix-badconf-inv-'), 'inventory.yaml');
    writeFileSync(inv, 'version: 1\nhosts: [{ name: h, transport: { kind: ssh } }]\n');
    const env = { RDPFIX_CONFIG_DIR: configDir, RDPFIX_STATE_DIR: tmp('rdpfix-badconf-state-') };
    const commands = [
      ['config', 'list'], ['config', 'get', 'processes'], ['config', 'set', 'processes', '3'], ['config', 'unset', 'processes'],
      ['plan', '-i', inv, '-p', 'restart-termservice'], ['apply', '-i', inv, '-p', 'restart-termservice', '--yes'],
      ['playbooks', 'list'], ['playbooks', 'show', 'restart-termservice'],
      ['rollback', '20260101T000000Z-abcdef'], ['resume', '20260101T000000Z-abcdef'],
    ];
    for (const args of commands) {
      const r = await runCli(args, { env, timeoutMs: 60_000 });
      expect({ args, code: r.code }).toEqual({ args, code: 3 });
      expect(r.stderr).toContain(`rdpfix: The rdpfix config ${file} is unusable: it is not valid JSON`);
      expect(r.stderr).toMatch(/Fix: Fix the file, or delete it/);
      expect(r.stderr).not.toMatch(/\n\s+at |SyntaxError|internal error/);
      expect(r.stderr).not.toMatch(RAW_CONTROL);
    }
    const where = await runCli(['config', 'path'], { env });
    expect(where).toMatchObject({ code: 0, stdout: `${file}\n` });
    expect(readFileSync(file, 'utf8')).toBe(corrupt);
  }, 240_000);
});

describe('file content in errors', () => {
  it('shows escape sequences in a broken inventory escaped, never raw', async () => {
    const inv = path.join(tmp('rdpfix-esc-'), 'inventory.yaml');
    // Sets the terminal title, clears the screen, rings the bell, then a YAML error on the same line.
    writeFileSync(inv, 'version: 1\nhosts:\n  - { name: h1 \u001b]0;pwned\u0007\u001b[2J\u009b31m, transport: [ }\n');
    const r = await runCli(['probe', '-i', inv]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^rdpfix: Inventory .* is not valid YAML: line 3, column \d+: /);
    expect(r.stderr).toContain('\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m');
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(2);
  });

  it('redacts the value of a secret-looking key on the line a YAML error points at', async () => {
    const inv = path.join(tmp('rdpfix-secret-'), 'inventory.yaml');
    writeFileSync(inv, 'version: 1\nhosts:\n  - { name: h1, transport: { kind: winrm, user: a, password: "hunter2-Sup3r" } ] }\n');
    const r = await runCli(['diagnose', '-i', inv]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not valid YAML: line 3/);
    expect(r.stderr).toMatch(/password: <redacted>/);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('redacts secrets and escapes controls in a playbook manifest YAML error too', async () => {
    const dir = tmp('rdpfix-pbsecret-');
    const pb = path.join(dir, 'leaky');
    (await import('node:fs')).mkdirSync(pb);
    writeFileSync(path.join(pb, 'playbook.yaml'), 'id: leaky\napiToken: "tok-123456" ] \u001b[2J\n');
    const r = await runCli(['playbooks', 'validate', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('tok-123456');
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    expect(r.stderr).toMatch(/leaky\/playbook\.yaml: not valid YAML: line 2/);
  });
});
