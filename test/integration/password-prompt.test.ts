import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';

const PLANTED = 'Planted-Pw-7f3c9e!';

/** Every file under dir, as text. */
function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => readFileSync(path.join(e.parentPath, e.name), 'utf8')).join('\n');
}

describe('WinRM password prompt', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rdpfix-prompt-'));
  const inventory = path.join(dir, 'hosts.ini');
  // Two hosts, one credential profile: asked once.
  writeFileSync(inventory, '[windows]\nweb01.corp.invalid\nweb02.corp.invalid\n[windows:vars]\nansible_connection=winrm\nansible_user=CORP\\rdpfix\nrdpfix_password_env=RDPFIX_TEST_UNSET_PW\n');
  const stateDir = path.join(dir, 'state');

  it('asks once per user on a terminal, never echoes, and keeps the password out of every file and output', () => {
    const env = { ...process.env, RDPFIX_TEST_UNSET_PW: undefined, RDPFIX_STATE_DIR: stateDir, NO_COLOR: '1' };
    delete env.RDPFIX_TEST_UNSET_PW;
    const r = spawnSync('python3', [path.join(projectRoot(), 'test', 'helpers', 'pty-run.py'), 'Password for CORP\\\\rdpfix', PLANTED, '--',
      process.execPath, path.join(projectRoot(), 'bin', 'rdpfix.js'), 'probe', '-i', inventory, '--processes', '1'], { env, encoding: 'utf8', timeout: 170_000 });
    expect(r.status, r.stderr).toBe(0);
    const run = JSON.parse(r.stdout) as { output: string; status: number; unanswered: number };
    expect(run.unanswered).toBe(0);
    expect(run.output).toContain('Password for CORP\\rdpfix (2 host(s); $RDPFIX_TEST_UNSET_PW is not set): ');
    expect(run.output.match(/Password for/g)).toHaveLength(1);
    expect(run.output).not.toContain(PLANTED);
    // The password got past the prompt: what stops the run now is the controller's environment (no WSMan client on
    // this Linux controller: exit 3, before any host is touched), not a missing password.
    expect(run.output).not.toMatch(/needs a password/);
    expect(run.status, run.output).toBe(3);
    expect(run.output).toMatch(/WinRM hosts/);
    if (statSync(stateDir, { throwIfNoEntry: false })) expect(allText(stateDir)).not.toContain(PLANTED);
  }, 180_000);

  it('without a terminal asks nothing, and says how to give the password (exit 3)', async () => {
    const r = await runCli(['probe', '-i', inventory, '--processes', '1'], { env: { RDPFIX_STATE_DIR: stateDir } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/the WinRM user 'CORP\\rdpfix' needs a password, and \$RDPFIX_TEST_UNSET_PW is not set/);
    expect(r.stderr).toMatch(/Run rdpfix in a terminal to be asked for it/);
    expect(r.stdout + r.stderr).not.toMatch(/Password for/);
  });
});
